/**
 * Workload: the reusable long-running workload (gateway, collector, PgBouncer, PostgreSQL,
 * Redis) with the discipline of Microservice but none of the Flask service's shape.
 */
import { Testing } from 'cdk8s';
import { stringify } from 'yaml';
import { ComputeResources, UpstreamImage, workloadRunAsId } from '../../../lib/core';
import { ContainerSpec, PodExtensionPoint, Workload, WorkloadProps } from '../../../lib/workload';
import { gateFindingsInNamespace, named, ofKind } from '../../helpers';

const resources: ComputeResources = {
  requests: { cpu: '100m', memory: '64Mi', ephemeralStorage: '100Mi' },
  limits: { cpu: '500m', memory: '128Mi', ephemeralStorage: '1Gi' },
};
const pgbouncer: ContainerSpec = {
  name: 'pgbouncer',
  image: new UpstreamImage({ repository: 'ghcr.io/cloudnative-pg/pgbouncer', tag: '1.23.1', digest: `sha256:${'b'.repeat(64)}` }),
  resources,
  ports: [{ name: 'postgres', number: 6432 }],
  probes: { readiness: { tcpSocket: { port: 'postgres' } }, liveness: { tcpSocket: { port: 6432 }, periodSeconds: 20 } },
};

function synth(props: Partial<WorkloadProps> = {}): any[] {
  const chart = Testing.chart();
  const w = new Workload(chart, 'pgbouncer', { name: 'pgbouncer', component: 'database-pool', containers: [pgbouncer], scaling: { kind: 'fixed', replicas: 2 }, ...props });
  w.addService('Service', { ports: [{ targetPort: 'postgres' }] });
  return Testing.synth(chart);
}

describe('Workload', () => {
  test('minimal props: ServiceAccount, Deployment, PDB and a Service, as reviewed', () => {
    const out = synth();
    expect(out.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(['ServiceAccount/pgbouncer', 'Deployment/pgbouncer', 'PodDisruptionBudget/pgbouncer', 'Service/pgbouncer']);
    expect(out.map((m) => stringify(m)).join('---\n')).toMatchSnapshot();
  });

  test('third-party image: pinned by its upstream tag and digest, version label from the tag, no git SHA', () => {
    const d = named(synth(), 'Deployment', 'pgbouncer');
    expect(d.spec.template.spec.containers[0].image).toBe(`ghcr.io/cloudnative-pg/pgbouncer:1.23.1@sha256:${'b'.repeat(64)}`);
    expect(d.metadata.labels['app.kubernetes.io/version']).toBe('1.23.1');
    expect(d.metadata.annotations).toBeUndefined();
  });

  test('documented defaults: own ServiceAccount without token, grace 30 s, surge 1, minReady 10 s, the workload\'s own ids, spread and PDB', () => {
    const out = synth();
    const d = named(out, 'Deployment', 'pgbouncer');
    expect(named(out, 'ServiceAccount', 'pgbouncer').automountServiceAccountToken).toBe(false);
    expect(d.spec.template.spec.serviceAccountName).toBe('pgbouncer');
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBe(30);
    expect(d.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(d.spec.minReadySeconds).toBe(10);
    const id = workloadRunAsId(d.metadata.labels['app.kubernetes.io/name']);
    expect(d.spec.template.spec.securityContext).toMatchObject({ runAsUser: id, runAsGroup: id, fsGroup: id, seccompProfile: { type: 'RuntimeDefault' } });
    expect(d.spec.template.spec.topologySpreadConstraints).toHaveLength(2);
    expect(named(out, 'PodDisruptionBudget', 'pgbouncer').spec).toEqual({ maxUnavailable: 1, selector: d.spec.selector, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    expect(named(out, 'Service', 'pgbouncer').spec.ports).toEqual([{ name: 'postgres', port: 6432, targetPort: 'postgres', protocol: 'TCP' }]);
  });

  test('all props: StatefulSet with claims, headless Service, init container, extension, HPA, existing ServiceAccount', () => {
    const chart = Testing.chart();
    const extension = new PodExtensionPoint('postgres', { user: 10999, group: 10999, fsGroup: 10999 });
    extension.addSidecar({ ...pgbouncer, name: 'exporter', ports: [{ name: 'metrics', number: 9187 }], probes: { liveness: { httpGet: { path: '/', port: 'metrics' } }, readiness: { httpGet: { path: '/ready', port: 'metrics' } } } });
    const props: Required<WorkloadProps> = {
      name: 'postgres', appName: 'postgres', slot: 'blue', component: 'database', kind: 'StatefulSet',
      containers: [{ ...pgbouncer, name: 'postgres', ports: [{ name: 'postgres', number: 5432 }], probes: { readiness: { exec: { command: ['pg_isready'] } }, liveness: { tcpSocket: { port: 'postgres' } } }, mounts: [{ volume: 'data', path: '/var/lib/postgresql/data' }, { volume: 'shm', path: '/dev/shm' }] }],
      initContainers: [{ ...pgbouncer, name: 'init-permissions', ports: undefined, probes: undefined, command: ['true'] }],
      volumes: [{ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '256Mi' } }],
      extension,
      scaling: { kind: 'autoscaling', minReplicas: 1, maxReplicas: 3, targetCpuUtilizationPercent: 80 },
      rollingUpdate: {},
      serviceAccountName: 'database',
      runAs: { user: 10999, group: 10999, fsGroup: 10999 },
      terminationGracePeriodSeconds: 120,
      volumeClaimTemplates: [{ name: 'data', size: '20Gi', storageClassName: 'fast' }],
    };
    new Workload(chart, 'db', props);
    const out = Testing.synth(chart);
    expect(out.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(['StatefulSet/postgres', 'PodDisruptionBudget/postgres', 'HorizontalPodAutoscaler/postgres', 'Service/postgres-headless']);
    const sts = named(out, 'StatefulSet', 'postgres');
    expect(sts.spec.serviceName).toBe('postgres-headless');
    expect(sts.spec.replicas).toBeUndefined();
    expect(sts.spec.volumeClaimTemplates[0].spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '20Gi' } } });
    expect(sts.spec.template.spec.serviceAccountName).toBe('database');
    expect(sts.spec.template.spec.terminationGracePeriodSeconds).toBe(120);
    expect(sts.spec.template.spec.initContainers.map((c: any) => c.name)).toEqual(['init-permissions']);
    expect(sts.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['postgres', 'exporter']);
    expect(sts.spec.selector.matchLabels['pronto.io/slot']).toBe('blue');
    expect(named(out, 'Service', 'postgres-headless').spec).toMatchObject({ clusterIP: 'None', selector: sts.spec.selector.matchLabels });
    expect(named(out, 'HorizontalPodAutoscaler', 'postgres').spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'postgres' });
    expect(sts.spec.template.spec.securityContext.runAsUser).toBe(10999);
  });

  test('a replicated Deployment, an autoscaled one and a StatefulSet with its Service pass every rule of the gate', () => {
    const chart = Testing.chart();
    new Workload(chart, 'a', { name: 'collector', component: 'telemetry', containers: [pgbouncer], scaling: { kind: 'autoscaling', minReplicas: 2, maxReplicas: 4, targetCpuUtilizationPercent: 70 } });
    new Workload(chart, 'b', { name: 'redis', component: 'cache', kind: 'StatefulSet', containers: [{ ...pgbouncer, name: 'redis' }], scaling: { kind: 'fixed', replicas: 1 }, volumeClaimTemplates: [{ name: 'data', size: '1Gi' }] });
    expect(gateFindingsInNamespace(Testing.synth(chart))).toEqual([]);
  });

  test('fails on a container without resources, before anything is emitted', () => {
    const { resources: _, ...bare } = pgbouncer;
    expect(() => synth({ containers: [bare as ContainerSpec] })).toThrow('pgbouncer/pgbouncer: resources are required');
  });

  test('fails on claims for a Deployment, a probe on an undeclared port, and a Service port the pods lack', () => {
    expect(() => synth({ volumeClaimTemplates: [{ name: 'data', size: '1Gi' }] })).toThrow('volumeClaimTemplates need kind StatefulSet');
    expect(() => synth({ containers: [{ ...pgbouncer, probes: { readiness: { tcpSocket: { port: 5432 } } } }] })).toThrow('readiness probe: port 5432 is not a declared port');
    const chart = Testing.chart();
    const w = new Workload(chart, 'w', { name: 'pgbouncer', component: 'x', containers: [pgbouncer], scaling: { kind: 'fixed', replicas: 1 } });
    expect(() => w.addService('S', { ports: [{ targetPort: 'http' }] })).toThrow('Service port targets "http", not a port of the pods (postgres)');
  });

  test('fails on a floating or latest upstream tag, and on a tag that cannot be a label', () => {
    for (const tag of ['latest', '16', 'stable', `1.0.${'9'.repeat(70)}`]) {
      expect(() => new UpstreamImage({ repository: 'docker.io/library/postgres', tag })).toThrow('image tag');
    }
  });

  test('only the selector labels select; the version label changes without touching the selector', () => {
    const out = synth();
    expect(ofKind(out, 'Deployment')[0].spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/instance': 'pgbouncer', 'app.kubernetes.io/name': 'pgbouncer' });
  });
});
