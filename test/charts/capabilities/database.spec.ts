/**
 * The database capability: PostgreSQL, PgBouncer, the exporters, Redis, their Vault readers
 * and flows, in every shipped environment (gate and capacity guard), on and off, and the
 * config errors the section and its cross-checks raise.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import {
  PGBOUNCER_WORKLOAD, POSTGRES_SERVICE, REDIS_KEY_PREFIX_ENV, REDIS_WORKLOAD, ROLES_JOB, postgresUsers, redisUsers,
} from '../../../charts/capabilities/database';
import { DEFAULT_CLIENT_CIDRS, MIN_PGBOUNCER_VERSION, REDIS_PATCHED, ROLES_JOB_DEADLINE_SECONDS } from '../../../config/sections/database';
import { cronCadence, parseCron } from '../../../config/sections/cron';
import { objectStoreHost } from '../../../lib/database';
import { CATALOG, DATA_STORES, REDIS_HEALTHCHECK_USER } from '../../../config/catalog';
import { parseEnvironment } from '../../../config/load';
import { workloadPeaks } from '../../../lib/namespace/capacity';
import { ANNOTATION_CONFIG_CHECKSUM, Manifest, clusterConfigMapAnnotation } from '../../../lib/core';
import {
  DATABASE_ROLES, DataTier, EXPORTER_LOGIN, PGBOUNCER_FILES, POSTGRES_FILES, REDIS_APPS_ACL_FILE, REDIS_APP_COMMANDS, REDIS_FILES, REDIS_TLS_RELOAD_USER, redisStartScript, RESTORE_COMMAND_WRAPPER, ROLES_JOB_FILES,
} from '../../../lib/database';
import { CA_BUNDLE_DIR } from '../../../lib/tls';
import { runGate } from '../../../lib/validation';
import { VALID_ENV } from '../../fixtures/environments';
import { renderVaultTemplate } from '../../tools/vault-template';
import { ENVIRONMENTS, buildEnvironment, configProblems, dataTierOf, environment, named, renderShipped } from '../../helpers';

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
/** The section with TLS on (database.tls), from the issuer and CA bundle the shipped environments name. */
const TLS = '  tls:\n    issuer: { kind: ClusterIssuer, name: internal-ca }\n    caBundle: { configMap: internal-ca }\n';
const withTls = (extra = '') => section(extra).replace('database:\n', `database:\n${TLS}`);
/** The non-comment lines of a rendered hba file. */
const hbaLines = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
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

  test('Redis: a Deployment without persistence, a StatefulSet with it; the start script, readiness as the PING-only user', () => {
    const r = named(on.manifests, 'Deployment', REDIS_WORKLOAD);
    const container = r.spec.template.spec.containers[0];
    expect(container.command).toEqual(['sh', `/etc/redis/${REDIS_FILES.start}`, `/etc/redis/${REDIS_FILES.conf}`]);
    expect(cm(REDIS_WORKLOAD)[REDIS_FILES.start]).toBe(redisStartScript());
    expect(container.readinessProbe.exec.command.join(' ')).toContain(`redis-cli --user ${REDIS_HEALTHCHECK_USER} -p ${DATA_STORES.redis.port} ping`);
    expect(container.livenessProbe.tcpSocket).toEqual({ port: 'redis' });
    expect(named(on.manifests, 'Service', REDIS_WORKLOAD).spec.ports[0].port).toBe(DATA_STORES.redis.port);
    const persistent = buildEnvironment(load(`${BASE}${section('    persistence: { size: 4Gi }\n')}`));
    expect(named(persistent.manifests, 'StatefulSet', REDIS_WORKLOAD).spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('4Gi');
  });

  test('Redis: one ACL user per app that uses it, from the app\'s own Vault entry as a SHA-256; the default user off; the Vault policy exactly those entries', () => {
    const apps = redisUsers(config);
    expect(apps).toEqual(config.services.filter((s) => s.catalog.dataStores.includes('redis')).map((s) => s.name));
    const conf = cm(REDIS_WORKLOAD)[REDIS_FILES.conf];
    expect(conf).not.toContain('requirepass');
    expect(conf).toMatch(/^user default reset$/m);
    expect(conf.split('\n').filter((l) => l.startsWith('include '))).toEqual([`acl-${REDIS_HEALTHCHECK_USER}`, REDIS_APPS_ACL_FILE].map((f) => `include /run/secrets/${f}`));
    const ann = pod('Deployment', REDIS_WORKLOAD).metadata.annotations;
    // Every app's line comes from one template over the apps' entries: the pod's annotations do not grow with the apps.
    const entryOf = (app: string) => `secret/data/pronto/${app}/${DATA_STORES.redis.secret.name}`;
    expect(ann[`vault.hashicorp.com/agent-inject-secret-${REDIS_APPS_ACL_FILE}`]).toBe(entryOf(apps[0]));
    const template = ann[`vault.hashicorp.com/agent-inject-template-${REDIS_APPS_ACL_FILE}`];
    expect(template).toBe(`{{- range $name := split "," "${apps.join(',')}" }}{{ with secret (printf "${entryOf('%s')}" $name) }}`
      + `user {{ $name }} reset on #{{ .Data.data.password | sha256Hex }} ~{{ $name }}:* &{{ $name }}:* ${REDIS_APP_COMMANDS.join(' ')}\n{{ end }}{{- end }}`);
    const kv = Object.fromEntries(apps.map((app) => [entryOf(app), { password: `pw-${app}` }]));
    expect(renderVaultTemplate(template, kv)).toBe(apps.map((app) =>
      `user ${app} reset on #${createHash('sha256').update(`pw-${app}`).digest('hex')} ~${app}:* &${app}:* ${REDIS_APP_COMMANDS.join(' ')}\n`).join(''));
    for (const app of apps) {
      // The app: its own user in its URL, its prefix in env.
      const appPod = on.manifests.find((m: any) => m.kind === 'Deployment' && m.spec.template.spec.containers[0].name === app) as any;
      expect(appPod.spec.template.metadata.annotations['vault.hashicorp.com/agent-inject-template-redis']).toContain(`redis://${app}:{{ .Data.data.password | urlquery }}@`);
      expect(appPod.spec.template.spec.containers[0].env).toContainEqual({ name: REDIS_KEY_PREFIX_ENV, value: `${app}:` });
    }
    expect(ann[`vault.hashicorp.com/agent-inject-template-acl-${REDIS_HEALTHCHECK_USER}`]).toContain(`user ${REDIS_HEALTHCHECK_USER} reset on #{{ .Data.data.password | sha256Hex }} +ping{{- end }}`);
    // The apps that use no Redis get no prefix.
    for (const other of config.services.filter((s) => !apps.includes(s.name))) {
      const d = on.manifests.find((m: any) => m.kind === 'Deployment' && m.spec.template.spec.containers[0].name === other.name) as any;
      expect(d.spec.template.spec.containers[0].env.map((e: any) => e.name)).not.toContain(REDIS_KEY_PREFIX_ENV);
    }
    const props = dataTierOf(config).props;
    expect(() => new DataTier({ ...props, redisUsers: { ...props.redisUsers, apps: [...apps, 'default'] } }))
      .toThrow(`DataTier: redisUsers.apps: expected no app named as Redis's own users (default, ${REDIS_HEALTHCHECK_USER}, ${REDIS_TLS_RELOAD_USER}), found "default"`);
    expect(() => new DataTier({ ...props, redisUsers: { ...props.redisUsers, apps: [REDIS_TLS_RELOAD_USER] } })).toThrow(`found "${REDIS_TLS_RELOAD_USER}"`);
    expect(() => new DataTier({ ...props, redisUsers: { ...props.redisUsers, apps: [...apps, apps[0]] } }))
      .toThrow(`DataTier: redisUsers.apps: expected each app once (Redis refuses a user defined twice), found "${apps[0]}" twice`);
    const policy = on.charts.files.find((f) => f.path === 'vault/policies/pronto-redis.hcl')!.text;
    expect([...policy.matchAll(/^path "([^"]+)"/gm)].map((m) => m[1])).toEqual(
      [...[...apps.map((a) => `secret/data/pronto/${a}/redis`), `secret/data/pronto/redis/${REDIS_HEALTHCHECK_USER}`].sort(), 'auth/token/lookup-self', 'auth/token/renew-self']);
  });

  test('Redis TLS (database.redis.tls): a Certificate for its Service\'s names, TLS only on the port, the probe and the apps verify it against the CA bundle', () => {
    const tlsSection = '    tls:\n      issuer: { kind: ClusterIssuer, name: internal-ca }\n      caBundle: { configMap: internal-ca, key: ca.crt }\n';
    const tls = buildEnvironment(load(`${BASE}${section(tlsSection)}`));
    const certificate = named(tls.manifests, 'Certificate', `${REDIS_WORKLOAD}-tls`);
    expect(certificate.spec).toMatchObject({ secretName: `${REDIS_WORKLOAD}-tls`, issuerRef: { kind: 'ClusterIssuer', name: 'internal-ca', group: 'cert-manager.io' } });
    expect(certificate.spec.dnsNames).toContain(DATA_STORES.redis.host);
    const conf = named(tls.manifests, 'ConfigMap', REDIS_WORKLOAD).data[REDIS_FILES.conf];
    expect(conf).toMatch(/^port 0$/m);
    expect(conf).toMatch(new RegExp(`^tls-port ${DATA_STORES.redis.port}$`, 'm'));
    expect(conf).toMatch(/^tls-cert-file \/etc\/pronto\/tls\/tls\.crt$/m);
    expect(conf).toMatch(/^tls-auth-clients no$/m);
    const redisPod = named(tls.manifests, 'Deployment', REDIS_WORKLOAD).spec.template;
    const container = redisPod.spec.containers[0];
    expect(container.readinessProbe.exec.command[2]).toContain('redis-cli --tls --cacert /etc/pronto/ca/internal-ca/ca.crt --user healthcheck');
    expect(redisPod.spec.volumes).toContainEqual(expect.objectContaining({ name: 'tls', secret: expect.objectContaining({ secretName: `${REDIS_WORKLOAD}-tls` }) }));
    expect(named(tls.manifests, 'ConfigMap', REDIS_WORKLOAD).data[REDIS_FILES.start]).toContain('--user pronto_tls_reload reset on "#$reload_hash" "+config|set"');
    // The Service and the network policies keep the port: nothing else changes for them.
    expect(named(tls.manifests, 'Service', REDIS_WORKLOAD).spec.ports[0].port).toBe(DATA_STORES.redis.port);
    for (const app of redisUsers(config)) {
      const d = tls.manifests.find((m: any) => m.kind === 'Deployment' && m.spec.template.spec.containers[0].name === app) as any;
      expect(d.spec.template.metadata.annotations['vault.hashicorp.com/agent-inject-template-redis']).toContain(
        `rediss://${app}:{{ .Data.data.password | urlquery }}@${DATA_STORES.redis.host}:${DATA_STORES.redis.port}/0?ssl_cert_reqs=required&ssl_check_hostname=true&ssl_ca_certs=/etc/pronto/ca/internal-ca/ca.crt`);
      expect(d.spec.template.spec.containers[0].volumeMounts).toContainEqual({ name: 'ca-internal-ca', mountPath: '/etc/pronto/ca/internal-ca', readOnly: true });
    }
    // Off (absent, or false): plaintext, no Certificate, the same output.
    const off = (extra: string) => buildEnvironment(load(`${BASE}${section(extra)}`)).manifests.map((m: Manifest) => JSON.stringify(m)).join('\n');
    expect(off('    tls: false\n')).toBe(off(''));
    expect(off('')).not.toContain('cert-manager.io');
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
    const rendered = renderShipped(env);
    expect(rendered.findings).toEqual([]);
    expect(rendered.files.map((f) => f.name)).toEqual(expect.arrayContaining(['postgres.k8s.yaml', 'pgbouncer.k8s.yaml', 'redis.k8s.yaml']));
    // The data tier's own workloads are counted at peak by the guard that just passed.
    expect(workloadPeaks(rendered.manifests).filter((p) => /\/(postgres|pgbouncer|redis)$/.test(p.workload))).toHaveLength(3);
  });

  test('PostgreSQL\'s pg_hba.conf trusts no one: the superuser by password on its socket and never over the network, the exporter from the pod only, the rest from clientCidrs only', () => {
    const lines = hbaLines(cm('postgres')[POSTGRES_FILES.hba]);
    expect(lines.filter((l) => /\btrust$/.test(l))).toEqual([]);
    expect(lines.slice(0, 4)).toEqual(['local all postgres scram-sha-256', 'local all all reject', 'host all postgres 0.0.0.0/0 reject', 'host all postgres ::/0 reject']);
    expect(lines).toContain(`host all ${DATABASE_ROLES.monitoring} 127.0.0.1/32 scram-sha-256`);
    // Every rule that lets a login in over TCP names a block of clientCidrs (the RFC 1918 blocks by default), the exporter's loopback apart.
    const cidrs = config.capabilities.database!.clientCidrs;
    expect(cidrs).toEqual([...DEFAULT_CLIENT_CIDRS]);
    const allowed = lines.filter((l) => /^host/.test(l) && l.endsWith('scram-sha-256')).map((l) => l.split(' ')[3]);
    expect(allowed.filter((a) => a !== '127.0.0.1/32').sort()).toEqual([...cidrs, ...cidrs].sort());
    // initdb's own hba file (unused: hba_file points at the ConfigMap) trusts no one either.
    expect(cm('postgres')[POSTGRES_FILES.start]).toContain('--auth-local=scram-sha-256 --auth-host=scram-sha-256');
    const narrow = load(`${BASE}${section().replace('database:\n', 'database:\n  clientCidrs: [10.244.0.0/16]\n')}`);
    expect(hbaLines(dataTierOf(narrow).postgresFiles[POSTGRES_FILES.hba]).filter((l) => /^host.* scram-sha-256$/.test(l) && !l.includes('127.0.0.1')))
      .toEqual(['host replication walg_backup 10.244.0.0/16 scram-sha-256', 'host all all 10.244.0.0/16 scram-sha-256']);
    expect(hbaLines(dataTierOf(narrow).pgbouncerFiles[PGBOUNCER_FILES.hba]).pop()).toBe('host all all 10.244.0.0/16 scram-sha-256');
  });

  test('PgBouncer\'s hba file: SCRAM only; the console for the admin and stats users from the pod itself only, for nobody else', () => {
    const lines = hbaLines(cm(PGBOUNCER_WORKLOAD)[PGBOUNCER_FILES.hba]);
    expect(lines.filter((l) => !/ (scram-sha-256|reject)$/.test(l))).toEqual([]);
    const ini = cm(PGBOUNCER_WORKLOAD)[PGBOUNCER_FILES.ini];
    const console = [/^admin_users = (.*)$/m.exec(ini)![1], /^stats_users = (.*)$/m.exec(ini)![1]].join(',');
    expect(lines.slice(0, 3)).toEqual([`host pgbouncer ${console} 127.0.0.1/32 scram-sha-256`, `host all ${console} 0.0.0.0/0 reject`, 'host pgbouncer all 0.0.0.0/0 reject']);
    expect(lines.slice(3)).toEqual(config.capabilities.database!.clientCidrs.map((c) => `host all all ${c} scram-sha-256`));
    expect(ini).toMatch(/^client_tls_sslmode = disable$/m);
    expect(ini).toMatch(/^server_tls_sslmode = disable$/m);
  });

  test('the exporters see neither the socket nor the Vault files: each logs in from 127.0.0.1 with the password its main container hands it in their shared volume', () => {
    for (const [kind, name, main, exporter] of [['StatefulSet', 'postgres', 'postgres', 'postgres-exporter'], ['Deployment', PGBOUNCER_WORKLOAD, 'pgbouncer', 'pgbouncer-exporter']]) {
      const template = pod(kind, name);
      expect(template.metadata.annotations['vault.hashicorp.com/agent-inject-containers']).toBe(main);
      const sidecar = template.spec.containers.find((c: any) => c.name === exporter);
      expect(sidecar.volumeMounts).toEqual([{ name: EXPORTER_LOGIN.volume, mountPath: EXPORTER_LOGIN.dir, readOnly: true }]);
      expect(sidecar.env).toContainEqual({ name: 'PGPASSFILE', value: `${EXPORTER_LOGIN.dir}/${EXPORTER_LOGIN.file}` });
      expect(JSON.stringify([sidecar.env, sidecar.args])).toMatch(/@127\.0\.0\.1:\d+\/\w+\?sslmode=disable/);
      expect(template.spec.containers.find((c: any) => c.name === main).volumeMounts).toContainEqual({ name: EXPORTER_LOGIN.volume, mountPath: EXPORTER_LOGIN.dir });
      expect(template.spec.volumes).toContainEqual({ name: EXPORTER_LOGIN.volume, emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } });
    }
    expect(cm('postgres')[POSTGRES_FILES.start]).toContain(`printf '127.0.0.1:${POSTGRES_SERVICE.port}:*:${DATABASE_ROLES.monitoring}:%s\\n'`);
    expect(cm(PGBOUNCER_WORKLOAD)[PGBOUNCER_FILES.start]).toContain(`printf '127.0.0.1:${DATA_STORES.postgres.port}:*:${DATABASE_ROLES.pgbouncerStats}:%s\\n'`);
    expect(cm(PGBOUNCER_WORKLOAD)[PGBOUNCER_FILES.start]).toMatch(/\nexec pgbouncer \/etc\/pgbouncer\/pgbouncer.ini\n$/);
    // Their passwords: the exporter's own Vault entry (read by postgres only), the stats user's field of PgBouncer's entry.
    const readers = dataTierOf(config).readers;
    const paths = (name: string) => readers.find((r) => r.name === name)!.secrets.map((x) => `${x.path} ${x.file}`);
    expect(paths('postgres')).toContain(`${dataTierOf(config).secrets.exporter} postgres-exporter`);
    expect(paths(PGBOUNCER_WORKLOAD)).toEqual([`${dataTierOf(config).secrets.pgbouncer} pgbouncer-users`, `${dataTierOf(config).secrets.pgbouncer} pgbouncer-stats`]);
    expect(on.charts.files.find((f) => f.path === 'vault/policies/pronto-postgres.hcl')!.text).toContain(`path "secret/data/pronto/${dataTierOf(config).secrets.exporter}"`);
  });

  test('off (absent or false): the output is byte-identical to the output without it', () => {
    // Objects as JSON: equal text for equal objects, key order included, at a fraction of YAML's cost.
    const render = (text: string) => buildEnvironment(load(text)).manifests.map((m: Manifest) => JSON.stringify(m)).join('---\n');
    const without = render(BASE);
    expect(render(`${BASE}database: false\n`)).toBe(without);
    expect(without).not.toContain('pgbouncer.ini');
  });
});

describe('TLS for app → PgBouncer → PostgreSQL (database.tls)', () => {
  const config = load(`${BASE}backups:\n  restoreTest: { database: orders }\n${withTls()}`);
  const { manifests, charts } = buildEnvironment(config);
  const cm = (name: string) => named(manifests, 'ConfigMap', name).data as Record<string, string>;
  const podOf = (m: any) => m.spec.jobTemplate?.spec.template ?? m.spec.template;
  const envOf = (m: any) => Object.fromEntries(podOf(m).spec.containers[0].env.map((e: any) => [e.name, e.value]));
  const ca = `${CA_BUNDLE_DIR}/internal-ca/ca.crt`;
  const dnsNames = (service: string) => named(manifests, 'Certificate', `${service}-tls`).spec.dnsNames as string[];

  test('a cert-manager Certificate per server, from the issuer, naming every host its clients dial; mounted where the servers read it', () => {
    const ini = cm(PGBOUNCER_WORKLOAD)[PGBOUNCER_FILES.ini];
    // The hosts clients dial: the apps' DATABASE_URL (the catalog's data store), PgBouncer's [databases], the jobs' PGHOST.
    const pooler = named(manifests, 'Certificate', `${PGBOUNCER_WORKLOAD}-tls`);
    expect(pooler.spec.issuerRef).toEqual({ kind: 'ClusterIssuer', name: 'internal-ca', group: 'cert-manager.io' });
    expect(dnsNames(PGBOUNCER_WORKLOAD)).toContain(DATA_STORES.postgres.host);
    expect(dnsNames(POSTGRES_SERVICE.name)).toContain(/^\* = host=(\S+) /m.exec(ini)![1]);
    const jobs = manifests.filter((m: any) => m.kind === 'CronJob' && envOf(m).PGHOST);
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) expect([job.metadata.name, [...dnsNames(POSTGRES_SERVICE.name), ...dnsNames(PGBOUNCER_WORKLOAD)]]).toEqual([job.metadata.name, expect.arrayContaining([envOf(job).PGHOST])]);
    expect(cm('postgres')[POSTGRES_FILES.conf]).toMatch(/^ssl = on\nssl_cert_file = '\/etc\/pronto\/tls\/tls.crt'\nssl_key_file = '\/etc\/pronto\/tls\/tls.key'\nssl_min_protocol_version = 'TLSv1.2'$/m);
    for (const [kind, name] of [['StatefulSet', 'postgres'], ['Deployment', PGBOUNCER_WORKLOAD]]) {
      const spec = named(manifests, kind, name).spec.template.spec;
      expect(spec.volumes).toContainEqual({ name: 'tls', secret: expect.objectContaining({ secretName: `${name}-tls`, defaultMode: 0o440 }) });
      expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'tls', mountPath: '/etc/pronto/tls', readOnly: true });
    }
  });

  test('TLS or nothing: hostssl from the pod network and hostnossl refused in both hba files; PgBouncer requires TLS of clients and verifies PostgreSQL (verify-full)', () => {
    const pg = hbaLines(cm('postgres')[POSTGRES_FILES.hba]);
    const bouncer = hbaLines(cm(PGBOUNCER_WORKLOAD)[PGBOUNCER_FILES.hba]);
    for (const lines of [pg, bouncer]) {
      expect(lines.filter((l) => l.endsWith('scram-sha-256') && !l.startsWith('local')).every((l) => l.startsWith('hostssl '))).toBe(true);
      const plain = lines.findIndex((l) => l === 'hostnossl all all 0.0.0.0/0 reject');
      expect(plain).toBeGreaterThanOrEqual(0);
      expect(plain).toBeLessThan(lines.findIndex((l) => l.startsWith('hostssl ')));
    }
    const ini = cm(PGBOUNCER_WORKLOAD)[PGBOUNCER_FILES.ini];
    expect(ini).toContain(['client_tls_sslmode = require', 'client_tls_cert_file = /etc/pronto/tls/tls.crt', 'client_tls_key_file = /etc/pronto/tls/tls.key',
      'client_tls_protocols = secure', 'server_tls_sslmode = verify-full', `server_tls_ca_file = ${ca}`, 'server_tls_protocols = secure'].join('\n'));
    // The exporters on the loopback: TLS without a name to verify.
    expect(JSON.stringify(named(manifests, 'Deployment', PGBOUNCER_WORKLOAD).spec.template.spec.containers)).toContain('/pgbouncer?sslmode=require');
    // Both servers reload renewed files.
    for (const start of [cm('postgres')[POSTGRES_FILES.start], cm(PGBOUNCER_WORKLOAD)[PGBOUNCER_FILES.start]]) expect(start).toContain('"/etc/pronto/tls/tls.crt" "/etc/pronto/tls/tls.key" 2>/dev/null | cksum');
  });

  test('every client verifies it: the CA bundle in exactly the pods that connect, the apps\' DATABASE_URL and the jobs\' libpq settings verify-full', () => {
    const users = postgresUsers(config);
    const deployments = manifests.filter((m: any) => m.kind === 'Deployment');
    for (const svc of config.services) {
      // Every slot of a blue-green service alike.
      const templates = deployments.filter((d: any) => d.metadata.labels['app.kubernetes.io/name'] === svc.name).map((d: any) => d.spec.template);
      expect(templates.length).toBeGreaterThan(0);
      for (const template of templates) {
      const mounts = template.spec.containers[0].volumeMounts ?? [];
      const db = template.metadata.annotations['vault.hashicorp.com/agent-inject-template-db'];
      expect([svc.name, mounts.some((m: any) => m.mountPath === `${CA_BUNDLE_DIR}/internal-ca`)]).toEqual([svc.name, users.includes(svc.name)]);
      if (users.includes(svc.name)) {
        expect(db).toContain(`@${DATA_STORES.postgres.host}:${DATA_STORES.postgres.port}/{{ .Data.data.database }}?sslmode=verify-full&sslrootcert=${ca}{{- end }}`);
        expect(template.metadata.annotations[clusterConfigMapAnnotation('internal-ca')]).toBeTruthy();
        expect(template.spec.volumes).toContainEqual({ name: 'ca-internal-ca', configMap: { name: 'internal-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 0o444 } });
      }
      }
    }
    // The jobs that connect: libpq's (and WAL-G's pgx) settings, the CA mounted; PgBouncer verifies PostgreSQL with the same bundle.
    for (const m of [...manifests.filter((o: any) => o.kind === 'CronJob' && envOf(o).PGHOST), named(manifests, 'Deployment', PGBOUNCER_WORKLOAD)]) {
      const spec = podOf(m).spec;
      expect([m.metadata.name, spec.containers[0].volumeMounts]).toEqual([m.metadata.name, expect.arrayContaining([{ name: 'ca-internal-ca', mountPath: `${CA_BUNDLE_DIR}/internal-ca`, readOnly: true }])]);
      if (m.kind === 'CronJob') expect(envOf(m)).toMatchObject({ PGSSLMODE: 'verify-full', PGSSLROOTCERT: ca });
    }
    // Nothing else changes: the same flows, the same Vault paths, every object passes the gate (Certificates against their CRD).
    const plain = buildEnvironment(load(`${BASE}backups:\n  restoreTest: { database: orders }\n${section()}`));
    expect(charts.graph.flows).toEqual(plain.charts.graph.flows);
    expect(charts.files.map((f) => f.path)).toEqual(plain.charts.files.map((f) => f.path));
    expect(charts.files.filter((f) => f.path.endsWith('.hcl')).map((f) => f.text)).toEqual(plain.charts.files.filter((f) => f.path.endsWith('.hcl')).map((f) => f.text));
    expect(runGate(manifests).findings).toEqual([]);
  });

  test('the start scripts and the roles job\'s scripts pass shellcheck, TLS reload loop and exporter hand-off included (skipped loudly without shellcheck)', () => {
    if (spawnSync('shellcheck', ['--version']).status !== 0) {
      console.warn('\n!!! SKIPPED: shellcheck of the data tier\'s scripts: shellcheck is missing (Debian package shellcheck) !!!\n');
      return;
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'pronto-db-scripts-'));
    try {
      const scripts = { 'postgres-start.sh': cm('postgres')[POSTGRES_FILES.start], 'pgbouncer-start.sh': cm(PGBOUNCER_WORKLOAD)[PGBOUNCER_FILES.start],
        'restore-wal.sh': cm('postgres')[POSTGRES_FILES.restore], 'pg-roles.sh': cm(ROLES_JOB)[ROLES_JOB_FILES.script], 'check-login.sh': cm(ROLES_JOB)[ROLES_JOB_FILES.check] };
      for (const [name, text] of Object.entries(scripts)) writeFileSync(path.join(dir, name), text);
      const r = spawnSync('shellcheck', ['-s', 'sh', ...Object.keys(scripts).map((n) => path.join(dir, n))], { encoding: 'utf8' });
      expect(r.stdout).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('on in the shipped production and staging environments, off (plaintext) in dev; Argo CD applies the Certificates before the pods that mount them', () => {
    expect(ENVIRONMENTS.map((env) => [env, environment(env).tier, Boolean(environment(env).capabilities.database?.tls)]))
      .toEqual(ENVIRONMENTS.map((env) => [env, environment(env).tier, env !== 'dev']));
    const shipped = buildEnvironment(environment('prod')).manifests;
    const wave = (kind: string, name: string) => Number(named(shipped, kind, name).metadata.annotations['argocd.argoproj.io/sync-wave']);
    // Argo CD's health check of a Certificate waits for Ready: the Secret is there when the pods start.
    expect(wave('Certificate', `${PGBOUNCER_WORKLOAD}-tls`)).toBeLessThan(wave('Deployment', PGBOUNCER_WORKLOAD));
    expect(wave('Certificate', 'postgres-tls')).toBeLessThan(wave('StatefulSet', 'postgres'));
  });
});

describe('database config errors name file:line, field, expected and found', () => {
  test('a production-tier environment without database.tls; false states plaintext on purpose', () => {
    // Redis's own TLS (database.redis.tls) is stated, so only database.tls is missing.
    const prod = (text: string) => text.replace('tier: staging', 'tier: production').replace(/(\n  redis:\n)/, '$1    tls: false\n');
    const text = prod(`${BASE}${section()}`);
    expect(configProblems(() => buildEnvironment(load(text)))).toContain(
      `${FILE}:${lineOf(text, 'database:')}: database.tls: expected the TLS of app → PgBouncer → PostgreSQL in a production-tier environment`);
    expect(configProblems(() => buildEnvironment(load(text)))).toContain('found none');
    const plaintext = prod(`${BASE}${section().replace('database:\n', 'database:\n  tls: false\n')}`);
    expect(() => buildEnvironment(load(plaintext))).not.toThrow();
    expect(() => buildEnvironment(load(prod(`${BASE}${withTls()}`)))).not.toThrow();
  });

  test.each([
    ['every address as the pod network', 'clientCidrs: [0.0.0.0/0]', 'database.clientCidrs.0: expected the pod network\'s block, not every address (0.0.0.0/0)'],
    ['no address block', 'clientCidrs: []', 'database.clientCidrs: expected at least one address block'],
    ['a block with host bits', 'clientCidrs: [10.244.0.1/16]', 'database.clientCidrs.0:'],
    ['an issuer kind cert-manager has not', 'tls: { issuer: { kind: CA, name: x }, caBundle: { configMap: internal-ca } }', 'database.tls.issuer.kind: expected ClusterIssuer or Issuer'],
    ['a CA bundle that is no ConfigMap name', 'tls: { issuer: { name: x }, caBundle: { configMap: Internal_CA } }', 'database.tls.caBundle.configMap: expected a ConfigMap name: a DNS label'],
  ])('%s', (_name, line, message) => {
    const text = `${BASE}${section().replace('database:\n', `database:\n  ${line}\n`)}`;
    expect(configProblems(() => load(text))).toContain(`${FILE}:${lineOf(text, line.split(':')[0] + ':')}: ${message}`);
  });

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

  test('Redis without tls in a production-tier environment; tls: false states plaintext on purpose', () => {
    const production = (extra: string) => `${BASE.replace(/^tier: \w+$/m, 'tier: production')}${section(extra)}`;
    const problems = (text: string) => {
      try {
        buildEnvironment(load(text));
        return '';
      } catch (err) {
        return configProblems(() => { throw err; });
      }
    };
    const text = production('');
    expect(problems(text)).toContain(`${FILE}:${lineOf(text, '  redis:')}: database.redis.tls: expected the TLS of app → Redis in a production-tier environment: ` +
      '{ issuer: { kind, name }, caBundle: { configMap, key } } (or false to state plaintext on purpose), found none');
    expect(problems(production('    tls: false\n'))).not.toContain('database.redis.tls');
    const bad = production('    tls: { issuer: { name: Internal_CA }, caBundle: { configMap: internal-ca } }\n');
    expect(problems(bad)).toContain(`${FILE}:${lineOf(bad, 'tls: {')}: database.redis.tls`);
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
