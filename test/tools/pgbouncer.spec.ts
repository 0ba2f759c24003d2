/**
 * The synthesized pgbouncer.ini, its hba file, PostgreSQL's platform bootstrap and the
 * pg-roles job in real programs: Debian's PgBouncer in front of Debian's PostgreSQL with
 * the synthesized (small) max_connections, the roles made as a cluster makes them (the
 * bootstrap as the superuser, then the job as pronto_roles over TCP: roles-harness.ts).
 * Only paths, hosts and ports are rewritten, and the settings of VERSION_GATED_SETTINGS
 * newer than the installed PgBouncer are dropped, nothing else.
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
import { existsSync, rmSync, writeFileSync } from 'fs';
import { connect } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { BACKUP_JOBS } from '../../charts/capabilities/backups';
import { postgresUsers } from '../../charts/capabilities/database';
import { parseEnvironment } from '../../config/load';
import { BACKUP_SCRIPT_ENV, BACKUP_SCRIPT_FILES } from '../../lib/backups';
import { Manifest } from '../../lib/core';
import { DATABASE_ROLES, PGBOUNCER_FILES, POSTGRES_FILES, ROLES_JOB, ROLES_JOB_FILES, VERSION_GATED_SETTINGS, renderAuthLookup, versionAtLeast } from '../../lib/database';
import { VALID_ENV } from '../fixtures/environments';
import { buildEnvironment, dataTierOf, renderVaultTemplate } from '../helpers';
import { BackgroundProgram, POSTGRES_MAJOR, RunningPostgres, freePort, isRoot, postgresOrSkip, spawnAsPostgres, startPostgres } from './postgres';
import { RolesHarness, configMapData, rolesHarness } from './roles-harness';

const PGBOUNCER = '/usr/sbin/pgbouncer';
const installed = spawnSync(PGBOUNCER, ['--version'], { encoding: 'utf8' });
const VERSION = /PgBouncer (\d+\.\d+\.\d+)/.exec(installed.stdout ?? '')?.[1];

/** The installed server's major version: the pg-roles script differs from 16 on. */
const MAJOR = POSTGRES_MAJOR ?? 16;
const SECTION = `secrets: {}
database:
  postgres:
    image: { repository: registry.example.com/postgres-walg, tag: ${MAJOR}.4-walg3.0.9 }
    majorVersion: ${MAJOR}
    walgVersion: 3.0.9
    maxConnections: 40
  walg: { s3Prefix: s3://pronto-backups/pg, storageCidrs: [52.95.128.0/21] }
  pgbouncer:
    image: { repository: ghcr.io/cloudnative-pg/pgbouncer, tag: 1.25.2 }
    version: 1.25.2
  redis:
    image: { repository: docker.io/library/redis, tag: 7.4.10-alpine }
`;

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

/** The settings the installed PgBouncer lacks: exactly the version-gated ones newer than it. */
const dropped = () => Object.entries(VERSION_GATED_SETTINGS).filter(([, since]) => !versionAtLeast(VERSION!, since)).map(([k]) => k);

const maybe = VERSION ? postgresOrSkip('real PgBouncer in front of real PostgreSQL') : (() => {
  console.warn(`\n!!! SKIPPED: real PgBouncer in front of real PostgreSQL: ${PGBOUNCER} is missing (Debian package pgbouncer; CI installs it: .ci/run) !!!\n`);
  return describe.skip;
})();

maybe('the synthesized pgbouncer.ini in real PgBouncer', () => {
  let pg: RunningPostgres;
  let bouncer: BackgroundProgram | undefined;
  let port = 0;
  let secrets = '';
  let h: RolesHarness;
  const password = (app: string) => `pw-${app}-Z9`;

  beforeAll(async () => {
    // PostgreSQL with the synthesized connection settings.
    const conf = configMap('postgres')[POSTGRES_FILES.conf];
    const setting = (name: string) => new RegExp(`^${name} = (.*)$`, 'm').exec(conf)![1].replace(/^'(.*)'$/, '$1');
    pg = await startPostgres({ settings: {
      max_connections: Number(setting('max_connections')),
      superuser_reserved_connections: Number(setting('superuser_reserved_connections')),
      password_encryption: setting('password_encryption'),
    } });
    // The Vault files, in a folder of the test (the platform's entries: the harness).
    h = rolesHarness(pg, manifests);
    secrets = h.secrets;
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
      for (const app of APPS) {
        writeFileSync(path.join(pg.dir, 'lookup.sql'), `${renderAuthLookup(DATABASE_ROLES.pgbouncerAuth)}\nGRANT CONNECT ON DATABASE ${database(app)} TO ${DATABASE_ROLES.pgbouncerAuth};\n`);
        const lookup = spawnSync(pg.bin('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-d', database(app),
          '-f', path.join(pg.dir, 'lookup.sql')], { encoding: 'utf8' });
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

    // pgbouncer.ini: only paths, hosts and ports rewritten; the version-gated settings the installed release lacks dropped.
    port = await freePort();
    const gone = new Set(dropped());
    const ini = configMap('pgbouncer')[PGBOUNCER_FILES.ini].split('\n')
      .filter((l) => !gone.has(l.split(' = ')[0]))
      .map((l) => l
        .replace(/^\* = host=postgres port=5432$/, `* = host=127.0.0.1 port=${pg.port}`)
        .replace(/^listen_addr = .*/, 'listen_addr = 127.0.0.1')
        .replace(/^listen_port = .*/, `listen_port = ${port}`)
        .replace(/^unix_socket_dir = .*/, `unix_socket_dir = ${pg.dir}`)
        .replace(/^auth_file = \/run\/secrets\//, `auth_file = ${secrets}/`)
        .replace(/^auth_hba_file = \/etc\/pgbouncer\//, `auth_hba_file = ${pg.dir}/`))
      .join('\n');
    writeFileSync(path.join(pg.dir, 'pgbouncer.ini'), ini);
    writeFileSync(path.join(pg.dir, PGBOUNCER_FILES.hba), configMap('pgbouncer')[PGBOUNCER_FILES.hba]);
    if (isRoot()) spawnSync('chown', ['-R', 'postgres:postgres', secrets, path.join(pg.dir, 'pgbouncer.ini'), path.join(pg.dir, PGBOUNCER_FILES.hba)]);
    await startBouncer();
  }, 30_000);

  /** Starts PgBouncer on the test's config and waits (bounded) until it accepts. */
  async function startBouncer(): Promise<void> {
    bouncer = spawnAsPostgres(PGBOUNCER, [path.join(pg.dir, 'pgbouncer.ini')]);
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
    const sampler = spawn(pg.bin('psql'), ['-X', '-A', '-t', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-d', 'postgres'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let samples = '';
    sampler.stdout.on('data', (d) => { samples += d; });
    sampler.stdin.write("SELECT 'sample', datname, count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND usename <> 'postgres' GROUP BY datname\n\\watch 0.05\n");
    const runs = APPS.slice(0, 2).map((app) => run(pg.bin('pgbench'),
      ['-n', '-f', path.join(pg.dir, 'transaction.sql'), '-c', String(CLIENTS / 2), '-j', '2', '-t', String(TRANSACTIONS), '-h', '127.0.0.1', '-p', String(port), '-U', database(app), database(app)],
      { PGPASSWORD: password(app) }));
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

  test('the exporter\'s stats user gets SHOW from the pod\'s own address without a password; it cannot reach a database', () => {
    const pools = pg.psql('SHOW POOLS', { port, user: DATABASE_ROLES.pgbouncerStats, database: 'pgbouncer' });
    expect(pools).toContain(database(APPS[0]));
    const db = pg.psql('SELECT 1', { port, user: DATABASE_ROLES.pgbouncerStats, database: database(APPS[0]), password: 'x', allowFailure: true });
    expect(db).toMatch(/failed|no such user/);
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
      const beat = () => spawnSync('sh', [path.join(scripts, BACKUP_SCRIPT_FILES.heartbeat)], { encoding: 'utf8', timeout: 30_000, env: {
        PATH: `${path.dirname(pg.bin('psql'))}:/usr/bin:/bin`, ...env, PGHOST: '127.0.0.1', PGPORT: String(port),
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
      client.stdin.write("SELECT 'stale';\n");
      expect(await until(() => /password authentication failed/.test(bouncer!.output()))).toBe(true);
      expect(out).not.toContain('stale');
    } finally {
      client.kill('SIGKILL');
    }
    // Worse: after a failed server login PgBouncer refuses every new login to that pool for server_login_retry (15 s by default).
    expect(pg.psql('SELECT 1', { port, user: database(app), database: database(app), password: password(app), allowFailure: true }))
      .toMatch(/server login has been failing|password authentication failed/);
  }, 30_000);
});

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
