/**
 * The synthesized pgbouncer.ini, its hba file and start.sh, PostgreSQL's pg_hba.conf, TLS
 * settings and platform bootstrap, and the pg-roles job in real programs: Debian's PgBouncer
 * (run by the synthesized start.sh) in front of Debian's PostgreSQL with the synthesized
 * (small) max_connections, the roles made as a cluster makes them (the bootstrap as the
 * superuser, then the job as pronto_roles over TCP: roles-harness.ts), TLS on both hops with
 * certificates of a throw-away CA (test-certs.ts) for the names the synthesized Certificates
 * list. Only paths, hosts and ports are rewritten (a client dials 127.0.0.1 through
 * PGHOSTADDR under the synthesized host name, which verify-full checks; PgBouncer dials
 * PostgreSQL at 127.0.0.1, so that one certificate also names 127.0.0.1), and the settings of
 * VERSION_GATED_SETTINGS newer than the installed PgBouncer are dropped, nothing else.
 *
 * The pod network is 127.0.0.0/30 here (database.clientCidrs): 127.0.0.1 is "the pod itself"
 * (the exporters, kubectl exec), 127.0.0.2 "another pod", 127.0.0.9 "outside the pod network";
 * a TCP relay bound to the latter two (relayFrom) puts a client there.
 *
 * The config requires PgBouncer ≥ 1.19 (auth_dbname: the auth query runs in `postgres`, the
 * only database with the lookup function), and Debian ships 1.18. For that binary only, the
 * suite does what auth_dbname makes unnecessary: it installs the bootstrap's own lookup
 * function (renderAuthLookup) in each app database, as the superuser. Everything else is
 * the synthesized configuration; with PgBouncer ≥ 1.19 installed, nothing is added.
 *
 * 200 concurrent clients run transactions through PgBouncer and all succeed, while
 * PostgreSQL never sees more server connections than the pools allow; a wrong password is
 * refused; the exporter's stats user gets in from the pod's own address only; a client
 * logged in before a pg-roles run keeps getting server connections after it. With the
 * backups' heartbeat on, the pg-roles job creates the heartbeat's login, and the
 * synthesized heartbeat job (its script, SQL and env) writes its row through PgBouncer,
 * twice, with no right beyond its schema in the restore test's database.
 */
import { spawn, spawnSync } from 'child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'fs';
import { AddressInfo, connect, createServer } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { BACKUP_JOBS } from '../../charts/capabilities/backups';
import { postgresUsers } from '../../charts/capabilities/database';
import { parseEnvironment } from '../../config/load';
import { DATA_STORES } from '../../config/catalog';
import { BACKUP_SCRIPT_ENV, BACKUP_SCRIPT_FILES } from '../../lib/backups';
import { Manifest } from '../../lib/core';
import {
  DATABASE_ROLES, EXPORTER_LOGIN, PGBOUNCER_FILES, POSTGRES_FILES, ROLES_JOB, ROLES_JOB_FILES, VERSION_GATED_SETTINGS, platformAuthLookup, renderAuthLookup, versionAtLeast,
} from '../../lib/database';
import { SERVER_TLS_DIR } from '../../lib/tls';
import { VALID_ENV, dataTierSections } from '../fixtures/environments';
import { buildEnvironment, dataTierOf, named, renderVaultTemplate } from '../helpers';
import { BackgroundProgram, POSTGRES_MAJOR, RunningPostgres, freePort, isRoot, postgresOrSkip, postgresScratch, spawnAsPostgres, startPostgres } from './postgres';
import { PASSWORDS, RolesHarness, configMapData, rolesHarness } from './roles-harness';
import { HAS_OPENSSL, issue, makeCa } from './test-certs';

const PGBOUNCER = '/usr/sbin/pgbouncer';
const installed = spawnSync(PGBOUNCER, ['--version'], { encoding: 'utf8' });
const VERSION = /PgBouncer (\d+\.\d+\.\d+)/.exec(installed.stdout ?? '')?.[1];

/** The installed server's major version: the pg-roles script differs from 16 on. */
const MAJOR = POSTGRES_MAJOR ?? 16;
/** The CA bundle (and issuer) of the test: the ConfigMap name is also the folder of its file. */
const CA = 'test-ca';
const SECTION = dataTierSections({
  database: `  clientCidrs: [127.0.0.0/30]
  tls:
    issuer: { name: ${CA} }
    caBundle: { configMap: ${CA} }
`,
  major: MAJOR,
  postgres: '    maxConnections: 40\n',
});

/** The apps' databases here are named after them; the heartbeat writes into the first app's, as in the shipped environments. */
const database = (app: string) => app.replace(/-/g, '_');
const APPS = postgresUsers(parseEnvironment(`${VALID_ENV}${SECTION}`, 'config/test.yaml'));
const backups = (db: string) => `backups:\n  restoreTest:\n    database: ${db}\n`;
const config = parseEnvironment(`${VALID_ENV}${SECTION}${backups(database(APPS[0]))}`, 'config/test.yaml');
const { manifests } = buildEnvironment(config);
const configMap = (name: string) => configMapData(manifests, name);
const pools = dataTierOf(config).pools;
const HEARTBEAT = dataTierOf(config).props.heartbeat!;
const HEARTBEAT_USER = 'pronto_heartbeat';
/**
 * The heartbeat's password: every character a shell acts on, and a quote that would close a
 * sourced `PGPASSWORD='…'` line. The job must log in with it as it is, and never run it.
 */
const PWNED = path.join(tmpdir(), `pronto-heartbeat-pwned-${process.pid}`);
const HEARTBEAT_PASSWORD = `hb'$(touch ${PWNED})'"\`touch ${PWNED}\`;x \\y #z $HOME`;
/** A Vault file of `pod` (a CronJob's name) as its agent renders it from the synthesized annotation, for the heartbeat's entry. */
const heartbeatFile = (cronJob: string, file: string) => renderVaultTemplate(
  (manifests.find((m: Manifest) => m.kind === 'CronJob' && m.metadata?.name === cronJob) as any).spec.jobTemplate.spec.template.metadata.annotations[`vault.hashicorp.com/agent-inject-template-${file}`],
  { username: HEARTBEAT_USER, password: HEARTBEAT_PASSWORD });
const CLIENTS = 200;
/** Transactions per client. */
const TRANSACTIONS = 5;
const SUPERUSER_PASSWORD = 'super:pw-1';
/** "Another pod" (inside database.clientCidrs) and "outside the pod network". */
const OTHER_POD = '127.0.0.2';
const OUTSIDE = '127.0.0.9';
/** The synthesized Certificate of `name` (its DNS names are what clients may dial). */
const certificate = (name: string) => named(manifests, 'Certificate', `${name}-tls`);
/** libpq's settings of a verify-full client dialling 127.0.0.1 under `host` (the CA file is set in beforeAll). */
const verifyFull = (host: string, caFile: string) => ({ PGHOST: host, PGHOSTADDR: '127.0.0.1', PGSSLMODE: 'verify-full', PGSSLROOTCERT: caFile });

/** The settings the installed PgBouncer lacks: exactly the version-gated ones newer than it. */
const dropped = () => Object.entries(VERSION_GATED_SETTINGS).filter(([, since]) => !versionAtLeast(VERSION!, since)).map(([k]) => k);

const maybe = VERSION && HAS_OPENSSL ? postgresOrSkip('real PgBouncer in front of real PostgreSQL') : (() => {
  console.warn(`\n!!! SKIPPED: real PgBouncer in front of real PostgreSQL: ${VERSION ? 'openssl' : PGBOUNCER} is missing (Debian packages pgbouncer, openssl; CI installs them: .ci/run) !!!\n`);
  return describe.skip;
})();

maybe('the synthesized pgbouncer.ini in real PgBouncer', () => {
  let pg: RunningPostgres;
  let bouncer: BackgroundProgram | undefined;
  let port = 0;
  let secrets = '';
  let h: RolesHarness;
  /** The CA file as a client in the test sees it (the pods' /etc/pronto/ca/<configMap>/ca.crt). */
  let caFile = '';
  /** Where start.sh leaves the exporter's login (the pods' /run/exporter). */
  let exporterDir = '';
  const password = (app: string) => `pw-${app}-Z9`;

  beforeAll(async () => {
    // A throw-away CA, and the two servers' certificates for the names their synthesized Certificates list.
    const certs = postgresScratch('pronto-tls-', 1024 * 1024);
    makeCa(path.join(certs, 'ca'), CA);
    issue(path.join(certs, 'ca'), path.join(certs, 'postgres'), certificate('postgres').spec.dnsNames, ['127.0.0.1']);
    issue(path.join(certs, 'ca'), path.join(certs, 'pgbouncer'), certificate('pgbouncer').spec.dnsNames, []);
    const serverTls = (server: string) => (text: string) => text.replaceAll(`${SERVER_TLS_DIR}/`, `${path.join(certs, server)}/`);
    // PostgreSQL with the synthesized connection and TLS settings and the synthesized pg_hba.conf, as it is.
    const conf = configMap('postgres')[POSTGRES_FILES.conf];
    const setting = (name: string) => new RegExp(`^${name} = (.*)$`, 'm').exec(conf)![1].replace(/^'(.*)'$/, '$1');
    pg = await startPostgres({
      settings: {
        max_connections: Number(setting('max_connections')),
        superuser_reserved_connections: Number(setting('superuser_reserved_connections')),
        password_encryption: setting('password_encryption'),
        ssl: setting('ssl') === 'on',
        ssl_cert_file: serverTls('postgres')(setting('ssl_cert_file')),
        ssl_key_file: serverTls('postgres')(setting('ssl_key_file')),
        ssl_min_protocol_version: setting('ssl_min_protocol_version'),
      },
      hba: configMap('postgres')[POSTGRES_FILES.hba].split('\n').filter((l) => l !== '' && !l.startsWith('#')),
      superuserPassword: SUPERUSER_PASSWORD,
    });
    // The Vault files and the CA bundle, in folders of the test (the platform's entries: the harness).
    h = rolesHarness(pg, manifests);
    secrets = h.secrets;
    caFile = path.join(h.caBundles, CA, 'ca.crt');
    mkdirSync(path.dirname(caFile), { recursive: true });
    copyFileSync(path.join(certs, 'ca', 'ca.crt'), caFile);
    exporterDir = path.join(pg.dir, 'exporter');
    mkdirSync(exporterDir, { mode: 0o700 });
    if (isRoot()) spawnSync('chown', ['postgres:postgres', exporterDir]);
    for (const app of APPS) h.writeApp(app, database(app), password(app), database(app));
    // The heartbeat's entry as the Vault agents render it from the synthesized templates, for pg-roles and for its job.
    h.writeSecret('heartbeat-role', heartbeatFile(ROLES_JOB, 'heartbeat-role'));
    h.writeSecret('heartbeat-login', heartbeatFile(BACKUP_JOBS.heartbeat, 'heartbeat-login'));
    // The platform bootstrap (superuser), then the pg-roles job (pronto_roles over TCP): the apps' roles and databases.
    const boot = h.bootstrap();
    if (boot.status !== 0 || boot.stderr !== '') throw new Error(`platform-roles.sql failed: ${boot.stderr}`);
    const r = h.applyApps();
    if (r.status !== 0 || r.stderr !== '') throw new Error(`pg-roles failed: ${r.stderr}`);
    // PgBouncer before 1.19 runs auth_query in the client's database (no auth_dbname): only then, the lookup in each app's database too.
    if (!versionAtLeast(VERSION!, VERSION_GATED_SETTINGS.auth_dbname)) {
      const lookupSql = renderAuthLookup(platformAuthLookup(dataTierOf(config).platformRoles));
      for (const app of APPS) {
        writeFileSync(path.join(pg.dir, 'lookup.sql'), `${lookupSql}\nGRANT CONNECT ON DATABASE ${database(app)} TO ${DATABASE_ROLES.pgbouncerAuth};\n`);
        const lookup = spawnSync(pg.bin('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-d', database(app),
          '-f', path.join(pg.dir, 'lookup.sql')], { encoding: 'utf8', env: { ...process.env, ...pg.superuserEnv } });
        if (lookup.status !== 0) throw new Error(`the lookup for PgBouncer ${VERSION} failed: ${lookup.stderr}`);
      }
    }
    // The clients' table, owned by each app's role.
    for (const app of APPS.slice(0, 2)) {
      pg.psql('CREATE TABLE orders (id bigserial PRIMARY KEY, client int NOT NULL, at timestamptz NOT NULL DEFAULT now())',
        { port: pg.port, user: database(app), database: database(app), password: password(app) });
    }
    // One transaction of several statements: a session pinned to a server connection would hold it for the whole run.
    writeFileSync(path.join(pg.dir, 'transaction.sql'),
      'BEGIN;\nINSERT INTO orders (client) VALUES (:client_id);\nSELECT count(*) FROM orders WHERE client = :client_id;\nEND;\n');

    // pgbouncer.ini and start.sh: only paths, hosts and ports rewritten; the version-gated settings the installed release lacks dropped.
    port = await freePort();
    const gone = new Set(dropped());
    const paths = (text: string) => serverTls('pgbouncer')(h.local(text))
      .replaceAll(`${EXPORTER_LOGIN.dir}/`, `${exporterDir}/`).replaceAll('/etc/pgbouncer/', `${pg.dir}/`);
    const ini = configMap('pgbouncer')[PGBOUNCER_FILES.ini].split('\n')
      .filter((l) => !gone.has(l.split(' = ')[0]))
      .map((l) => paths(l
        .replace(/^\* = host=postgres port=5432$/, `* = host=127.0.0.1 port=${pg.port}`)
        .replace(/^listen_addr = .*/, 'listen_addr = 127.0.0.1')
        .replace(/^listen_port = .*/, `listen_port = ${port}`)
        .replace(/^unix_socket_dir = .*/, `unix_socket_dir = ${pg.dir}`)))
      .join('\n');
    writeFileSync(path.join(pg.dir, PGBOUNCER_FILES.ini), ini);
    writeFileSync(path.join(pg.dir, PGBOUNCER_FILES.hba), configMap('pgbouncer')[PGBOUNCER_FILES.hba]);
    writeFileSync(path.join(pg.dir, PGBOUNCER_FILES.start), paths(configMap('pgbouncer')[PGBOUNCER_FILES.start])
      .replace(`'127.0.0.1:${DATA_STORES.postgres.port}:`, `'127.0.0.1:${port}:`));
    if (isRoot()) spawnSync('chown', ['-R', 'postgres:postgres', secrets, ...Object.values(PGBOUNCER_FILES).map((f) => path.join(pg.dir, f))]);
    await startBouncer();
  }, 60_000);

  /** Starts PgBouncer through its synthesized start.sh (which ends in `exec pgbouncer`) and waits (bounded) until it accepts. */
  async function startBouncer(): Promise<void> {
    bouncer = spawnAsPostgres('sh', [path.join(pg.dir, PGBOUNCER_FILES.start)], { PATH: `${path.dirname(PGBOUNCER)}:/usr/bin:/bin` });
    for (let i = 0; i < 100; i++) {
      if (await accepts(port)) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`PgBouncer did not start:\n${bouncer.output()}`);
  }

  afterAll(() => {
    bouncer?.kill();
    pg?.stop();
  });

  test('the installed PgBouncer lacks only settings of the documented version-gated list', () => {
    const ini = configMap('pgbouncer')[PGBOUNCER_FILES.ini];
    for (const key of dropped()) expect(ini).toContain(`${key} = `);
    expect(dropped().every((k) => k in VERSION_GATED_SETTINGS)).toBe(true);
    expect(bouncer!.output()).not.toMatch(/unknown parameter|invalid value|FATAL/i);
  });

  test(`${CLIENTS} concurrent clients run transactions through PgBouncer; PostgreSQL never sees more server connections than the pools allow`, async () => {
    // Sample the server connections of the app users every 50 ms while the clients run.
    const sampler = spawn(pg.bin('psql'), ['-X', '-A', '-t', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-d', 'postgres'],
      { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...pg.superuserEnv } });
    let samples = '';
    sampler.stdout.on('data', (d) => { samples += d; });
    sampler.stdin.write("SELECT 'sample', datname, count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND usename <> 'postgres' GROUP BY datname\n\\watch 0.05\n");
    // TLS to PgBouncer, which refuses plaintext; `require`, since each verify-full connection loads and checks the CA,
    // which 200 of them pay for in time the pool check does not need: the apps' verify-full is the TLS test's (below).
    const runs = APPS.slice(0, 2).map((app) => run(pg.bin('pgbench'),
      ['-n', '-f', path.join(pg.dir, 'transaction.sql'), '-c', String(CLIENTS / 2), '-j', '2', '-t', String(TRANSACTIONS), '-p', String(port), '-U', database(app), database(app)],
      { PGPASSWORD: password(app), PGHOST: '127.0.0.1', PGSSLMODE: 'require' }));
    const results = await Promise.all(runs);
    sampler.kill('SIGKILL');
    for (const r of results) {
      expect(r.output).toContain(`number of clients: ${CLIENTS / 2}`);
      expect(r.output).toMatch(/number of failed transactions: 0 \(0\.000%\)/);
      expect(r.output).toContain(`number of transactions actually processed: ${(CLIENTS / 2) * TRANSACTIONS}/${(CLIENTS / 2) * TRANSACTIONS}`);
      expect(r.status).toBe(0);
    }
    // One replica's share: max_db_connections per database, and all pooled databases together within the budget ÷ replicas.
    const rows = samples.split('\n').filter((l) => l.startsWith('sample|')).map((l) => l.split('|'));
    expect(rows.length).toBeGreaterThan(0);
    const perDb = Math.max(...rows.map((r) => Number(r[2])));
    expect(perDb).toBeGreaterThan(0);
    expect(perDb).toBeLessThanOrEqual(pools.maxDbConnections);
    expect(pools.maxDbConnections * dataTierOf(config).pooledDatabases * config.capabilities.database!.pgbouncer.replicas).toBeLessThanOrEqual(pools.budget);
    const max = Number(pg.psql('SHOW max_connections'));
    expect(max).toBe(config.capabilities.database!.postgres.maxConnections);
  }, 60_000);

  test('a wrong password, or a user PostgreSQL does not know, is refused', () => {
    const app = APPS[0];
    const wrong = pg.psql('SELECT 1', { port, user: database(app), database: database(app), password: 'not-the-password', allowFailure: true });
    expect(wrong).toMatch(/password authentication failed|SASL authentication failed/);
    const right = pg.psql('SELECT 1', { port, user: database(app), database: database(app), password: password(app) });
    expect(right).toBe('1');
    // PgBouncer 1.18 answers an unknown user with a generic FATAL; refused is what matters.
    const unknown = pg.psql('SELECT 1', { port, user: 'mallory', database: database(app), password: 'x', allowFailure: true });
    expect(unknown).toMatch(/FATAL/);
  });

  test('the exporter logs in as the stats user with the login start.sh left it (its password escaped for libpq), and gets SHOW only; no password, no login', () => {
    // pgbouncer_exporter's synthesized connection string, the port rewritten; its password from PGPASSFILE, as lib/pq reads it.
    const exporter = named(manifests, 'Deployment', 'pgbouncer').spec.template.spec.containers.find((c: any) => c.name === 'pgbouncer-exporter');
    const url = /--pgBouncer\.connectionString=(.*)/.exec(exporter.args.join('\n'))![1].replace(`:${DATA_STORES.postgres.port}/`, `:${port}/`);
    expect(exporter.env).toContainEqual({ name: 'PGPASSFILE', value: `${EXPORTER_LOGIN.dir}/${EXPORTER_LOGIN.file}` });
    const asExporter = (sql: string, env: Record<string, string>) => spawnSync(pg.bin('psql'), ['-X', '-A', '-t', '-w', '-c', sql, url],
      { encoding: 'utf8', env: { ...process.env, PGCONNECT_TIMEOUT: '5', ...env } });
    const pgpass = path.join(exporterDir, EXPORTER_LOGIN.file);
    const show = asExporter('SHOW POOLS', { PGPASSFILE: pgpass });
    expect(show.stderr).toBe('');
    expect(show.stdout).toContain(database(APPS[0]));
    expect(spawnSync('stat', ['-c', '%a', pgpass], { encoding: 'utf8' }).stdout.trim()).toBe('600');
    expect(asExporter('PAUSE', { PGPASSFILE: pgpass }).stderr).toMatch(/admin access needed/);
    // Without its password (the old hba trusted it from 127.0.0.1): refused.
    expect(asExporter('SHOW POOLS', { PGPASSFILE: '/nonexistent' }).stderr).toMatch(/password|SASL/);
    const db = pg.psql('SELECT 1', { port, user: DATABASE_ROLES.pgbouncerStats, database: database(APPS[0]), password: PASSWORDS.pgbouncerStats, allowFailure: true });
    expect(db).toMatch(/FATAL/);
  });

  test('PgBouncer killed with SIGKILL (an OOM kill) starts again on the same run directory: no pidfile stops it', async () => {
    expect(configMap('pgbouncer')[PGBOUNCER_FILES.ini]).not.toMatch(/^pidfile\s*=/m);
    bouncer!.kill();
    for (let i = 0; i < 100 && await accepts(port); i++) await new Promise((res) => setTimeout(res, 50));
    expect(await accepts(port)).toBe(false);
    await startBouncer();
    const app = APPS[0];
    expect(pg.psql('SELECT 1', { port, user: database(app), database: database(app), password: password(app) })).toBe('1');
  }, 20_000);

  describe('the backups\' heartbeat', () => {
    const job = (manifests.find((m: Manifest) => m.kind === 'CronJob' && m.metadata?.name === BACKUP_JOBS.heartbeat) as any).spec.jobTemplate.spec.template.spec.containers[0];
    const env = Object.fromEntries((job.env as Array<{ name: string; value?: string }>).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
    const runs: Array<{ status: number | null; stderr: string }> = [];
    let rerun: { status: number | null; stderr: string };
    const asHeartbeat = (sql: string, db = HEARTBEAT.database) => pg.psql(sql, { port, user: HEARTBEAT_USER, database: db, password: HEARTBEAT_PASSWORD, allowFailure: true });

    beforeAll(() => {
      // The synthesized job: its script and SQL from the ConfigMap, its env; only PgBouncer's address and the Vault path rewritten.
      const scripts = path.join(pg.dir, 'backup-scripts');
      spawnSync('mkdir', ['-p', scripts]);
      for (const f of [BACKUP_SCRIPT_FILES.heartbeat, BACKUP_SCRIPT_FILES.heartbeatSql]) writeFileSync(path.join(scripts, f), configMap('pg-backup-scripts')[f]);
      // Its env as synthesized (verify-full against the CA bundle, under PgBouncer's Service name), dialling 127.0.0.1.
      const beat = () => spawnSync('sh', [path.join(scripts, BACKUP_SCRIPT_FILES.heartbeat)], { encoding: 'utf8', timeout: 30_000, env: {
        PATH: `${path.dirname(pg.bin('psql'))}:/usr/bin:/bin`, ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, h.local(v as string)])),
        PGHOSTADDR: '127.0.0.1', PGPORT: String(port),
        [BACKUP_SCRIPT_ENV.heartbeatLoginFile]: path.join(secrets, 'heartbeat-login'),
      } });
      rmSync(PWNED, { force: true });
      runs.push(beat(), beat());
      // The pg-roles job again (its next run), now that the heartbeat's table exists.
      rerun = h.applyApps();
    });

    test('the job logs in through PgBouncer as the role pg-roles created, with a password full of shell syntax that never runs, and writes its row twice (the first run creates its table)', () => {
      expect(existsSync(PWNED)).toBe(false);
      expect(env).toMatchObject({ PGDATABASE: HEARTBEAT.database, [BACKUP_SCRIPT_ENV.heartbeatSchema]: HEARTBEAT.schema, [BACKUP_SCRIPT_ENV.heartbeatTable]: HEARTBEAT.table });
      expect(runs.map((r) => ({ status: r.status, stderr: r.stderr }))).toEqual([{ status: 0, stderr: '' }, { status: 0, stderr: '' }]);
      expect(pg.psql(`SELECT count(*) FROM ${HEARTBEAT.schema}.${HEARTBEAT.table}`, { database: HEARTBEAT.database })).toBe('2');
      // Its schema was created by pg-roles owned by the database's owner (the app), which granted it USAGE and CREATE; the table it made is its own.
      expect(pg.psql(`SELECT nspowner::regrole || ' ' || (SELECT relowner::regrole FROM pg_class WHERE oid = '${HEARTBEAT.schema}.${HEARTBEAT.table}'::regclass) FROM pg_namespace WHERE nspname = '${HEARTBEAT.schema}'`,
        { database: HEARTBEAT.database })).toBe(`${HEARTBEAT.database} ${HEARTBEAT_USER}`);
      expect(pg.psql(`SELECT has_schema_privilege('${HEARTBEAT_USER}', '${HEARTBEAT.schema}', 'USAGE, CREATE')`, { database: HEARTBEAT.database })).toBe('t');
      // Idempotent: the next run succeeds silently.
      expect({ status: rerun.status, stderr: rerun.stderr }).toEqual({ status: 0, stderr: '' });
    });

    test('it has no right beyond that: no superuser, no other database, no app table, no new schema', () => {
      expect(pg.psql(`SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = '${HEARTBEAT_USER}'`)).toBe('f|f|f|f|f');
      expect(asHeartbeat('SELECT 1', database(APPS[1]))).toMatch(/permission denied for database/);
      expect(asHeartbeat('SELECT count(*) FROM public.orders')).toMatch(/permission denied for table orders/);
      expect(asHeartbeat('CREATE SCHEMA elsewhere')).toMatch(/permission denied for database/);
      expect(asHeartbeat('SELECT 1')).toBe('1');
    });

    test('an app\'s login given to the heartbeat, or its database missing: pg-roles warns, changes nothing of it, applies the rest, and fails', () => {
      // The second app's user name with another password: the app must keep its own.
      h.writeSecret('heartbeat-role', `${database(APPS[1])}\nnot-the-app-password`);
      const clash = h.applyApps(undefined, 'pg-roles-clash');
      h.writeSecret('heartbeat-role', heartbeatFile(ROLES_JOB, 'heartbeat-role'));
      expect(clash.status).not.toBe(0);
      expect(clash.stderr).toMatch(/pg-roles: pg-heartbeat \(backups\): its user name is .* an app role .*: left unchanged/);
      for (const app of APPS) expect(clash.stdout).toContain(`pg-roles: ${app}: role ${database(app)}`);
      expect(pg.psql('SELECT 1', { port, user: database(APPS[1]), database: database(APPS[1]), password: password(APPS[1]) })).toBe('1');
      // A restore-test database that does not exist (in-process config: the same database section).
      const missing = parseEnvironment(`${VALID_ENV}${SECTION}${backups('no_such_db')}`, 'config/test.yaml');
      const r = h.applyApps(dataTierOf(missing).rolesJobFiles[ROLES_JOB_FILES.sql], 'pg-roles-missing');
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/database no_such_db \(backups\.restoreTest\.database\) does not exist: its role was not created/);
    });
  });

  describe('attacks on the data tier (each one succeeded against the previous output)', () => {
    const app = () => APPS[0];
    /** psql -w (never prompts) with `args` and `env`; its output, stdout then stderr. Async, so a relay in this process can serve it. */
    const login = async (args: string[], env: Record<string, string>) =>
      (await run(pg.bin('psql'), ['-X', '-A', '-t', '-w', ...args], { PGCONNECT_TIMEOUT: '5', PGPASSWORD: '', ...env })).output.trim();
    const tcp = (to: number, user: string, db: string, pw: string, sql = 'SELECT 1', extra: Record<string, string> = {}) =>
      login(['-h', '127.0.0.1', '-p', String(to), '-U', user, '-d', db, '-c', sql], { PGPASSWORD: pw, ...extra });

    test('PostgreSQL trusts no one: the superuser needs its password on the socket and is refused over TCP; postgres_exporter logs in from the pod only, and is no superuser', async () => {
      const socket = (user: string, pw: string) => login(['-h', pg.socketDir, '-p', String(pg.port), '-U', user, '-d', 'postgres', '-c', 'SELECT 1'], { PGPASSWORD: pw });
      const other = await relayFrom(OTHER_POD, pg.port);
      try {
        const [noPassword, exporterOnSocket, superuser, superuserOverTcp, exporterElsewhere, exporter] = await Promise.all([
          // What the exporter sidecar reached before: the socket, as postgres or as itself, with no password.
          socket('postgres', ''),
          socket(DATABASE_ROLES.monitoring, PASSWORDS.exporter),
          socket('postgres', SUPERUSER_PASSWORD),
          tcp(pg.port, 'postgres', 'postgres', SUPERUSER_PASSWORD),
          tcp(other.port, DATABASE_ROLES.monitoring, 'postgres', PASSWORDS.exporter),
          // Its own login, from the pod itself: then what the superuser could do (COPY … FROM PROGRAM read every mounted secret), one by one.
          login(['-h', '127.0.0.1', '-p', String(pg.port), '-U', DATABASE_ROLES.monitoring, '-d', 'postgres',
            '-c', 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user',
            '-c', "COPY pg_catalog.pg_am FROM PROGRAM 'cat /run/secrets/pg-superuser'",
            '-c', "SELECT pg_read_file('/etc/passwd')", '-c', 'SET ROLE postgres', '-c', `ALTER ROLE ${DATABASE_ROLES.monitoring} SUPERUSER`],
          { PGPASSWORD: PASSWORDS.exporter }),
        ]);
        expect(noPassword).toMatch(/no password supplied|password authentication failed/);
        expect(exporterOnSocket).toMatch(/pg_hba.conf rejects connection for host "\[local\]", user "postgres_exporter"/);
        expect(superuser).toBe('1');
        expect(superuserOverTcp).toMatch(/pg_hba.conf rejects connection for host "127.0.0.1", user "postgres"/);
        expect(exporterElsewhere).toMatch(/pg_hba.conf rejects connection for host "127.0.0.2", user "postgres_exporter"/);
        const lines = exporter.split('\n');
        expect(lines[0]).toBe('f');
        expect(lines.filter((l) => l.startsWith('ERROR:'))).toEqual([
          expect.stringMatching(/must be superuser or have privileges of the pg_execute_server_program role/),
          expect.stringMatching(/permission denied for function pg_read_file/),
          expect.stringMatching(/permission denied to set role "postgres"/),
          expect.stringMatching(/permission denied|must be superuser/),
        ]);
      } finally { other.close(); }
    });

    test('only the pod network logs in: an app with its password from outside clientCidrs is refused by PostgreSQL and PgBouncer, from another pod accepted', async () => {
      const relays = await Promise.all([pg.port, port].flatMap((target) => [relayFrom(OUTSIDE, target), relayFrom(OTHER_POD, target)]));
      try {
        const got = await Promise.all(relays.map((r) => tcp(r.port, database(app()), database(app()), password(app()))));
        // PostgreSQL from outside, from another pod; PgBouncer the same.
        expect(got).toEqual([expect.stringMatching(/no pg_hba.conf entry for host "127.0.0.9"/), '1', expect.stringMatching(/FATAL/), '1']);
      } finally { for (const r of relays) r.close(); }
    });

    test('PgBouncer\'s admin console: admin and stats users with their passwords from the pod itself only, refused from another pod, SCRAM only', async () => {
      const hba = configMap('pgbouncer')[PGBOUNCER_FILES.hba];
      expect(hba).not.toMatch(/\b(md5|trust|password)\s*$/m);
      const other = await relayFrom(OTHER_POD, port);
      try {
        const [admin, wrong, adminElsewhere, statsElsewhere] = await Promise.all([
          tcp(port, DATABASE_ROLES.pgbouncerAdmin, 'pgbouncer', PASSWORDS.pgbouncerAdmin, 'SHOW USERS'),
          tcp(port, DATABASE_ROLES.pgbouncerAdmin, 'pgbouncer', 'not-it', 'SHOW USERS'),
          // The right passwords, from another pod: what the md5 line for everyone let through before.
          tcp(other.port, DATABASE_ROLES.pgbouncerAdmin, 'pgbouncer', PASSWORDS.pgbouncerAdmin, 'SHUTDOWN'),
          tcp(other.port, DATABASE_ROLES.pgbouncerStats, 'pgbouncer', PASSWORDS.pgbouncerStats, 'SHOW CLIENTS'),
        ]);
        expect(admin).toContain(DATABASE_ROLES.pgbouncerStats);
        expect(wrong).toMatch(/password authentication failed|SASL/);
        expect(adminElsewhere).toMatch(/FATAL/);
        expect(statsElsewhere).toMatch(/FATAL/);
        // An app's own login cannot reach the console either. (PgBouncer looks a login up before its hba file: without
        // auth_dbname, before 1.19, the lookup runs in the console's pseudo-database and the login waits until it times out.)
        if (versionAtLeast(VERSION!, VERSION_GATED_SETTINGS.auth_dbname)) {
          expect(await tcp(other.port, database(app()), 'pgbouncer', password(app()), 'SHOW CLIENTS')).toMatch(/FATAL/);
        }
      } finally { other.close(); }
      expect(await tcp(port, DATABASE_ROLES.pgbouncerAdmin, 'pgbouncer', PASSWORDS.pgbouncerAdmin, 'SHOW VERSION')).toMatch(/PgBouncer/);
    });

    test('pgbouncer_auth reads the SCRAM secrets of the pooled logins only: no platform role\'s, and no platform role logs in through PgBouncer', async () => {
      const platform = ['postgres', DATABASE_ROLES.backup, DATABASE_ROLES.roles, DATABASE_ROLES.monitoring, DATABASE_ROLES.pgbouncerAuth, DATABASE_ROLES.poolerClients];
      const pooled = [database(app()), HEARTBEAT_USER];
      const other = await relayFrom(OTHER_POD, port);
      try {
        const [lookups, authid, roles, exporter] = await Promise.all([
          tcp(pg.port, DATABASE_ROLES.pgbouncerAuth, 'postgres', PASSWORDS.pgbouncerAuth,
            `SELECT u || ' ' || coalesce(left(l.phash, 14), 'none') FROM unnest(ARRAY[${[...platform, ...pooled].map((u) => `'${u}'`).join(', ')}]) WITH ORDINALITY AS t(u, n),
              LATERAL pgbouncer.user_lookup(u) l ORDER BY n`),
          tcp(pg.port, DATABASE_ROLES.pgbouncerAuth, 'postgres', PASSWORDS.pgbouncerAuth, 'SELECT rolpassword FROM pg_authid'),
          // pronto_roles (CREATEROLE, CREATEDB) with its right password, through PgBouncer from another pod: the old lookup returned it.
          tcp(other.port, DATABASE_ROLES.roles, 'postgres', PASSWORDS.roles),
          tcp(other.port, DATABASE_ROLES.monitoring, 'postgres', PASSWORDS.exporter),
        ]);
        expect(lookups.split('\n')).toEqual([...platform.map((u) => `${u} none`), ...pooled.map((u) => `${u} SCRAM-SHA-256$`)]);
        expect(authid).toMatch(/permission denied/);
        expect(roles).toMatch(/FATAL/);
        expect(exporter).toMatch(/FATAL/);
      } finally { other.close(); }
      expect(pg.psql(`SELECT count(*) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
        WHERE g.rolname = '${DATABASE_ROLES.poolerClients}' AND NOT m.admin_option AND u.rolname IN (${[...APPS.map(database), HEARTBEAT_USER].map((u) => `'${u}'`).join(', ')})`))
        .toBe(String(APPS.length + 1));
    });

    test('TLS on both hops: the app\'s DATABASE_URL as Vault renders it (verify-full) reaches PostgreSQL through PgBouncer over TLS; plaintext, or a name the certificate lacks, is refused', async () => {
      // The app's template, rendered as the agent would for the test's values; only the port, the CA folder and the address (hostaddr) changed.
      const annotations = named(manifests, 'Deployment', APPS[0]).spec.template.metadata.annotations;
      const template = annotations['vault.hashicorp.com/agent-inject-template-db'] as string;
      expect(template).toContain(`?sslmode=verify-full&sslrootcert=/etc/pronto/ca/${CA}/ca.crt`);
      const url = h.local(template.replace(/^\{\{- with secret "[^"]*" -\}\}/, '').replace(/\{\{- end \}\}$/, '')
        .replace('{{ .Data.data.username | urlquery }}', database(app())).replace('{{ .Data.data.password | urlquery }}', encodeURIComponent(password(app())))
        .replace('{{ .Data.data.database }}', database(app())).replace(`:${DATA_STORES.postgres.port}/`, `:${port}/`)) + '&hostaddr=127.0.0.1';
      const [viaUrl, plainBouncer, plainPostgres, wrongName] = await Promise.all([
        login(['-c', 'SELECT current_user', url], {}),
        // Plaintext: refused by PgBouncer and by PostgreSQL.
        tcp(port, database(app()), database(app()), password(app()), 'SELECT 1', { PGSSLMODE: 'disable' }),
        tcp(pg.port, database(app()), database(app()), password(app()), 'SELECT 1', { PGSSLMODE: 'disable' }),
        // verify-full checks the name: a host the certificate does not name is refused by the client.
        login(['-p', String(port), '-U', database(app()), '-d', database(app()), '-c', 'SELECT 1'],
          { PGPASSWORD: password(app()), ...verifyFull('postgres-elsewhere', caFile) }),
      ]);
      expect(viaUrl).toBe(database(app()));
      expect(plainBouncer).toMatch(/FATAL/);
      expect(plainPostgres).toMatch(/pg_hba.conf rejects connection for host "127.0.0.1", user "[a-z_]+", database "[a-z_]+", no encryption/);
      expect(wrongName).toMatch(/does not match host name "postgres-elsewhere"/);
      // PgBouncer's server connections for the app are TLS (server_tls_sslmode = verify-full against the CA bundle).
      expect(pg.psql(`SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = '${database(app())}'`)).toBe('t');
    });
  });

  // Last: it leaves the first app's pool refusing logins for a while.
  test('a client logged in before a pg-roles run still gets new server connections after it; setting the same password again would break that', async () => {
    const app = APPS[0];
    const client = spawn(pg.bin('psql'), ['-X', '-A', '-t', '-h', '127.0.0.1', '-p', String(port), '-U', database(app), '-d', database(app)],
      { env: { ...process.env, PGPASSWORD: password(app) }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    client.stdout.on('data', (d) => { out += d; });
    client.stderr.on('data', (d) => { out += d; });
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 100 && !done(); i++) await new Promise((res) => setTimeout(res, 50));
      return done();
    };
    /** Drops every server connection of the app: its next query needs a new one, logged in with the keys PgBouncer kept from the client's login. */
    const dropServerConnections = async () => {
      pg.psql(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '${database(app)}' AND pid <> pg_backend_pid()`);
      await new Promise((res) => setTimeout(res, 300));
    };
    try {
      client.stdin.write("SELECT 'before';\n");
      expect(await until(() => out.includes('before'))).toBe(true);
      const run = h.applyApps();
      expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
      await dropServerConnections();
      client.stdin.write("SELECT 'after';\n");
      expect(await until(() => out.includes('after'))).toBe(true);
      expect(out).not.toMatch(/ERROR|FATAL/);
      // Why the job checks the login before it sets a password: the same password set again gets a new SCRAM salt, and PgBouncer's kept keys no longer log in.
      pg.psql(`ALTER ROLE ${database(app)} PASSWORD '${password(app)}'`);
      await dropServerConnections();
      // Only what PgBouncer logs from here on (the attacks before made it log refused logins).
      const logged = bouncer!.output().length;
      client.stdin.write("SELECT 'stale';\n");
      expect(await until(() => /password authentication failed/.test(bouncer!.output().slice(logged)))).toBe(true);
      expect(out).not.toContain('stale');
    } finally {
      client.kill('SIGKILL');
    }
    // Worse: after a failed server login PgBouncer refuses every new login to that pool for server_login_retry (15 s by default).
    expect(pg.psql('SELECT 1', { port, user: database(app), database: database(app), password: password(app), allowFailure: true }))
      .toMatch(/server login has been failing|password authentication failed/);
  }, 30_000);
});

/**
 * A TCP relay on 127.0.0.1 that opens each connection to 127.0.0.1:`target` from
 * `localAddress` (any 127.x.y.z is this host's): the target sees the client at that address,
 * as another pod, or a host outside the pod network.
 */
function relayFrom(localAddress: string, target: number): Promise<{ port: number; close(): void }> {
  return new Promise((resolve, reject) => {
    const sockets = new Set<import('net').Socket>();
    const server = createServer((client) => {
      const upstream = connect({ host: '127.0.0.1', port: target, localAddress });
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => { client.destroy(); upstream.destroy(); });
        s.on('close', () => { client.destroy(); upstream.destroy(); sockets.delete(s); });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({
      port: (server.address() as AddressInfo).port,
      close: () => { for (const s of sockets) s.destroy(); server.close(); },
    }));
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}

function run(cmd: string, args: string[], env: Record<string, string>): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('close', (status) => resolve({ status, output }));
  });
}
