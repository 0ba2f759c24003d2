/**
 * The roles of a real PostgreSQL (Debian's, of the installed major version), as a cluster
 * gets them: the synthesized platform bootstrap as the superuser over the socket, then the
 * synthesized pg-roles job (its scripts, SQL and env) as `pronto_roles` over TCP with its
 * password. Before the bootstrap, the superuser creates two apps' roles and databases the
 * way the platform did before pronto_roles existed, one with the password Vault holds (an
 * upgraded cluster) and one with another: the bootstrap's one-time migration must hand
 * both over, and the job must leave the first one's SCRAM verifier as it is. The apps then
 * log in over TCP and own their databases; a rerun changes nothing (not even a SCRAM salt);
 * a rotated password, or one changed by hand, is set to Vault's on the next run; a user
 * name that must not be altered is left alone while the rest is applied; and pronto_roles
 * cannot do what only a superuser may. One server for the whole suite.
 */
import { spawnSync } from 'child_process';
import { writeFileSync } from 'fs';
import * as path from 'path';
import { postgresUsers } from '../../charts/capabilities/database';
import { parseEnvironment } from '../../config/load';
import { DATABASE_ROLES, ROLES_JOB_FILES } from '../../lib/database';
import { VALID_ENV, dataTierSections } from '../fixtures/environments';
import { buildEnvironment } from '../helpers';
import { POSTGRES_MAJOR, RunningPostgres, freePort, postgresOrSkip, startPostgres } from './postgres';
import { PASSWORDS, RolesHarness, configMapData, rolesHarness } from './roles-harness';

/** The database section, rendered for the installed major version (the script differs from 16 on). */
const section = (major: number) => dataTierSections({ major });

postgresOrSkip('the roles of a real PostgreSQL')('platform bootstrap and pg-roles job in a real PostgreSQL', () => {
  const major = POSTGRES_MAJOR ?? 15;
  const config = parseEnvironment(`${VALID_ENV}${section(major)}`, 'config/test.yaml');
  const { manifests } = buildEnvironment(config);
  const APPS = postgresUsers(config);
  /** The apps' user and database names here are the service's, with `_`. */
  const name = (app: string) => app.replace(/-/g, '_');
  const password = (app: string, n = 1) => `pw-${app}-${n}`;
  /** The apps whose role and database the superuser made before (the migration's case): with Vault's password, and with another. */
  const UPGRADED = APPS[1];
  const LEGACY = APPS[2];
  let pg: RunningPostgres;
  let h: RolesHarness;
  let boot: ReturnType<RolesHarness['bootstrap']>;
  let first: ReturnType<RolesHarness['applyApps']>;
  let upgradedBefore = '';
  let poolerMembersAfterBoot = '';
  /** The logins PgBouncer may look up: the direct members of the pooler's group. */
  const poolerMembers = () => pg.psql(`SELECT coalesce(string_agg(u.rolname, ' ' ORDER BY u.rolname), '') FROM pg_auth_members m
    JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = '${DATABASE_ROLES.poolerClients}' AND NOT m.admin_option`);
  const verifiers = () => pg.psql("SELECT string_agg(rolname || ' ' || coalesce(rolpassword, ''), E'\\n' ORDER BY rolname) FROM pg_authid WHERE rolcanlogin");
  const asApp = (app: string, sql: string, pw = password(app)) => pg.psql(sql, { port: pg.port, user: name(app), database: name(app), password: pw, allowFailure: true });
  const asRoles = (sql: string, database = 'postgres') => pg.psql(sql, { port: pg.port, user: DATABASE_ROLES.roles, database, password: PASSWORDS.roles, allowFailure: true });

  beforeAll(async () => {
    pg = await startPostgres({ settings: { password_encryption: 'scram-sha-256' } });
    h = rolesHarness(pg, manifests);
    for (const app of APPS) h.writeApp(app, name(app), password(app), name(app));
    // Before this release: the superuser's roles.sql made the apps' roles and databases.
    pg.psql(`CREATE ROLE ${name(UPGRADED)} LOGIN PASSWORD '${password(UPGRADED)}'`);
    pg.psql(`CREATE ROLE ${name(LEGACY)} LOGIN PASSWORD 'the-old-one'`);
    for (const app of [UPGRADED, LEGACY]) pg.psql(`CREATE DATABASE ${name(app)} OWNER ${name(app)}`);
    upgradedBefore = pg.psql(`SELECT rolpassword FROM pg_authid WHERE rolname = '${name(UPGRADED)}'`);
    boot = h.bootstrap();
    poolerMembersAfterBoot = poolerMembers();
    first = h.applyApps();
  }, 30_000);

  afterAll(() => pg?.stop());

  test('the bootstrap succeeds silently and creates pronto_roles with CREATEROLE and CREATEDB only, NOINHERIT, its connection limit', () => {
    expect({ status: boot.status, stderr: boot.stderr }).toEqual({ status: 0, stderr: '' });
    expect(pg.psql(`SELECT rolcanlogin, rolcreaterole, rolcreatedb, rolinherit, rolsuper, rolreplication, rolbypassrls, rolconnlimit FROM pg_roles WHERE rolname = '${DATABASE_ROLES.roles}'`))
      .toBe(`t|t|t|f|f|f|f|${config.capabilities.database!.postgres.reservedConnections.roles}`);
    // The lookup function is in `postgres` only (auth_dbname).
    expect(pg.psql("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'pgbouncer' AND p.proname = 'user_lookup'")).toBe('1');
  });

  test('the job succeeds, says what it did for each app, and each app logs in over TCP with its Vault password and owns its database, closed to PUBLIC', () => {
    expect({ status: first.status, stderr: first.stderr }).toEqual({ status: 0, stderr: '' });
    for (const app of APPS) {
      expect(first.stdout).toContain(`pg-roles: ${app}: role ${name(app)}`);
      expect(asApp(app, 'SELECT current_user, current_database()')).toBe(`${name(app)}|${name(app)}`);
      // Owned by the app; PUBLIC's default CONNECT and TEMPORARY revoked: only the owner's own entry is left.
      expect(pg.psql(`SELECT pg_get_userbyid(datdba), datacl::text FROM pg_database WHERE datname = '${name(app)}'`))
        .toBe(`${name(app)}|{${name(app)}=CTc/${name(app)}}`);
      expect(asApp(app, `CREATE TABLE t_${name(app)} (id int); SELECT 'mine'`)).toBe('mine');
      expect(pg.psql(`SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = '${name(app)}'`)).toBe('f|f|f|f|f');
    }
    // Another app's database is closed to it, and so are the maintenance databases.
    expect(pg.psql('SELECT 1', { port: pg.port, user: name(APPS[0]), database: name(APPS[1]), password: password(APPS[0]), allowFailure: true }))
      .toMatch(/permission denied for database/);
    for (const maintenance of ['postgres', 'template1']) {
      expect(pg.psql('SELECT 1', { port: pg.port, user: name(APPS[0]), database: maintenance, password: password(APPS[0]), allowFailure: true }))
        .toMatch(/permission denied for database/);
    }
    // The backup role reaches postgres (wal-verify, BASE_BACKUP's session) and no app's database.
    expect(pg.psql('SELECT current_database()', { port: pg.port, user: DATABASE_ROLES.backup, database: 'postgres', password: PASSWORDS.backup })).toBe('postgres');
    expect(pg.psql('SELECT 1', { port: pg.port, user: DATABASE_ROLES.backup, database: name(APPS[0]), password: PASSWORDS.backup, allowFailure: true }))
      .toMatch(/permission denied for database/);
  });

  test('the roles the superuser made before are handed over once (ADMIN OPTION); one that has its Vault password keeps its verifier, the other gets Vault\'s', () => {
    for (const app of [UPGRADED, LEGACY]) {
      expect(pg.psql(`SELECT bool_or(m.admin_option) FROM pg_auth_members m WHERE m.roleid = '${name(app)}'::regrole AND m.member = '${DATABASE_ROLES.roles}'::regrole`)).toBe('t');
    }
    // An upgraded cluster: the password is already Vault's, so not even its SCRAM salt changes (PgBouncer's kept keys stay valid).
    expect(pg.psql(`SELECT rolpassword FROM pg_authid WHERE rolname = '${name(UPGRADED)}'`)).toBe(upgradedBefore);
    expect(first.stdout).toMatch(new RegExp(`pg-roles: ${UPGRADED}: role ${name(UPGRADED)}, database ${name(UPGRADED)}\n`));
    expect(first.stdout).toContain(`pg-roles: ${LEGACY}: role ${name(LEGACY)} (password set), database ${name(LEGACY)}\n`);
    expect(asApp(LEGACY, 'SELECT 1', 'the-old-one')).toMatch(/password authentication failed/);
    expect(asApp(LEGACY, 'SELECT 1')).toBe('1');
    // Platform roles are never handed over.
    expect(pg.psql(`SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = '${DATABASE_ROLES.roles}'::regrole AND r.rolname IN ('postgres', '${DATABASE_ROLES.pgbouncerAuth}', '${DATABASE_ROLES.backup}', '${DATABASE_ROLES.monitoring}')`)).toBe('0');
    // The pooler's group: the bootstrap that created it made the older app logins members (PgBouncer keeps finding them), then the
    // job every app's; no platform role is one.
    expect(poolerMembersAfterBoot).toBe([UPGRADED, LEGACY].map(name).sort().join(' '));
    expect(poolerMembers()).toBe(APPS.map(name).sort().join(' '));
    // A second bootstrap (the next start) succeeds silently, and the migration grants nothing twice.
    const memberships = () => pg.psql(`SELECT count(*) FROM pg_auth_members WHERE member = '${DATABASE_ROLES.roles}'::regrole`);
    const before = memberships();
    expect(h.bootstrap()).toMatchObject({ status: 0, stderr: '' });
    expect(memberships()).toBe(before);
  });

  test('a rerun changes nothing, not even a SCRAM salt (PgBouncer\'s cached keys would stop working), and is silent', () => {
    const before = verifiers();
    const again = h.applyApps();
    expect({ status: again.status, stderr: again.stderr }).toEqual({ status: 0, stderr: '' });
    expect(again.stdout).not.toMatch(/\(created\)|\(password set\)/);
    expect(verifiers()).toBe(before);
  });

  test('a password changed by hand is set back to Vault\'s on the next run', () => {
    const app = APPS[2];
    pg.psql(`ALTER ROLE ${name(app)} PASSWORD 'set-by-hand'`);
    const run = h.applyApps();
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.stdout).toContain(`pg-roles: ${app}: role ${name(app)} (password set)`);
    expect(asApp(app, 'SELECT 1', 'set-by-hand')).toMatch(/password authentication failed/);
    expect(asApp(app, 'SELECT 1')).toBe('1');
  });

  test('a rotated password applies on the next run: the new one logs in, the old one is refused; no other role is touched', () => {
    const app = APPS[0];
    const others = () => verifiers().split('\n').filter((l) => !l.startsWith(`${name(app)} `)).join('\n');
    const before = others();
    h.writeApp(app, name(app), password(app, 2), name(app));
    const run = h.applyApps();
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.stdout).toContain(`pg-roles: ${app}: role ${name(app)} (password set)`);
    expect(asApp(app, 'SELECT 1', password(app, 2))).toBe('1');
    expect(asApp(app, 'SELECT 1', password(app, 1))).toMatch(/password authentication failed/);
    expect(others()).toBe(before);
  });

  test('its login check tells a password that logs in (or was authenticated, then refused) from one that does not, and from a check that failed', async () => {
    const script = path.join(pg.dir, 'check-login.sh');
    writeFileSync(script, configMapData(manifests, 'pg-roles')[ROLES_JOB_FILES.check]);
    const check = (lines: string, database?: string, port = pg.port) => {
      writeFileSync(path.join(h.secrets, 'check'), lines);
      const r = spawnSync('sh', [script, path.join(h.secrets, 'check'), ...(database ? [database] : [])], { encoding: 'utf8', env: {
        PATH: `${path.dirname(pg.bin('psql'))}:/usr/bin:/bin`, PGHOST: '127.0.0.1', PGPORT: String(port), PGCONNECT_TIMEOUT: '5' } });
      return { out: r.stdout.trim(), err: r.stderr };
    };
    const app = APPS[0];
    // Its password as Vault holds it now: the test before rotated it.
    const pw = password(app, 2);
    expect(asApp(app, 'SELECT 1', pw)).toBe('1');
    expect(check(`${name(app)}\n${pw}\n${name(app)}\n`)).toEqual({ out: 'match', err: '' });
    expect(check(`${name(app)}\nnot-it\n${name(app)}\n`)).toEqual({ out: 'mismatch', err: '' });
    expect(check(`nobody_here\nx\n${name(app)}\n`)).toEqual({ out: 'mismatch', err: '' });
    // Authenticated, then refused: the password is right.
    expect(check(`${name(app)}\n${pw}\nno_such_db\n`)).toEqual({ out: 'match', err: '' });
    expect(check(`${name(app)}\n${pw}\n`, name(APPS[1]))).toEqual({ out: 'match', err: '' });
    // Nothing listens: it cannot tell, and says why.
    const closed = check(`${name(app)}\n${pw}\n${name(app)}\n`, undefined, await freePort());
    expect(closed.out).toBe('unknown');
    expect(closed.err).toMatch(new RegExp(`pg-roles: checking the login of ${name(app)} failed: .*refused`, 's'));
  });

  test('pronto_roles cannot do what only a superuser may', () => {
    expect(asRoles("COPY (SELECT 1) TO PROGRAM 'true'")).toMatch(/permission denied|must be superuser/);
    expect(asRoles("CREATE TEMP TABLE x (t text); COPY x FROM PROGRAM 'id'")).toMatch(/permission denied|must be superuser/);
    expect(asRoles("ALTER ROLE postgres PASSWORD 'x'")).toMatch(/permission denied|must be superuser/);
    expect(asRoles('CREATE ROLE x SUPERUSER')).toMatch(/permission denied|must be superuser/);
    expect(asRoles('CREATE ROLE x REPLICATION')).toMatch(/permission denied|must be superuser/);
    expect(asRoles(`ALTER ROLE ${name(APPS[0])} SUPERUSER`)).toMatch(/permission denied|must be superuser/);
    // Not even NOSUPERUSER or NOREPLICATION may be named by a non-superuser: why the script sets LOGIN NOCREATEDB NOCREATEROLE only.
    expect(asRoles(`ALTER ROLE ${name(APPS[0])} NOSUPERUSER`)).toMatch(/permission denied|must be superuser/);
    expect(asRoles(`ALTER ROLE ${name(APPS[0])} NOREPLICATION`)).toMatch(/permission denied|must be superuser/);
    expect(asRoles(`ALTER ROLE ${DATABASE_ROLES.backup} PASSWORD 'x'`)).toMatch(/permission denied|must be superuser/);
    expect(asRoles('SELECT rolpassword FROM pg_authid')).toMatch(/permission denied/);
    // It holds no app's privileges (NOINHERIT): not even CONNECT on an app's database.
    expect(asRoles('SELECT 1', name(APPS[0]))).toMatch(/permission denied for database/);
  });

  test(`CREATEROLE on PostgreSQL ${major}: ${major >= 16 ? 'it cannot grant itself a predefined role' : 'it CAN grant itself pg_execute_server_program (fixed in 16; see docs/capabilities/database.md)'}`, () => {
    const grant = asRoles(`GRANT pg_execute_server_program TO ${DATABASE_ROLES.roles}`);
    if (major >= 16) {
      expect(grant).toMatch(/permission denied/);
    } else {
      // PostgreSQL 15's CREATEROLE may grant any non-superuser role: the known limit docs/capabilities/database.md states.
      expect(grant).not.toMatch(/ERROR/);
      expect(asRoles(`REVOKE pg_execute_server_program FROM ${DATABASE_ROLES.roles}`)).not.toMatch(/ERROR/);
    }
  });

  test('a user name that must not be altered (a platform role) is left alone, the other apps are applied, and the run fails, saying why', () => {
    const app = APPS[1];
    h.writeApp(app, DATABASE_ROLES.backup, 'not-the-backup-password', name(app));
    const run = h.applyApps(undefined, 'pg-roles-clash');
    h.writeApp(app, name(app), password(app), name(app));
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`pg-roles: ${app}: its user name is a superuser, a replication or RLS-bypassing role, a platform role`);
    expect(run.stderr).toContain('pg-roles: some roles or databases were left unchanged');
    // The others were applied before the run failed.
    for (const other of APPS.filter((a) => a !== app)) expect(run.stdout).toContain(`pg-roles: ${other}: role ${name(other)}`);
    // walg_backup keeps its password and attributes.
    expect(pg.psql(`SELECT rolreplication FROM pg_roles WHERE rolname = '${DATABASE_ROLES.backup}'`)).toBe('t');
    expect(pg.psql('SELECT 1', { port: pg.port, user: DATABASE_ROLES.backup, password: PASSWORDS.backup })).toBe('1');
    // And the synthesized script is the one run: nothing else in the ConfigMap.
    expect(Object.keys(configMapData(manifests, 'pg-roles')).sort()).toEqual(Object.values(ROLES_JOB_FILES).sort());
  });
});
