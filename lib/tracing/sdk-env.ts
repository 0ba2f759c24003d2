/**
 * The OpenTelemetry SDK environment of an app container (the SDK's own variables), in
 * the order Kubernetes needs: every `$(VAR)` after the entry it names.
 */
import { LABEL_VERSION } from '../core';
import { EnvEntry } from '../workload';

/** Env var holding the pod name (fieldRef metadata.name). */
export const POD_NAME_ENV = 'K8S_POD_NAME';
/** Env var holding the version of the image the pod runs: its `app.kubernetes.io/version` label, so each blue-green slot states its own. */
export const SERVICE_VERSION_ENV = 'SERVICE_VERSION';
/** OTLP over HTTP with protobuf: the one protocol both the SDK and the operator's Python auto-instrumentation ship. */
export const OTLP_PROTOCOL = 'http/protobuf';
/** W3C Trace Context and Baggage. */
export const PROPAGATORS = 'tracecontext,baggage';

export interface SdkEnvProps {
  /** `OTEL_SERVICE_NAME`, e.g. `order-service`. */
  readonly serviceName: string;
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`: the collector's OTLP/HTTP base URL, e.g. `http://otel-collector.pronto.svc.cluster.local:4318`. */
  readonly endpoint: string;
  /** `OTEL_TRACES_SAMPLER`, e.g. `parentbased_traceidratio`. */
  readonly sampler: string;
  /** `OTEL_TRACES_SAMPLER_ARG`, 0..1. */
  readonly ratio: number;
  /** `deployment.environment.name`, e.g. `prod`. */
  readonly environment: string;
  /** `service.namespace`, e.g. `pronto`. */
  readonly namespace: string;
  /**
   * `OTEL_EXPORTER_OTLP_CERTIFICATE`: the CA file the exporter verifies an https endpoint
   * with (the Python exporter passes it to requests as `verify`). @default - none: plaintext, or the system roots
   */
  readonly certificateFile?: string;
}

/**
 * The entries, in order: service name, exporter (endpoint, protocol; traces over OTLP,
 * metrics and logs not: Prometheus scrapes and the log shipper tails), propagators,
 * sampler and its ratio, the pod name and image version from the pod itself, then
 * `OTEL_RESOURCE_ATTRIBUTES`, which refers to those two.
 */
export function sdkEnv(props: SdkEnvProps): EnvEntry[] {
  if (!(props.ratio >= 0 && props.ratio <= 1)) throw new Error(`${props.serviceName}: sampler ratio: expected 0..1, found ${props.ratio}`);
  if (!/^https?:\/\/[^/\s]+$/.test(props.endpoint)) throw new Error(`${props.serviceName}: OTLP endpoint: expected http(s)://host:port, found "${props.endpoint}"`);
  if (props.certificateFile !== undefined && !props.endpoint.startsWith('https:')) {
    throw new Error(`${props.serviceName}: OTLP certificate ${props.certificateFile}: the endpoint ${props.endpoint} is plaintext, so no certificate is verified`);
  }
  const attributes = [
    `service.version=$(${SERVICE_VERSION_ENV})`,
    `deployment.environment.name=${props.environment}`,
    `service.namespace=${props.namespace}`,
    `k8s.pod.name=$(${POD_NAME_ENV})`,
  ];
  return [
    { name: 'OTEL_SERVICE_NAME', value: props.serviceName },
    { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: props.endpoint },
    ...(props.certificateFile ? [{ name: 'OTEL_EXPORTER_OTLP_CERTIFICATE', value: props.certificateFile }] : []),
    { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: OTLP_PROTOCOL },
    { name: 'OTEL_TRACES_EXPORTER', value: 'otlp' },
    { name: 'OTEL_METRICS_EXPORTER', value: 'none' },
    { name: 'OTEL_LOGS_EXPORTER', value: 'none' },
    { name: 'OTEL_PROPAGATORS', value: PROPAGATORS },
    { name: 'OTEL_TRACES_SAMPLER', value: props.sampler },
    { name: 'OTEL_TRACES_SAMPLER_ARG', value: String(props.ratio) },
    { name: POD_NAME_ENV, fieldRef: 'metadata.name' },
    { name: SERVICE_VERSION_ENV, fieldRef: `metadata.labels['${LABEL_VERSION}']` },
    { name: 'OTEL_RESOURCE_ATTRIBUTES', value: attributes.join(',') },
  ];
}
