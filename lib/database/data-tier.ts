/**
 * The data tier's domain, from typed props: PostgreSQL's parameters, pg_hba, start script
 * and platform bootstrap, the pg-roles job's script (the apps' roles and databases),
 * PgBouncer's pool arithmetic and ini, the two exporters, Redis's users (one per app), and
 * the Vault entries each workload reads. The database capability maps its section onto
 * {@link DataTierProps} and hands what this computes to the constructs ({@link PostgresCluster},
 * {@link PgBouncer}, {@link Redis}), one chart each.
 *
 * A model rather than a construct: the tier spans three charts applied in order (PostgreSQL,
 * then PgBouncer, then Redis), and the same values are needed before any chart exists (the
 * pool check, the Vault readers, the flows).
 */
import { ComputeResources, ExternalEndpoint, UpstreamImage, UpstreamImageProps, bytes, serviceHost } from '../core';
import { CERTIFICATE_FILES, CaBundle, CertificateIssuer, caBundleFile } from '../tls';
import { ContainerProbes, ContainerSpec, EnvEntry } from '../workload';
import { EXPORTER_LOGIN, EXPORTER_PGPASSFILE } from './exporter-login';
import { REDIS_DEFAULT_USER, REDIS_HEALTHCHECK_COMMANDS, REDIS_TLS_RELOAD_USER, redisAppUsersTemplate, redisUserTemplate } from './redis-acl';
import { PgBouncerIniModel, PoolSizes, poolSizes, renderPgBouncerHba, renderPgBouncerIni, renderPgBouncerStartScript } from './pgbouncer-config';
import { PGBOUNCER_FILES, PGBOUNCER_PATHS } from './pgbouncer';
import { POSTGRES_FILES, POSTGRES_PATHS } from './postgres-cluster';
import {
  HbaRule, PlatformRolesModel, PostgresParameters, RESTORE_COMMAND_WRAPPER, renderPgHba, renderPlatformRolesScript, renderPostgresqlConf, renderStartScript,
} from './postgres-config';
import { ROLES_JOB_CHECK_SCRIPT, ROLES_JOB_ENV, ROLES_JOB_FILES, ROLES_JOB_SCRIPT, renderAppRolesScript } from './app-roles';
import {
  DataTierSecret, POSTGRES_WORKLOAD, SECRETS_DIR, WalgAccess, WalgSettings, objectStoreHost, objectStorePort, walgEnv, walgIamPolicy, walgIamPolicyPath, walgPrefix, walgSecrets,
} from './walg';

/**
 * The UID, GID and fsGroup PostgreSQL runs under: 10001, the ids every Pronto pod ran as
 * before each workload got its own, kept for this one workload. PostgreSQL starts only on a
 * data directory its own user owns, with mode 0700 or 0750 (src/backend/utils/init/miscinit.c
 * checkDataDir), and the clusters' volumes were initialized as 10001: another id would need
 * every volume's PGDATA chowned first. No other workload derives this id (the derived ones
 * are ≥ 20000, lib/core RUN_AS_ID_RANGE).
 */
export const POSTGRES_RUN_AS = { user: 10001, group: 10001, fsGroup: 10001 } as const;

/** The primary's client Service (the headless one is the StatefulSet's `postgres-headless`). */
export const POSTGRES_SERVICE = { name: POSTGRES_WORKLOAD, port: 5432 } as const;

/** Roles the platform bootstrap creates (platform-roles.sql) and PgBouncer knows. */
export const DATABASE_ROLES = {
  /** Runs PgBouncer's auth_query (a SECURITY DEFINER lookup function; no other right). */
  pgbouncerAuth: 'pgbouncer_auth',
  /** PgBouncer's admin console (admin_users). */
  pgbouncerAdmin: 'pgbouncer_admin',
  /** PgBouncer's SHOW commands (stats_users), for pgbouncer_exporter. */
  pgbouncerStats: 'pgbouncer_stats',
  /** WAL-G's remote backup-push, wal-verify (REPLICATION, pg_checkpoint, backup functions). */
  backup: 'walg_backup',
  /** postgres_exporter (pg_monitor), from the pod itself (127.0.0.1) with its password. */
  monitoring: 'postgres_exporter',
  /**
   * The group (NOLOGIN, no privilege) of the logins PgBouncer may look up: the pg-roles job
   * makes every app's login and the heartbeat's a member; pgbouncer.user_lookup returns no one else.
   */
  poolerClients: 'pgbouncer_clients',
  /** The pg-roles job's: creates and alters the apps' roles, creates their databases (LOGIN CREATEROLE CREATEDB NOINHERIT, nothing else). */
  roles: 'pronto_roles',
} as const;

/** The CronJob that applies the apps' roles and databases (also its ConfigMap, ServiceAccount and Vault role). */
export const ROLES_JOB = 'pg-roles';

/** Ports the exporters serve `/metrics` on. */
export const EXPORTER_PORTS = { postgres: 9187, pgbouncer: 9127 } as const;

/** Seconds PgBouncer's preStop sleeps so the Service drops the pod before SIGTERM. */
export const PGBOUNCER_PRE_STOP_SECONDS = 10;

/** An exporter sidecar: its image and resources. */
export interface ExporterSettings {
  readonly image: UpstreamImageProps;
  readonly resources: ComputeResources;
}

/** PostgreSQL's settings (the database section's `postgres`). */
export interface PostgresSettings {
  readonly image: UpstreamImageProps;
  /** Major version: names the WAL-G prefix. */
  readonly majorVersion: number;
  readonly resources: ComputeResources;
  readonly storage: { readonly size: string; readonly storageClassName?: string };
  /** /dev/shm, in MiB (counted against the memory limit). */
  readonly sharedMemoryMi: number;
  readonly maxConnections: number;
  /** Connections the pools may never take. */
  readonly reservedConnections: { readonly superuser: number; readonly backup: number; readonly monitoring: number; readonly roles: number };
  readonly maxWalSenders: number;
  /** archive_timeout, in seconds. */
  readonly archiveTimeoutSeconds: number;
}

/** PgBouncer's settings (the database section's `pgbouncer`); times in seconds. */
export interface PgBouncerSettings {
  readonly image: UpstreamImageProps;
  /** The release the image runs: newer settings are never emitted. */
  readonly version: string;
  readonly replicas: number;
  readonly maxClientConn: number;
  /** @default - derived from the budget */
  readonly defaultPoolSize?: number;
  /** @default - derived from the budget */
  readonly reservePoolSize?: number;
  readonly reservePoolTimeoutSeconds: number;
  readonly queryWaitTimeoutSeconds: number;
  readonly serverLifetimeSeconds: number;
  readonly serverIdleTimeoutSeconds: number;
  readonly idleTransactionTimeoutSeconds: number;
  readonly maxPreparedStatements: number;
  /** Longest lifetime of an app's pooled connection: the grace period outlives it. */
  readonly appConnectionLifetimeSeconds: number;
  readonly resources: ComputeResources;
}

/** The pg-roles job's settings (the database section's `roles`). */
export interface RolesJobSettings {
  /** Cron schedule (Etc/UTC). */
  readonly schedule: string;
  /** Seconds a run may take in all; shorter than the schedule's interval. */
  readonly activeDeadlineSeconds: number;
  readonly resources: ComputeResources;
}

/** The heartbeat's role, when another workload writes a heartbeat into PostgreSQL. */
export interface HeartbeatRoleSettings {
  readonly database: string;
  readonly schema: string;
  readonly table: string;
  /** Vault KV entry (fields `username`, `password`) the role is created from. */
  readonly secretPath: string;
  /** Who writes, and the setting naming the database: for the pg-roles script's messages. */
  readonly writer: string;
  readonly databaseSetting: string;
}

/** TLS of the tier's servers (the database section's `tls`). */
export interface DataTierTls {
  /** The cert-manager issuer of PostgreSQL's and PgBouncer's certificates. */
  readonly issuer: CertificateIssuer;
  /** The CA bundle every client (PgBouncer to PostgreSQL included) verifies them against. */
  readonly caBundle: CaBundle;
}

/** How a libpq client of the tier verifies the server, when TLS is on. */
export interface DataTierClientTls {
  /** Always `verify-full`: the CA and the host name. */
  readonly sslmode: 'verify-full';
  /** The CA bundle to mount (lib/tls's mountCaBundle) … */
  readonly caBundle: CaBundle;
  /** … and its file in the container (`sslrootcert`). */
  readonly rootCertFile: string;
}

export interface DataTierProps {
  /** Namespace the tier runs in. */
  readonly namespace: string;
  /** Address blocks the hba files of PostgreSQL and PgBouncer accept logins from (the pod network). */
  readonly clientCidrs: readonly string[];
  /** TLS for app → PgBouncer → PostgreSQL and the jobs. @default - none: plaintext */
  readonly tls?: DataTierTls;
  /** Names the WAL-G prefix: `<s3Prefix>/<clusterName>/<majorVersion>`. */
  readonly clusterName: string;
  readonly postgres: PostgresSettings;
  readonly walg: WalgSettings;
  readonly pgbouncer: PgBouncerSettings;
  readonly rolesJob: RolesJobSettings;
  readonly exporters: { readonly postgres: ExporterSettings; readonly pgbouncer: ExporterSettings };
  /** PgBouncer's Service, where the apps connect. */
  readonly poolerService: { readonly name: string; readonly port: number };
  /** Redis's Service. */
  readonly redisService: { readonly name: string; readonly port: number };
  /** Redis's users: one per app that uses it, named after the app, from its own `<app>/<appSecretName>` Vault entry (field `password`), and the readiness probe's. */
  readonly redisUsers: RedisUsersSettings;
  /** The apps with a role and a database of their own, each from its `<app>/<appSecretName>` Vault entry. */
  readonly apps: readonly string[];
  /** Name of each app's database entry below its own Vault path (fields `username`, `password`, `database`). */
  readonly appSecretName: string;
  /** A heartbeat writer's role. @default - none */
  readonly heartbeat?: HeartbeatRoleSettings;
}

/** Redis's ACL users (the database section's apps and the catalog's Redis store). */
export interface RedisUsersSettings {
  /** The apps that use Redis: each logs in as a user of its own name, its keys and channels below `<app>:`. */
  readonly apps: readonly string[];
  /** Name of each app's Redis entry below its own Vault path (field `password`). */
  readonly appSecretName: string;
  /** The readiness probe's user (PING only); no app may have this name. */
  readonly healthcheck: string;
}

/** A workload of the tier that reads Vault entries (its own, and those it shares). */
export interface DataTierReader {
  readonly name: string;
  readonly serviceAccount: string;
  readonly appContainer: string;
  readonly secrets: readonly DataTierSecret[];
}

const secret = (path: string, file: string, env: string, template: string): DataTierSecret => ({ path, file, env, template });
const appRoleFile = (app: string) => `app-${app}`;
/** The Vault file of the heartbeat's login in the pg-roles pod (user name, password). */
const HEARTBEAT_ROLE_FILE = 'heartbeat-role';
/** The Vault file of a Redis user's `user` line, in the Redis pod. */
const redisAclFile = (user: string) => `acl-${user}`;
/** The file of every app's `user` line. */
export const REDIS_APPS_ACL_FILE = 'acl-apps';
/** The Vault file of the health-check user's password alone, in the Redis pod (REDISCLI_AUTH of the readiness probe). */
const REDIS_HEALTHCHECK_PASSWORD_FILE = 'redis-cli-auth';
/** The Vault file of pronto_roles' password, in the postgres and pg-roles pods. */
const ROLES_PASSWORD_FILE = 'pronto-roles';
/** The Vault file of postgres_exporter's password, in the postgres container (start.sh hands it to the exporter). */
const EXPORTER_PASSWORD_FILE = 'postgres-exporter';
/** The Vault file of the PgBouncer stats user's password, in the pgbouncer container (start.sh hands it to the exporter). */
const STATS_PASSWORD_FILE = 'pgbouncer-stats';
/** The field of the PgBouncer entry with the stats user's password. */
const STATS_PASSWORD_FIELD = 'stats_password';

/** Both exporters' probes, on their `metrics` port. */
const EXPORTER_PROBES: ContainerProbes = {
  readiness: { tcpSocket: { port: 'metrics' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
  liveness: { httpGet: { path: '/', port: 'metrics' }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
};

/** The data tier of one environment: what its objects are made of. */
export class DataTier {
  /** The Vault KV entries of the tier, below the environment's KV prefix; each is owned by one workload. */
  public readonly secrets: {
    /** Field `password`: the superuser `postgres` (initdb, and its logins: over the pod's socket only, with this password). */
    readonly superuser: string;
    /** Fields `username` (walg_backup) and `password`: the backup jobs' role. Read by postgres (platform-roles.sql) and the backup jobs. */
    readonly backup: string;
    /**
     * Fields `auth_password`, `admin_password`, `stats_password`: PgBouncer's auth, admin and stats users. Read by postgres
     * (platform-roles.sql: the auth role) and pgbouncer.
     */
    readonly pgbouncer: string;
    /** Field `password`: postgres_exporter's. Read by postgres (platform-roles.sql, and start.sh for the exporter sidecar). */
    readonly exporter: string;
    /** Field `password`: pronto_roles'. Read by postgres (platform-roles.sql) and the pg-roles job. */
    readonly roles: string;
    /** Field `password`: Redis's health-check user (PING only). Each app's own Redis password is in its `<app>/redis` entry. */
    readonly redis: string;
  };
  /** PgBouncer's pool sizes per replica; `problem` says why they do not fit. */
  public readonly pools: PoolSizes;
  /** The archive prefix of this cluster and major version. */
  public readonly walgPrefix: string;
  /** The object store, as an end of the connection graph, and its port. */
  public readonly objectStore: ExternalEndpoint;
  public readonly objectStorePort: number;

  public constructor(public readonly props: DataTierProps) {
    const { apps: redisApps, healthcheck } = props.redisUsers;
    const reserved = [REDIS_DEFAULT_USER, healthcheck, REDIS_TLS_RELOAD_USER];
    const clash = redisApps.find((a) => reserved.includes(a));
    // The catalog refuses such a name first (DATA_STORES.redis.reservedUsers); this guards other callers.
    if (clash !== undefined) throw new Error(`DataTier: redisUsers.apps: expected no app named as Redis's own users (${reserved.join(', ')}), found "${clash}"`);
    // Redis refuses to start on a user defined twice in its configuration ("Duplicate user found").
    const twice = redisApps.find((a, i) => redisApps.indexOf(a) !== i);
    if (twice !== undefined) throw new Error(`DataTier: redisUsers.apps: expected each app once (Redis refuses a user defined twice), found "${twice}" twice`);
    this.secrets = {
      superuser: `${POSTGRES_WORKLOAD}/superuser`,
      backup: `${POSTGRES_WORKLOAD}/backup`,
      pgbouncer: `${POSTGRES_WORKLOAD}/pgbouncer`,
      roles: `${POSTGRES_WORKLOAD}/roles`,
      exporter: `${POSTGRES_WORKLOAD}/exporter`,
      redis: `${props.redisService.name}/${props.redisUsers.healthcheck}`,
    };
    this.pools = poolSizes({
      maxConnections: props.postgres.maxConnections,
      reservedConnections: this.reservedConnections,
      replicas: props.pgbouncer.replicas,
      databases: this.pooledDatabases,
      defaultPoolSize: props.pgbouncer.defaultPoolSize,
      reservePoolSize: props.pgbouncer.reservePoolSize,
    });
    this.walgPrefix = walgPrefix(props.walg, props.clusterName, props.postgres.majorVersion);
    this.objectStore = { kind: 'external', name: objectStoreHost(props.walg), blocks: props.walg.storageCidrs };
    this.objectStorePort = objectStorePort(props.walg);
  }

  /** Connections kept from the pools. */
  public get reservedConnections(): number {
    const r = this.props.postgres.reservedConnections;
    return r.superuser + r.backup + r.monitoring + r.roles;
  }

  /** Databases PgBouncer pools to: each app's own, plus `postgres` (the wildcard entry, and auth_dbname from PgBouncer 1.19). */
  public get pooledDatabases(): number {
    return this.props.apps.length + 1;
  }

  /** Problems of the props that only their combination shows, each with the field it is about. */
  public get problems(): ReadonlyArray<{ readonly field: readonly string[]; readonly message: string }> {
    const found: Array<{ field: string[]; message: string }> = [];
    const { postgres, pgbouncer } = this.props;
    if (this.pools.problem) {
      found.push({ field: pgbouncer.defaultPoolSize !== undefined ? ['pgbouncer', 'defaultPoolSize'] : ['postgres', 'maxConnections'], message: this.pools.problem });
    }
    if (postgres.sharedMemoryMi * 1024 * 1024 >= bytes(postgres.resources.limits.memory)) {
      found.push({ field: ['postgres', 'sharedMemoryMi'], message: `expected /dev/shm below the memory limit (${postgres.resources.limits.memory}), found ${postgres.sharedMemoryMi}Mi` });
    }
    return found;
  }

  /** How a libpq client verifies PostgreSQL and PgBouncer, when TLS is on. */
  public get clientTls(): DataTierClientTls | undefined {
    const tls = this.props.tls;
    return tls ? { sslmode: 'verify-full', caBundle: tls.caBundle, rootCertFile: caBundleFile(tls.caBundle) } : undefined;
  }

  /** libpq's (and pgx's) settings for {@link clientTls}: PGSSLMODE and PGSSLROOTCERT, or none. */
  public get clientTlsEnv(): EnvEntry[] {
    const tls = this.clientTls;
    return tls ? [{ name: 'PGSSLMODE', value: tls.sslmode }, { name: 'PGSSLROOTCERT', value: tls.rootCertFile }] : [];
  }

  /** The PostgreSQL image (WAL-G inside); the backup jobs run the same one, so client and server versions match. */
  public get postgresImage(): UpstreamImage {
    return new UpstreamImage(this.props.postgres.image);
  }

  /** WAL-G's environment for a user with `access`, without credentials. */
  public walgEnv(access: WalgAccess): EnvEntry[] {
    return walgEnv(this.props.walg, this.walgPrefix, access);
  }

  /** WAL-G's Vault entries for a user with `access`. */
  public walgSecrets(access: WalgAccess): DataTierSecret[] {
    return walgSecrets(access);
  }

  /** The S3 IAM policy of the credentials of `access`, as the file the object store's administrators apply ({@link walgIamPolicyPath}). */
  public walgIamPolicyFile(access: WalgAccess): { readonly path: string; readonly text: string } {
    return { path: walgIamPolicyPath(access), text: `${JSON.stringify(walgIamPolicy(access, this.walgPrefix), null, 2)}\n` };
  }

  /** The postgresql.conf parameters. */
  public get postgresParameters(): PostgresParameters {
    const p = this.props.postgres;
    const memoryMi = bytes(p.resources.limits.memory) / (1024 * 1024);
    return [
      ['data_directory', POSTGRES_PATHS.dataDir],
      ['hba_file', `${POSTGRES_PATHS.configDir}/${POSTGRES_FILES.hba}`],
      ['listen_addresses', '*'],
      ['port', POSTGRES_SERVICE.port],
      ['unix_socket_directories', POSTGRES_PATHS.socketDir],
      ['max_connections', p.maxConnections],
      ['superuser_reserved_connections', p.reservedConnections.superuser],
      ['password_encryption', 'scram-sha-256'],
      ...this.sslParameters,
      ['shared_buffers', `${Math.floor(memoryMi / 4)}MB`],
      ['effective_cache_size', `${Math.floor(memoryMi / 2)}MB`],
      ['dynamic_shared_memory_type', 'posix'],
      ['wal_level', 'replica'],
      ['max_wal_senders', p.maxWalSenders],
      ['max_replication_slots', p.maxWalSenders],
      ['archive_mode', 'on'],
      ['archive_command', 'wal-g wal-push %p'],
      ['archive_timeout', p.archiveTimeoutSeconds],
      ['restore_command', `${POSTGRES_PATHS.configDir}/${POSTGRES_FILES.restore} %f %p`],
      ['checkpoint_timeout', '15min'],
      ['max_wal_size', '2GB'],
      ['log_destination', 'stderr'],
      ['logging_collector', false],
      ['log_line_prefix', '%m [%p] %q%u@%d '],
      ['log_checkpoints', true],
      ['log_min_duration_statement', 1000],
    ];
  }

  /** postgresql.conf's TLS: the certificate cert-manager keeps in the pod, TLS 1.2 at least; or `ssl = off`. */
  private get sslParameters(): PostgresParameters {
    if (!this.props.tls) return [['ssl', false]];
    return [
      ['ssl', true],
      ['ssl_cert_file', `${POSTGRES_PATHS.tlsDir}/${CERTIFICATE_FILES.cert}`],
      ['ssl_key_file', `${POSTGRES_PATHS.tlsDir}/${CERTIFICATE_FILES.key}`],
      ['ssl_min_protocol_version', 'TLSv1.2'],
    ];
  }

  /**
   * pg_hba.conf, first match wins, no `trust` anywhere: the superuser on the pod's own socket
   * with its password (the Vault file only the postgres container mounts; the exporter sidecar
   * mounts neither the socket nor the Vault files), nobody else on the socket; no superuser
   * over the network; postgres_exporter from the pod itself only; with TLS, no plaintext TCP
   * at all; then SCRAM from the pod network only (`clientCidrs`): the backup role's
   * replication stream, and every other login. An address outside the pod network matches no
   * line and is refused.
   */
  public get postgresHba(): HbaRule[] {
    const host = this.props.tls ? 'hostssl' as const : 'host' as const;
    const everywhere = ['0.0.0.0/0', '::/0'];
    const { monitoring, backup } = DATABASE_ROLES;
    return [
      { type: 'local', database: 'all', user: 'postgres', method: 'scram-sha-256',
        why: 'the superuser on the pod\'s own socket, with its password (start.sh\'s bootstrap; kubectl exec: PGPASSWORD from /run/secrets/pg-superuser)' },
      { type: 'local', database: 'all', user: 'all', method: 'reject', why: 'nobody else on the socket' },
      ...everywhere.map((address) => ({ type: 'host' as const, database: 'all', user: 'postgres', address, method: 'reject' as const, why: 'no superuser over the network' })),
      ...(this.props.tls ? everywhere.map((address) => ({ type: 'hostnossl' as const, database: 'all', user: 'all', address, method: 'reject' as const,
        why: 'TLS or nothing: no login over plaintext TCP' })) : []),
      { type: host, database: 'all', user: monitoring, address: '127.0.0.1/32', method: 'scram-sha-256',
        why: 'postgres_exporter, a sidecar: from the pod itself only, with its password (pg_monitor)' },
      ...everywhere.map((address) => ({ type: 'host' as const, database: 'all', user: monitoring, address, method: 'reject' as const,
        why: 'postgres_exporter from nowhere else' })),
      ...this.props.clientCidrs.map((address) => ({ type: host, database: 'replication', user: backup, address, method: 'scram-sha-256' as const,
        why: 'the backup jobs\' BASE_BACKUP stream, from the pod network (clientCidrs)' })),
      ...this.props.clientCidrs.map((address) => ({ type: host, database: 'all', user: 'all', address, method: 'scram-sha-256' as const,
        why: 'PgBouncer (apps, auth_query), the backup jobs and the pg-roles job, from the pod network (clientCidrs)' })),
    ];
  }

  /** The ConfigMap files of PostgreSQL: nothing in them depends on the apps or the heartbeat. */
  public get postgresFiles(): Record<typeof POSTGRES_FILES[keyof typeof POSTGRES_FILES], string> {
    return {
      [POSTGRES_FILES.conf]: renderPostgresqlConf(this.postgresParameters),
      [POSTGRES_FILES.hba]: renderPgHba(this.postgresHba),
      [POSTGRES_FILES.start]: renderStartScript({
        dataDir: POSTGRES_PATHS.dataDir, configFile: `${POSTGRES_PATHS.configDir}/${POSTGRES_FILES.conf}`, socketDir: POSTGRES_PATHS.socketDir,
        superuserPasswordFile: `${SECRETS_DIR}/pg-superuser`, rolesScript: `${POSTGRES_PATHS.configDir}/${POSTGRES_FILES.roles}`,
        port: POSTGRES_SERVICE.port,
        exporter: { role: DATABASE_ROLES.monitoring, passwordFile: `${SECRETS_DIR}/${EXPORTER_PASSWORD_FILE}`, field: `password of ${this.secrets.exporter}` },
        ...(this.props.tls ? { tlsFiles: Object.values(CERTIFICATE_FILES).map((f) => `${POSTGRES_PATHS.tlsDir}/${f}`) } : {}),
      }),
      [POSTGRES_FILES.restore]: RESTORE_COMMAND_WRAPPER,
      [POSTGRES_FILES.roles]: renderPlatformRolesScript(this.platformRoles),
    };
  }

  /** What the platform bootstrap (platform-roles.sql) creates: the platform's roles, the pooler's group, the auth lookup. */
  public get platformRoles(): PlatformRolesModel {
    return {
      pgbouncerAuth: { role: DATABASE_ROLES.pgbouncerAuth, passwordFile: `${SECRETS_DIR}/pgbouncer-auth` },
      backup: { role: DATABASE_ROLES.backup, passwordFile: `${SECRETS_DIR}/walg-backup` },
      monitoring: { role: DATABASE_ROLES.monitoring, passwordFile: `${SECRETS_DIR}/${EXPORTER_PASSWORD_FILE}` },
      poolerClients: DATABASE_ROLES.poolerClients,
      roles: { role: DATABASE_ROLES.roles, passwordFile: `${SECRETS_DIR}/${ROLES_PASSWORD_FILE}`, connectionLimit: this.props.postgres.reservedConnections.roles },
    };
  }

  /** The pg-roles job's ConfigMap files: its script, its login check, and the SQL of the apps' roles and databases and the heartbeat's login. */
  public get rolesJobFiles(): Record<typeof ROLES_JOB_FILES[keyof typeof ROLES_JOB_FILES], string> {
    const heartbeat = this.props.heartbeat;
    return {
      [ROLES_JOB_FILES.script]: ROLES_JOB_SCRIPT,
      [ROLES_JOB_FILES.check]: ROLES_JOB_CHECK_SCRIPT,
      [ROLES_JOB_FILES.sql]: renderAppRolesScript({
        majorVersion: this.props.postgres.majorVersion,
        runner: DATABASE_ROLES.roles,
        reserved: ['postgres', DATABASE_ROLES.pgbouncerAuth, DATABASE_ROLES.backup, DATABASE_ROLES.monitoring, DATABASE_ROLES.roles, DATABASE_ROLES.poolerClients],
        poolerClients: DATABASE_ROLES.poolerClients,
        apps: this.props.apps.map((service) => ({ service, file: `${SECRETS_DIR}/${appRoleFile(service)}` })),
        ...(heartbeat ? {
          heartbeat: { database: heartbeat.database, schema: heartbeat.schema, table: heartbeat.table, file: `${SECRETS_DIR}/${HEARTBEAT_ROLE_FILE}`,
            who: heartbeat.writer, databaseSetting: heartbeat.databaseSetting },
        } : {}),
      }),
    };
  }

  /** The pg-roles job's env: psql's connection to the primary's Service (never PgBouncer), as pronto_roles, verify-full with TLS; no credentials. */
  public get rolesJobEnv(): EnvEntry[] {
    return [
      { name: 'PGHOST', value: serviceHost(POSTGRES_SERVICE.name, this.props.namespace) },
      { name: 'PGPORT', value: String(POSTGRES_SERVICE.port) },
      { name: 'PGUSER', value: DATABASE_ROLES.roles },
      { name: 'PGDATABASE', value: 'postgres' },
      { name: 'PGAPPNAME', value: ROLES_JOB },
      { name: 'PGCONNECT_TIMEOUT', value: '10' },
      ...this.clientTlsEnv,
    ];
  }

  /** The model of pgbouncer.ini. */
  public get pgbouncerIni(): PgBouncerIniModel {
    const b = this.props.pgbouncer;
    const pools = this.pools;
    return {
      version: b.version,
      serverHost: POSTGRES_SERVICE.name,
      serverPort: POSTGRES_SERVICE.port,
      listenPort: this.props.poolerService.port,
      maxClientConn: b.maxClientConn,
      defaultPoolSize: pools.defaultPoolSize,
      reservePoolSize: pools.reservePoolSize,
      reservePoolTimeoutSeconds: b.reservePoolTimeoutSeconds,
      maxDbConnections: pools.maxDbConnections,
      queryWaitTimeoutSeconds: b.queryWaitTimeoutSeconds,
      serverLifetimeSeconds: b.serverLifetimeSeconds,
      serverIdleTimeoutSeconds: b.serverIdleTimeoutSeconds,
      idleTransactionTimeoutSeconds: b.idleTransactionTimeoutSeconds,
      maxPreparedStatements: b.maxPreparedStatements,
      authUser: DATABASE_ROLES.pgbouncerAuth,
      authQuery: 'SELECT uname, phash FROM pgbouncer.user_lookup($1)',
      authDbname: 'postgres',
      authFile: `${SECRETS_DIR}/pgbouncer-users`,
      hbaFile: `${PGBOUNCER_PATHS.configDir}/${PGBOUNCER_FILES.hba}`,
      adminUsers: [DATABASE_ROLES.pgbouncerAdmin],
      statsUsers: [DATABASE_ROLES.pgbouncerStats],
      runDir: PGBOUNCER_PATHS.runDir,
      ...(this.props.tls ? { tls: {
        certFile: `${PGBOUNCER_PATHS.tlsDir}/${CERTIFICATE_FILES.cert}`, keyFile: `${PGBOUNCER_PATHS.tlsDir}/${CERTIFICATE_FILES.key}`,
        caFile: caBundleFile(this.props.tls.caBundle),
      } } : {}),
    };
  }

  /** pgbouncer.ini, its hba file and its entrypoint, as in the ConfigMap. */
  public get pgbouncerFiles(): Record<typeof PGBOUNCER_FILES[keyof typeof PGBOUNCER_FILES], string> {
    return {
      [PGBOUNCER_FILES.ini]: renderPgBouncerIni(this.pgbouncerIni),
      [PGBOUNCER_FILES.hba]: renderPgBouncerHba({
        consoleUsers: [DATABASE_ROLES.pgbouncerAdmin, DATABASE_ROLES.pgbouncerStats], clientCidrs: this.props.clientCidrs, tls: this.props.tls !== undefined,
      }),
      [PGBOUNCER_FILES.start]: renderPgBouncerStartScript({
        iniFile: `${PGBOUNCER_PATHS.configDir}/${PGBOUNCER_FILES.ini}`, port: this.props.poolerService.port,
        statsUser: DATABASE_ROLES.pgbouncerStats, statsPasswordFile: `${SECRETS_DIR}/${STATS_PASSWORD_FILE}`,
        statsPasswordField: `${STATS_PASSWORD_FIELD} of ${this.secrets.pgbouncer}`,
        ...(this.props.tls ? { tlsFiles: Object.values(CERTIFICATE_FILES).map((f) => `${PGBOUNCER_PATHS.tlsDir}/${f}`) } : {}),
      }),
    };
  }

  /** The Vault readers of the tier: PostgreSQL, the pg-roles job, PgBouncer, Redis. */
  public get readers(): DataTierReader[] {
    const { apps, appSecretName, heartbeat, poolerService, redisService } = this.props;
    const s = this.secrets;
    const rolesPassword = (env: string) => secret(s.roles, ROLES_PASSWORD_FILE, env, '{{ .Data.data.password }}');
    return [
      {
        // The platform's own entries only: adding an app never changes PostgreSQL's pod.
        name: POSTGRES_WORKLOAD, serviceAccount: POSTGRES_WORKLOAD, appContainer: 'postgres',
        secrets: [
          secret(s.superuser, 'pg-superuser', 'POSTGRES_SUPERUSER_FILE', '{{ .Data.data.password }}'),
          secret(s.pgbouncer, 'pgbouncer-auth', 'PGBOUNCER_AUTH_ROLE_FILE', '{{ .Data.data.auth_password }}'),
          secret(s.backup, 'walg-backup', 'WALG_BACKUP_ROLE_FILE', '{{ .Data.data.password }}'),
          rolesPassword('PRONTO_ROLES_ROLE_FILE'),
          secret(s.exporter, EXPORTER_PASSWORD_FILE, 'POSTGRES_EXPORTER_ROLE_FILE', '{{ .Data.data.password }}'),
          // Archiving only: WAL in, nothing deleted, base backups untouched (walg.ts WALG_ACCESS).
          ...walgSecrets('wal-archive'),
        ],
      },
      {
        name: ROLES_JOB, serviceAccount: ROLES_JOB, appContainer: ROLES_JOB,
        secrets: [
          rolesPassword(ROLES_JOB_ENV.loginFile),
          // Each app's own entry (username, password, database): the same values the app reads, so they never drift.
          ...apps.map((app) => secret(`${app}/${appSecretName}`, appRoleFile(app),
            `APP_ROLE_${app.toUpperCase().replace(/-/g, '_')}_FILE`, '{{ .Data.data.username }}\n{{ .Data.data.password }}\n{{ .Data.data.database }}\n')),
          // The heartbeat's entry, which its writer reads too.
          ...(heartbeat ? [secret(heartbeat.secretPath, HEARTBEAT_ROLE_FILE, 'HEARTBEAT_ROLE_FILE', '{{ .Data.data.username }}\n{{ .Data.data.password }}\n')] : []),
        ],
      },
      {
        name: poolerService.name, serviceAccount: poolerService.name, appContainer: 'pgbouncer',
        secrets: [
          // The admin and stats users log in with SCRAM from 127.0.0.1 only (its hba file): PgBouncer checks their plain-text passwords here.
          secret(s.pgbouncer, 'pgbouncer-users', 'PGBOUNCER_AUTH_FILE',
            `"${DATABASE_ROLES.pgbouncerAuth}" "{{ .Data.data.auth_password }}"\n"${DATABASE_ROLES.pgbouncerAdmin}" "{{ .Data.data.admin_password }}"\n` +
            `"${DATABASE_ROLES.pgbouncerStats}" "{{ .Data.data.${STATS_PASSWORD_FIELD} }}"\n`),
          // The stats password alone, for start.sh to hand to pgbouncer_exporter (which never mounts the Vault files).
          secret(s.pgbouncer, STATS_PASSWORD_FILE, 'PGBOUNCER_STATS_FILE', `{{ .Data.data.${STATS_PASSWORD_FIELD} }}`),
        ],
      },
      {
        // Each app's own entry, which the app reads too (exactly these paths, nobody else's), rendered as a hash: Redis's files hold no password but the probe's.
        name: redisService.name, serviceAccount: redisService.name, appContainer: 'redis',
        secrets: [...this.redisAclSecrets, secret(s.redis, REDIS_HEALTHCHECK_PASSWORD_FILE, 'REDIS_CLI_AUTH_FILE', '{{ .Data.data.password }}')],
      },
    ];
  }

  /**
   * The Vault entries of Redis's users as `user` lines: the health check's file, then one file
   * of every app's line, from their entries (one template over all of them, so the pod's
   * annotations do not grow with the apps).
   */
  private get redisAclSecrets(): DataTierSecret[] {
    const { apps, appSecretName, healthcheck } = this.props.redisUsers;
    return [
      secret(this.secrets.redis, redisAclFile(healthcheck), 'REDIS_ACL_HEALTHCHECK_FILE', redisUserTemplate(healthcheck, REDIS_HEALTHCHECK_COMMANDS.join(' '))),
      ...(apps.length > 0 ? [{ ...secret(`%s/${appSecretName}`, REDIS_APPS_ACL_FILE, 'REDIS_ACL_APPS_FILE', redisAppUsersTemplate()), forEach: apps }] : []),
    ];
  }

  /** The files redis.conf includes (its ACL users), and the health check's user and password file. */
  public get redisAuth(): { readonly aclFiles: string[]; readonly healthcheck: { readonly user: string; readonly passwordFile: string } } {
    return {
      aclFiles: this.redisAclSecrets.map((f) => `${SECRETS_DIR}/${f.file}`),
      healthcheck: { user: this.props.redisUsers.healthcheck, passwordFile: `${SECRETS_DIR}/${REDIS_HEALTHCHECK_PASSWORD_FILE}` },
    };
  }


  /**
   * The exporters' sslmode on the pod's loopback: `require` with TLS (the hba files refuse
   * plaintext; nobody sits between two containers of one pod, and 127.0.0.1 is in no
   * certificate, so nothing to verify), else `disable`.
   */
  private get loopbackSslmode(): string {
    return this.props.tls ? 'require' : 'disable';
  }

  /**
   * postgres_exporter, a sidecar of PostgreSQL: its own role over TCP from the pod itself,
   * with the password start.sh hands it (a libpq password file in the one volume the two
   * containers share); it mounts neither the socket nor the Vault files.
   */
  public get postgresExporter(): ContainerSpec {
    const e = this.props.exporters.postgres;
    return {
      name: 'postgres-exporter',
      image: new UpstreamImage(e.image),
      resources: e.resources,
      ports: [{ name: 'metrics', number: EXPORTER_PORTS.postgres }],
      env: [
        { name: 'DATA_SOURCE_NAME', value: `postgresql://${DATABASE_ROLES.monitoring}@127.0.0.1:${POSTGRES_SERVICE.port}/postgres?sslmode=${this.loopbackSslmode}` },
        { name: 'PGPASSFILE', value: EXPORTER_PGPASSFILE },
      ],
      args: [`--web.listen-address=:${EXPORTER_PORTS.postgres}`],
      mounts: [{ volume: EXPORTER_LOGIN.volume, path: EXPORTER_LOGIN.dir, readOnly: true }],
      probes: EXPORTER_PROBES,
    };
  }

  /**
   * pgbouncer_exporter, a sidecar of PgBouncer: the stats user (SHOW only) from the pod itself,
   * with the password start.sh hands it, as postgres_exporter's; it never mounts the Vault files.
   */
  public get pgbouncerExporter(): ContainerSpec {
    const e = this.props.exporters.pgbouncer;
    return {
      name: 'pgbouncer-exporter',
      image: new UpstreamImage(e.image),
      resources: e.resources,
      ports: [{ name: 'metrics', number: EXPORTER_PORTS.pgbouncer }],
      env: [{ name: 'PGPASSFILE', value: EXPORTER_PGPASSFILE }],
      args: [`--pgBouncer.connectionString=postgres://${DATABASE_ROLES.pgbouncerStats}@127.0.0.1:${this.props.poolerService.port}/pgbouncer?sslmode=${this.loopbackSslmode}`,
        `--web.listen-address=:${EXPORTER_PORTS.pgbouncer}`],
      mounts: [{ volume: EXPORTER_LOGIN.volume, path: EXPORTER_LOGIN.dir, readOnly: true }],
      probes: EXPORTER_PROBES,
    };
  }

  /** PgBouncer's grace period: preStop, then the apps' longest connection lifetime to move away, then a margin. */
  public get pgbouncerGraceSeconds(): number {
    return PGBOUNCER_PRE_STOP_SECONDS + this.props.pgbouncer.appConnectionLifetimeSeconds + 30;
  }
}
