/**
 * The pg-roles job's files as pure renderers: the apps' roles and databases, and the
 * backups' heartbeat login, applied by psql over TCP as `pronto_roles` (the role the
 * platform bootstrap creates: LOGIN CREATEROLE CREATEDB NOINHERIT, nothing else), every
 * few minutes. Nothing of this is in PostgreSQL's pod: adding an app changes this job's
 * ConfigMap and Vault files, never the database's pod template.
 *
 * What a role without SUPERUSER can do, and how the script stays within it:
 * - ALTER ROLE may not name SUPERUSER, REPLICATION or BYPASSRLS at all (not even NOSUPERUSER):
 *   the script sets LOGIN NOCREATEDB NOCREATEROLE and the password, and leaves alone (warns,
 *   fails the run) a user name that is a superuser, a replication or RLS-bypassing role or a
 *   platform role; a role it creates has none of those.
 * - CREATE DATABASE … OWNER app needs membership in the app's role: PostgreSQL 16 gives the
 *   creator ADMIN only, so the script grants the role to itself WITH INHERIT FALSE, SET TRUE;
 *   PostgreSQL 15 a plain GRANT (NOINHERIT keeps it from using the app's privileges). From
 *   16, altering a role needs ADMIN OPTION on it: the bootstrap grants it once for the roles
 *   the superuser created before.
 * - Grants on a database or schema are made by their owner: the script SETs ROLE to it.
 * - A password is set only when the role does not log in with the Vault value: the job tries
 *   the login itself ({@link ROLES_JOB_CHECK_SCRIPT}). Setting even the same password again
 *   gives it a new SCRAM salt, and PgBouncer (auth_query, SCRAM pass-through) then cannot
 *   open server connections for the clients that logged in before (and refuses every new
 *   login to that pool for server_login_retry). Checking the login, not a record of what was
 *   set, also leaves the roles of an upgraded cluster as they are, and sets back a password
 *   someone changed by hand.
 */

/** An application's role and database. */
export interface AppRole {
  /** The Vault file (three lines: user name, password, database) the values are read from. */
  readonly file: string;
  /** Who uses it, for the messages. */
  readonly service: string;
}

/**
 * A login of another component that writes one table in one schema of an existing
 * database: the backups capability's heartbeat. It gets LOGIN, CONNECT on that database,
 * USAGE and CREATE on the schema (created owned by the database's owner when missing), and
 * SELECT, INSERT and DELETE on the table when it exists and another role owns it.
 */
export interface SchemaWriterRole {
  /** The Vault file (two lines: user name, password) the values are read from. */
  readonly file: string;
  /** Who uses it, for the messages. */
  readonly who: string;
  /** The database (normally an app's own). When it does not exist, the script warns and creates nothing. */
  readonly database: string;
  /** The setting that names the database, for the warning (e.g. `backups.restoreTest.database`). */
  readonly databaseSetting: string;
  /** The schema it writes into. */
  readonly schema: string;
  /** The table it writes (it creates it itself when missing, owned by it). */
  readonly table: string;
}

/** What the pg-roles script creates or updates. */
export interface AppRolesModel {
  /** PostgreSQL's major version (16 changed what CREATEROLE may do). */
  readonly majorVersion: number;
  /** The role the script runs as (`pronto_roles`). */
  readonly runner: string;
  /** User names never altered: the superuser and the platform's roles. */
  readonly reserved: readonly string[];
  /** The applications' roles and databases. */
  readonly apps: readonly AppRole[];
  /** The backups' heartbeat login. @default - none */
  readonly heartbeat?: SchemaWriterRole;
  /**
   * The group of the logins PgBouncer may look up (the platform bootstrap creates it and gives
   * the runner ADMIN OPTION on it): every app's login and the heartbeat's are made members.
   */
  readonly poolerClients: string;
}

const SIMPLE_NAME = /^[a-z_][a-z0-9_]*$/;

function checkName(what: string, name: string): void {
  if (!SIMPLE_NAME.test(name)) throw new Error(`pg-roles: ${what}: expected a lower-case SQL name, found "${name}"`);
}

/** A message for psql's \warn: single-quoted, no quote inside. */
function warn(text: string): string {
  if (text.includes("'")) throw new Error(`pg-roles: a message may not contain a quote: ${text}`);
  return `\\warn '${text}'`;
}

/**
 * The statements that make the user in psql variable `user` a login with the password in
 * `password` (read from the Vault file `file`; `database` names the database the login is
 * checked against, else the file's third line); `prefix` names the \\gset flags. The role
 * must not clash (checked before). The password is set only when the login check says it
 * differs; a check that cannot tell leaves it, warns and fails the run.
 */
function loginRole(user: string, password: string, file: string, prefix: string, who: string, database?: string): string[] {
  return [
    `SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'${user}') AS ${prefix}_created \\gset`,
    `SELECT format('CREATE ROLE %I', :'${user}') WHERE :'${prefix}_created' \\gexec`,
    `SELECT format('ALTER ROLE %I LOGIN NOCREATEDB NOCREATEROLE', :'${user}') \\gexec`,
    // The password only when it does not log in already: the same password set again gets a new SCRAM salt (see the file's comment).
    `\\set ${prefix}_login \`sh "$${ROLES_JOB_ENV.dir}/${ROLES_JOB_FILES.check}" ${file}${database ? ` ${database}` : ''}\``,
    `SELECT :'${prefix}_login' = 'mismatch' AS ${prefix}_password_set, :'${prefix}_login' NOT IN ('match', 'mismatch') AS ${prefix}_login_unknown \\gset`,
    `\\if :${prefix}_password_set`,
    `SELECT format('ALTER ROLE %I PASSWORD %L', :'${user}', :'${password}') \\gexec`,
    '\\endif',
    `\\if :${prefix}_login_unknown`,
    warn(`pg-roles: ${who}: could not check its login (see above): its password was left unchanged`),
    '\\set failed true',
    '\\endif',
  ];
}

/**
 * True (SQL) when the user name in psql variable `user` must never be altered by the runner:
 * a reserved (platform) name, a superuser, a replication or RLS-bypassing role, a role the
 * runner has no ADMIN OPTION on (PostgreSQL 16+: it may not alter it), or, with `ownsDatabase`,
 * a role that owns a database (an app's, for the heartbeat).
 */
function clash(m: AppRolesModel, user: string, ownsDatabase: boolean): string {
  const unmanaged = m.majorVersion >= 16 ? " OR NOT pg_has_role(r.oid, 'MEMBER WITH ADMIN OPTION')" : '';
  const owner = ownsDatabase ? ' OR EXISTS (SELECT 1 FROM pg_database d WHERE d.datdba = r.oid)' : '';
  return `(:'${user}' IN (${m.reserved.map((r) => `'${r}'`).join(', ')}) OR EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = :'${user}'` +
    ` AND (r.rolsuper OR r.rolreplication OR r.rolbypassrls${unmanaged}${owner})))`;
}

/** SQL: true when the runner may SET ROLE to the role `oid` (16+: the SET option; 15: membership). */
function canSet(m: AppRolesModel, oid: string): string {
  return `pg_has_role(${oid}, '${m.majorVersion >= 16 ? 'SET' : 'MEMBER'}')`;
}

/** The statement that makes the login in psql variable `user` a member of the pooler's group, unless it is one (PgBouncer then finds it). */
function poolerMember(m: AppRolesModel, user: string): string {
  return `SELECT format('GRANT %I TO %I', '${m.poolerClients}', :'${user}') WHERE NOT EXISTS (SELECT 1 FROM pg_auth_members g `
    + `JOIN pg_roles r ON r.oid = g.roleid JOIN pg_roles u ON u.oid = g.member WHERE r.rolname = '${m.poolerClients}' AND u.rolname = :'${user}') \\gexec`;
}

/** The statement that lets the runner SET ROLE to the role in psql variable `user` (CREATE DATABASE … OWNER needs it). */
function membership(m: AppRolesModel, user: string): string {
  return m.majorVersion >= 16
    ? `SELECT format('GRANT %I TO %I WITH INHERIT FALSE, SET TRUE', :'${user}', current_user) WHERE NOT pg_has_role(:'${user}', 'SET') \\gexec`
    : `SELECT format('GRANT %I TO %I', :'${user}', current_user) WHERE NOT pg_has_role(:'${user}', 'MEMBER') \\gexec`;
}

function appPart(m: AppRolesModel, a: AppRole): string[] {
  const why = 'a superuser, a replication or RLS-bypassing role, a platform role' + (m.majorVersion >= 16 ? `, or a role ${m.runner} has no ADMIN OPTION on` : '');
  return [
    `-- ${a.service}`,
    `\\set app_user \`sed -n 1p ${a.file}\``,
    `\\set app_password \`sed -n 2p ${a.file}\``,
    `\\set app_db \`sed -n 3p ${a.file}\``,
    `SELECT ${clash(m, 'app_user', false)} AS app_clash \\gset`,
    '\\if :app_clash',
    warn(`pg-roles: ${a.service}: its user name is ${why}: left unchanged; give it a login of its own`),
    '\\set failed true',
    '\\else',
    ...loginRole('app_user', 'app_password', a.file, 'app', a.service),
    poolerMember(m, 'app_user'),
    membership(m, 'app_user'),
    "SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'app_db') AS app_db_created \\gset",
    "SELECT format('CREATE DATABASE %I OWNER %I', :'app_db', :'app_user') WHERE :'app_db_created' \\gexec",
    "SELECT EXISTS (SELECT 1 FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE d.datname = :'app_db' AND r.rolname = :'app_user') AS app_owns_db \\gset",
    '\\if :app_owns_db',
    // Grants on a database are its owner's to make.
    'SET ROLE :"app_user";',
    'REVOKE ALL ON DATABASE :"app_db" FROM PUBLIC;',
    'RESET ROLE;',
    '\\else',
    `\\warn 'pg-roles: ${a.service}: database' :app_db 'is owned by another role than' :app_user ': its privileges were left unchanged'`,
    '\\set failed true',
    '\\endif',
    `SELECT format('pg-roles: %s: role %s%s, database %s%s', '${a.service}', :'app_user',`,
    "  CASE WHEN :'app_created' THEN ' (created)' WHEN :'app_password_set' THEN ' (password set)' ELSE '' END,",
    "  :'app_db', CASE WHEN :'app_db_created' THEN ' (created)' ELSE '' END);",
    '\\endif',
  ];
}

/**
 * The heartbeat's part: skipped with a warning (and a failed run) when its user name is one
 * that must never be altered (see {@link clash}; also a role owning a database: an app's),
 * or when its database does not exist or is owned by a role the runner cannot act as.
 */
function schemaWriterPart(m: AppRolesModel, w: SchemaWriterRole): string[] {
  for (const [what, name] of [['database', w.database], ['schema', w.schema], ['table', w.table]]) checkName(`${w.who}: ${what}`, name);
  const writer = "(SELECT oid FROM pg_roles WHERE rolname = :'writer_user')";
  const database = `(SELECT 1 FROM pg_database d WHERE d.datname = '${w.database}'`;
  const schema = `pg_namespace n WHERE n.nspname = '${w.schema}' AND n.nspowner <> ${writer}`;
  const table = `pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '${w.schema}' AND c.relname = '${w.table}' AND c.relowner <> ${writer}`;
  const asOwner = (owner: string, statement: string) => `SELECT format('SET ROLE %I', pg_get_userbyid(${owner})), ${statement}, 'RESET ROLE'`;
  return [
    `-- ${w.who}: LOGIN, CONNECT on ${w.database}, USAGE and CREATE on schema ${w.schema} (created owned by the database's owner), its table ${w.schema}.${w.table}`,
    `\\set writer_user \`sed -n 1p ${w.file}\``,
    `\\set writer_password \`sed -n 2p ${w.file}\``,
    `SELECT ${clash(m, 'writer_user', true)} AS writer_clash,`,
    `  EXISTS ${database}) AS writer_database, EXISTS ${database} AND ${canSet(m, 'd.datdba')}) AS writer_owner \\gset`,
    '\\if :writer_clash',
    warn(`pg-roles: ${w.who}: its user name is a superuser, a replication or RLS-bypassing role, a platform role, an app role (it owns a database)` +
      `${m.majorVersion >= 16 ? ` or a role ${m.runner} has no ADMIN OPTION on` : ''}: left unchanged; give it a login of its own`),
    '\\set failed true',
    '\\elif :writer_owner',
    ...loginRole('writer_user', 'writer_password', w.file, 'writer', w.who, w.database),
    poolerMember(m, 'writer_user'),
    // CONNECT for the writer, and for the runner itself (NOINHERIT: the owner's rights are not its own) to connect and make the schema.
    `${asOwner('d.datdba', "format('GRANT CONNECT ON DATABASE %I TO %I, %I', d.datname, :'writer_user', current_user)")}`,
    `  FROM pg_database d WHERE d.datname = '${w.database}' \\gexec`,
    `\\connect ${w.database}`,
    `${asOwner('d.datdba', `format('CREATE SCHEMA %I', '${w.schema}')`)}`,
    `  FROM pg_database d WHERE d.datname = current_database() AND NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '${w.schema}') \\gexec`,
    `${asOwner('n.nspowner', "format('GRANT USAGE, CREATE ON SCHEMA %I TO %I', n.nspname, :'writer_user')")}`,
    `  FROM ${schema} AND ${canSet(m, 'n.nspowner')} \\gexec`,
    `${asOwner('c.relowner', "format('GRANT SELECT, INSERT, DELETE ON TABLE %I.%I TO %I', n.nspname, c.relname, :'writer_user')")}`,
    `  FROM ${table} AND ${canSet(m, 'c.relowner')} \\gexec`,
    `SELECT EXISTS (SELECT 1 FROM ${schema} AND NOT ${canSet(m, 'n.nspowner')}) OR EXISTS (SELECT 1 FROM ${table} AND NOT ${canSet(m, 'c.relowner')}) AS writer_foreign \\gset`,
    '\\if :writer_foreign',
    warn(`pg-roles: ${w.who}: schema ${w.schema} or table ${w.schema}.${w.table} of ${w.database} is owned by a role ${m.runner} cannot act as: grant the writer USAGE and CREATE, or SELECT, INSERT and DELETE, by hand`),
    '\\set failed true',
    '\\endif',
    `SELECT format('pg-roles: %s: role %s%s', '${w.who}', :'writer_user', CASE WHEN :'writer_created' THEN ' (created)' WHEN :'writer_password_set' THEN ' (password set)' ELSE '' END);`,
    '\\elif :writer_database',
    warn(`pg-roles: ${w.who}: database ${w.database} (${w.databaseSetting}) is owned by a role ${m.runner} cannot act as: its role was not created`),
    '\\set failed true',
    '\\else',
    warn(`pg-roles: ${w.who}: database ${w.database} (${w.databaseSetting}) does not exist: its role was not created`),
    '\\set failed true',
    '\\endif',
  ];
}

/**
 * The pg-roles script (psql, idempotent), connected to `postgres` as the runner: for each app
 * its role (created when missing; LOGIN, its password when it does not log in with the Vault
 * value, a member of the pooler's group) and its database (created owned by it when missing; PUBLIC's privileges
 * revoked), then the heartbeat's login ({@link SchemaWriterRole}). What cannot be applied is
 * left unchanged with a warning, the rest is applied, and the run then fails, so that the
 * Job shows it. Passwords are read from the Vault files with psql's backquote expansion,
 * never written to the script.
 */
export function renderAppRolesScript(m: AppRolesModel): string {
  checkName('runner', m.runner);
  checkName('pooler clients group', m.poolerClients);
  for (const r of m.reserved) checkName('reserved role', r);
  return [
    '-- Generated by Pronto Platform (lib/database/app-roles.ts): do not edit.',
    `-- The apps' roles and databases, applied by the pg-roles job as ${m.runner}. Idempotent; passwords are set only when changed.`,
    '\\set ON_ERROR_STOP on',
    '\\pset format unaligned',
    '\\pset tuples_only on',
    "SET password_encryption = 'scram-sha-256';",
    '\\set failed false',
    ...m.apps.flatMap((a) => appPart(m, a)),
    // Roles and grants on databases work from any database: the heartbeat's part then connects to its own.
    ...(m.heartbeat ? schemaWriterPart(m, m.heartbeat) : []),
    '\\if :failed',
    "DO $$ BEGIN RAISE EXCEPTION 'pg-roles: some roles or databases were left unchanged: see the warnings above (the rest was applied)'; END $$;",
    '\\endif',
    '',
  ].join('\n');
}

/** Env vars of the job's scripts. */
export const ROLES_JOB_ENV = {
  /** File holding the runner's password (rendered by Vault). */
  loginFile: 'PRONTO_ROLES_LOGIN_FILE',
  /** The folder of the job's files (set by pg-roles.sh for the SQL's login checks). */
  dir: 'PG_ROLES_DIR',
} as const;

/** File names in the job's ConfigMap. */
export const ROLES_JOB_FILES = {
  script: 'pg-roles.sh',
  sql: 'app-roles.sql',
  check: 'check-login.sh',
} as const;

/**
 * Does the login in a Vault file (user name, password[, database]) log in, as it is? `sh
 * check-login.sh <file> [database]` prints `match` (it logs in, or PostgreSQL authenticated it
 * and refused it after: no such database, NOLOGIN, no CONNECT, its connection limit),
 * `mismatch` (password authentication failed: another password, none, or no such role), or
 * `unknown` with the reason on stderr (anything else: nothing is changed). PostgreSQL's
 * messages are English: start.sh runs initdb with --locale=C.UTF-8, and lc_messages is not set.
 * The password goes to psql in its environment only, never on a command line.
 */
export const ROLES_JOB_CHECK_SCRIPT = `#!/bin/sh
# Generated by Pronto Platform (lib/database/app-roles.ts): do not edit.
# check-login.sh <vault file> [database]: prints match, mismatch or unknown (see app-roles.ts).
set -u
user=$(sed -n 1p "$1")
database=\${2:-$(sed -n 3p "$1")}
if out=$(PGPASSWORD=$(sed -n 2p "$1") psql -X -q -A -t -U "$user" -d "$database" -c 'SELECT 1' 2>&1); then
  echo match
  exit 0
fi
case "$out" in
  *"password authentication failed"*) echo mismatch ;;
  *"does not exist"*|*"is not permitted to log in"*|*"permission denied for database"*|*"too many connections for role"*) echo match ;;
  *) echo unknown; printf 'pg-roles: checking the login of %s failed: %s\\n' "$user" "$out" >&2 ;;
esac
`;

/** The job's entrypoint: psql over TCP (PGHOST, PGPORT, PGUSER, PGDATABASE from env), the password from its Vault file. */
export const ROLES_JOB_SCRIPT = `#!/bin/sh
# Generated by Pronto Platform (lib/database/app-roles.ts): do not edit.
# The apps' roles and databases, as $PGUSER over TCP to $PGHOST:$PGPORT (never PgBouncer).
set -eu
PGPASSWORD=$(cat "$${ROLES_JOB_ENV.loginFile}")
${ROLES_JOB_ENV.dir}=$(dirname "$0")
export PGPASSWORD ${ROLES_JOB_ENV.dir}
echo "pg-roles: applying ${ROLES_JOB_FILES.sql} as $PGUSER on $PGHOST:$PGPORT"
exec psql -X -q -v ON_ERROR_STOP=1 -f "$(dirname "$0")/${ROLES_JOB_FILES.sql}"
`;
