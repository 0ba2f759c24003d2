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
import { ExternalEndpoint, ForeignEndpoint, UpstreamImage, WorkloadEndpoint } from '../../lib/core';
import { DataTierClientTls, DataTierSecret, HeartbeatRoleSettings, WalgAccess } from '../../lib/database';
import { EnvEntry, PodExtensionPoint } from '../../lib/workload';
import { ConfigError, EnvironmentConfig } from '../../config/load';
import type { DataStoreTls } from '../../config/catalog';
import type { ServiceTls } from '../../config/sections/schemas';
import type { ServiceSecret, VaultReader } from './capability';

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
  /** Its pods: the flows that let it scrape start here. */
  readonly server: ForeignEndpoint;
  /** How often it scrapes, such as `30s`. */
  readonly scrapeInterval: string;
  /** The runbooks folder (docs/runbooks/ of this repository): every alert's `runbook_url` is `<runbookBaseUrl>/<page>.md#<alert>` (lib/metrics runbookUrl). */
  readonly runbookBaseUrl: string;
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

/** A login at Loki's gateway: its user, what it may do, and where its password is. */
export interface LokiLogin {
  /** The basic-auth user name. */
  readonly user: string;
  /** `push`: the push API only (a service's shipper); `read`: the query APIs only (Grafana). */
  readonly access: 'push' | 'read';
  /** Its password: the field `field` of the Vault KV entry `path`, below secrets.kv.prefix. */
  readonly password: { readonly path: string; readonly field: string };
}

/** Loki (logs). */
export interface LokiPort {
  /** Push API the shippers use. */
  readonly pushUrl: string;
  /** Base URL readers (Grafana) query. */
  readonly queryUrl: string;
  /** Tenant every writer and reader sends as X-Scope-OrgID; absent: a single-tenant Loki. */
  readonly tenant?: string;
  /**
   * Every login of the environment, when Loki requires basic auth (logs.loki.basicAuth):
   * one per catalog service's shipper (push), and, with the Grafana Pronto installs, Grafana's (read). Absent: no credentials.
   */
  readonly logins?: readonly LokiLogin[];
  /**
   * TLS to the Loki add-on's gateway (logs.loki.tls): the issuer of its certificate, and the
   * CA bundle every client (the shippers, Grafana) verifies it with. Absent: plaintext.
   */
  readonly tls?: ServiceTls;
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
  /** The agent image (`repository:tag[@sha256:…]`) every pod that reads secrets names, and an injector Pronto installs is given. */
  readonly agentImage: string;
  /** The Vault server's pods, and the port the agents reach them on. */
  readonly server: ForeignEndpoint;
  readonly serverPort: number;
  /**
   * UID and GID the agents run as: the owner of every file they render. A container that
   * runs as this UID reads a `0400` file ({@link ServiceSecret.mode}), which the app cannot.
   */
  agentRunAs(workload: string, pod: { readonly group: number }): { readonly user: number; readonly group: number };
  /** Where a catalog service's pod finds the rendered files (every container given them). */
  readonly secretDir: string;
  /**
   * Adds the Vault agent that renders `reader`'s secrets under /run/secrets to `pod`. For a
   * pod that runs to completion (a Job) pass `runsToCompletion`: the agent then only
   * pre-populates the files, so the Job can end. Declare the reader in the capability's
   * `vaultReaders` too, so that its Vault role and policy exist.
   */
  inject(pod: PodExtensionPoint, reader: VaultReader, runsToCompletion?: boolean): void;
}

/** Default-deny NetworkPolicies from the connection graph are in force (networkPolicies). */
export interface NetworkPoliciesPort {
  readonly defaultDeny: true;
}

/** An end of the data tier other workloads connect to. */
export interface DataTierEndpoint {
  readonly endpoint: WorkloadEndpoint;
  /** Host name inside the cluster (`<service>.<namespace>.svc.cluster.local`). */
  readonly host: string;
  readonly port: number;
}

/** PostgreSQL and its WAL-G archive (database), as the backup jobs need them. */
export interface DatabasePort {
  /** The primary itself (never PgBouncer): BASE_BACKUP and wal-verify need a direct session. */
  readonly primary: DataTierEndpoint;
  /** PgBouncer, where the apps and the heartbeat connect. */
  readonly pooler: DataTierEndpoint;
  /** The role of the backup jobs (REPLICATION, the backup functions): its name, its Vault entry, and the template of its password. */
  readonly backupRole: { readonly name: string; readonly secretPath: string; readonly passwordTemplate: string };
  /** Size of the data volume (a quantity such as `20Gi`). */
  readonly storageSize: string;
  /** archive_timeout, in seconds: the archive is always up to this far behind. */
  readonly archiveTimeoutSeconds: number;
  /** The PostgreSQL image, WAL-G inside: the backup jobs run it too, so client and server match. */
  readonly image: UpstreamImage;
  /**
   * TLS of PostgreSQL and PgBouncer, when on (database.tls): every client must use it and
   * verify the server (verify-full) against the CA bundle, which it mounts with lib/tls's
   * mountCaBundle (the file is `rootCertFile`). Absent: plaintext.
   */
  readonly tls?: DataTierClientTls;
  /** libpq's (and pgx's: WAL-G) env for {@link tls}: PGSSLMODE and PGSSLROOTCERT; none without TLS. */
  readonly clientTlsEnv: readonly EnvEntry[];
  /**
   * The data stores that speak TLS, and how the apps verify them (the `secrets` capability
   * writes it into their URLs; the database capability mounts the CA file into their pods).
   */
  readonly storeTls: DataStoreTls;
  /** The WAL-G archive: its environment and Vault entries by access, and the object store. */
  readonly archive: {
    env(access: WalgAccess): EnvEntry[];
    secrets(access: WalgAccess): DataTierSecret[];
    /**
     * The least-privilege S3 IAM policy of `access`'s credentials (exactly the requests of its
     * WAL-G commands), as a file for the object store's administrators: `path` below `dist/<env>/`.
     */
    iamPolicy(access: WalgAccess): { readonly path: string; readonly text: string };
    readonly store: ExternalEndpoint;
    readonly storePort: number;
  };
}

/**
 * The heartbeat the backups capability writes into PostgreSQL (backups.heartbeat): where it
 * writes and the Vault entry of its login. The database creates its role from it.
 */
export type HeartbeatPort = HeartbeatRoleSettings;

/** Every port of an environment; absent when its provider is off. */
export interface Ports {
  readonly prometheus?: PrometheusPort;
  readonly pushgateway?: PushgatewayPort;
  readonly loki?: LokiPort;
  readonly traces?: TracesPort;
  readonly vault?: VaultPort;
  readonly mesh?: MeshPort;
  readonly networkPolicies?: NetworkPoliciesPort;
  readonly database?: DatabasePort;
  readonly heartbeat?: HeartbeatPort;
  /** The add-ons Pronto installs (gitops), by add-on id; absent ids are the cluster's own or not installed. */
  readonly addons: AddonContracts;
  /** The Vault entries the capabilities add to each catalog service's pods ({@link ServiceSecret}), by service; none for most. */
  readonly serviceSecrets: Readonly<Record<string, readonly ServiceSecret[]>>;
}

/** The ports capabilities provide (the others the composition root fills in). */
export type ProvidedPort = Exclude<keyof Ports, 'addons' | 'serviceSecrets'>;

/** The capability section that provides each port, for error messages. */
export const PORT_PROVIDERS: Readonly<Record<ProvidedPort, string>> = {
  prometheus: 'metrics',
  pushgateway: 'metrics and gitops.addons.pushgateway',
  loki: 'logs',
  traces: 'tracing',
  vault: 'secrets',
  mesh: 'circuitBreakers.mesh',
  networkPolicies: 'networkPolicies',
  database: 'database',
  heartbeat: 'backups.heartbeat',
};

/**
 * Why the port `name` is missing, as a config problem naming the consumer's field and the
 * provider's section ("backups.restoreTest.pushResults: … : turn on metrics"); undefined
 * when it is there. For a capability's `check`.
 */
export function portProblem(ports: Ports, name: ProvidedPort, config: EnvironmentConfig,
  consumer: readonly string[], why: string): string | undefined {
  if (ports[name] !== undefined) return undefined;
  return `${config.file}:${config.lineOf(consumer)}: ${consumer.join('.')}: ${why}: turn on ${PORT_PROVIDERS[name]}`;
}

/** The port `name`, or the config error {@link portProblem} describes. */
export function requirePort<K extends ProvidedPort>(ports: Ports, name: K, config: EnvironmentConfig,
  consumer: readonly string[], why: string): NonNullable<Ports[K]> {
  const problem = portProblem(ports, name, config, consumer, why);
  if (problem !== undefined) throw new ConfigError([problem]);
  return ports[name] as NonNullable<Ports[K]>;
}
