/**
 * The tracing capability: its section, the collector's objects and configuration, the SDK
 * env of every service (and every blue-green slot), the optional Python auto-instrumentation,
 * its flows, and every shipped environment with the section on (gate and capacity guard), on and off.
 */
import { readFileSync } from 'fs';
import { parse } from 'yaml';
import { COLLECTOR, KUBERNETES_API, PYTHON_INSTRUMENTATION, collectorEndpoint } from '../../../charts/capabilities/tracing';
import { DEFAULT_COLLECTOR_IMAGE, DEFAULT_PYTHON_INIT_RESOURCES } from '../../../config/sections/tracing';
import { renderEnvironment } from '../../../charts/synthesize';
import { parseEnvironment } from '../../../config/load';
import { ANNOTATION_INJECTED, LABEL_VERSION, Manifest, bytes, parseInjected } from '../../../lib/core';
import {
  ANNOTATION_COLLECTOR_CONFIG_CHECKSUM, ANNOTATION_INJECT_PYTHON, JAEGER_EXPORTER, K8SATTRIBUTES_RULES, POD_NAME_ENV, PYTHON_INIT_CONTAINER,
  SERVICE_VERSION_ENV, TRACE_PROCESSORS,
} from '../../../lib/tracing';
import { VALID_ENV } from '../../fixtures/environments';
import { CONFIG_DIR, ENVIRONMENTS, buildEnvironment, configProblems, renderText } from '../../helpers';

const FILE = 'config/test.yaml';
const IMAGE = '    image: { repository: docker.io/otel/opentelemetry-collector-contrib, tag: 0.135.0 }\n';
const SECTION = `tracing:\n  collector:\n${IMAGE}`;
/** A Jaeger of the cluster's own (these tests run without gitops, so no add-on says), over TLS. */
const OWN_JAEGER = 'insecure: false, queryUrl: "http://jaeger-query.tracing.svc:16686"';
/**
 * `text` with {@link OWN_JAEGER} stated: merged into its `jaeger:` line, else appended to the
 * tracing section when it is the last one, so the line numbers the cases expect stay as they are.
 */
function ownJaeger(text: string): string {
  if (!/^tracing:\n/m.test(text) || /^gitops:/m.test(text)) return text;
  const line = /^ {2}jaeger: \{ (.*) \}$/m.exec(text);
  if (line) return /insecure|queryUrl/.test(line[1]) ? text : text.replace(line[0], `  jaeger: { ${OWN_JAEGER}, ${line[1]} }`);
  const last = text.slice(text.search(/^tracing:\n/m));
  if (!/^[a-zA-Z]/m.test(last.slice('tracing:\n'.length))) return `${text.replace(/\n*$/, '\n')}  jaeger: { ${OWN_JAEGER} }\n`;
  return text.replace(/^tracing:\n/m, `tracing:\n  jaeger: { ${OWN_JAEGER} }\n`);
}
const load = (text: string) => parseEnvironment(ownJaeger(text), FILE);
const synth = buildEnvironment;
const find = (manifests: Manifest[], kind: string, name = COLLECTOR) => manifests.find((m) => m.kind === kind && m.metadata?.name === name) as any;
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
const configOf = (manifests: Manifest[]) => parse(find(manifests, 'ConfigMap').data['collector.yaml']);
const checksum = (manifests: Manifest[]) => find(manifests, 'Deployment').spec.template.metadata.annotations[ANNOTATION_COLLECTOR_CONFIG_CHECKSUM];
/** The pod templates of a catalog service: one per Deployment (both slots of a blue-green one). */
const servicePods = (manifests: Manifest[], service: string): any[] => manifests
  .filter((m) => m.kind === 'Deployment' && m.spec.template.metadata.labels['app.kubernetes.io/name'] === service)
  .map((m) => m.spec.template);

/** A shipped environment with the section appended, and the API server's blocks where network policies need them. */
function shippedWithSection(env: string, extra = ''): string {
  const raw = readFileSync(`${CONFIG_DIR}/${env}.yaml`, 'utf8');
  const withApi = /^ {4}kubernetes-api:/m.test(raw) || !/^networkPolicies:/m.test(raw) ? raw
    : raw.replace(/^( {2}externalHosts:\n)/m, '$1    kubernetes-api: [10.0.1.0/28]\n');
  return /^tracing:/m.test(withApi) ? withApi : `${withApi}\n${SECTION}${extra}`;
}

describe('the tracing capability', () => {
  const config = load(`${VALID_ENV}${SECTION}`);
  const on = synth(config);
  const collectorConfig = configOf(on.manifests);
  const big = synth(load(`${VALID_ENV}${SECTION}    resources: { limits: { memory: 1Gi } }\n`));

  test('its section is defaulted', () => {
    const s = config.capabilities.tracing!;
    expect(s.sampler).toBe('parentbased_traceidratio');
    expect(s.ratio).toBe(0.1);
    expect(s.jaeger).toEqual({ endpoint: 'jaeger-collector.tracing.svc:4317', namespace: 'tracing', podLabels: { 'app.kubernetes.io/name': 'jaeger' }, insecure: false, queryUrl: 'http://jaeger-query.tracing.svc:16686' });
    expect(s.collector.resources.limits.memory).toBe('512Mi');
    expect(s.apiServer.ports).toEqual([443, 6443]);
    expect(s.instrumentation).toBeUndefined();
  });

  test('the collector: ConfigMap, ServiceAccount without token, Deployment of ≥ 2 pods, PDB, Service on 4317 and 4318, in a chart of its own', () => {
    expect(on.charts.capabilities.map((c) => c.node.id)).toEqual(['tracing']);
    const deployment = find(on.manifests, 'Deployment');
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(deployment.spec.template.spec.containers[0].image).toBe('docker.io/otel/opentelemetry-collector-contrib:0.135.0');
    expect(find(on.manifests, 'ServiceAccount').automountServiceAccountToken).toBe(false);
    expect(find(on.manifests, 'PodDisruptionBudget')).toBeDefined();
    expect(find(on.manifests, 'Service').spec.ports.map((p: any) => [p.name, p.port])).toEqual([['otlp-grpc', 4317], ['otlp-http', 4318]]);
    expect(deployment.spec.template.spec.volumes).toContainEqual({ name: 'config', configMap: { name: COLLECTOR, defaultMode: 0o444 } });
    const autoscaled = synth(load(`${VALID_ENV}${SECTION}    autoscaling: { minReplicas: 2, maxReplicas: 5 }\n`));
    expect(find(autoscaled.manifests, 'HorizontalPodAutoscaler').spec).toMatchObject({ minReplicas: 2, maxReplicas: 5 });
    expect(find(autoscaled.manifests, 'Deployment').spec.replicas).toBeUndefined();
  });

  test('the configuration: OTLP receivers on 4317 and 4318, memory_limiter first and batch last, the Jaeger exporter, health_check', () => {
    expect(collectorConfig.receivers.otlp.protocols.grpc.endpoint).toMatch(/:4317$/);
    expect(collectorConfig.receivers.otlp.protocols.http.endpoint).toMatch(/:4318$/);
    const traces = collectorConfig.service.pipelines.traces;
    expect(traces.processors).toEqual([...TRACE_PROCESSORS]);
    expect(traces.processors[0]).toBe('memory_limiter');
    expect(traces.processors.at(-1)).toBe('batch');
    expect(traces.processors).toEqual(expect.arrayContaining(['k8sattributes', 'resource']));
    expect(traces.exporters).toEqual([JAEGER_EXPORTER]);
    expect(collectorConfig.exporters[JAEGER_EXPORTER]).toMatchObject({ endpoint: 'jaeger-collector.tracing.svc:4317', tls: { insecure: false } });
    expect(collectorConfig.processors.k8sattributes.filter).toEqual({ namespace: 'pronto' });
    expect(collectorConfig.processors.resource.attributes).toContainEqual({ key: 'deployment.environment.name', value: config.name, action: 'insert' });
  });

  test('memory_limiter is derived from the container memory limit: hard limit 80 %, spike 20 %', () => {
    const mi = (manifests: Manifest[]) => bytes(find(manifests, 'Deployment').spec.template.spec.containers[0].resources.limits.memory) / 2 ** 20;
    expect(collectorConfig.processors.memory_limiter).toMatchObject({ limit_mib: Math.floor(mi(on.manifests) * 0.8), spike_limit_mib: Math.floor(mi(on.manifests) * 0.2) });
    // `big`: the same text, built once for the suite above.
    expect(configOf(big.manifests).processors.memory_limiter).toMatchObject({ limit_mib: 819, spike_limit_mib: 204 });
  });

  test('health_check backs the probes: readiness asks it over HTTP, liveness its port, on the port it listens on', () => {
    const container = find(on.manifests, 'Deployment').spec.template.spec.containers[0];
    const health = container.ports.find((p: any) => p.name === 'health').containerPort;
    expect(collectorConfig.extensions.health_check.endpoint).toMatch(new RegExp(`:${health}$`));
    expect(collectorConfig.service.extensions).toEqual(['health_check']);
    expect(container.readinessProbe.httpGet).toMatchObject({ path: collectorConfig.extensions.health_check.path, port: 'health' });
    expect(container.livenessProbe.tcpSocket).toEqual({ port: 'health' });
  });

  test('a change of the configuration changes the checksum, so the pods roll; the same section gives the same checksum', () => {
    expect(checksum(on.manifests)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(checksum(synth(load(`${VALID_ENV}${SECTION}`)).manifests)).toBe(checksum(on.manifests));
    const other = synth(load(`${VALID_ENV}${SECTION}  jaeger: { endpoint: jaeger.tracing.svc:4317 }\n`));
    expect(checksum(other.manifests)).not.toBe(checksum(on.manifests));
    expect(checksum(big.manifests)).not.toBe(checksum(on.manifests));
  });

  test('RBAC: a Role in the collector\'s namespace that reads exactly pods and replicasets (get, list, watch), bound to its ServiceAccount; nothing cluster-wide', () => {
    const role = on.manifests.find((m) => m.kind === 'Role' && m.metadata.name === COLLECTOR) as any;
    const granted = role.rules.flatMap((r: any) => r.apiGroups.flatMap((g: string) => r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${g}/${res}:${v}`)))).sort();
    const expected = ['/pods', 'apps/replicasets'].flatMap((res) => ['get', 'list', 'watch'].map((v) => `${res}:${v}`)).sort();
    expect(granted).toEqual(expected);
    expect(K8SATTRIBUTES_RULES.flatMap((r) => r.resources).sort()).toEqual(['pods', 'replicasets']);
    expect(role.metadata.namespace).toBe('pronto');
    // k8sattributes watches exactly that namespace, so a Role there is all it needs.
    expect(collectorConfig.processors.k8sattributes.filter).toEqual({ namespace: 'pronto' });
    expect(on.manifests.some((m) => m.kind === 'ClusterRole' || m.kind === 'ClusterRoleBinding')).toBe(false);
    const binding = on.manifests.find((m) => m.kind === 'RoleBinding' && m.metadata.name === COLLECTOR) as any;
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    const pod = find(on.manifests, 'Deployment').spec.template.spec;
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: pod.serviceAccountName, namespace: 'pronto' }]);
  });

  test('the API token: projected, expiring, no audience (the API server\'s), mounted read-only into the collector only; the token rule waived with its reason; the CA bundle Kubernetes publishes passes config-map-exists unwaived', () => {
    const deployment = find(on.manifests, 'Deployment');
    const pod = deployment.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    const volume = pod.volumes.find((v: any) => v.projected);
    expect(volume.projected.sources[0]).toEqual({ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } });
    expect(pod.containers.flatMap((c: any) => c.volumeMounts.filter((m: any) => m.name === volume.name)))
      .toEqual([{ name: volume.name, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }]);
    const waivers = Object.keys(deployment.metadata.annotations).filter((k) => k.startsWith('pronto.io/waive-')).sort();
    expect(waivers).toEqual(['pronto.io/waive-no-service-account-token']);
    expect(volume.projected.sources.map((s: any) => s.configMap?.name).filter(Boolean)).toEqual(['kube-root-ca.crt']);
    const rendered = renderEnvironment(config);
    expect(rendered.waivers.map((w) => `${w.rule} ${w.object}`).sort()).toEqual([`no-service-account-token Deployment pronto/${COLLECTOR}`]);
  });

  test('every service\'s app container, in every slot, gets the SDK env in order, each $(VAR) after what it names', () => {
    const expectedNames = ['OTEL_SERVICE_NAME', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_TRACES_EXPORTER', 'OTEL_METRICS_EXPORTER',
      'OTEL_LOGS_EXPORTER', 'OTEL_PROPAGATORS', 'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG', POD_NAME_ENV, SERVICE_VERSION_ENV, 'OTEL_RESOURCE_ATTRIBUTES'];
    let slots = 0;
    for (const svc of config.services) {
      const pods = servicePods(on.manifests, svc.name);
      expect(pods.length).toBe(svc.release.strategy === 'blueGreen' ? 2 : 1);
      for (const pod of pods) {
        slots++;
        const app = pod.spec.containers.find((c: any) => c.name === svc.name);
        const env: any[] = app.env;
        const otel = env.filter((e) => expectedNames.includes(e.name));
        expect(otel.map((e) => e.name)).toEqual(expectedNames);
        const value = (name: string) => env.find((e) => e.name === name);
        expect(value('OTEL_SERVICE_NAME').value).toBe(svc.name);
        expect(value('OTEL_EXPORTER_OTLP_ENDPOINT').value).toBe(`http://${COLLECTOR}.pronto.svc.cluster.local:4318`);
        expect(value('OTEL_EXPORTER_OTLP_PROTOCOL').value).toBe('http/protobuf');
        expect(value('OTEL_PROPAGATORS').value).toBe('tracecontext,baggage');
        expect(value('OTEL_TRACES_SAMPLER').value).toBe('parentbased_traceidratio');
        expect(value('OTEL_TRACES_SAMPLER_ARG').value).toBe('0.1');
        expect(value(POD_NAME_ENV).valueFrom.fieldRef.fieldPath).toBe('metadata.name');
        expect(value(SERVICE_VERSION_ENV).valueFrom.fieldRef.fieldPath).toBe(`metadata.labels['${LABEL_VERSION}']`);
        // The label the fieldRef reads is the slot's own image version.
        expect(pod.metadata.labels[LABEL_VERSION]).toBe(app.image.split(':').pop());
        expect(value('OTEL_RESOURCE_ATTRIBUTES').value).toBe(`service.version=$(${SERVICE_VERSION_ENV}),deployment.environment.name=${config.name},` +
          `service.namespace=pronto,k8s.pod.name=$(${POD_NAME_ENV})`);
        // Kubernetes expands $(VAR) only for entries defined before: every reference points backwards.
        env.forEach((e, i) => {
          for (const [, ref] of String(e.value ?? '').matchAll(/\$\(([A-Z_0-9]+)\)/g)) expect(env.slice(0, i).map((x) => x.name)).toContain(ref);
        });
      }
    }
    expect(slots).toBe(config.services.reduce((n, s) => n + (s.release.strategy === 'blueGreen' ? 2 : 1), 0));
    expect(collectorEndpoint(config)).toBe(`http://${COLLECTOR}.pronto.svc.cluster.local:4318`);
  });

  test('the sampler and ratio come from the section', () => {
    const set = synth(load(`${VALID_ENV}${SECTION}  sampler: traceidratio\n  ratio: 0.25\n`));
    const env = servicePods(set.manifests, config.services[0].name)[0].spec.containers[0].env;
    expect(env).toContainEqual({ name: 'OTEL_TRACES_SAMPLER', value: 'traceidratio' });
    expect(env).toContainEqual({ name: 'OTEL_TRACES_SAMPLER_ARG', value: '0.25' });
  });

  test('flows: every service to the collector on 4317 and 4318, the collector to Jaeger and to the API server', () => {
    const flows = on.charts.graph.flows;
    for (const svc of config.services) {
      for (const port of [4317, 4318]) {
        expect(flows).toContainEqual(expect.objectContaining({ from: expect.objectContaining({ name: svc.name }), to: expect.objectContaining({ kind: 'workload', name: COLLECTOR }),
          ports: [{ port, protocol: 'TCP' }], declaredBy: 'tracing' }));
      }
    }
    expect(flows).toContainEqual(expect.objectContaining({ from: expect.objectContaining({ name: COLLECTOR }),
      to: { kind: 'foreign', name: 'jaeger', namespace: 'tracing', podLabels: { 'app.kubernetes.io/name': 'jaeger' } }, ports: [{ port: 4317, protocol: 'TCP' }] }));
    for (const port of [443, 6443]) {
      expect(flows).toContainEqual(expect.objectContaining({ from: expect.objectContaining({ name: COLLECTOR }), to: { kind: 'external', name: KUBERNETES_API }, ports: [{ port, protocol: 'TCP' }] }));
    }
    expect(on.charts.graph.workloads.map((w) => w.name)).toContain(COLLECTOR);
    expect(flows.some((f) => f.from.name === COLLECTOR && f.to.name === 'kube-dns')).toBe(true);
  });

  test('Python auto-instrumentation: the Instrumentation, the annotation on every pod, its init container declared with the CR\'s resources', () => {
    const text = `${VALID_ENV}${SECTION}  instrumentation: { python: { resources: { limits: { memory: 64Mi } } } }\n`;
    const inst = synth(load(text));
    const cr = find(inst.manifests, 'Instrumentation', PYTHON_INSTRUMENTATION);
    expect(cr.apiVersion).toBe('opentelemetry.io/v1alpha1');
    expect(cr.spec.exporter.endpoint).toBe(`http://${COLLECTOR}.pronto.svc.cluster.local:4318`);
    expect(cr.spec.sampler).toEqual({ type: 'parentbased_traceidratio', argument: '0.1' });
    expect(cr.spec.initContainerSecurityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const crResources = cr.spec.python.resourceRequirements;
    expect(crResources.limits).toEqual({ 'cpu': '500m', 'memory': '64Mi', 'ephemeral-storage': DEFAULT_PYTHON_INIT_RESOURCES.limits.ephemeralStorage });
    for (const svc of config.services) {
      for (const pod of servicePods(inst.manifests, svc.name)) {
        expect(pod.metadata.annotations[ANNOTATION_INJECT_PYTHON]).toBe(PYTHON_INSTRUMENTATION);
        const injected = parseInjected(pod.metadata.annotations[ANNOTATION_INJECTED]).find((c) => c.name === PYTHON_INIT_CONTAINER)!;
        expect(injected.kind).toBe('init');
        // The declared overhead is exactly what the Instrumentation gives the init container.
        expect({ 'cpu': injected.resources.limits.cpu, 'memory': injected.resources.limits.memory, 'ephemeral-storage': injected.resources.limits.ephemeralStorage })
          .toEqual({ 'cpu': '500m', 'memory': '64Mi', 'ephemeral-storage': DEFAULT_PYTHON_INIT_RESOURCES.limits.ephemeralStorage });
        expect(injected.resources.requests).toEqual(DEFAULT_PYTHON_INIT_RESOURCES.requests);
      }
    }
    expect(renderEnvironment(load(text)).findings).toEqual([]);
  });

  test.each(ENVIRONMENTS)('on in the shipped %s (with Python auto-instrumentation): every object passes the gate and the capacity guard', (env) => {
    const rendered = renderText(shippedWithSection(env, '  instrumentation: {}\n'), `config/${env}.yaml`);
    expect(rendered.findings).toEqual([]);
    expect(rendered.files.map((f) => f.name)).toContain('tracing.k8s.yaml');
  });

  test('off (absent or false): the output is byte-identical to the output without it', () => {
    // Objects as JSON: equal text for equal objects, key order included, at a fraction of YAML's cost.
    const render = (text: string) => synth(load(text)).manifests.map((m) => JSON.stringify(m)).join('---\n');
    const without = render(VALID_ENV);
    expect(render(`${VALID_ENV}tracing: false\n`)).toBe(without);
    expect(without).not.toContain('OTEL_');
    expect(without).not.toContain(COLLECTOR);
  });
});

describe('TLS for OTLP (tracing.tls, opt-in): the receivers serve a cert-manager certificate, every service verifies it against the CA bundle', () => {
  const TLS = '  tls: { issuer: { name: internal-ca }, caBundle: { configMap: internal-ca } }\n';
  const config = load(`${VALID_ENV}${SECTION}${TLS}`);
  const { manifests } = synth(config);
  const CA_FILE = '/etc/pronto/ca/internal-ca/ca.crt';

  test('a Certificate for every name of the collector\'s Service, from the issuer, into the Secret the collector mounts read-only where its receivers read it', () => {
    const certificate = find(manifests, 'Certificate', `${COLLECTOR}-tls`);
    expect(certificate.spec).toMatchObject({
      secretName: `${COLLECTOR}-tls`, issuerRef: { kind: 'ClusterIssuer', name: 'internal-ca', group: 'cert-manager.io' },
      dnsNames: [COLLECTOR, `${COLLECTOR}.${config.namespace.name}`, `${COLLECTOR}.${config.namespace.name}.svc`, `${COLLECTOR}.${config.namespace.name}.svc.cluster.local`],
    });
    const pod = find(manifests, 'Deployment').spec.template.spec;
    const volume = pod.volumes.find((v: any) => v.secret?.secretName === certificate.spec.secretName);
    expect(volume.secret.items.map((i: any) => i.key)).toEqual(['tls.crt', 'tls.key']);
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: volume.name, mountPath: '/etc/otelcol-tls', readOnly: true });
    for (const protocol of ['grpc', 'http']) {
      expect(configOf(manifests).receivers.otlp.protocols[protocol].tls).toEqual({ cert_file: '/etc/otelcol-tls/tls.crt', key_file: '/etc/otelcol-tls/tls.key', min_version: '1.2', reload_interval: '1h' });
    }
  });

  test('every service (every slot) sends to the https endpoint and verifies it with the CA bundle, mounted read-only and declared as the cluster\'s', () => {
    expect(collectorEndpoint(config, config.capabilities.tracing!)).toBe(`https://${COLLECTOR}.${config.namespace.name}.svc.cluster.local:4318`);
    for (const svc of config.services) {
      for (const template of servicePods(manifests, svc.name)) {
        const app = template.spec.containers[0];
        const env = Object.fromEntries(app.env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
        expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(collectorEndpoint(config, config.capabilities.tracing!));
        expect(env.OTEL_EXPORTER_OTLP_CERTIFICATE).toBe(CA_FILE);
        expect(app.volumeMounts).toContainEqual({ name: 'ca-internal-ca', mountPath: '/etc/pronto/ca/internal-ca', readOnly: true });
        expect(template.metadata.annotations['cluster-config-map.pronto.io/internal-ca']).toBeDefined();
      }
    }
  });

  test('every object passes the gate (the Certificate against cert-manager\'s CRD, the CA bundle declared)', () => {
    expect(renderEnvironment(config).findings).toEqual([]);
  });

  test('off by default in every shipped environment: http endpoints, no certificate, no CA bundle', () => {
    for (const env of ENVIRONMENTS) {
      const shipped = parseEnvironment(shippedWithSection(env), `config/${env}.yaml`);
      expect(shipped.capabilities.tracing!.tls).toBeUndefined();
      expect(collectorEndpoint(shipped, shipped.capabilities.tracing!)).toMatch(/^http:\/\//);
    }
    const plain = synth(load(`${VALID_ENV}${SECTION}  tls: false\n`)).manifests;
    expect(plain.filter((m) => m.kind === 'Certificate')).toEqual([]);
    expect(JSON.stringify(plain)).not.toContain('OTEL_EXPORTER_OTLP_CERTIFICATE');
  });

  test('fails on a TLS setting without its CA bundle, naming the field', () => {
    const text = `${VALID_ENV}${SECTION}  tls: { issuer: { name: internal-ca } }\n`;
    expect(configProblems(() => load(text))).toMatch(new RegExp(`${FILE}:${lineOf(text, "tls:")}: tracing\\.tls\\.caBundle: `));
  });
});

describe('tracing config errors name file:line, field, expected and found', () => {
  const at = (text: string, needle: string) => `${FILE}:${lineOf(text, needle)}: `;

  test.each([
    ['a sampler ratio above 1', '  ratio: 1.5\n', 'ratio: 1.5', 'tracing.ratio: expected a sampling ratio between 0 and 1', 'found 1.5'],
    ['a sampler ratio below 0', '  ratio: -0.1\n', 'ratio: -0.1', 'tracing.ratio: expected a sampling ratio between 0 and 1', 'found -0.1'],
    ['a ratio that is not a number', '  ratio: half\n', 'ratio: half', 'tracing.ratio: expected a sampling ratio between 0 and 1', 'found "half"'],
    ['an unknown sampler', '  sampler: sometimes\n', 'sampler: sometimes', 'tracing.sampler: expected one of always_on', 'found "sometimes"'],
    ['an endpoint with a scheme', '  jaeger: { endpoint: "http://jaeger.tracing.svc:4317" }\n', 'jaeger:', 'tracing.jaeger.endpoint: expected host:port', 'found "http://jaeger.tracing.svc:4317"'],
    ['an endpoint without a port', '  jaeger: { endpoint: jaeger.tracing.svc }\n', 'jaeger:', 'tracing.jaeger.endpoint: expected host:port', 'found "jaeger.tracing.svc"'],
    ['an endpoint outside Jaeger\'s namespace', '  jaeger: { endpoint: jaeger.example.com:4317 }\n', 'jaeger:', 'tracing.jaeger.endpoint: expected a Service of Jaeger\'s namespace (jaeger.namespace: tracing)', 'found "jaeger.example.com:4317"'],
    ['one collector pod', '    replicas: 1\n', 'replicas: 1', 'tracing.collector.replicas: expected a value ≥ 2', 'found 1'],
    ['a latest collector image', '', 'tag: latest', 'tracing.collector.image.tag: expected an upstream release tag', 'found "latest"'],
    ['a collector memory limit too small for memory_limiter', '    resources: { requests: { memory: 64Mi }, limits: { memory: 64Mi } }\n', 'resources: { requests: { memory: 64Mi }', 'tracing.collector.resources.limits.memory: expected at least 128Mi', 'found "64Mi"'],
  ])('%s', (name, extra, needle, message, found) => {
    let text = `${VALID_ENV}${SECTION}${extra}`;
    if (name === 'a latest collector image') text = text.replace('tag: 0.135.0', 'tag: latest');
    const got = configProblems(() => load(text));
    expect(got).toContain(`${at(text, needle)}${message}`);
    expect(got).toContain(found);
  });

  test('the collector image defaults to the release the configuration is written for', () => {
    expect(load(`${VALID_ENV}tracing: { jaeger: { insecure: true, queryUrl: "http://jaeger-query.tracing.svc:16686" } }\n`).capabilities.tracing!.collector.image).toEqual(DEFAULT_COLLECTOR_IMAGE);
  });

  test('Jaeger in the namespace Pronto owns', () => {
    const text = `${VALID_ENV}${SECTION}  jaeger: { endpoint: jaeger.pronto.svc:4317, namespace: pronto }\n`;
    // The loader's foreign-namespace check (sections.ts foreignNamespaces): Jaeger's namespace is one Pronto only refers to.
    expect(configProblems(() => synth(load(text)))).toContain('namespace.name: expected a namespace other than those Pronto only refers to (kube-system, pronto), found "pronto"');
  });

  test('network policies on without the API server\'s blocks: the error names networkPolicies.externalHosts and kubernetes-api', () => {
    const text = `${VALID_ENV}networkPolicies:\n  externalHosts:\n    api.stripe.com: [0.0.0.0/0]\n${SECTION}`;
    const got = configProblems(() => synth(load(text)));
    expect(got).toContain(`${at(text, 'externalHosts:')}networkPolicies.externalHosts: expected the CIDR blocks of "${KUBERNETES_API}"`);
  });
});
