/**
 * lib/tracing: the collector configuration renderer, memory_limiter's derivation, the SDK
 * env, and the OtelCollector and PythonInstrumentation constructs, each passing the gate.
 */
import { Testing } from 'cdk8s';
import { parse } from 'yaml';
import { UpstreamImage } from '../../../lib/core';
import {
  COLLECTOR_TLS_DIR, CollectorConfigModel, DEFAULT_BATCH, DEFAULT_COLLECTOR_PORTS, OtelCollector, POD_NAME_ENV, PythonInstrumentation, SERVICE_VERSION_ENV, TRACE_PROCESSORS,
  memoryLimiterFor, renderCollectorConfig, sdkEnv,
} from '../../../lib/tracing';
import { PodExtensionPoint } from '../../../lib/workload';
import { gateFindingsInNamespace } from '../../helpers';

const RESOURCES = { requests: { cpu: '100m', memory: '256Mi', ephemeralStorage: '128Mi' }, limits: { cpu: '500m', memory: '512Mi', ephemeralStorage: '256Mi' } };
const MODEL: Omit<CollectorConfigModel, 'memoryLimiter'> = {
  ports: DEFAULT_COLLECTOR_PORTS, watchNamespace: 'pronto', insertAttributes: { 'deployment.environment.name': 'test' }, batch: DEFAULT_BATCH,
  jaeger: { endpoint: 'jaeger-collector.tracing.svc:4317', insecure: true },
};
const image = new UpstreamImage({ repository: 'docker.io/otel/opentelemetry-collector-contrib', tag: '0.135.0' });

describe('memoryLimiterFor', () => {
  test('hard limit 80 % and spike 20 % of the container limit, whole MiB', () => {
    expect(memoryLimiterFor(512)).toEqual({ limitMib: 409, spikeLimitMib: 102, checkIntervalSeconds: 1 });
    expect(memoryLimiterFor(1000)).toMatchObject({ limitMib: 800, spikeLimitMib: 200 });
  });
  test('refuses a limit too small to split', () => expect(() => memoryLimiterFor(5)).toThrow('at least 10 MiB, found 5'));
});

describe('renderCollectorConfig', () => {
  const config = parse(renderCollectorConfig({ ...MODEL, memoryLimiter: memoryLimiterFor(512) }));
  test('one traces pipeline: otlp in, the processors in order, the Jaeger exporter out', () => {
    expect(config.service.pipelines).toEqual({ traces: { receivers: ['otlp'], processors: [...TRACE_PROCESSORS], exporters: ['otlp/jaeger'] } });
    expect(Object.keys(config.processors)).toEqual([...TRACE_PROCESSORS]);
    expect(config.exporters['otlp/jaeger'].tls).toEqual({ insecure: true });
  });
  test('listens on the pod IP only', () => {
    expect(config.receivers.otlp.protocols.grpc.endpoint).toBe('${env:MY_POD_IP}:4317');
    expect(config.extensions.health_check.endpoint).toBe('${env:MY_POD_IP}:13133');
  });
  test('is deterministic', () => expect(renderCollectorConfig({ ...MODEL, memoryLimiter: memoryLimiterFor(512) })).toBe(renderCollectorConfig({ ...MODEL, memoryLimiter: memoryLimiterFor(512) })));
});

/**
 * The keys of go.opentelemetry.io/collector/config/configtls ServerConfig at v0.135.0, the release of the pinned contrib
 * image (open-telemetry/opentelemetry-collector@v0.135.0 config/configtls/configtls.go: Config's mapstructure tags, squashed
 * into ServerConfig with client_ca_file and client_ca_file_reload), under `tls` of configgrpc.ServerConfig
 * (config/configgrpc/configgrpc.go) and confighttp.ServerConfig (config/confighttp/server.go).
 */
const CONFIGTLS_SERVER_KEYS = [
  'ca_file', 'ca_pem', 'include_system_ca_certs_pool', 'cert_file', 'cert_pem', 'key_file', 'key_pem', 'min_version', 'max_version', 'cipher_suites',
  'reload_interval', 'curve_preferences', 'tpm', 'client_ca_file', 'client_ca_file_reload',
];

describe('renderCollectorConfig with TLS on the receivers', () => {
  const tls = { certFile: '/etc/otelcol-tls/tls.crt', keyFile: '/etc/otelcol-tls/tls.key', reloadInterval: '1h' };
  const text = renderCollectorConfig({ ...MODEL, memoryLimiter: memoryLimiterFor(512), tls });
  const config = parse(text);
  test('both OTLP receivers serve the certificate, TLS 1.2 at least, reread every hour; keys the collector declares', () => {
    for (const protocol of ['grpc', 'http']) {
      const got = config.receivers.otlp.protocols[protocol].tls;
      expect(got).toEqual({ cert_file: tls.certFile, key_file: tls.keyFile, min_version: '1.2', reload_interval: '1h' });
      for (const key of Object.keys(got)) expect(CONFIGTLS_SERVER_KEYS).toContain(key);
    }
    // Written out twice, no YAML anchor or alias.
    expect(text).not.toMatch(/[&*]a\d/);
  });
  test('without it, plaintext receivers', () => {
    const plain = parse(renderCollectorConfig({ ...MODEL, memoryLimiter: memoryLimiterFor(512) }));
    expect(plain.receivers.otlp.protocols.grpc.tls).toBeUndefined();
    expect(plain.receivers.otlp.protocols.http.tls).toBeUndefined();
  });
});

describe('sdkEnv', () => {
  const props = { serviceName: 'order-service', endpoint: 'http://otel-collector.pronto.svc.cluster.local:4318', sampler: 'parentbased_traceidratio', ratio: 0.5, environment: 'prod', namespace: 'pronto' };
  test('OTEL_RESOURCE_ATTRIBUTES comes last, after the entries it refers to', () => {
    const env = sdkEnv(props);
    const names = env.map((e) => e.name);
    expect(names.at(-1)).toBe('OTEL_RESOURCE_ATTRIBUTES');
    expect(names.indexOf(POD_NAME_ENV)).toBeLessThan(names.length - 1);
    expect(names.indexOf(SERVICE_VERSION_ENV)).toBeLessThan(names.length - 1);
  });
  test.each([[-0.1], [1.1], [NaN]])('refuses the ratio %p', (ratio) => expect(() => sdkEnv({ ...props, ratio })).toThrow('expected 0..1'));
  test('refuses an endpoint that is not a base URL', () => expect(() => sdkEnv({ ...props, endpoint: 'otel-collector:4318' })).toThrow('expected http(s)://host:port'));
  test('with a CA file: OTEL_EXPORTER_OTLP_CERTIFICATE right after the https endpoint (the Python exporter\'s verify); refused for a plaintext endpoint', () => {
    const env = sdkEnv({ ...props, endpoint: 'https://otel-collector.pronto.svc.cluster.local:4318', certificateFile: '/etc/pronto/ca/internal-ca/ca.crt' });
    const names = env.map((e) => e.name);
    expect(names.slice(1, 3)).toEqual(['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_CERTIFICATE']);
    expect(env[2]).toEqual({ name: 'OTEL_EXPORTER_OTLP_CERTIFICATE', value: '/etc/pronto/ca/internal-ca/ca.crt' });
    expect(sdkEnv(props).map((e) => e.name)).not.toContain('OTEL_EXPORTER_OTLP_CERTIFICATE');
    expect(() => sdkEnv({ ...props, certificateFile: '/ca.crt' })).toThrow('is plaintext, so no certificate is verified');
  });
});

describe('OtelCollector and PythonInstrumentation', () => {
  const chart = Testing.chart();
  const collector = new OtelCollector(chart, 'Collector', { name: 'otel-collector', namespace: 'pronto', image, resources: RESOURCES, scaling: { kind: 'fixed', replicas: 2 }, config: MODEL });
  new PythonInstrumentation(chart, 'Python', {
    name: 'python', endpoint: 'http://otel-collector.pronto.svc.cluster.local:4318', sampler: 'parentbased_traceidratio', ratio: 0.1,
    resources: RESOURCES, volumeSizeLimit: '200Mi',
  });
  const manifests = Testing.synth(chart);

  test('memory_limiter comes from the resources; the token expires after 3600 s by default', () => {
    expect(collector.model.memoryLimiter).toEqual(memoryLimiterFor(512));
    expect(collector.tokenExpirationSeconds).toBe(3600);
  });
  test('everything passes the gate (two waivers, with reasons)', () => {
    expect(gateFindingsInNamespace(manifests)).toEqual([]);
  });
  test('refuses a token lifetime below the API server\'s minimum', () => {
    expect(() => new OtelCollector(Testing.chart(), 'C', { name: 'c', namespace: 'pronto', image, resources: RESOURCES, scaling: { kind: 'fixed', replicas: 2 }, config: MODEL, tokenExpirationSeconds: 60 }))
      .toThrow('tokenExpirationSeconds: expected an integer ≥ 600');
  });
  test('addTo annotates the pod and declares the injected init container', () => {
    const pod = new PodExtensionPoint('svc');
    const python = new PythonInstrumentation(Testing.chart(), 'P', { name: 'python', endpoint: 'http://c.pronto.svc.cluster.local:4318', sampler: 'always_on', ratio: 1, resources: RESOURCES, volumeSizeLimit: '200Mi' });
    expect(python.addTo(pod, 'svc')).toEqual({ name: 'opentelemetry-auto-instrumentation-python', kind: 'init', resources: RESOURCES });
    expect(pod.podAnnotations['instrumentation.opentelemetry.io/inject-python']).toBe('python');
  });
});

describe('OtelCollector with TLS', () => {
  test('mounts the certificate volume read-only at COLLECTOR_TLS_DIR, where the receivers read it; passes the gate', () => {
    const chart = Testing.chart();
    const volume = { name: 'otlp-tls', certificate: { secretName: 'otel-collector-tls', items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }], defaultMode: 0o440 } };
    const collector = new OtelCollector(chart, 'Collector', { name: 'otel-collector', namespace: 'pronto', image, resources: RESOURCES, scaling: { kind: 'fixed', replicas: 2 }, config: MODEL, tls: { volume } });
    const deployment = Testing.synth(chart).find((m: any) => m.kind === 'Deployment');
    const pod = deployment.spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'otlp-tls', secret: { secretName: 'otel-collector-tls', items: volume.certificate.items, defaultMode: 0o440 } });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'otlp-tls', mountPath: COLLECTOR_TLS_DIR, readOnly: true });
    expect(collector.model.tls).toEqual({ certFile: `${COLLECTOR_TLS_DIR}/tls.crt`, keyFile: `${COLLECTOR_TLS_DIR}/tls.key`, reloadInterval: '1h' });
    expect(parse(collector.configText).receivers.otlp.protocols.http.tls.cert_file).toBe(`${COLLECTOR_TLS_DIR}/tls.crt`);
  });
});
