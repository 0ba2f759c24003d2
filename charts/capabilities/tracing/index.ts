/**
 * The `tracing` capability: an OpenTelemetry collector (contrib) Deployment that receives
 * OTLP from every catalog service, adds Kubernetes attributes and exports to Jaeger v2;
 * every service's app container gets the SDK's environment (service name, collector
 * endpoint, propagators, sampler, resource attributes); optionally the OpenTelemetry
 * Operator injects Python auto-instrumentation. With `tls` (opt-in), the receivers serve a
 * cert-manager certificate and every service verifies it against the CA bundle.
 */
import { Chart } from 'cdk8s';
import { ConfigError, EnvironmentConfig } from '../../../config/load';
import { ForeignEndpoint, Scaling, UpstreamImage, serviceHost, workloadEndpoint } from '../../../lib/core';
import {
  CollectorConfigModel, DEFAULT_BATCH, DEFAULT_COLLECTOR_PORTS, OtelCollector, OtelCollectorProps, PYTHON_INIT_CONTAINER, PythonInstrumentation, PythonInstrumentationProps, requestPythonInjection, sdkEnv,
} from '../../../lib/tracing';
import { AddonContracts, OPERATOR_PYTHON_IMAGE, podLabelsProblem, serviceAddress, serviceOf, serviceUrl, servesTls } from '../../../lib/addons';
import { ServiceCertificate, mountCaBundle } from '../../../lib/tls';
import { ServiceTls } from '../../../config/sections/schemas';
import { Capability } from '../capability';
import { SectionValue } from '../../../config/sections';
import { COLLECTOR_MIN_PODS } from '../../../config/sections/tracing';

type Section = SectionValue<'tracing'>;

/** The collector's workload and Service name. */
export const COLLECTOR = 'otel-collector';
/** The collector's pod volume of its receivers' certificate and key. */
export const COLLECTOR_TLS_VOLUME = 'otlp-tls';
/** The Instrumentation resource the pods' inject-python annotation names. */
export const PYTHON_INSTRUMENTATION = 'python';
/** The API server, as the connection graph names it: its address blocks are `networkPolicies.externalHosts.kubernetes-api`. */
export const KUBERNETES_API = 'kubernetes-api';

/**
 * `http(s)://otel-collector.<ns>.svc.cluster.local:4318`: OTLP/HTTP, the protocol the SDK env
 * and the operator's Python agent both use; https when the section asks for TLS.
 */
export function collectorEndpoint(config: EnvironmentConfig, section?: Pick<Section, 'tls'>): string {
  return `${collectorTls(section) ? 'https' : 'http'}://${serviceHost(COLLECTOR, config.namespace.name)}:${DEFAULT_COLLECTOR_PORTS.otlpHttp}`;
}

/** The section's TLS of the OTLP receivers, or undefined for plaintext (absent or false). */
export function collectorTls(section?: Pick<Section, 'tls'>): ServiceTls | undefined {
  return section?.tls ? section.tls : undefined;
}

/** The Jaeger pods that receive OTLP, in their own namespace. */
export function jaegerEndpoint(section: Section): ForeignEndpoint {
  return { kind: 'foreign', name: 'jaeger', namespace: section.jaeger.namespace, podLabels: section.jaeger.podLabels };
}

/** The port of the Jaeger endpoint (`host:port`). */
function jaegerPort(section: Section): number {
  return Number(section.jaeger.endpoint.split(':').pop());
}

/** Where the collector exports to and Grafana reads from: the Jaeger add-on's contract when Pronto installs it, else the section. */
export interface JaegerTarget {
  /** `host:port` of the OTLP/gRPC receiver. */
  readonly endpoint: string;
  /** The receiver speaks plaintext. */
  readonly insecure: boolean;
  /** The query API. */
  readonly queryUrl: string;
}

/**
 * The Jaeger the collector exports to. With the add-on (gitops.addons.jaeger), its contract
 * is the provider: the endpoint must name its receiver Service, the TLS mode is the one it
 * serves, and the query URL its query Service; a section that says otherwise is a config
 * error naming both. Without it, `insecure` and `queryUrl` are required.
 */
export function jaegerTarget(section: Section, config: EnvironmentConfig, addons: AddonContracts): JaegerTarget {
  const contract = addons.jaeger;
  const j = section.jaeger;
  const at = (field: string) => `${config.file}:${config.lineOf(['tracing', 'jaeger', field])}: tracing.jaeger.${field}`;
  const problems: string[] = [];
  if (contract) {
    const plaintext = !servesTls(contract, 'otlpGrpc');
    const receiver = serviceOf(contract, 'otlpGrpc');
    const [host, namespace] = j.endpoint.split(':')[0].split('.');
    if (host !== receiver.name || namespace !== contract.namespace || jaegerPort(section) !== receiver.port) {
      problems.push(`${at('endpoint')}: expected the OTLP/gRPC receiver of the Jaeger add-on (gitops.addons.jaeger, chart ${contract.chart.version}): ${serviceAddress(contract, 'otlpGrpc')}, found "${j.endpoint}"`);
    }
    if (j.insecure !== undefined && j.insecure !== plaintext) {
      problems.push(`${at('insecure')}: expected ${plaintext} or nothing: the Jaeger add-on (gitops.addons.jaeger, chart ${contract.chart.version}) listens ${plaintext ? 'in plaintext' : 'with TLS'} (lib/addons/jaeger.ts)`);
    }
    const labels = podLabelsProblem(contract, 'otlpGrpc', j.podLabels);
    if (labels) problems.push(`${at('podLabels')}: ${labels} (the Jaeger add-on, gitops.addons.jaeger)`);
    if (j.queryUrl !== undefined) problems.push(`${at('queryUrl')}: expected nothing: the Jaeger add-on serves its query API at ${serviceUrl(contract, 'query')}`);
    if (problems.length > 0) throw new ConfigError(problems);
    return { endpoint: j.endpoint, insecure: plaintext, queryUrl: serviceUrl(contract, 'query') };
  }
  if (j.insecure === undefined) problems.push(`${at('insecure')}: expected true (plaintext) or false (TLS): no Jaeger add-on (gitops.addons.jaeger) says what the receiver serves`);
  if (j.queryUrl === undefined) problems.push(`${at('queryUrl')}: expected the URL of Jaeger's query API: no Jaeger add-on (gitops.addons.jaeger) provides it`);
  if (problems.length > 0) throw new ConfigError(problems);
  return { endpoint: j.endpoint, insecure: j.insecure!, queryUrl: j.queryUrl! };
}

/** Everything the collector is built from. */
export function collectorProps(section: Section, config: EnvironmentConfig, addons: AddonContracts = {}): OtelCollectorProps {
  const target = jaegerTarget(section, config, addons);
  const c = section.collector;
  const scaling: Scaling = c.autoscaling
    ? { kind: 'autoscaling', minReplicas: c.autoscaling.minReplicas, maxReplicas: c.autoscaling.maxReplicas, targetCpuUtilizationPercent: c.autoscaling.targetCPUUtilizationPercentage }
    : { kind: 'fixed', replicas: c.replicas ?? COLLECTOR_MIN_PODS };
  const model: Omit<CollectorConfigModel, 'memoryLimiter'> = {
    ports: DEFAULT_COLLECTOR_PORTS,
    watchNamespace: config.namespace.name,
    insertAttributes: { 'deployment.environment.name': config.name, 'service.namespace': config.namespace.name },
    batch: DEFAULT_BATCH,
    jaeger: { endpoint: target.endpoint, insecure: target.insecure },
  };
  return {
    name: COLLECTOR,
    namespace: config.namespace.name,
    image: new UpstreamImage(c.image),
    resources: c.resources,
    scaling,
    config: model,
  };
}

/** The Instrumentation resource's props, when the section asks for it. */
export function instrumentationProps(section: Section, config: EnvironmentConfig): PythonInstrumentationProps | undefined {
  const python = section.instrumentation?.python;
  if (!python) return undefined;
  const image = pythonImageReference(python.image ?? OPERATOR_PYTHON_IMAGE);
  return {
    name: PYTHON_INSTRUMENTATION,
    endpoint: collectorEndpoint(config, section),
    sampler: section.sampler,
    ratio: section.ratio,
    resources: python.resources,
    volumeSizeLimit: python.volumeSizeLimit,
    image,
  };
}

/** `repository:tag[@digest]` of the Python auto-instrumentation image. */
function pythonImageReference(image: { readonly repository: string; readonly tag: string; readonly digest?: string }): string {
  return `${image.repository}:${image.tag}${image.digest ? `@${image.digest}` : ''}`;
}

export const tracing: Capability<Section> & { readonly id: 'tracing' } = {
  id: 'tracing',
  provides(section, config, addons) {
    return { traces: { queryUrl: jaegerTarget(section, config, addons).queryUrl, instrumentation: section.instrumentation !== undefined } };
  },
  injectedImages(section) {
    const python = section.instrumentation?.python;
    return python ? [{
      injector: 'the OpenTelemetry Operator (tracing.instrumentation)', containers: [PYTHON_INIT_CONTAINER],
      reference: pythonImageReference(python.image ?? OPERATOR_PYTHON_IMAGE), configPath: ['tracing', 'instrumentation', 'python'],
    }] : [];
  },
  extendPod(pod, service, section, config) {
    // With TLS, the app verifies the collector's certificate against the issuer's CA bundle, mounted read-only.
    const tls = collectorTls(section);
    const certificateFile = tls ? mountCaBundle(pod, tls.caBundle) : undefined;
    for (const entry of sdkEnv({
      serviceName: service.name,
      endpoint: collectorEndpoint(config, section),
      ...(certificateFile ? { certificateFile } : {}),
      sampler: section.sampler,
      ratio: section.ratio,
      environment: config.name,
      namespace: config.namespace.name,
    })) pod.addAppEnv(entry);
    const python = instrumentationProps(section, config);
    if (python) {
      // The Instrumentation object lives in the tracing chart; the pod only names it and declares what the operator injects.
      requestPythonInjection(pod, { instrumentation: python.name, container: service.name, resources: python.resources });
    }
  },
  flows(graph, section, config) {
    const ns = config.namespace.name;
    const collector = workloadEndpoint(COLLECTOR, ns);
    graph.addWorkload(collector);
    const otlp = [DEFAULT_COLLECTOR_PORTS.otlpGrpc, DEFAULT_COLLECTOR_PORTS.otlpHttp].map((port) => ({ port, protocol: 'TCP' as const }));
    for (const svc of config.services) {
      graph.addFlow({ from: workloadEndpoint(svc.name, ns), to: collector, ports: otlp, purpose: 'sends its spans over OTLP', declaredBy: 'tracing' });
    }
    graph.addFlow({ from: collector, to: jaegerEndpoint(section), ports: [{ port: jaegerPort(section), protocol: 'TCP' }],
      purpose: 'exports spans to Jaeger over OTLP/gRPC', declaredBy: 'tracing' });
    graph.addFlow({ from: collector, to: { kind: 'external', name: KUBERNETES_API }, ports: section.apiServer.ports.map((port) => ({ port, protocol: 'TCP' as const })),
      purpose: 'k8sattributes reads pods and replicasets of its namespace', declaredBy: 'tracing' });
  },
  charts(app, section, context) {
    const chart = new Chart(app, 'tracing', { namespace: context.config.namespace.name, disableResourceNameHashes: true });
    const tls = collectorTls(section);
    // The receivers' certificate: cert-manager's, for every name of the collector's Service.
    const certificate = tls ? new ServiceCertificate(chart, 'CollectorCertificate', { service: { name: COLLECTOR }, issuer: tls.issuer, component: 'tracing' }) : undefined;
    new OtelCollector(chart, 'Collector', {
      ...collectorProps(section, context.config, context.ports.addons),
      ...(certificate ? { tls: { volume: certificate.volume(COLLECTOR_TLS_VOLUME) } } : {}),
    });
    const python = instrumentationProps(section, context.config);
    if (python) new PythonInstrumentation(chart, 'PythonInstrumentation', python);
    return [chart];
  },
};
