/**
 * lib/tracing: the collector configuration renderer, memory_limiter's derivation, the SDK
 * env, and the OtelCollector and PythonInstrumentation constructs, each passing the gate.
 */
import { Testing } from 'cdk8s';
import { parse } from 'yaml';
import { UpstreamImage } from '../../../lib/core';
import {
  CollectorConfigModel, DEFAULT_BATCH, DEFAULT_COLLECTOR_PORTS, OtelCollector, POD_NAME_ENV, PythonInstrumentation, SERVICE_VERSION_ENV, TRACE_PROCESSORS,
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
