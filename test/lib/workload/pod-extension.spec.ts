/**
 * The pod extension point: what a capability may add to a service's pods, the
 * discipline every added container gets, and that blue-green slots get identical pods.
 */
import { Testing } from 'cdk8s';
import { ANNOTATION_INJECTED, ComputeResources, ImageRef, UpstreamImage, parseInjected } from '../../../lib/core';
import { checkCapacity } from '../../../lib/namespace';
import { Microservice, MicroserviceProps, PodExtensionPoint, SidecarSpec, escapeExpansion, renderPodTemplate } from '../../../lib/workload';
import { gateFindingsInNamespace, named } from '../../helpers';

const resources: ComputeResources = {
  requests: { cpu: '50m', memory: '64Mi', ephemeralStorage: '100Mi' },
  limits: { cpu: '100m', memory: '128Mi', ephemeralStorage: '200Mi' },
};
const exporterImage = new UpstreamImage({ repository: 'docker.io/prom/statsd-exporter', tag: '0.27.1' });
const image = (tag: string): ImageRef => ({ repository: 'registry.example.com/pronto/order-service', tag, gitSha: 'abc1234' });
const sidecar: SidecarSpec = {
  name: 'exporter', image: exporterImage, resources,
  ports: [{ name: 'exporter', number: 9102 }],
  probes: { liveness: { httpGet: { path: '/', port: 'exporter' } }, readiness: { tcpSocket: { port: 9102 } } },
};

/** A blue-green service with `extend` applied; returns every object. */
const serviceProps: MicroserviceProps = {
  name: 'order-service', component: 'api',
  container: { port: { name: 'http', number: 8080 }, resources: { requests: { cpu: '100m', memory: '128Mi', ephemeralStorage: '1Gi' }, limits: { cpu: '500m', memory: '256Mi', ephemeralStorage: '2Gi' } } },
  release: { strategy: 'blueGreen', activeSlot: 'blue', idleReplicas: 2, scaling: { kind: 'fixed', replicas: 2 }, images: { blue: image('1.0.0'), green: image('1.1.0') } },
};

function blueGreen(extend: (pod: PodExtensionPoint) => void): any[] {
  const chart = Testing.chart();
  const extension = new PodExtensionPoint('order-service');
  extend(extension);
  new Microservice(chart, 'order-service', { ...serviceProps, extension });
  return Testing.synth(chart);
}

/** Everything a capability can add, once each. */
function everything(pod: PodExtensionPoint): void {
  pod.addSidecar(sidecar);
  pod.addSidecar({ ...sidecar, name: 'shipper', ports: [{ name: 'shipper', number: 9080 }],
    probes: { liveness: { httpGet: { path: '/ready', port: 'shipper' } }, readiness: { httpGet: { path: '/ready', port: 9080 } } }, native: true });
  pod.addVolume({ name: 'multiproc', emptyDir: { sizeLimit: '64Mi', medium: 'Memory' } });
  pod.addAppMount({ volume: 'multiproc', path: '/run/prometheus' });
  pod.addAppEnv({ name: 'POD_NAME', fieldRef: 'metadata.name' });
  pod.addAppEnv({ name: 'PROMETHEUS_MULTIPROC_DIR', value: '/run/prometheus' });
  pod.addAppEnv({ name: 'OTEL_RESOURCE_ATTRIBUTES', value: 'k8s.pod.name=$(POD_NAME)' });
  pod.addPodAnnotation('example.com/scrape', 'true');
  pod.addPodLabel('example.com/team', 'orders');
  pod.addAppPort({ name: 'metrics', number: 9100, servicePort: 9100 });
  pod.declareInjected({ name: 'vault-agent', kind: 'sidecar', resources });
  pod.declareInjected({ name: 'vault-agent-init', kind: 'init', resources });
}

describe('PodExtensionPoint', () => {
  const out = blueGreen(everything);
  const slots = ['order-service-blue', 'order-service-green'].map((n) => named(out, 'Deployment', n).spec.template);

  test('applies the same extension to every blue-green slot', () => {
    const strip = (t: any) => JSON.stringify({ ...t, metadata: { ...t.metadata, labels: { ...t.metadata.labels, 'pronto.io/slot': 'x', 'app.kubernetes.io/version': 'x' }, annotations: { ...t.metadata.annotations, 'pronto.io/git-sha': 'x' } },
      spec: { ...t.spec, containers: t.spec.containers.map((c: any) => ({ ...c, image: 'x' })), topologySpreadConstraints: 'x', affinity: 'x' } });
    expect(strip(slots[0])).toEqual(strip(slots[1]));
  });

  test('adds a plain sidecar, a native sidecar, a volume, mounts, env in order, annotations, labels and a port', () => {
    const pod = slots[0];
    expect(pod.spec.containers.map((c: any) => c.name)).toEqual(['order-service', 'exporter']);
    expect(pod.spec.initContainers.map((c: any) => [c.name, c.restartPolicy])).toEqual([['shipper', 'Always']]);
    const app = pod.spec.containers[0];
    expect(app.env).toEqual([
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'PROMETHEUS_MULTIPROC_DIR', value: '/run/prometheus' },
      { name: 'OTEL_RESOURCE_ATTRIBUTES', value: 'k8s.pod.name=$(POD_NAME)' },
    ]);
    expect(app.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }, { name: 'multiproc', mountPath: '/run/prometheus' }]);
    expect(pod.spec.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }, { name: 'multiproc', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } }]);
    expect(app.ports.map((p: any) => p.name)).toEqual(['http', 'metrics']);
    expect(pod.metadata.annotations['example.com/scrape']).toBe('true');
    expect(pod.metadata.labels['example.com/team']).toBe('orders');
    for (const name of ['order-service', 'order-service-preview']) {
      expect(named(out, 'Service', name).spec.ports.map((p: any) => [p.name, p.port, p.targetPort])).toEqual([['http', 80, 'http'], ['metrics', 9100, 'metrics']]);
    }
  });

  test('every added container gets the restricted security context, its resources and IfNotPresent pulls', () => {
    const app = slots[0].spec.containers[0];
    for (const c of [...slots[0].spec.containers.slice(1), ...slots[0].spec.initContainers]) {
      expect(c.securityContext).toEqual(app.securityContext);
      expect(c.resources).toEqual({ requests: { 'cpu': '50m', 'memory': '64Mi', 'ephemeral-storage': '100Mi' }, limits: { 'cpu': '100m', 'memory': '128Mi', 'ephemeral-storage': '200Mi' } });
      expect(c.imagePullPolicy).toBe('IfNotPresent');
    }
  });

  test('declares injected containers in an annotation the capacity guard counts at peak scale', () => {
    expect(parseInjected(slots[0].metadata.annotations[ANNOTATION_INJECTED]).map((c) => [c.name, c.kind])).toEqual([['vault-agent', 'sidecar'], ['vault-agent-init', 'init']]);
    const quota = { kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'pronto' }, spec: { hard: { 'requests.cpu': '100' } } };
    const inNamespace = out.map((m) => ({ ...m, metadata: { ...m.metadata, namespace: 'pronto' } }));
    const peaks = checkCapacity([{ ...quota, spec: { hard: { 'requests.cpu': '1m' } } }, ...inNamespace], 'pronto')[0].peaks;
    // App 100m + exporter 50m + native shipper 50m + injected agent 50m per pod.
    expect(peaks.find((p) => p.workload === 'Deployment/order-service-blue')!.perPod.requestsCpu).toBe(250);
    expect(checkCapacity([quota, ...inNamespace], 'pronto')).toEqual([]);
  });

  test('the extended service passes every rule of the validation gate', () => {
    expect(gateFindingsInNamespace(out)).toEqual([]);
  });

  test('no cdk8s-plus default reaches the output', () => {
    for (const d of out.filter((m) => m.kind === 'Deployment')) {
      for (const field of ['restartPolicy', 'dnsPolicy', 'hostNetwork', 'setHostnameAsFQDN']) expect([field, d.spec.template.spec[field]]).toEqual([field, undefined]);
    }
    const text = JSON.stringify(out);
    for (const leaked of ['dnsPolicy', 'hostNetwork', 'setHostnameAsFQDN', '"1500m"', '"2048Mi"', '"1000m"', '"512Mi"', 'cdk8s.io/metadata.addr', '"name":"main"']) {
      expect([leaked, text.includes(leaked)]).toEqual([leaked, false]);
    }
  });

  test('fails on a sidecar without resources', () => {
    const { resources: _, ...withoutResources } = sidecar;
    expect(() => blueGreen((pod) => pod.addSidecar(withoutResources as SidecarSpec)))
      .toThrow('order-service/exporter: resources are required (requests and limits of cpu, memory and ephemeralStorage), found none');
  });

  test('fails on a sidecar missing one limit, or requesting more than its limit', () => {
    const partial = { ...sidecar, resources: { ...resources, limits: { cpu: '100m', memory: '128Mi' } } } as unknown as SidecarSpec;
    expect(() => blueGreen((pod) => pod.addSidecar(partial))).toThrow('resources.limits.ephemeralStorage: expected a quantity above zero, found undefined');
    const inverted = { ...sidecar, resources: { requests: resources.limits, limits: resources.requests } };
    expect(() => blueGreen((pod) => pod.addSidecar(inverted))).toThrow('resources.requests.cpu (100m) exceeds the limit (50m)');
  });

  test('fails on a probe of a port the sidecar does not declare', () => {
    const probing = { ...sidecar, probes: { liveness: { httpGet: { path: '/', port: 'metrics' } } } };
    expect(() => blueGreen((pod) => pod.addSidecar(probing))).toThrow('liveness probe: port "metrics" is not a declared port (declared: exporter)');
  });

  test('fails on $(VAR) that refers to a later or unknown entry', () => {
    expect(() => blueGreen((pod) => pod.addAppEnv({ name: 'URL', value: 'http://$(HOST):80' })))
      .toThrow('env "URL" refers to $(HOST), which is not defined before it');
  });

  test('fails on duplicates: container, volume, env, port, annotation', () => {
    expect(() => blueGreen((pod) => { pod.addSidecar(sidecar); pod.addSidecar(sidecar); })).toThrow('container "exporter" is added twice');
    expect(() => blueGreen((pod) => { pod.addVolume({ name: 'v', emptyDir: { sizeLimit: '1Mi' } }); pod.addVolume({ name: 'v', emptyDir: { sizeLimit: '1Mi' } }); }))
      .toThrow('volume "v" is added twice');
    expect(() => blueGreen((pod) => { pod.addAppEnv({ name: 'A', value: '1' }); pod.addAppEnv({ name: 'A', value: '2' }); })).toThrow('env "A" is added twice');
    expect(() => blueGreen((pod) => pod.addAppPort({ name: 'http', number: 9000 }))).toThrow('port http is declared twice');
    expect(() => blueGreen((pod) => { pod.addPodAnnotation('a', '1'); pod.addPodAnnotation('a', '2'); })).toThrow('pod annotation "a" is added twice');
  });

  test('a $(VAR) may refer to the app container\'s own env', () => {
    const chart = Testing.chart();
    const extension = new PodExtensionPoint('order-service');
    extension.addAppEnv({ name: 'URL', value: 'http://localhost:$(PORT)/' });
    new Microservice(chart, 'order-service', { ...serviceProps, container: { ...serviceProps.container, env: { PORT: '8080' } }, extension });
    expect(named(Testing.synth(chart), 'Deployment', 'order-service-blue').spec.template.spec.containers[0].env)
      .toEqual([{ name: 'PORT', value: '8080' }, { name: 'URL', value: 'http://localhost:$(PORT)/' }]);
  });

  test('a UDP port keeps its protocol on the container and the Service', () => {
    const out2 = blueGreen((pod) => pod.addAppPort({ name: 'statsd', number: 9125, protocol: 'UDP' }));
    expect(named(out2, 'Service', 'order-service').spec.ports[1]).toEqual({ name: 'statsd', port: 9125, targetPort: 'statsd', protocol: 'UDP' });
    expect(named(out2, 'Deployment', 'order-service-blue').spec.template.spec.containers[0].ports[1]).toEqual({ name: 'statsd', containerPort: 9125, protocol: 'UDP' });
  });

  test('fails on a Service port number used twice', () => {
    expect(() => blueGreen((pod) => pod.addAppPort({ name: 'metrics', number: 9100, servicePort: 80 })))
      .toThrow('order-service: Service port 80/TCP is used twice (by "http" and "metrics")');
  });

  test('fails on replacing the workload\'s own metadata, on malformed keys, and on writing the injected annotation by hand', () => {
    expect(() => blueGreen((pod) => pod.addPodAnnotation('pronto.io/git-sha', 'deadbeef'))).toThrow('pod annotation "pronto.io/git-sha" is the workload\'s own and cannot be replaced');
    expect(() => blueGreen((pod) => pod.addPodLabel('app.kubernetes.io/version', '9.9.9'))).toThrow('pod label "app.kubernetes.io/version" is the workload\'s own');
    expect(() => blueGreen((pod) => pod.addPodAnnotation('bad key', 'x'))).toThrow('pod annotation "bad key": expected a qualified name');
    expect(() => blueGreen((pod) => pod.addPodLabel('team', 'orders!'))).toThrow('pod label team=orders!: bad characters');
    expect(() => blueGreen((pod) => pod.addPodAnnotation(ANNOTATION_INJECTED, '{}'))).toThrow('is written from declareInjected()');
  });

  test('fails on a projected volume that includes a Secret', () => {
    expect(() => blueGreen((pod) => pod.addVolume({ name: 'p', projected: { sources: [{ secret: { name: 'db' } }] } })))
      .toThrow('volume "p": a projected volume may not include a Secret (secrets come from Vault)');
  });

  test('fails on a label that would change the selector, and on a mount of a missing volume', () => {
    expect(() => blueGreen((pod) => pod.addPodLabel('app.kubernetes.io/name', 'x'))).toThrow('selects the pods and cannot be set by an extension');
    expect(() => blueGreen((pod) => pod.addAppMount({ volume: 'nope', path: '/x' }))).toThrow('mounts volume "nope", which the pod does not have');
  });

  test('fails on a volume with no source or two', () => {
    expect(() => blueGreen((pod) => pod.addVolume({ name: 'v' }))).toThrow('volume "v": expected exactly one source');
  });

  test('an empty extension changes nothing: the output equals that of a service given no extension', () => {
    const chart = Testing.chart();
    new Microservice(chart, 'order-service', { ...serviceProps, extension: undefined });
    expect(blueGreen(() => undefined)).toEqual(Testing.synth(chart));
  });

  describe('wrapAppCommand', () => {
    const wrap = { by: 'logs', wrapper: ['bash', '-c', 'exec "$@" 2>&1', 'capture'], command: ['gunicorn', '--bind', '0.0.0.0:$(PORT)', 'app:app'] };
    const wrapped = blueGreen((pod) => pod.wrapAppCommand(wrap));
    const commands = ['order-service-blue', 'order-service-green'].map((n) => named(wrapped, 'Deployment', n).spec.template.spec.containers[0]);

    test('runs the app\'s command under the wrapper, in every slot, with Kubernetes\' $(VAR) expansion escaped', () => {
      for (const app of commands) {
        expect(app.command).toEqual(['bash', '-c', 'exec "$$@" 2>&1', 'capture', 'gunicorn', '--bind', '0.0.0.0:$$(PORT)', 'app:app']);
        expect(app.args).toBeUndefined();
      }
      expect(escapeExpansion('a$b$$c$(D)')).toBe('a$$b$$$$c$$(D)');
    });

    test('only the app container is wrapped; without a wrapper it keeps the image\'s command', () => {
      for (const d of ['order-service-blue', 'order-service-green']) {
        const containers = named(blueGreen((pod) => { pod.wrapAppCommand(wrap); pod.addSidecar(sidecar); }), 'Deployment', d).spec.template.spec.containers;
        expect(containers[1].command).toBeUndefined();
      }
      expect(named(blueGreen(() => undefined), 'Deployment', 'order-service-blue').spec.template.spec.containers[0].command).toBeUndefined();
    });

    test('fails on a second wrapper, naming both', () => {
      expect(() => blueGreen((pod) => { pod.wrapAppCommand(wrap); pod.wrapAppCommand({ ...wrap, by: 'profiler' }); }))
        .toThrow('order-service: the app command is already wrapped by logs; profiler cannot wrap it too (one wrapper per pod)');
    });

    test('fails on an empty wrapper or an empty command', () => {
      expect(() => blueGreen((pod) => pod.wrapAppCommand({ ...wrap, wrapper: [] }))).toThrow('the wrapper of logs needs a non-empty wrapper and the app\'s non-empty command');
      expect(() => blueGreen((pod) => pod.wrapAppCommand({ ...wrap, command: [] }))).toThrow('non-empty command');
    });

    test('a container that states its own command is wrapped only around exactly that command', () => {
      const spec = (command: string[]) => {
        const pod = new PodExtensionPoint('gateway');
        pod.wrapAppCommand({ ...wrap, command });
        return renderPodTemplate({
          owner: 'gateway', labels: {}, annotations: {}, serviceAccountName: 'gateway', extension: pod,
          containers: [{ name: 'nginx', image: exporterImage, resources, command: ['nginx'], args: ['-e', 'stderr'] }],
          runAs: { user: 10001, group: 10001, fsGroup: 10001 }, terminationGracePeriodSeconds: 30,
        });
      };
      expect(spec(['nginx', '-e', 'stderr']).spec!.containers[0]).toMatchObject({ command: [...wrap.wrapper.map(escapeExpansion), 'nginx', '-e', 'stderr'], args: undefined });
      expect(() => spec(['nginx'])).toThrow('gateway/nginx: logs wraps the command ["nginx"], but the container runs ["nginx","-e","stderr"]');
    });
  });
});
