/**
 * The `database` capability: PostgreSQL (one-replica StatefulSet, WAL archived by WAL-G to
 * the object store), the pg-roles CronJob that applies the apps' roles and databases (so
 * that adding an app never restarts PostgreSQL), PgBouncer in front of it (where the catalog
 * points the apps: DATA_STORES.postgres), postgres_exporter and pgbouncer_exporter, their
 * alerts, and Redis (DATA_STORES.redis). The domain is lib/database's {@link DataTier}; this unit maps the
 * section onto it, offers the archive to the backup jobs (the `database` port) and reads
 * Vault, Prometheus and the heartbeat from their ports.
 */
import { Chart } from 'cdk8s';
import { DATA_STORES, DataStoreTls, REDIS_HEALTHCHECK_USER } from '../../../config/catalog';
import { EnvironmentConfig } from '../../../config/load';
import { SectionValue } from '../../../config/sections';
import { ROLES_JOB_DEADLINE_SECONDS, redisMaxMemoryMi, rolesMaxAgeSeconds } from '../../../config/sections/database';
import { UpstreamImage, serviceHost, workloadEndpoint } from '../../../lib/core';
import {
  DATABASE_ROLES, DataTier, EXPORTER_PORTS, PGBOUNCER_PRE_STOP_SECONDS, PgBouncer, POSTGRES_RUN_AS, POSTGRES_SERVICE, POSTGRES_WORKLOAD, PostgresCluster, ROLES_JOB, Redis,
  RolesJob, databaseRuleGroups, redisKeyPrefix,
} from '../../../lib/database';
import { AlertRules, ScrapeTarget } from '../../../lib/metrics';
import { caBundleFile, mountCaBundle } from '../../../lib/tls';
import { PodExtensionPoint } from '../../../lib/workload';
import { Capability } from '../capability';
import { DataTierEndpoint, Ports, portProblem } from '../ports';

type Section = SectionValue<'database'>;

/** Workload names (`app.kubernetes.io/name`), Services and Vault roles: the catalog's hosts. */
export const PGBOUNCER_WORKLOAD = DATA_STORES.postgres.host;
export const REDIS_WORKLOAD = DATA_STORES.redis.host;
export { POSTGRES_SERVICE, POSTGRES_WORKLOAD, ROLES_JOB };

/** The env var that tells an app the prefix of its Redis keys and channels (`<service>:`). */
export const REDIS_KEY_PREFIX_ENV = 'REDIS_KEY_PREFIX';

/** Catalog services that use PostgreSQL: each has its own role and database (from its `<service>/database` entry). */
export function postgresUsers(config: EnvironmentConfig): string[] {
  return config.services.filter((s) => s.catalog.dataStores.includes('postgres')).map((s) => s.name);
}

/** Catalog services that use Redis: each logs in as its own ACL user (from its `<service>/redis` entry), its keys below `<service>:`. */
export function redisUsers(config: EnvironmentConfig): string[] {
  return config.services.filter((s) => s.catalog.dataStores.includes('redis')).map((s) => s.name);
}

/** The data tier of `config`: the section mapped onto lib/database's props, with the heartbeat writer's role when its port is on. */
export function dataTier(section: Section, config: EnvironmentConfig, ports: Pick<Ports, 'heartbeat'>): DataTier {
  return new DataTier({
    namespace: config.namespace.name,
    clientCidrs: section.clientCidrs,
    ...(section.tls ? { tls: section.tls } : {}),
    clusterName: section.clusterName,
    postgres: section.postgres,
    // The schema refuses a section without s3Prefix (it is optional there only for a precise error).
    walg: { ...section.walg, s3Prefix: section.walg.s3Prefix! },
    pgbouncer: section.pgbouncer,
    rolesJob: { schedule: section.roles.schedule, resources: section.roles.resources, activeDeadlineSeconds: ROLES_JOB_DEADLINE_SECONDS },
    exporters: section.exporters,
    poolerService: { name: DATA_STORES.postgres.host, port: DATA_STORES.postgres.port },
    redisService: { name: DATA_STORES.redis.host, port: DATA_STORES.redis.port },
    redisUsers: { apps: redisUsers(config), appSecretName: DATA_STORES.redis.secret.name, healthcheck: REDIS_HEALTHCHECK_USER },
    apps: postgresUsers(config),
    appSecretName: DATA_STORES.postgres.secret.name,
    ...(ports.heartbeat ? { heartbeat: ports.heartbeat } : {}),
  });
}

/** Redis's TLS (database.redis.tls), when on: `false` and absent are plaintext (check() refuses absent in a production tier). */
function redisTls(section: Section): Exclude<Section['redis']['tls'], false | undefined> | undefined {
  return section.redis.tls || undefined;
}

/** The data stores that speak TLS, and the CA file the apps verify them with. */
function storeTls(section: Section, tier: DataTier): DataStoreTls {
  const redis = redisTls(section);
  const postgres = tier.clientTls;
  return {
    ...(postgres ? { postgres: { sslmode: postgres.sslmode, rootCertFile: postgres.rootCertFile } } : {}),
    ...(redis ? { redis: { sslmode: 'verify-full', rootCertFile: caBundleFile(redis.caBundle) } } : {}),
  };
}

function endpoint(name: string, port: number, namespace: string): DataTierEndpoint {
  return { endpoint: workloadEndpoint(name, namespace), host: serviceHost(name, namespace), port };
}

/**
 * The pods of one workload of the tier, with the Vault agent rendering its entries (pre-populate only for a Job's pods),
 * under the workload's own ids (PostgreSQL's pinned: POSTGRES_RUN_AS).
 */
function vaultExtension(tier: DataTier, name: string, ports: Ports, runsToCompletion = false): PodExtensionPoint {
  const pod = new PodExtensionPoint(name, name === POSTGRES_WORKLOAD ? POSTGRES_RUN_AS : undefined);
  // `database` requires `secrets` (config/sections): the loader refuses the section without it, and check() names the port.
  ports.vault!.inject(pod, tier.readers.find((r) => r.name === name)!, runsToCompletion);
  return pod;
}

export const database: Capability<Section> & { readonly id: 'database' } = {
  id: 'database',
  check(section, config, ports) {
    const at = (path: readonly string[]) => `${config.file}:${config.lineOf(['database', ...path])}: database.${path.join('.')}`;
    const problems = dataTier(section, config, ports).problems.map((p) => `${at(p.field)}: ${p.message}`);
    if (section.tls === undefined && config.tier === 'production') {
      problems.push(`${config.file}:${config.lineOf(['database'])}: database.tls: expected the TLS of app → PgBouncer → PostgreSQL in a production-tier environment `
        + '({ issuer: { kind, name }, caBundle: { configMap } }: cert-manager issues the servers\' certificates, the clients verify them), '
        + 'or false to run it in plaintext on purpose, found none');
    }
    if (section.redis.tls === undefined && config.tier === 'production') {
      problems.push(`${config.file}:${config.lineOf(['database', 'redis'])}: database.redis.tls: expected the TLS of app → Redis in a production-tier environment: ` +
        '{ issuer: { kind, name }, caBundle: { configMap, key } } (or false to state plaintext on purpose), found none');
    }
    const vault = portProblem(ports, 'vault', config, ['database'], 'PostgreSQL, PgBouncer and Redis read their credentials from Vault');
    return vault ? [...problems, vault] : problems;
  },
  provides(section, config) {
    const tier = dataTier(section, config, {});
    const ns = config.namespace.name;
    return {
      database: {
        primary: endpoint(POSTGRES_SERVICE.name, POSTGRES_SERVICE.port, ns),
        pooler: endpoint(DATA_STORES.postgres.host, DATA_STORES.postgres.port, ns),
        backupRole: { name: DATABASE_ROLES.backup, secretPath: tier.secrets.backup, passwordTemplate: '{{ .Data.data.password }}' },
        storageSize: section.postgres.storage.size,
        archiveTimeoutSeconds: section.postgres.archiveTimeoutSeconds,
        image: tier.postgresImage,
        ...(tier.clientTls ? { tls: tier.clientTls } : {}),
        clientTlsEnv: tier.clientTlsEnv,
        storeTls: storeTls(section, tier),
        archive: {
          env: (access) => tier.walgEnv(access),
          secrets: (access) => tier.walgSecrets(access),
          iamPolicy: (access) => tier.walgIamPolicyFile(access),
          store: tier.objectStore,
          storePort: tier.objectStorePort,
        },
      },
    };
  },
  extendPod(pod, service, section) {
    // The apps that use PostgreSQL verify PgBouncer against the CA bundle: their DATABASE_URL (the secrets capability's
    // template, from this port) names the file with sslrootcert.
    if (section.tls && service.catalog.dataStores.includes('postgres')) mountCaBundle(pod, section.tls.caBundle);
    if (!service.catalog.dataStores.includes('redis')) return;
    // The app's Redis user reaches only keys and channels below this prefix (lib/database/redis-acl.ts).
    pod.addAppEnv({ name: REDIS_KEY_PREFIX_ENV, value: redisKeyPrefix(service.name) });
    // Its REDIS_URL names this file (ssl_ca_certs: storeTls, written by the secrets capability).
    const tls = redisTls(section);
    if (tls) mountCaBundle(pod, tls.caBundle);
  },
  vaultReaders: (section, config, ports) => dataTier(section, config, ports).readers,
  files(section, config) {
    // PostgreSQL's own credentials; the backups capability writes its jobs'.
    return [dataTier(section, config, {}).walgIamPolicyFile('wal-archive')];
  },
  flows(graph, section, config, extras) {
    const tier = dataTier(section, config, extras.ports);
    const ns = config.namespace.name;
    const postgres = workloadEndpoint(POSTGRES_WORKLOAD, ns);
    const pgbouncer = workloadEndpoint(PGBOUNCER_WORKLOAD, ns);
    const redis = workloadEndpoint(REDIS_WORKLOAD, ns);
    const roles = workloadEndpoint(ROLES_JOB, ns);
    for (const w of [postgres, pgbouncer, redis, roles]) graph.addWorkload(w);
    const tcp = (port: number) => [{ port, protocol: 'TCP' as const }];
    graph.addFlow({ from: pgbouncer, to: postgres, ports: tcp(POSTGRES_SERVICE.port), purpose: 'pools the apps\' connections to PostgreSQL', declaredBy: 'database' });
    graph.addFlow({ from: roles, to: postgres, ports: tcp(POSTGRES_SERVICE.port), purpose: 'applies the apps\' roles and databases as pronto_roles (psql)', declaredBy: 'database' });
    graph.addFlow({ from: postgres, to: tier.objectStore, ports: tcp(tier.objectStorePort), purpose: 'archives WAL (wal-g wal-push)', declaredBy: 'database' });
    const prometheus = extras.ports.prometheus;
    if (prometheus) {
      const from = prometheus.server;
      graph.addFlow({ from, to: postgres, ports: tcp(EXPORTER_PORTS.postgres), purpose: 'Prometheus scrapes postgres_exporter', declaredBy: 'database' });
      graph.addFlow({ from, to: pgbouncer, ports: tcp(EXPORTER_PORTS.pgbouncer), purpose: 'Prometheus scrapes pgbouncer_exporter', declaredBy: 'database' });
    }
  },
  charts(app, section, context) {
    const { config, ports } = context;
    const tier = dataTier(section, config, ports);
    const ns = config.namespace.name;
    const chart = (id: string) => new Chart(app, id, { namespace: ns, disableResourceNameHashes: true });

    const postgresChart = chart('postgres');
    new PostgresCluster(postgresChart, 'Postgres', {
      name: POSTGRES_WORKLOAD,
      image: tier.postgresImage,
      resources: section.postgres.resources,
      storageSize: section.postgres.storage.size,
      storageClassName: section.postgres.storage.storageClassName,
      sharedMemoryMi: section.postgres.sharedMemoryMi,
      files: tier.postgresFiles,
      env: tier.walgEnv('wal-archive'),
      extension: vaultExtension(tier, POSTGRES_WORKLOAD, ports),
      runAs: POSTGRES_RUN_AS,
      sidecars: [tier.postgresExporter],
      port: POSTGRES_SERVICE.port,
      ...(section.tls ? { tls: { issuer: section.tls.issuer } } : {}),
    });

    const pgbouncerChart = chart('pgbouncer');
    pgbouncerChart.addDependency(postgresChart);
    new PgBouncer(pgbouncerChart, 'PgBouncer', {
      name: PGBOUNCER_WORKLOAD,
      image: new UpstreamImage(section.pgbouncer.image),
      resources: section.pgbouncer.resources,
      replicas: section.pgbouncer.replicas,
      files: tier.pgbouncerFiles,
      port: DATA_STORES.postgres.port,
      extension: vaultExtension(tier, PGBOUNCER_WORKLOAD, ports),
      sidecars: [tier.pgbouncerExporter],
      preStopSleepSeconds: PGBOUNCER_PRE_STOP_SECONDS,
      terminationGracePeriodSeconds: tier.pgbouncerGraceSeconds,
      ...(section.tls ? { tls: section.tls } : {}),
    });

    const redisChart = chart('redis');
    const r = section.redis;
    const rtls = redisTls(section);
    new Redis(redisChart, 'Redis', {
      name: REDIS_WORKLOAD,
      image: new UpstreamImage(r.image),
      resources: r.resources,
      persistence: r.persistence === false ? undefined : { size: r.persistence.size, storageClassName: r.persistence.storageClassName },
      maxMemoryMi: redisMaxMemoryMi(section.redis),
      ...tier.redisAuth,
      ...(rtls ? { tls: { issuer: rtls.issuer, caBundle: rtls.caBundle } } : {}),
      extension: vaultExtension(tier, REDIS_WORKLOAD, ports),
      port: DATA_STORES.redis.port,
    });

    // Its own chart: a new app changes this job (its ConfigMap and Vault files), never PostgreSQL's pod. Applied after PostgreSQL
    // (in the same sync wave, a CronJob after a StatefulSet); a run before PostgreSQL accepts connections fails, and the next applies.
    const rolesChart = chart('database-roles');
    rolesChart.addDependency(postgresChart);
    new RolesJob(rolesChart, 'Roles', {
      name: ROLES_JOB,
      image: tier.postgresImage,
      ...tier.props.rolesJob,
      files: tier.rolesJobFiles,
      env: tier.rolesJobEnv,
      extension: vaultExtension(tier, ROLES_JOB, ports, true),
      ...(section.tls ? { caBundle: section.tls.caBundle } : {}),
    });

    const charts = [postgresChart, pgbouncerChart, redisChart, rolesChart];
    const prometheus = ports.prometheus;
    if (prometheus) {
      const monitoring = chart('database-monitoring');
      monitoring.addDependency(postgresChart, pgbouncerChart, rolesChart);
      const selectorLabels = prometheus.selectorLabels;
      const scrapeTimeout = `${Math.min(10, parseInt(prometheus.scrapeInterval, 10))}s`;
      for (const name of [POSTGRES_WORKLOAD, PGBOUNCER_WORKLOAD]) {
        new ScrapeTarget(monitoring, `${name}-scrape`, {
          name, component: 'database',
          port: 'metrics', interval: prometheus.scrapeInterval, scrapeTimeout, selectorLabels,
        });
      }
      new AlertRules(monitoring, 'Alerts', {
        name: 'pronto-database', component: 'database', selectorLabels,
        groups: databaseRuleGroups({
          namespace: ns, postgresJob: POSTGRES_WORKLOAD, pgbouncerJob: PGBOUNCER_WORKLOAD,
          archiveTimeoutSeconds: section.postgres.archiveTimeoutSeconds, runbookBaseUrl: prometheus.runbookBaseUrl,
          roles: { cronJob: ROLES_JOB, maxAgeSeconds: rolesMaxAgeSeconds(section.roles.schedule) },
        }),
      });
      charts.push(monitoring);
    }
    return charts;
  },
};
