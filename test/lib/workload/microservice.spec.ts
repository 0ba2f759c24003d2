import { Testing } from 'cdk8s';
import { stringify } from 'yaml';
import { ComputeResources, ImageRef, Release, workloadRunAsId } from '../../../lib/core';
import { Microservice, MicroserviceProps, PodExtensionPoint } from '../../../lib/workload';
import { named, ofKind } from '../../helpers';

const image = (tag: string): ImageRef => ({ repository: 'registry.example.com/pronto/order-service', tag, gitSha: 'abc1234' });
const resources: ComputeResources = {
  requests: { cpu: '100m', memory: '128Mi', ephemeralStorage: '1Gi' },
  limits: { cpu: '500m', memory: '256Mi', ephemeralStorage: '2Gi' },
};

function synth(release: Release, extra: Partial<MicroserviceProps> = {}): any[] {
  const chart = Testing.chart();
  new Microservice(chart, 'order-service', {
    name: 'order-service', component: 'api', container: { port: { name: 'http', number: 8080 }, resources }, release, ...extra,
  });
  return Testing.synth(chart);
}

const rolling: Release = { strategy: 'rolling', image: image('1.0.0'), scaling: { kind: 'fixed', replicas: 2 } };

describe('Microservice', () => {
  test('minimal props: ServiceAccount, Deployment, PDB and Service, named after the service', () => {
    const out = synth(rolling);
    expect(out.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      'ServiceAccount/order-service', 'Deployment/order-service', 'PodDisruptionBudget/order-service', 'Service/order-service']);
    expect(out.map((m) => stringify(m)).join('---\n')).toMatchSnapshot();
  });

  test('documented defaults: probe paths and startup budget, preStop 10 s, drain 30 s, port 80, the service\'s own ids, surge 1, minReady 10 s, deadline 600 s', () => {
    const out = synth(rolling);
    const d = named(out, 'Deployment', 'order-service');
    const c = d.spec.template.spec.containers[0];
    expect(c.livenessProbe.httpGet.path).toBe('/health/live');
    expect(c.readinessProbe.httpGet.path).toBe('/health/ready');
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBe(120);
    expect(c.lifecycle.preStop.exec.command).toEqual(['sleep', '10']);
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBe(40);
    expect(named(out, 'Service', 'order-service').spec.ports[0].port).toBe(80);
    const id = workloadRunAsId(d.metadata.labels['app.kubernetes.io/name']);
    expect(d.spec.template.spec.securityContext).toMatchObject({ runAsUser: id, runAsGroup: id, fsGroup: id });
    expect(d.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(d.spec.minReadySeconds).toBe(10);
    expect(d.spec.progressDeadlineSeconds).toBe(600);
    expect(d.spec.replicas).toBe(2);
    expect(c.env).toBeUndefined();
  });

  test('all props: custom port, probes, shutdown, ids, surge percentage, env and extension reach the YAML', () => {
    const chart = Testing.chart();
    const extension = new PodExtensionPoint('order-service', { user: 20000, group: 20001, fsGroup: 20002 });
    extension.addAppPort({ name: 'metrics', number: 9102 });
    const props: Required<MicroserviceProps> = {
      name: 'order-service', component: 'api',
      container: {
        port: { name: 'api', number: 9090 }, resources,
        probes: { livenessPath: '/alive', readinessPath: '/ready', startupSeconds: 60 },
        shutdown: { preStopSleepSeconds: 5, drainSeconds: 55 },
        env: { LOG_LEVEL: 'info' },
      },
      release: { ...rolling, rollingUpdate: { maxSurge: '50%', minReadySeconds: 20, progressDeadlineSeconds: 300 } },
      servicePort: 8080,
      runAs: { user: 20000, group: 20001, fsGroup: 20002 },
      extension,
    };
    new Microservice(chart, 'svc', props);
    const out = Testing.synth(chart);
    const d = named(out, 'Deployment', 'order-service');
    const c = d.spec.template.spec.containers[0];
    expect(c.ports).toEqual([{ containerPort: 9090, name: 'api', protocol: 'TCP' }, { containerPort: 9102, name: 'metrics', protocol: 'TCP' }]);
    expect([c.livenessProbe.httpGet, c.readinessProbe.httpGet]).toEqual([
      { path: '/alive', port: 9090, scheme: 'HTTP' }, { path: '/ready', port: 9090, scheme: 'HTTP' }]);
    expect(c.startupProbe.failureThreshold).toBe(12);
    expect(c.lifecycle.preStop.exec.command).toEqual(['sleep', '5']);
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBe(60);
    expect(c.env).toEqual([{ name: 'LOG_LEVEL', value: 'info' }]);
    expect(d.spec.strategy.rollingUpdate.maxSurge).toBe('50%');
    expect([d.spec.minReadySeconds, d.spec.progressDeadlineSeconds]).toEqual([20, 300]);
    expect(c.securityContext).toMatchObject({ runAsUser: 20000, runAsGroup: 20001 });
    expect(d.spec.template.spec.securityContext.fsGroup).toBe(20002);
    expect(named(out, 'Service', 'order-service').spec.ports).toEqual([
      { name: 'api', port: 8080, targetPort: 'api', protocol: 'TCP' }, { name: 'metrics', port: 9102, targetPort: 'metrics', protocol: 'TCP' }]);
  });

  test('autoscaling adds an autoscaling/v2 HPA and leaves replicas unset', () => {
    const out = synth({ ...rolling, scaling: { kind: 'autoscaling', minReplicas: 2, maxReplicas: 5, targetCpuUtilizationPercent: 60 } });
    const hpa = named(out, 'HorizontalPodAutoscaler', 'order-service');
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 5, scaleTargetRef: { kind: 'Deployment', name: 'order-service' } });
    expect(hpa.spec.metrics[0].resource.target).toEqual({ type: 'Utilization', averageUtilization: 60 });
    expect(named(out, 'Deployment', 'order-service').spec.replicas).toBeUndefined();
  });

  describe('blue-green', () => {
    const blueGreen = (idleReplicas: number, scaling: Release['scaling']): Release => ({
      strategy: 'blueGreen', activeSlot: 'green', idleReplicas, scaling, images: { blue: image('1.0.0'), green: image('1.1.0') },
    });
    const autoscaled = { kind: 'autoscaling', minReplicas: 2, maxReplicas: 6, targetCpuUtilizationPercent: 70 } as const;

    test('two slot Deployments with their own image; the Service selects the active slot, -preview the idle one', () => {
      const out = synth(blueGreen(2, { kind: 'fixed', replicas: 3 }));
      const blue = named(out, 'Deployment', 'order-service-blue');
      const green = named(out, 'Deployment', 'order-service-green');
      expect(blue.spec.template.spec.containers[0].image).toBe('registry.example.com/pronto/order-service:1.0.0');
      expect(green.spec.template.spec.containers[0].image).toBe('registry.example.com/pronto/order-service:1.1.0');
      expect(blue.spec.selector.matchLabels['pronto.io/slot']).toBe('blue');
      expect(named(out, 'Service', 'order-service').spec.selector).toEqual({
        'app.kubernetes.io/instance': 'order-service', 'app.kubernetes.io/name': 'order-service', 'pronto.io/slot': 'green' });
      expect(named(out, 'Service', 'order-service-preview').spec.selector['pronto.io/slot']).toBe('blue');
      expect(named(out, 'Service', 'order-service').metadata.labels['app.kubernetes.io/version']).toBe('1.1.0');
      expect([green.spec.replicas, blue.spec.replicas]).toEqual([3, 2]);
      // One workload, one identity: both slots run under the service's own ids.
      expect(blue.spec.template.spec.securityContext.runAsUser).toBe(workloadRunAsId('order-service'));
      expect(green.spec.template.spec.securityContext).toEqual(blue.spec.template.spec.securityContext);
      expect(ofKind(out, 'PodDisruptionBudget').map((p) => p.metadata.name)).toEqual(['order-service-blue', 'order-service-green']);
    });

    test('an idle slot at 0 has replicas 0 and no HPA', () => {
      const out = synth(blueGreen(0, autoscaled));
      expect(named(out, 'Deployment', 'order-service-blue').spec.replicas).toBe(0);
      expect(ofKind(out, 'HorizontalPodAutoscaler').map((h) => h.metadata.name)).toEqual(['order-service-green']);
    });

    test('a warm idle slot of an autoscaled service gets its own HPA from idleReplicas to the active maximum', () => {
      const out = synth(blueGreen(2, { ...autoscaled, minReplicas: 4 }));
      expect(named(out, 'HorizontalPodAutoscaler', 'order-service-blue').spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
      expect(named(out, 'HorizontalPodAutoscaler', 'order-service-green').spec).toMatchObject({ minReplicas: 4, maxReplicas: 6 });
      expect(named(out, 'Deployment', 'order-service-blue').spec.replicas).toBeUndefined();
    });
  });

  test('fails on autoscaling bounds that are not increasing', () => {
    expect(() => synth({ ...rolling, scaling: { kind: 'autoscaling', minReplicas: 3, maxReplicas: 3, targetCpuUtilizationPercent: 70 } }))
      .toThrow('order-service: maxReplicas (3) must be greater than minReplicas (3)');
  });

  test('fails on negative replicas', () => {
    expect(() => synth({ ...rolling, scaling: { kind: 'fixed', replicas: -1 } })).toThrow('replicas must be an integer ≥ 0, found -1');
  });

  test('fails on a user id below 10000', () => {
    expect(() => synth(rolling, { runAs: { user: 1000 } })).toThrow('runAs user: expected an integer ≥ 10000, found 1000');
  });

  test('fails on a name that is not a DNS label', () => {
    const chart = Testing.chart();
    expect(() => new Microservice(chart, 'x', {
      name: 'Order_Service', component: 'api', container: { port: { name: 'http', number: 8080 }, resources }, release: rolling,
    })).toThrow('"Order_Service" is not a valid object name');
  });
});
