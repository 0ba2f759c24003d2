/**
 * The two steps that give a real PostgreSQL its roles, as a cluster runs them: the platform
 * bootstrap of the synthesized `postgres` ConfigMap, as the superuser over the server's
 * socket (what start.sh does, with the superuser's password when the server asks for one),
 * and the synthesized pg-roles job (its ConfigMap's script and SQL, its CronJob's env), as
 * `pronto_roles` over TCP with its password. Only the Vault folder, the CA bundle folder and
 * the address are rewritten: the job dials 127.0.0.1 (PGHOSTADDR) under its own PGHOST, which
 * is the name verify-full checks when TLS is on. Shared by the real-program suites.
 */
import { SpawnSyncReturns, spawnSync } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { Manifest } from '../../lib/core';
import { DATABASE_ROLES, POSTGRES_FILES, ROLES_JOB, ROLES_JOB_ENV, ROLES_JOB_FILES } from '../../lib/database';
import { CA_BUNDLE_DIR } from '../../lib/tls';
import { RunningPostgres, isRoot } from './postgres';

/** Where the Vault agent renders the files in the pods. */
const VAULT_DIR = '/run/secrets/';

/** Passwords of the test's Vault entries. */
export const PASSWORDS = {
  pgbouncerAuth: 'auth-pw-1',
  pgbouncerAdmin: 'admin-pw-1',
  /** With a `:` and a `\`, which a libpq password file must escape. */
  pgbouncerStats: 'stats:pw\\1',
  backup: 'backup-pw-1',
  roles: 'roles-pw-1',
  exporter: 'exporter:pw\\1',
} as const;

export interface RolesHarness {
  /** The folder standing in for /run/secrets. */
  readonly secrets: string;
  /** The folder standing in for lib/tls's CA_BUNDLE_DIR (`<dir>/<configMap>/<key>`). */
  readonly caBundles: string;
  /** `text` with the pods' paths (Vault files, CA bundles) made this harness's. */
  local(text: string): string;
  /** Writes one Vault file (as the agent renders it), readable by the `postgres` user. */
  writeSecret(file: string, text: string): void;
  /** Writes an app's entry (user name, password, database), as the pg-roles pod's agent renders it. */
  writeApp(app: string, user: string, password: string, database: string): void;
  /** Runs the platform bootstrap (the synthesized one by default) as the superuser over the socket. */
  bootstrap(script?: string, name?: string): SpawnSyncReturns<string>;
  /** Runs the pg-roles job's script (the synthesized SQL by default) as pronto_roles over TCP. */
  applyApps(sql?: string, name?: string): SpawnSyncReturns<string>;
  /** The pg-roles CronJob's container env, literal values only, as synthesized. */
  readonly jobEnv: Readonly<Record<string, string>>;
}

/** The ConfigMap `name`'s data among `manifests`. */
export function configMapData(manifests: Manifest[], name: string): Record<string, string> {
  const found = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata?.name === name) as any;
  if (!found) throw new Error(`no ConfigMap ${name}`);
  return found.data;
}

/**
 * The harness for `pg` and the synthesized `manifests`: the Vault folder (with the
 * platform's entries: PgBouncer's, the backup role's, pronto_roles') is created in the
 * server's folder.
 */
export function rolesHarness(pg: RunningPostgres, manifests: Manifest[]): RolesHarness {
  const secrets = path.join(pg.dir, 'secrets');
  const caBundles = path.join(pg.dir, 'ca');
  mkdirSync(secrets, { recursive: true });
  const writeSecret = (file: string, text: string) => {
    writeFileSync(path.join(secrets, file), text);
    if (isRoot()) spawnSync('chown', ['-R', 'postgres:postgres', secrets]);
  };
  writeSecret('pgbouncer-auth', PASSWORDS.pgbouncerAuth);
  writeSecret('walg-backup', PASSWORDS.backup);
  writeSecret('pronto-roles', PASSWORDS.roles);
  writeSecret('postgres-exporter', PASSWORDS.exporter);
  // As the agent renders the template (PgBouncer reads "" inside a quoted value as one quote; these have none).
  writeSecret('pgbouncer-users', `"${DATABASE_ROLES.pgbouncerAuth}" "${PASSWORDS.pgbouncerAuth}"\n"${DATABASE_ROLES.pgbouncerAdmin}" "${PASSWORDS.pgbouncerAdmin}"\n`
    + `"${DATABASE_ROLES.pgbouncerStats}" "${PASSWORDS.pgbouncerStats}"\n`);
  writeSecret('pgbouncer-stats', PASSWORDS.pgbouncerStats);
  const local = (text: string) => text.replaceAll(VAULT_DIR, `${secrets}/`).replaceAll(`${CA_BUNDLE_DIR}/`, `${caBundles}/`);
  const job = (manifests.find((m) => m.kind === 'CronJob' && m.metadata?.name === ROLES_JOB) as any).spec.jobTemplate.spec.template.spec.containers[0];
  const jobEnv: Record<string, string> = Object.fromEntries((job.env as Array<{ name: string; value?: string }>)
    .filter((e) => e.value !== undefined).map((e) => [e.name, local(e.value!)]));
  return {
    secrets,
    caBundles,
    local,
    writeSecret,
    writeApp: (app, user, password, database) => writeSecret(`app-${app}`, `${user}\n${password}\n${database}\n`),
    jobEnv,
    bootstrap: (script = configMapData(manifests, 'postgres')[POSTGRES_FILES.roles], name = 'platform-roles.sql') => {
      writeFileSync(path.join(pg.dir, name), local(script));
      return spawnSync(pg.bin('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-d', 'postgres',
        '-f', path.join(pg.dir, name)], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...pg.superuserEnv } });
    },
    applyApps: (sql = configMapData(manifests, ROLES_JOB)[ROLES_JOB_FILES.sql], name = ROLES_JOB) => {
      // The job's ConfigMap as its pod mounts it: the script runs psql on the SQL beside it.
      const dir = path.join(pg.dir, name);
      mkdirSync(dir, { recursive: true });
      for (const [file, text] of Object.entries(configMapData(manifests, ROLES_JOB))) writeFileSync(path.join(dir, file), local(text));
      writeFileSync(path.join(dir, ROLES_JOB_FILES.sql), local(sql));
      return spawnSync('sh', [path.join(dir, ROLES_JOB_FILES.script)], { encoding: 'utf8', timeout: 30_000, env: {
        PATH: `${path.dirname(pg.bin('psql'))}:/usr/bin:/bin`, ...jobEnv, PGHOSTADDR: '127.0.0.1', PGPORT: String(pg.port),
        [ROLES_JOB_ENV.loginFile]: path.join(secrets, 'pronto-roles'),
      } });
    },
  };
}
