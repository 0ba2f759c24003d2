/**
 * The database capability: PostgreSQL, PgBouncer, the exporters, Redis, their Vault readers
 * and flows, in every shipped environment (gate and capacity guard), on and off, and the
 * config errors the section and its cross-checks raise.
 */
import { stringify } from 'yaml';
import {
  PGBOUNCER_WORKLOAD, POSTGRES_SERVICE, REDIS_WORKLOAD, ROLES_JOB, postgresUsers,
} from '../../../charts/capabilities/database';
import { MIN_PGBOUNCER_VERSION, REDIS_PATCHED, ROLES_JOB_DEADLINE_SECONDS } from '../../../config/sections/database';
import { cronCadence, parseCron } from '../../../config/sections/cron';
import { objectStoreHost } from '../../../lib/database';
import { renderEnvironment } from '../../../charts/synthesize';
import { CATALOG, DATA_STORES } from '../../../config/catalog';
import { parseEnvironment } from '../../../config/load';
import { workloadPeaks } from '../../../lib/namespace/capacity';
import { ANNOTATION_CONFIG_CHECKSUM, Manifest } from '../../../lib/core';
import { DATABASE_ROLES, PGBOUNCER_FILES, POSTGRES_FILES, RESTORE_COMMAND_WRAPPER, ROLES_JOB_FILES } from '../../../lib/database';
import { VALID_ENV } from '../../fixtures/environments';
import { ENVIRONMENTS, buildEnvironment, configProblems, dataTierOf, environment, named } from '../../helpers';

const FILE = 'config/test.yaml';
const STORAGE = '52.95.128.0/21';
const section = (extra = '') => `database:
  postgres:
    image: { repository: registry.example.com/postgres-walg, tag: 16.4-walg3.0.9 }
    walgVersion: 3.0.9
    storage: { size: 50Gi, storageClassName: fast-ssd }
  walg:
    s3Prefix: s3://pronto-backups/pg
    region: eu-west-1
    storageCidrs: [${STORAGE}]
  pgbouncer:
    image: { repository: ghcr.io/cloudnative-pg/pgbouncer, tag: 1.25.2 }
    version: 1.25.2
  redis:
    image: { repository: docker.io/library/redis, tag: 7.4.10-alpine }
${extra}`;
const BASE = `${VALID_ENV}secrets: {}\n`;
const load = (text: string) => parseEnvironment(text, FILE);
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;


describe('the database capability', () => {
  const config = load(`${BASE}${section()}`);
  const on = buildEnvironment(config);
  const cm = (name: string) => named(on.manifests, 'ConfigMap', name).data as Record<string, string>;
  const pod = (kind: string, name: string) => named(on.manifests, kind, name).spec.template;

  test('PostgreSQL: a one-replica StatefulSet with a claim from config, restricted, its volumes, probes that tolerate a slow checkpoint', () => {
    const sts = named(on.manifests, 'StatefulSet', 'postgres');
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.serviceName).toBe('postgres-headless');
    expect(sts.spec.volumeClaimTemplates).toEqual([expect.objectContaining({
      metadata: expect.objectContaining({ name: 'data' }),
      spec: expect.objectContaining({ storageClassName: 'fast-ssd', resources: { requests: { storage: '50Gi' } } }),
    })]);
    const spec = sts.spec.template.spec;
    expect(spec.volumes).toContainEqual({ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '256Mi' } });
    const postgres = spec.containers.find((c: any) => c.name === 'postgres');
    expect(postgres.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false });
    expect(postgres.volumeMounts.map((m: any) => m.mountPath)).toEqual(expect.arrayContaining(['/var/lib/postgresql/data', '/var/run/postgresql', '/tmp', '/dev/shm']));
    expect(postgres.startupProbe.exec.command[0]).toBe('pg_isready');
    expect(postgres.startupProbe.failureThreshold * postgres.startupProbe.periodSeconds).toBeGreaterThanOrEqual(3600);
    expect(postgres.readinessProbe.exec.command[0]).toBe('pg_isready');
    expect(postgres.livenessProbe.tcpSocket).toEqual({ port: 'postgres' });
    expect(postgres.livenessProbe.failureThreshold * postgres.livenessProbe.periodSeconds).toBeGreaterThanOrEqual(60);
    expect(sts.spec.template.metadata.annotations[ANNOTATION_CONFIG_CHECKSUM]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(named(on.manifests, 'Service', POSTGRES_SERVICE.name).spec.ports[0]).toMatchObject({ name: 'postgres', port: POSTGRES_SERVICE.port });
    expect(named(on.manifests, 'Service', 'postgres-headless').spec.clusterIP).toBe('None');
  });

  test('WAL archiving with WAL-G, the restore wrapper mapping wal-fetch exit codes, WAL-G env without credentials', () => {
    const conf = cm('postgres')[POSTGRES_FILES.conf];
    expect(conf).toMatch(/^archive_mode = 'on'$/m);
    expect(conf).toMatch(/^archive_command = 'wal-g wal-push %p'$/m);
    expect(conf).toMatch(/^archive_timeout = 60$/m);
    expect(conf).toMatch(/^wal_level = 'replica'$/m);
    expect(conf).toMatch(/^max_wal_senders = 4$/m);
    expect(conf).toMatch(/^restore_command = '\/etc\/postgresql\/restore-wal.sh %f %p'$/m);
    expect(cm('postgres')[POSTGRES_FILES.restore]).toBe(RESTORE_COMMAND_WRAPPER);
    const env = pod('StatefulSet', 'postgres').spec.containers[0].env;
    expect(env).toContainEqual({ name: 'WALG_S3_PREFIX', value: dataTierOf(config).walgPrefix });
    expect(dataTierOf(config).walgPrefix).toBe('s3://pronto-backups/pg/pronto/16');
    expect(env).toContainEqual({ name: 'AWS_CONFIG_FILE', value: '/run/secrets/walg-aws' });
    expect(env).toContainEqual({ name: 'WALG_LIBSODIUM_KEY_PATH', value: '/run/secrets/walg-key' });
    expect(env.map((e: any) => e.name)).not.toContain('AWS_SECRET_ACCESS_KEY');
  });

  test('PgBouncer: ≥ 2 spread replicas with a PDB, Service on the catalog\'s port, pools derived from max_connections', () => {
    const d = named(on.manifests, 'Deployment', PGBOUNCER_WORKLOAD);
    const b = config.capabilities.database!.pgbouncer;
    expect(d.spec.replicas).toBe(b.replicas);
    expect(d.spec.template.spec.topologySpreadConstraints).toBeDefined();
    expect(named(on.manifests, 'PodDisruptionBudget', PGBOUNCER_WORKLOAD)).toBeDefined();
    expect(named(on.manifests, 'Service', DATA_STORES.postgres.host).spec.ports[0]).toMatchObject({ port: DATA_STORES.postgres.port });
    const container = d.spec.template.spec.containers[0];
    // Readiness: PgBouncer answers the protocol on its socket; liveness: its listener. Neither asks PostgreSQL.
    expect(container.readinessProbe.exec.command).toEqual(['pg_isready', '-q', '-h', '/var/run/pgbouncer', '-p', '6432', '-d', 'pgbouncer']);
    expect(container.livenessProbe.tcpSocket).toEqual({ port: 'pgbouncer' });
    expect(JSON.stringify(container.livenessProbe)).not.toMatch(/5432|postgres/);
    expect(container.lifecycle.preStop.exec.command).toEqual(['sleep', '10']);
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(b.appConnectionLifetimeSeconds);
    const ini = cm(PGBOUNCER_WORKLOAD)[PGBOUNCER_FILES.ini];
    const pools = dataTierOf(config).pools;
    const value = (key: string) => new RegExp(`^${key} = (.*)$`, 'm').exec(ini)?.[1];
    expect(value('pool_mode')).toBe('transaction');
    expect(Number(value('default_pool_size'))).toBe(pools.defaultPoolSize);
    expect(Number(value('reserve_pool_size'))).toBe(pools.reservePoolSize);
    expect(Number(value('max_db_connections'))).toBe(pools.maxDbConnections);
    expect(value('ignore_startup_parameters')).toBe('extra_float_digits,options');
    expect(value('server_reset_query')).toBe('DISCARD ALL');
    const p = config.capabilities.database!.postgres;
    const reserved = p.reservedConnections.superuser + p.reservedConnections.backup + p.reservedConnections.monitoring;
    expect(b.replicas * dataTierOf(config).pooledDatabases * Number(value('max_db_connections'))).toBeLessThanOrEqual(p.maxConnections - reserved);
    expect(dataTierOf(config).pooledDatabases).toBe(postgresUsers(config).length + 1);
  });

  test('Redis: a Deployment without persistence, a StatefulSet with it; ping with auth from the Vault file', () => {
    const r = named(on.manifests, 'Deployment', REDIS_WORKLOAD);
    expect(r.spec.template.spec.containers[0].readinessProbe.exec.command.join(' ')).toContain('redis-cli');
    expect(named(on.manifests, 'Service', REDIS_WORKLOAD).spec.ports[0].port).toBe(DATA_STORES.redis.port);
    const persistent = buildEnvironment(load(`${BASE}${section('    persistence: { size: 4Gi }\n')}`));
    expect(named(persistent.manifests, 'StatefulSet', REDIS_WORKLOAD).spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('4Gi');
    expect(cm(REDIS_WORKLOAD)['redis.conf']).toContain('include /run/secrets/redis-auth');
  });

  test('credentials come from Vault files only: the readers\' annotations name their KV paths; nothing in the output holds a value', () => {
    const ann = pod('StatefulSet', 'postgres').metadata.annotations;
    expect(ann['vault.hashicorp.com/role']).toBe('pronto-postgres');
    expect(ann['vault.hashicorp.com/agent-inject-secret-pg-superuser']).toBe(`secret/data/pronto/${dataTierOf(config).secrets.superuser}`);
    expect(ann['vault.hashicorp.com/agent-inject-secret-walg-aws']).toBe('secret/data/pronto/postgres/walg-s3-wal-archive');
    expect(pod('Deployment', PGBOUNCER_WORKLOAD).metadata.annotations['vault.hashicorp.com/role']).toBe('pronto-pgbouncer');
    const text = on.manifests.map((m) => stringify(m)).join('\n');
    expect(text).not.toMatch(/kind: Secret\b/);
    for (const c of on.manifests.flatMap((m: any) => m.spec?.template?.spec?.containers ?? [])) {
      for (const e of c.env ?? []) expect(e.name).not.toMatch(/PASSWORD|SECRET_ACCESS|TOKEN/);
    }
    expect(on.charts.files.map((f) => f.path)).toEqual(expect.arrayContaining(['vault/policies/pronto-postgres.hcl', 'vault/policies/pronto-pgbouncer.hcl', 'vault/policies/pronto-redis.hcl']));
    // PostgreSQL's archive credentials get their IAM policy (the backups capability, off here, writes its jobs').
    expect(on.charts.files.map((f) => f.path).filter((p) => p.startsWith('object-store/'))).toEqual(['object-store/walg-s3-wal-archive.json']);
  });

  test('nothing of PostgreSQL\'s pod depends on the apps: its files and Vault entries are the platform\'s own', () => {
    const sts = named(on.manifests, 'StatefulSet', 'postgres').spec.template;
    const text = JSON.stringify(sts) + JSON.stringify(cm('postgres'));
    for (const app of postgresUsers(config)) expect(text).not.toContain(app);
    expect(text).not.toMatch(/APP_ROLE_|agent-inject-secret-app-|heartbeat/);
    expect(dataTierOf(config).readers.find((r) => r.name === 'postgres')!.secrets.map((x) => x.path).filter((p) => !p.startsWith('postgres/'))).toEqual([]);
    // Its bootstrap: the platform's roles, pronto_roles with its password from its own Vault entry, the lookup in `postgres` only.
    const bootstrap = cm('postgres')[POSTGRES_FILES.roles];
    expect(bootstrap).toContain(`\\set roles_password \`cat /run/secrets/pronto-roles\``);
    expect(bootstrap).toMatch(new RegExp(`ALTER ROLE ${DATABASE_ROLES.roles} LOGIN CREATEROLE CREATEDB NOINHERIT NOSUPERUSER NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 2 PASSWORD :'roles_password';`));
    expect(bootstrap).toContain(`GRANT %I TO %I WITH ADMIN OPTION', r.rolname, '${DATABASE_ROLES.roles}'`);
    expect(bootstrap).not.toMatch(/\\connect/);
    expect(sts.metadata.annotations['vault.hashicorp.com/agent-inject-secret-pronto-roles']).toBe(`secret/data/pronto/${dataTierOf(config).secrets.roles}`);
  });

  test('the pg-roles CronJob: its own chart, applied after PostgreSQL; Forbid, a deadline shorter than its interval, history limits; restricted; psql as pronto_roles to the primary', () => {
    expect(on.charts.capabilities.map((c) => c.node.id)).toEqual(expect.arrayContaining(['postgres', 'database-roles']));
    const chart = on.charts.capabilities.find((c) => c.node.id === 'database-roles')!;
    expect(chart.node.dependencies.map((d) => d.node.id)).toContain('postgres');
    expect(chart.toJson().map((m: Manifest) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([`ConfigMap/${ROLES_JOB}`, `CronJob/${ROLES_JOB}`, `ServiceAccount/${ROLES_JOB}`]);
    const job = named(on.manifests, 'CronJob', ROLES_JOB);
    const roles = config.capabilities.database!.roles;
    expect(roles.schedule).toBe('*/5 * * * *');
    expect(job.spec).toMatchObject({ schedule: roles.schedule, concurrencyPolicy: 'Forbid', timeZone: 'Etc/UTC' });
    expect(job.spec.successfulJobsHistoryLimit).toBeGreaterThanOrEqual(1);
    expect(job.spec.failedJobsHistoryLimit).toBeGreaterThanOrEqual(1);
    const deadline = job.spec.jobTemplate.spec.activeDeadlineSeconds;
    expect(deadline).toBe(ROLES_JOB_DEADLINE_SECONDS);
    expect(deadline).toBeLessThan(cronCadence(parseCron(roles.schedule) as any).minGapSeconds);
    expect(job.spec.startingDeadlineSeconds).toBeLessThan(cronCadence(parseCron(roles.schedule) as any).minGapSeconds);
    const pod = job.spec.jobTemplate.spec.template;
    const container = pod.spec.containers[0];
    const image = config.capabilities.database!.postgres.image;
    expect(container.image).toBe(`${image.repository}:${image.tag}`);
    expect(container.resources.requests).toMatchObject({ cpu: roles.resources.requests.cpu, memory: roles.resources.requests.memory });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(pod.spec.automountServiceAccountToken ?? false).toBe(false);
    expect(container.command).toEqual(['sh', `/opt/pronto/roles/${ROLES_JOB_FILES.script}`]);
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ PGHOST: `${POSTGRES_SERVICE.name}.pronto.svc.cluster.local`, PGPORT: String(POSTGRES_SERVICE.port), PGUSER: DATABASE_ROLES.roles, PGDATABASE: 'postgres' });
    // Vault: pre-populate only (the Job can end), pronto_roles' password and each app's own entry.
    const ann = pod.metadata.annotations;
    expect(ann['vault.hashicorp.com/agent-pre-populate-only']).toBe('true');
    expect(ann['vault.hashicorp.com/agent-inject-secret-pronto-roles']).toBe(`secret/data/pronto/${dataTierOf(config).secrets.roles}`);
    for (const app of postgresUsers(config)) {
      expect(ann[`vault.hashicorp.com/agent-inject-secret-app-${app}`]).toBe(`secret/data/pronto/${app}/${DATA_STORES.postgres.secret.name}`);
      expect(ann[`vault.hashicorp.com/agent-inject-template-app-${app}`]).toContain('{{ .Data.data.username }}\n{{ .Data.data.password }}\n{{ .Data.data.database }}');
    }
    expect(ann['pronto.io/config-checksum']).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Its files: the script logs in from the Vault file, never a password in the ConfigMap.
    const files = cm(ROLES_JOB);
    expect(Object.keys(files).sort()).toEqual(Object.values(ROLES_JOB_FILES).sort());
    expect(files[ROLES_JOB_FILES.script]).toContain('PGPASSWORD=$(cat "$PRONTO_ROLES_LOGIN_FILE")');
    for (const app of postgresUsers(config)) expect(files[ROLES_JOB_FILES.sql]).toContain(`\\set app_password \`sed -n 2p /run/secrets/app-${app}\``);
    // PostgreSQL 16: the membership it needs to create a database for an app gives it no privilege of the app's.
    expect(files[ROLES_JOB_FILES.sql]).toContain("GRANT %I TO %I WITH INHERIT FALSE, SET TRUE', :'app_user', current_user");
    expect(on.charts.files.map((f) => f.path)).toContain(`vault/policies/pronto-${ROLES_JOB}.hcl`);
    expect(on.charts.graph.flows).toContainEqual(expect.objectContaining({
      from: expect.objectContaining({ name: ROLES_JOB }), to: expect.objectContaining({ name: 'postgres' }), ports: [{ port: POSTGRES_SERVICE.port, protocol: 'TCP' }] }));
    expect(on.charts.graph.flows.some((f) => f.from.name === ROLES_JOB && f.to.name === 'vault')).toBe(true);
  });

  test('PostgreSQL 15: pg-roles grants itself the app\'s role plainly (its NOINHERIT keeps it from the app\'s privileges)', () => {
    const v15 = load(`${BASE}${section().replace('tag: 16.4-walg3.0.9 }', 'tag: 15.8-walg3.0.9 }\n    majorVersion: 15')}`);
    const sql = dataTierOf(v15).rolesJobFiles[ROLES_JOB_FILES.sql];
    expect(sql).toContain("SELECT format('GRANT %I TO %I', :'app_user', current_user) WHERE NOT pg_has_role(:'app_user', 'MEMBER') \\gexec");
    expect(sql).not.toContain('SET TRUE');
    expect(sql).not.toContain('ADMIN OPTION');
  });

  test('flows: apps → PgBouncer (catalog), PgBouncer → PostgreSQL, PostgreSQL → the object store, all three running workloads', () => {
    const { graph } = on.charts;
    expect(graph.workloads.map((w) => w.name)).toEqual(expect.arrayContaining([PGBOUNCER_WORKLOAD, 'postgres', REDIS_WORKLOAD]));
    for (const app of postgresUsers(config)) expect(graph.flows.some((f) => f.from.name === app && f.to.name === PGBOUNCER_WORKLOAD)).toBe(true);
    expect(graph.flows.some((f) => f.from.name === PGBOUNCER_WORKLOAD && f.to.name === 'postgres' && f.ports[0].port === POSTGRES_SERVICE.port)).toBe(true);
    expect(graph.flows).toContainEqual(expect.objectContaining({ from: expect.objectContaining({ name: 'postgres' }),
      to: { kind: 'external', name: objectStoreHost(config.capabilities.database!.walg), blocks: [STORAGE] }, ports: [{ port: 443, protocol: 'TCP' }] }));
    expect(graph.flows.some((f) => f.from.name === 'postgres' && f.to.name === 'vault')).toBe(true);
  });

  test.each(ENVIRONMENTS)('on in the shipped %s: every object passes the gate and the capacity guard', (env) => {
    const shipped = environment(env);
    expect(shipped.capabilities.database).toBeDefined();
    const rendered = renderEnvironment(shipped);
    expect(rendered.findings).toEqual([]);
    expect(rendered.files.map((f) => f.name)).toEqual(expect.arrayContaining(['postgres.k8s.yaml', 'pgbouncer.k8s.yaml', 'redis.k8s.yaml']));
    // The data tier's own workloads are counted at peak by the guard that just passed.
    expect(workloadPeaks(rendered.manifests).filter((p) => /\/(postgres|pgbouncer|redis)$/.test(p.workload))).toHaveLength(3);
  });

  test('off (absent or false): the output is byte-identical to the output without it', () => {
    // Objects as JSON: equal text for equal objects, key order included, at a fraction of YAML's cost.
    const render = (text: string) => buildEnvironment(load(text)).manifests.map((m: Manifest) => JSON.stringify(m)).join('---\n');
    const without = render(BASE);
    expect(render(`${BASE}database: false\n`)).toBe(without);
    expect(without).not.toContain('pgbouncer.ini');
  });
});

describe('database config errors name file:line, field, expected and found', () => {
  test('pools over max_connections minus the reserved connections', () => {
    const text = `${BASE}${section().replace('    version: 1.25.2\n', '    version: 1.25.2\n    defaultPoolSize: 30\n')}`;
    const got = configProblems(() => buildEnvironment(load(text)));
    // The reserved connections: superuser, backup, monitoring and the pg-roles job, as defaulted.
    const reserved = Object.values(load(text).capabilities.database!.postgres.reservedConnections).reduce((a, b) => a + b, 0);
    expect(got).toContain(`${FILE}:${lineOf(text, 'defaultPoolSize: 30')}: database.pgbouncer.defaultPoolSize: expected the pools at full scale to fit in max_connections (100) minus the reserved connections (${reserved}) = ${100 - reserved}`);
    // Each service that uses PostgreSQL has its own database, and PgBouncer pools to `postgres` too.
    const databases = Object.values(CATALOG).filter((entry) => entry.dataStores.includes('postgres')).length + 1;
    expect(got).toMatch(new RegExp(`found 2 replicas × ${databases} databases × \\(default_pool_size 30 \\+ reserve_pool_size \\d+\\) = \\d+`));
  });

  test('max_connections too small for the replicas and databases', () => {
    const text = `${BASE}${section().replace('    walgVersion: 3.0.9\n', '    walgVersion: 3.0.9\n    maxConnections: 20\n')}`;
    const reserved = Object.values(load(text).capabilities.database!.postgres.reservedConnections).reduce((a, b) => a + b, 0);
    expect(configProblems(() => buildEnvironment(load(text)))).toContain(`${FILE}:${lineOf(text, 'maxConnections: 20')}: database.postgres.maxConnections: expected max_connections (20) minus the reserved connections (${reserved}) to leave at least 2`);
  });

  test.each([
    ['WAL-G older than 3.0.9', ['walgVersion: 3.0.9', 'walgVersion: 3.0.8'], 'walgVersion: 3.0.8', 'database.postgres.walgVersion: expected WAL-G 3.0.9 or later', 'found "3.0.8"'],
    ['an image tag that does not start with majorVersion', ['tag: 16.4-walg3.0.9', 'tag: 15.8-walg3.0.9'], 'tag: 15.8', 'database.postgres.image.tag: expected a tag starting with the major version (majorVersion: 16)', 'found "15.8-walg3.0.9"'],
    ['a PostgreSQL older than 15', ['walgVersion: 3.0.9', 'walgVersion: 3.0.9\n    majorVersion: 14'], 'majorVersion: 14', 'database.postgres.majorVersion: expected a value ≥ 15', 'found 14'],
    ['an S3 prefix that is not s3://bucket', ['s3Prefix: s3://pronto-backups/pg', 's3Prefix: pronto-backups/'], 's3Prefix:', 'database.walg.s3Prefix: expected s3://<bucket>[/<path>]', 'found "pronto-backups/"'],
    ['one PgBouncer replica', ['version: 1.25.2', 'version: 1.25.2\n    replicas: 1'], 'replicas: 1', 'database.pgbouncer.replicas: expected a value ≥ 2', 'found 1'],
    ['a PgBouncer older than 1.19', ['version: 1.25.2', 'version: 1.18.0'], 'version: 1.18.0',
      `database.pgbouncer.version: expected PgBouncer ${MIN_PGBOUNCER_VERSION} or later: the auth_query must run in the postgres database (auth_dbname, new in 1.19)`, 'found "1.18.0"'],
    ['a Redis with known remote code execution flaws (7.4.2)', ['tag: 7.4.10-alpine', 'tag: 7.4.2-alpine'], 'tag: 7.4.2-alpine',
      `database.redis.image.tag: expected Redis ${REDIS_PATCHED['7.4']} or later in the 7.4 line`, 'found "7.4.2-alpine"'],
    ['pg-roles runs closer together than its deadline', ['  redis:', '  roles: { schedule: "* * * * *" }\n  redis:'], 'roles: {',
      `database.roles.schedule: expected runs further apart than the job's deadline of ${ROLES_JOB_DEADLINE_SECONDS / 60} min`, 'found "* * * * *" (runs 1 min apart)'],
  ])('%s', (_name, [from, to], needle, message, found) => {
    const text = `${BASE}${section().replace(from, to)}`;
    const got = configProblems(() => load(text));
    expect(got).toContain(`${FILE}:${lineOf(text, needle)}: ${message}`);
    expect(got).toContain(found);
  });

  test('a missing S3 prefix', () => {
    const text = `${BASE}${section().replace('    s3Prefix: s3://pronto-backups/pg\n', '')}`;
    const got = configProblems(() => load(text));
    expect(got).toContain(`${FILE}:${lineOf(text, '  walg:')}: database.walg.s3Prefix: expected the WAL-G base prefix such as s3://pronto-backups/postgres`);
  });

  test('the object store\'s blocks reach the network policies from walg.storageCidrs; an externalHosts entry for its host overrides them', () => {
    const egressTo = (text: string) => {
      const policy = named(buildEnvironment(load(text)).manifests, 'NetworkPolicy', 'postgres');
      return policy.spec.egress.filter((r: any) => r.ports.some((p: any) => p.port === 443)).flatMap((r: any) => r.to.map((t: any) => t.ipBlock?.cidr));
    };
    const host = objectStoreHost(load(`${BASE}${section()}`).capabilities.database!.walg);
    const stripe = '    api.stripe.com: [0.0.0.0/0]\n';
    expect(egressTo(`${BASE}networkPolicies:\n  externalHosts:\n${stripe}${section()}`)).toEqual([STORAGE]);
    expect(egressTo(`${BASE}networkPolicies:\n  externalHosts:\n${stripe}    ${host}: [10.8.0.0/16]\n${section()}`)).toEqual(['10.8.0.0/16']);
  });
});
