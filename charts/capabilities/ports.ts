/**
 * Ports: what enabled capabilities offer each other, typed. A capability that needs a value
 * another one defines (a URL, a tenant, a TLS mode, a CA) reads it here, never the other's
 * section or module: a rename or a port change reaches every consumer, and a consumer whose
 * provider is off gets a config error naming both sections ({@link requirePort}).
 *
 * The composition root (charts/build-app.ts) asks every enabled capability's `provides` once,
 * in registry order, after the add-on contracts (the gitops capability's `addons`), so a
 * provider may take its values from the contract of the add-on that serves them.
 */
import { AddonContracts } from '../../lib/addons';
import { ConfigError, EnvironmentConfig } from '../../config/load';

/** Prometheus, as Grafana and the rules need it (metrics). */
export interface PrometheusPort {
  /** Query URL, as Grafana reaches it. */
  readonly url: string;
  /** How long Prometheus keeps samples, in days: every rule's window must fit. */
  readonly retentionDays: number;
  /** Its volume (a PersistentVolumeClaim per Prometheus pod), when Pronto installs it. */
  readonly storage: { readonly size: string; readonly storageClassName?: string };
  /** Labels it selects ServiceMonitors and PrometheusRules by. */
  readonly selectorLabels: Readonly<Record<string, string>>;
}

/** A Pushgateway batch jobs push their results to (metrics). */
export interface PushgatewayPort {
  /** `http://<service>.<namespace>.svc:<port>`. */
  readonly url: string;
  readonly namespace: string;
  /** Labels of its pods (the flow to them). */
  readonly podLabels: Readonly<Record<string, string>>;
  /** Port its pods listen on. */
  readonly podPort: number;
}

/** Loki (logs). */
export interface LokiPort {
  /** Push API the shippers use. */
  readonly pushUrl: string;
  /** Base URL readers (Grafana) query. */
  readonly queryUrl: string;
  /** Tenant every writer and reader sends as X-Scope-OrgID; absent: a single-tenant Loki. */
  readonly tenant?: string;
}

/** Traces (tracing). */
export interface TracesPort {
  /** Jaeger's query API, as Grafana reaches it. */
  readonly queryUrl: string;
  /** The OpenTelemetry Operator's auto-instrumentation is used (the operator add-on is needed). */
  readonly instrumentation: boolean;
}

/** The service mesh the circuit breakers run on (circuitBreakers.mesh). */
export interface MeshPort {
  /** Namespace of the control plane. */
  readonly namespace: string;
  readonly dataPlane: 'ambient' | 'cni';
}

/** Vault (secrets). */
export interface VaultPort {
  readonly address: string;
  /** Mount path of the Kubernetes auth method. */
  readonly authPath: string;
  /** The CA bundle (PEM, base64) the injector hands every agent, when the section gives one. */
  readonly injectorCaBundle?: string;
}

/** Every port of an environment; absent when its provider is off. */
export interface Ports {
  readonly prometheus?: PrometheusPort;
  readonly pushgateway?: PushgatewayPort;
  readonly loki?: LokiPort;
  readonly traces?: TracesPort;
  readonly vault?: VaultPort;
  readonly mesh?: MeshPort;
  /** The add-ons Pronto installs (gitops), by add-on id; absent ids are the cluster's own or not installed. */
  readonly addons: AddonContracts;
}

/** The capability section that provides each port, for error messages. */
export const PORT_PROVIDERS: Readonly<Record<Exclude<keyof Ports, 'addons'>, string>> = {
  prometheus: 'metrics',
  pushgateway: 'metrics and gitops.addons.pushgateway',
  loki: 'logs',
  traces: 'tracing',
  vault: 'secrets',
  mesh: 'circuitBreakers.mesh',
};

/**
 * The port `name`, or a config error naming the consumer's field and the provider's section:
 * "backups.restoreTest: pushes its result to a Pushgateway: turn on metrics.pushgateway".
 */
export function requirePort<K extends Exclude<keyof Ports, 'addons'>>(ports: Ports, name: K, config: EnvironmentConfig,
  consumer: readonly string[], why: string): NonNullable<Ports[K]> {
  const port = ports[name];
  if (port !== undefined) return port as NonNullable<Ports[K]>;
  throw new ConfigError([`${config.file}:${config.lineOf(consumer)}: ${consumer.join('.')}: ${why}: turn on ${PORT_PROVIDERS[name]}`]);
}
