/**
 * The `database` capability: PostgreSQL (one-replica StatefulSet, WAL archived by WAL-G to
 * the object store), PgBouncer in front of it (where the catalog points the apps:
 * DATA_STORES.postgres), postgres_exporter and pgbouncer_exporter, their alerts, and Redis
 * (DATA_STORES.redis). Credentials are Vault files; the flows go into the connection graph.
 */
import { Chart } from 'cdk8s';
import { DATA_STORES } from '../../../config/catalog';
import { CatalogSecret } from '../../../config/schema';
import { ConfigError, EnvironmentConfig } from '../../../config/load';
import { ExternalEndpoint, UpstreamImage, bytes, workloadEndpoint } from '../../../lib/core';
import {
  HbaRule, PGBOUNCER_FILES, PGBOUNCER_PATHS, POSTGRES_FILES, POSTGRES_PATHS, PgBouncer, PgBouncerIniModel, PoolSizes, PostgresCluster, PostgresParameters,
  RESTORE_COMMAND_WRAPPER, Redis, databaseRuleGroups, poolSizes, renderPgBouncerHba, renderPgBouncerIni, renderPgHba, renderPostgresqlConf,
  RolesModel, renderRolesScript, renderStartScript,
} from '../../../lib/database';
import { AlertRules, ScrapeTarget } from '../../../lib/metrics';
import { ContainerProbes, ContainerSpec, PodExtensionPoint } from '../../../lib/workload';
import { Capability, VaultReader } from '../capability';
import { prometheus } from '../metrics';
import { addVaultSecrets } from '../secrets';
import { SectionValue } from '../sections';
import { DatabaseSection, redisMaxMemoryMi } from './config';
import { POSTGRES_SERVICE, POSTGRES_WORKLOAD, walgEnv, walgSecrets } from './walg';

export * from './walg';

type Section = SectionValue<'database'>;

/** Workload names (`app.kubernetes.io/name`), Services and Vault roles: the catalog's hosts. */
export const PGBOUNCER_WORKLOAD = DATA_STORES.postgres.host;
export const REDIS_WORKLOAD = DATA_STORES.redis.host;

/** Roles the database creates (roles.sql) and PgBouncer knows. */
export const DATABASE_ROLES = {
  /** Runs PgBouncer's auth_query (a SECURITY DEFINER lookup function; no other right). */
  pgbouncerAuth: 'pgbouncer_auth',
  /** PgBouncer's admin console (admin_users). */
  pgbouncerAdmin: 'pgbouncer_admin',
  /** PgBouncer's SHOW commands (stats_users), for pgbouncer_exporter. */
  pgbouncerStats: 'pgbouncer_stats',
  /** WAL-G's remote backup-push, wal-verify (REPLICATION, pg_checkpoint, backup functions). */
  backup: 'walg_backup',
  /** postgres_exporter (pg_monitor), over the pod's own socket. */
  monitoring: 'postgres_exporter',
} as const;

/**
 * The Vault KV entries of the data tier, below the environment's KV prefix. Each is owned by
 * one workload; those read by more than one reader are named in their readers' policies.
 */
export const DATABASE_SECRETS = {
  /** Field `password`: the superuser `postgres` (initdb only; it logs in over the local socket only). */
  superuser: `${POSTGRES_WORKLOAD}/superuser`,
  /** Fields `username` (walg_backup) and `password`: the backup jobs' role. Read by postgres (roles.sql) and the backup jobs. */
  backup: `${POSTGRES_WORKLOAD}/backup`,
  /** Fields `auth_password`, `admin_password`: PgBouncer's auth and admin users. Read by postgres (roles.sql) and pgbouncer. */
  pgbouncer: `${POSTGRES_WORKLOAD}/pgbouncer`,
  /** Field `password`: Redis's `requirepass`; each app's `<service>/redis` must hold the same one. */
  redis: `${REDIS_WORKLOAD}/auth`,
  /**
   * Fields `username`, `password`: the backups capability's heartbeat job `pg-heartbeat` (it
   * logs in with them through PgBouncer). Read by postgres (roles.sql, when the heartbeat is on) and that job.
   */
  heartbeat: 'pg-heartbeat/database',
} as const;

/** Where the Vault agent renders files (the secrets capability's path). */
const SECRETS = '/run/secrets';

/** Catalog services that use PostgreSQL: each has its own role and database (from its `<service>/database` entry). */
export function postgresUsers(config: EnvironmentConfig): string[] {
  return config.services.filter((s) => s.catalog.dataStores.includes('postgres')).map((s) => s.name);
}

/** Total connections kept from the pools. */
export function reservedConnections(section: DatabaseSection): number {
  const r = section.postgres.reservedConnections;
  return r.superuser + r.backup + r.monitoring;
}

/**
 * Databases PgBouncer pools to: each app's own, plus `postgres` (the wildcard entry reaches
 * it, and from PgBouncer 1.19 the auth_query lookups run there: auth_dbname).
 */
export function pooledDatabases(config: EnvironmentConfig): number {
  return postgresUsers(config).length + 1;
}

/** PgBouncer's pool sizes per replica, derived from max_connections, the reserve, the replicas and the databases. */
export function pgbouncerPools(section: DatabaseSection, config: EnvironmentConfig): PoolSizes {
  return poolSizes({
    maxConnections: section.postgres.maxConnections,
    reservedConnections: reservedConnections(section),
    replicas: section.pgbouncer.replicas,
    databases: pooledDatabases(config),
    defaultPoolSize: section.pgbouncer.defaultPoolSize,
    reservePoolSize: section.pgbouncer.reservePoolSize,
  });
}

/** The object store's host name: the endpoint's, else AWS S3's regional one. */
export function objectStoreHost(section: DatabaseSection): string {
  return section.walg.endpoint ? new URL(section.walg.endpoint).hostname : `s3.${section.walg.region}.amazonaws.com`;
}

/** The object store's port: `storagePort`, else the endpoint's, else 443. */
export function objectStorePort(section: DatabaseSection): number {
  if (section.walg.storagePort) return section.walg.storagePort;
  const url = section.walg.endpoint ? new URL(section.walg.endpoint) : undefined;
  return url?.port ? Number(url.port) : url?.protocol === 'http:' ? 80 : 443;
}

/** The object store as an end of the connection graph (its blocks: `walg.storageCidrs`). */
export function objectStore(section: DatabaseSection): ExternalEndpoint {
  return { kind: 'external', name: objectStoreHost(section), blocks: section.walg.storageCidrs };
}

/** Config problems the schema cannot see (it does not know the catalog or the other sections). */
export function checkSection(section: DatabaseSection, config: EnvironmentConfig): void {
  const problems: string[] = [];
  const at = (...path: string[]) => `${config.file}:${config.lineOf(['database', ...path])}: database.${path.join('.')}`;
  const pools = pgbouncerPools(section, config);
  if (pools.problem) {
    const where = section.pgbouncer.defaultPoolSize !== undefined ? ['pgbouncer', 'defaultPoolSize'] : ['postgres', 'maxConnections'];
    problems.push(`${at(...where)}: ${pools.problem}`);
  }
  const shm = section.postgres.sharedMemoryMi * 1024 * 1024;
  if (shm >= bytes(section.postgres.resources.limits.memory)) {
    problems.push(`${at('postgres', 'sharedMemoryMi')}: expected /dev/shm below the memory limit (${section.postgres.resources.limits.memory}), found ${section.postgres.sharedMemoryMi}Mi`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/** The postgresql.conf parameters. */
export function postgresParameters(section: DatabaseSection): PostgresParameters {
  const p = section.postgres;
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

/** pg_hba.conf: the superuser and the exporter on the pod's own socket only; everyone else with SCRAM over TCP. */
export function postgresHba(): HbaRule[] {
  return [
    { type: 'local', database: 'all', user: 'postgres', method: 'trust', why: 'the superuser only on the pod\'s own socket (start.sh, kubectl exec)' },
    { type: 'local', database: 'all', user: DATABASE_ROLES.monitoring, method: 'trust', why: 'postgres_exporter, a sidecar sharing the socket folder; pg_monitor only' },
    { type: 'local', database: 'all', user: 'all', method: 'reject', why: 'nobody else on the socket' },
    { type: 'host', database: 'all', user: 'postgres', address: '0.0.0.0/0', method: 'reject', why: 'no superuser over the network' },
    { type: 'host', database: 'all', user: 'postgres', address: '::/0', method: 'reject', why: 'no superuser over the network' },
    { type: 'host', database: 'replication', user: DATABASE_ROLES.backup, address: '0.0.0.0/0', method: 'scram-sha-256', why: 'the backup jobs\' BASE_BACKUP stream (NetworkPolicies let in only them and PgBouncer)' },
    { type: 'host', database: 'all', user: 'all', address: '0.0.0.0/0', method: 'scram-sha-256', why: 'PgBouncer (apps, auth_query) and the backup jobs' },
    { type: 'host', database: 'all', user: 'all', address: '::/0', method: 'scram-sha-256', why: 'the same over IPv6' },
  ];
}

function appRoleFile(service: string): string {
  return `app-${service}`;
}

/** The Vault file of the heartbeat's login in the postgres pod (user name, password). */
const HEARTBEAT_ROLE_FILE = 'heartbeat-role';

/**
 * Where the backups capability's heartbeat writes, when it is on: the restore test's
 * database and the schema and table of `backups.heartbeat.table`. PostgreSQL creates its
 * role (roles.sql) from `pg-heartbeat/database`.
 */
export function heartbeatTarget(config: EnvironmentConfig): { database: string; schema: string; table: string } | undefined {
  const backups = config.capabilities.backups;
  if (!backups || backups.heartbeat === false) return undefined;
  const [schema, table] = backups.heartbeat.table.split('.');
  return { database: backups.restoreTest.database, schema, table };
}

/** The ConfigMap files of PostgreSQL. */
export function postgresFiles(section: DatabaseSection, config: EnvironmentConfig): Record<typeof POSTGRES_FILES[keyof typeof POSTGRES_FILES], string> {
  return {
    [POSTGRES_FILES.conf]: renderPostgresqlConf(postgresParameters(section)),
    [POSTGRES_FILES.hba]: renderPgHba(postgresHba()),
    [POSTGRES_FILES.start]: renderStartScript({
      dataDir: POSTGRES_PATHS.dataDir, configFile: `${POSTGRES_PATHS.configDir}/${POSTGRES_FILES.conf}`, socketDir: POSTGRES_PATHS.socketDir,
      superuserPasswordFile: `${SECRETS}/pg-superuser`, rolesScript: `${POSTGRES_PATHS.configDir}/${POSTGRES_FILES.roles}`,
    }),
    [POSTGRES_FILES.restore]: RESTORE_COMMAND_WRAPPER,
    [POSTGRES_FILES.roles]: renderRolesScript({
      pgbouncerAuth: { role: DATABASE_ROLES.pgbouncerAuth, passwordFile: `${SECRETS}/pgbouncer-auth` },
      backup: { role: DATABASE_ROLES.backup, passwordFile: `${SECRETS}/walg-backup` },
      monitoring: { role: DATABASE_ROLES.monitoring },
      apps: postgresUsers(config).map((service) => ({ service, file: `${SECRETS}/${appRoleFile(service)}` })),
      ...heartbeatRole(config),
    }),
  };
}

function heartbeatRole(config: EnvironmentConfig): Pick<RolesModel, 'heartbeat'> {
  const target = heartbeatTarget(config);
  return target ? { heartbeat: { ...target, file: `${SECRETS}/${HEARTBEAT_ROLE_FILE}`, who: 'pg-heartbeat (backups)', databaseSetting: 'backups.restoreTest.database' } } : {};
}

/** The model of pgbouncer.ini. */
export function pgbouncerIniModel(section: DatabaseSection, config: EnvironmentConfig): PgBouncerIniModel {
  const b = section.pgbouncer;
  const pools = pgbouncerPools(section, config);
  return {
    version: b.version,
    serverHost: POSTGRES_SERVICE.name,
    serverPort: POSTGRES_SERVICE.port,
    listenPort: DATA_STORES.postgres.port,
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
    authFile: `${SECRETS}/pgbouncer-users`,
    hbaFile: `${PGBOUNCER_PATHS.configDir}/${PGBOUNCER_FILES.hba}`,
    adminUsers: [DATABASE_ROLES.pgbouncerAdmin],
    statsUsers: [DATABASE_ROLES.pgbouncerStats],
    runDir: PGBOUNCER_PATHS.runDir,
    ...(b.serverTls ? { serverTls: { sslmode: b.serverTls.sslmode, caFile: b.serverTls.caFile } } : {}),
  };
}

/** pgbouncer.ini and its hba file, as in the ConfigMap. */
export function pgbouncerFiles(section: DatabaseSection, config: EnvironmentConfig): Record<typeof PGBOUNCER_FILES[keyof typeof PGBOUNCER_FILES], string> {
  return {
    [PGBOUNCER_FILES.ini]: renderPgBouncerIni(pgbouncerIniModel(section, config)),
    [PGBOUNCER_FILES.hba]: renderPgBouncerHba([DATABASE_ROLES.pgbouncerStats]),
  };
}

const secret = (path: string, file: string, env: string, template: string): CatalogSecret => ({ path, file, env, template });

/** The Vault readers of the data tier: PostgreSQL, PgBouncer, Redis. */
export function databaseReaders(_section: DatabaseSection, config: EnvironmentConfig): VaultReader[] {
  return [
    {
      name: POSTGRES_WORKLOAD, serviceAccount: POSTGRES_WORKLOAD, appContainer: 'postgres',
      secrets: [
        secret(DATABASE_SECRETS.superuser, 'pg-superuser', 'POSTGRES_SUPERUSER_FILE', '{{ .Data.data.password }}'),
        secret(DATABASE_SECRETS.pgbouncer, 'pgbouncer-auth', 'PGBOUNCER_AUTH_ROLE_FILE', '{{ .Data.data.auth_password }}'),
        secret(DATABASE_SECRETS.backup, 'walg-backup', 'WALG_BACKUP_ROLE_FILE', '{{ .Data.data.password }}'),
        ...walgSecrets('read-write'),
        // Each app's own entry (username, password, database): the same values the app reads, so they never drift.
        ...postgresUsers(config).map((service) => secret(`${service}/${DATA_STORES.postgres.secret.name}`, appRoleFile(service),
          `APP_ROLE_${service.toUpperCase().replace(/-/g, '_')}_FILE`, '{{ .Data.data.username }}\n{{ .Data.data.password }}\n{{ .Data.data.database }}\n')),
        // The heartbeat's entry, which its job reads too (roles.sql creates its role).
        ...(heartbeatTarget(config) ? [secret(DATABASE_SECRETS.heartbeat, HEARTBEAT_ROLE_FILE, 'HEARTBEAT_ROLE_FILE', '{{ .Data.data.username }}\n{{ .Data.data.password }}\n')] : []),
      ],
    },
    {
      name: PGBOUNCER_WORKLOAD, serviceAccount: PGBOUNCER_WORKLOAD, appContainer: 'pgbouncer',
      secrets: [secret(DATABASE_SECRETS.pgbouncer, 'pgbouncer-users', 'PGBOUNCER_AUTH_FILE',
        // The stats user has no password: PgBouncer must know it, and its hba file lets it in from 127.0.0.1 only (trust) and rejects it elsewhere.
        `"${DATABASE_ROLES.pgbouncerAuth}" "{{ .Data.data.auth_password }}"\n"${DATABASE_ROLES.pgbouncerAdmin}" "{{ .Data.data.admin_password }}"\n"${DATABASE_ROLES.pgbouncerStats}" ""\n`)],
    },
    {
      name: REDIS_WORKLOAD, serviceAccount: REDIS_WORKLOAD, appContainer: 'redis',
      secrets: [
        secret(DATABASE_SECRETS.redis, 'redis-auth', 'REDIS_AUTH_CONF_FILE', 'requirepass "{{ .Data.data.password }}"\n'),
        secret(DATABASE_SECRETS.redis, 'redis-cli-auth', 'REDIS_CLI_AUTH_FILE', '{{ .Data.data.password }}'),
      ],
    },
  ];
}

const EXPORTER_PORTS = { postgres: 9187, pgbouncer: 9127 } as const;

/** Both exporters' probes, on their `metrics` port. */
const EXPORTER_PROBES: ContainerProbes = {
  readiness: { tcpSocket: { port: 'metrics' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
  liveness: { httpGet: { path: '/', port: 'metrics' }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
};

function postgresExporter(section: DatabaseSection): ContainerSpec {
  const e = section.exporters.postgres;
  return {
    name: 'postgres-exporter',
    image: new UpstreamImage(e.image),
    resources: e.resources,
    ports: [{ name: 'metrics', number: EXPORTER_PORTS.postgres }],
    env: [{ name: 'DATA_SOURCE_NAME', value: `postgresql://${DATABASE_ROLES.monitoring}@:${POSTGRES_SERVICE.port}/postgres?host=${POSTGRES_PATHS.socketDir}&sslmode=disable` }],
    args: [`--web.listen-address=:${EXPORTER_PORTS.postgres}`],
    mounts: [{ volume: 'socket', path: POSTGRES_PATHS.socketDir }],
    probes: EXPORTER_PROBES,
  };
}

function pgbouncerExporter(section: DatabaseSection): ContainerSpec {
  const e = section.exporters.pgbouncer;
  return {
    name: 'pgbouncer-exporter',
    image: new UpstreamImage(e.image),
    resources: e.resources,
    ports: [{ name: 'metrics', number: EXPORTER_PORTS.pgbouncer }],
    // The stats user from the pod itself: trusted by PgBouncer's hba file, and it can only SHOW.
    args: [`--pgBouncer.connectionString=postgres://${DATABASE_ROLES.pgbouncerStats}@127.0.0.1:${DATA_STORES.postgres.port}/pgbouncer?sslmode=disable`,
      `--web.listen-address=:${EXPORTER_PORTS.pgbouncer}`],
    probes: EXPORTER_PROBES,
  };
}

/** Seconds PgBouncer's preStop sleeps so the Service drops the pod before SIGTERM. */
export const PGBOUNCER_PRE_STOP_SECONDS = 10;


function readerOf(section: Section, config: EnvironmentConfig, name: string): VaultReader {
  return databaseReaders(section, config).find((r) => r.name === name)!;
}

function vaultExtension(name: string, section: Section, config: EnvironmentConfig): PodExtensionPoint {
  const pod = new PodExtensionPoint(name);
  // `database` requires `secrets` (sections.ts): the loader refuses the section without it.
  addVaultSecrets(pod, readerOf(section, config, name), config.capabilities.secrets!);
  return pod;
}

export const database: Capability<Section> & { readonly id: 'database' } = {
  id: 'database',
  vaultReaders: databaseReaders,
  flows(graph, section, config) {
    checkSection(section, config);
    const ns = config.namespace.name;
    const postgres = workloadEndpoint(POSTGRES_WORKLOAD, ns);
    const pgbouncer = workloadEndpoint(PGBOUNCER_WORKLOAD, ns);
    const redis = workloadEndpoint(REDIS_WORKLOAD, ns);
    for (const w of [postgres, pgbouncer, redis]) graph.addWorkload(w);
    const tcp = (port: number) => [{ port, protocol: 'TCP' as const }];
    graph.addFlow({ from: pgbouncer, to: postgres, ports: tcp(POSTGRES_SERVICE.port), purpose: 'pools the apps\' connections to PostgreSQL', declaredBy: 'database' });
    graph.addFlow({ from: postgres, to: objectStore(section), ports: tcp(objectStorePort(section)), purpose: 'archives WAL (wal-g wal-push)', declaredBy: 'database' });
    const metrics = config.capabilities.metrics;
    if (metrics) {
      const from = prometheus(metrics);
      graph.addFlow({ from, to: postgres, ports: tcp(EXPORTER_PORTS.postgres), purpose: 'Prometheus scrapes postgres_exporter', declaredBy: 'database' });
      graph.addFlow({ from, to: pgbouncer, ports: tcp(EXPORTER_PORTS.pgbouncer), purpose: 'Prometheus scrapes pgbouncer_exporter', declaredBy: 'database' });
    }
  },
  charts(app, section, context) {
    const { config } = context;
    checkSection(section, config);
    const ns = config.namespace.name;
    const chart = (id: string) => new Chart(app, id, { namespace: ns, disableResourceNameHashes: true });

    const postgresChart = chart('postgres');
    new PostgresCluster(postgresChart, 'Postgres', {
      name: POSTGRES_WORKLOAD,
      image: new UpstreamImage(section.postgres.image),
      resources: section.postgres.resources,
      storageSize: section.postgres.storage.size,
      storageClassName: section.postgres.storage.storageClassName,
      sharedMemoryMi: section.postgres.sharedMemoryMi,
      files: postgresFiles(section, config),
      env: walgEnv(section, { access: 'read-write' }),
      extension: vaultExtension(POSTGRES_WORKLOAD, section, config),
      sidecars: [postgresExporter(section)],
      port: POSTGRES_SERVICE.port,
    });

    const pgbouncerChart = chart('pgbouncer');
    pgbouncerChart.addDependency(postgresChart);
    new PgBouncer(pgbouncerChart, 'PgBouncer', {
      name: PGBOUNCER_WORKLOAD,
      image: new UpstreamImage(section.pgbouncer.image),
      resources: section.pgbouncer.resources,
      replicas: section.pgbouncer.replicas,
      files: pgbouncerFiles(section, config),
      port: DATA_STORES.postgres.port,
      extension: vaultExtension(PGBOUNCER_WORKLOAD, section, config),
      sidecars: [pgbouncerExporter(section)],
      preStopSleepSeconds: PGBOUNCER_PRE_STOP_SECONDS,
      // preStop, then the apps' longest connection lifetime to move away, then a margin.
      terminationGracePeriodSeconds: PGBOUNCER_PRE_STOP_SECONDS + section.pgbouncer.appConnectionLifetimeSeconds + 30,
    });

    const redisChart = chart('redis');
    const r = section.redis;
    new Redis(redisChart, 'Redis', {
      name: REDIS_WORKLOAD,
      image: new UpstreamImage(r.image),
      resources: r.resources,
      persistence: r.persistence === false ? undefined : { size: r.persistence.size, storageClassName: r.persistence.storageClassName },
      maxMemoryMi: redisMaxMemoryMi(section.redis),
      authConfFile: `${SECRETS}/redis-auth`,
      cliAuthFile: `${SECRETS}/redis-cli-auth`,
      extension: vaultExtension(REDIS_WORKLOAD, section, config),
      port: DATA_STORES.redis.port,
    });

    const charts = [postgresChart, pgbouncerChart, redisChart];
    const metrics = config.capabilities.metrics;
    if (metrics) {
      const monitoring = chart('database-monitoring');
      monitoring.addDependency(postgresChart, pgbouncerChart);
      const selectorLabels = metrics.prometheus.selectorLabels;
      const scrapeTimeout = `${Math.min(10, parseInt(metrics.scrapeInterval, 10))}s`;
      for (const name of [POSTGRES_WORKLOAD, PGBOUNCER_WORKLOAD]) {
        new ScrapeTarget(monitoring, `${name}-scrape`, {
          name, component: 'database',
          port: 'metrics', interval: metrics.scrapeInterval, scrapeTimeout, selectorLabels,
        });
      }
      new AlertRules(monitoring, 'Alerts', {
        name: 'pronto-database', component: 'database', selectorLabels,
        groups: databaseRuleGroups({
          namespace: ns, postgresJob: POSTGRES_WORKLOAD, pgbouncerJob: PGBOUNCER_WORKLOAD,
          archiveTimeoutSeconds: section.postgres.archiveTimeoutSeconds, runbookBaseUrl: metrics.runbookBaseUrl,
        }),
      });
      charts.push(monitoring);
    }
    return charts;
  },
};
