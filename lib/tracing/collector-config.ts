/**
 * The OpenTelemetry collector's configuration as a typed model, and its pure renderer
 * (model → YAML text). Every value the configuration states is in the model or named
 * here; the traces pipeline is fixed: OTLP in, `memory_limiter` first, `k8sattributes`,
 * `resource`, `batch` last, OTLP out to Jaeger.
 */
import { Yaml } from 'cdk8s';

/** File name of the configuration in the ConfigMap and in the container. */
export const COLLECTOR_CONFIG_FILE = 'collector.yaml';

/** Env var holding the pod's IP (fieldRef status.podIP): the receivers and health_check listen on it only. */
export const POD_IP_ENV = 'MY_POD_IP';

/** The ports the collector listens on. */
export interface CollectorPorts {
  /** OTLP/gRPC receiver. @default 4317 */
  readonly otlpGrpc: number;
  /** OTLP/HTTP receiver. @default 4318 */
  readonly otlpHttp: number;
  /** health_check extension (probes). @default 13133 */
  readonly health: number;
}

export const DEFAULT_COLLECTOR_PORTS: CollectorPorts = { otlpGrpc: 4317, otlpHttp: 4318, health: 13133 };

/** memory_limiter settings, in MiB, derived from the container's memory limit ({@link memoryLimiterFor}). */
export interface MemoryLimiterSettings {
  /** Hard limit: above it the collector refuses data and forces GC. */
  readonly limitMib: number;
  /** Headroom below the hard limit; refusing starts at limitMib - spikeLimitMib (the soft limit). */
  readonly spikeLimitMib: number;
  /** Seconds between memory checks. */
  readonly checkIntervalSeconds: number;
}

/** Share of the container memory limit the hard limit sits at (the rest is the Go runtime's and the kernel's). */
export const MEMORY_LIMIT_SHARE = 0.8;
/** Share of the container memory limit kept for spikes between two checks. */
export const MEMORY_SPIKE_SHARE = 0.2;

/**
 * memory_limiter for a container memory limit of `limitMi` MiB: hard limit at 80 % of it,
 * spike 20 % of it (so data is refused from 60 % on), checked every second.
 */
export function memoryLimiterFor(limitMi: number): MemoryLimiterSettings {
  if (!Number.isFinite(limitMi) || limitMi < 10) throw new Error(`memory_limiter: expected a container memory limit of at least 10 MiB, found ${limitMi}`);
  return { limitMib: Math.floor(limitMi * MEMORY_LIMIT_SHARE), spikeLimitMib: Math.floor(limitMi * MEMORY_SPIKE_SHARE), checkIntervalSeconds: 1 };
}

/** Where the collector exports traces: Jaeger v2's OTLP/gRPC receiver. */
export interface JaegerExport {
  /** `host:port`, e.g. `jaeger-collector.tracing.svc:4317`. */
  readonly endpoint: string;
  /** Plain-text gRPC (`tls.insecure: true`). */
  readonly insecure: boolean;
}

/**
 * TLS of the OTLP receivers: the certificate and key files in the collector's container (a
 * cert-manager Secret), reread every `reloadInterval` so a renewal needs no restart.
 * Keys of go.opentelemetry.io/collector/config/configtls ServerConfig at v0.135.0
 * (config/configtls/configtls.go: cert_file, key_file, min_version, reload_interval), under
 * `tls` of configgrpc.ServerConfig and confighttp.ServerConfig (receiver/otlpreceiver/config.go).
 */
export interface ReceiverTls {
  readonly certFile: string;
  readonly keyFile: string;
  /** How often the files are reread, as a Go duration. */
  readonly reloadInterval: string;
}

/** How often the receivers reread their certificate: well inside cert-manager's 30 days of renewal margin. */
export const RECEIVER_TLS_RELOAD = '1h';

/** batch processor settings. */
export interface BatchSettings {
  /** Spans that trigger a send. */
  readonly sendBatchSize: number;
  /** Largest batch sent at once. */
  readonly sendBatchMaxSize: number;
  /** Longest wait before a partial batch is sent, in milliseconds. */
  readonly timeoutMillis: number;
}

export const DEFAULT_BATCH: BatchSettings = { sendBatchSize: 1024, sendBatchMaxSize: 2048, timeoutMillis: 1000 };

/** What the configuration is rendered from. */
export interface CollectorConfigModel {
  readonly ports: CollectorPorts;
  readonly memoryLimiter: MemoryLimiterSettings;
  /** The only namespace k8sattributes watches (the services' pods are all there). */
  readonly watchNamespace: string;
  /** Resource attributes inserted when a span's resource lacks them (never overwriting the app's). */
  readonly insertAttributes: Readonly<Record<string, string>>;
  readonly batch: BatchSettings;
  readonly jaeger: JaegerExport;
  /** TLS on both OTLP receivers. @default - plaintext */
  readonly tls?: ReceiverTls;
}

/** The processors of the traces pipeline, in order: memory_limiter first (refuse before buffering), batch last (batch what is exported). */
export const TRACE_PROCESSORS = ['memory_limiter', 'k8sattributes', 'resource', 'batch'] as const;
/** The exporter's id. */
export const JAEGER_EXPORTER = 'otlp/jaeger';

/** The configuration as a plain object, in the collector's own vocabulary. */
export function collectorConfig(model: CollectorConfigModel): Record<string, unknown> {
  const listen = (port: number) => `\${env:${POD_IP_ENV}}:${port}`;
  // A new object per receiver: a shared one would be written as a YAML anchor and alias.
  const tls = () => (model.tls ? {
    tls: { cert_file: model.tls.certFile, key_file: model.tls.keyFile, min_version: '1.2', reload_interval: model.tls.reloadInterval },
  } : {});
  return {
    extensions: {
      health_check: { endpoint: listen(model.ports.health), path: '/' },
    },
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: listen(model.ports.otlpGrpc), ...tls() },
          http: { endpoint: listen(model.ports.otlpHttp), ...tls() },
        },
      },
    },
    processors: {
      memory_limiter: {
        check_interval: `${model.memoryLimiter.checkIntervalSeconds}s`,
        limit_mib: model.memoryLimiter.limitMib,
        spike_limit_mib: model.memoryLimiter.spikeLimitMib,
      },
      k8sattributes: {
        auth_type: 'serviceAccount',
        passthrough: false,
        filter: { namespace: model.watchNamespace },
        // Spans come straight from the pods (no agent in between): the connection's address is the pod's.
        pod_association: [
          { sources: [{ from: 'resource_attribute', name: 'k8s.pod.ip' }] },
          { sources: [{ from: 'resource_attribute', name: 'k8s.pod.uid' }] },
          { sources: [{ from: 'connection' }] },
        ],
        extract: {
          // k8s.deployment.name is read through the pod's ReplicaSet (hence replicasets in the Role).
          metadata: ['k8s.namespace.name', 'k8s.pod.name', 'k8s.pod.uid', 'k8s.pod.start_time', 'k8s.deployment.name', 'k8s.node.name'],
        },
      },
      resource: {
        attributes: Object.entries(model.insertAttributes).map(([key, value]) => ({ key, value, action: 'insert' })),
      },
      batch: {
        send_batch_size: model.batch.sendBatchSize,
        send_batch_max_size: model.batch.sendBatchMaxSize,
        timeout: `${model.batch.timeoutMillis}ms`,
      },
    },
    exporters: {
      [JAEGER_EXPORTER]: {
        endpoint: model.jaeger.endpoint,
        tls: { insecure: model.jaeger.insecure },
        sending_queue: { enabled: true, num_consumers: 4, queue_size: 1000 },
        retry_on_failure: { enabled: true, initial_interval: '5s', max_interval: '30s', max_elapsed_time: '300s' },
      },
    },
    service: {
      extensions: ['health_check'],
      telemetry: { logs: { level: 'info', encoding: 'json' } },
      pipelines: {
        traces: { receivers: ['otlp'], processors: [...TRACE_PROCESSORS], exporters: [JAEGER_EXPORTER] },
      },
    },
  };
}

/** The configuration file's text. */
export function renderCollectorConfig(model: CollectorConfigModel): string {
  return Yaml.stringify(collectorConfig(model));
}
