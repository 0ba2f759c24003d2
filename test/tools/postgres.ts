/**
 * A real, throw-away PostgreSQL for the suites that run real programs against it (PgBouncer,
 * the restore-test script). Debian's `postgresql` package (CI installs it: .ci/run) puts the
 * server in /usr/lib/postgresql/<major>/bin. Suites call {@link postgresOrSkip} once at load:
 * without PostgreSQL they skip with a loud notice, never pass silently.
 *
 * initdb, postgres and pgbouncer refuse to run as root, and CI runs as root: every program
 * then runs as the `postgres` user through `runuser -u postgres --`, in a temporary folder
 * owned by that user. Not root: the programs run directly. Each instance listens on a free
 * port on 127.0.0.1 and on a Unix socket inside its folder; {@link RunningPostgres.stop}
 * stops it at once (`pg_ctl -m immediate`) and removes the folder.
 *
 * Speed: the folders are in memory (/dev/shm) when it has room, since initdb and
 * PostgreSQL's I/O on a slow disk are most of these suites' time; initdb runs with
 * `--no-sync`; the server runs with `fsync=off` given on its command line, so that the
 * setting never travels in a copy of its data directory (a base backup restored by the
 * restore test runs with the settings of its own files, as in production).
 */
import { ChildProcess, SpawnSyncReturns, spawn, spawnSync } from 'child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, statfsSync, writeFileSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';

/** The folder of the newest installed PostgreSQL server binaries, or undefined. */
function findBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const majors = readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
    for (const m of majors) {
      const dir = path.join(root, m, 'bin');
      if (existsSync(path.join(dir, 'postgres')) && existsSync(path.join(dir, 'initdb'))) return dir;
    }
  }
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const dir = pgConfig.status === 0 ? pgConfig.stdout.trim() : undefined;
  return dir && existsSync(path.join(dir, 'postgres')) ? dir : undefined;
}

/** Where initdb, postgres, pg_ctl, psql, pgbench, pg_basebackup … are. */
export const POSTGRES_BIN_DIR = findBinDir();
/** The installed server's major version (16 from `postgres (PostgreSQL) 16.4`), or undefined. */
export const POSTGRES_MAJOR: number | undefined = (() => {
  if (!POSTGRES_BIN_DIR) return undefined;
  const out = spawnSync(path.join(POSTGRES_BIN_DIR, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout ?? '';
  const m = /\(PostgreSQL\) (\d+)/.exec(out);
  return m ? Number(m[1]) : undefined;
})();
/** True when a PostgreSQL server can be started here. */
export const HAS_POSTGRES = POSTGRES_BIN_DIR !== undefined && (!isRoot() || spawnSync('id', ['-u', 'postgres']).status === 0);

/** True when this process runs as root (CI): programs then run as `postgres`. */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** `describe`, or `describe.skip` with a loud notice naming `what` when PostgreSQL is missing. */
export function postgresOrSkip(what: string): jest.Describe {
  if (HAS_POSTGRES) return describe;
  console.warn(`\n!!! SKIPPED: ${what}: PostgreSQL is missing (Debian package postgresql; CI installs it: .ci/run) !!!\n`);
  return describe.skip;
}

/** The command line that runs `cmd args` as `postgres` when we are root, else as is. */
export function asPostgres(cmd: string, args: readonly string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, [...args]];
}

/** A TCP port nobody listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Free space in memory a scratch folder asks for by default: one small cluster, its WAL and its log with room to spare. */
export const SCRATCH_IN_MEMORY_BYTES = 1024 ** 3;

/** The parent of scratch folders: /dev/shm when it exists with `freeBytes` free, else the temporary folder. */
export function scratchParent(freeBytes = SCRATCH_IN_MEMORY_BYTES): string {
  try {
    const shm = '/dev/shm';
    const fs = statfsSync(shm);
    if (statSync(shm).isDirectory() && fs.bavail * fs.bsize >= freeBytes) return shm;
  } catch {
    // No /dev/shm (macOS, some containers): the temporary folder.
  }
  return tmpdir();
}

/**
 * Scratch folders not removed yet, each with what removes it (stopping its server first).
 * A suite that imports this file gets a last afterAll that runs them, should its own
 * afterAll fail or forget (a folder left in /dev/shm holds memory until the machine restarts).
 */
const liveScratch = new Map<string, () => void>();
if (typeof afterAll === 'function') {
  afterAll(() => {
    for (const cleanup of [...liveScratch.values()]) cleanup();
  });
}

/**
 * A folder the `postgres` user owns (when we are root), in memory when there is room
 * ({@link scratchParent}); the caller removes it with {@link removeScratch} (else it goes
 * when the suite ends).
 */
export function postgresScratch(prefix = 'pronto-pg-', freeBytes = SCRATCH_IN_MEMORY_BYTES): string {
  const dir = mkdtempSync(path.join(scratchParent(freeBytes), prefix));
  liveScratch.set(dir, () => removeScratch(dir));
  chmodSync(dir, 0o755);
  if (isRoot()) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  return dir;
}

/** Removes a folder of {@link postgresScratch}. Idempotent. */
export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveScratch.delete(dir);
}

export interface StartPostgresOptions {
  /**
   * postgresql.conf settings added after initdb's, e.g. `{ max_connections: 20 }`; strings
   * are quoted. They are in the data directory's file, so a base backup carries them.
   * @default - none
   */
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  /**
   * Settings for speed given on the server's command line only (never in a copy of its data
   * directory), for tests whose proof does not depend on them.
   * @default - `{ fsync: false }`: no test crashes the server and expects its data back
   */
  readonly speed?: Readonly<Record<string, string | number | boolean>>;
  /**
   * pg_hba.conf lines, replacing initdb's.
   * @default - `local all all trust` and `host all all 127.0.0.1/32 scram-sha-256`
   */
  readonly hba?: readonly string[];
  /**
   * The superuser's password (initdb --pwfile), for an hba that asks it for one (the
   * synthesized pg_hba.conf): {@link RunningPostgres.psql} then logs in as `postgres` with it.
   * @default - none (the default hba trusts the socket)
   */
  readonly superuserPassword?: string;
}

export interface PsqlOptions {
  /** Database. @default 'postgres' */
  readonly database?: string;
  /** Role. @default 'postgres' */
  readonly user?: string;
  /** Connect over TCP to 127.0.0.1 at this port instead of the Unix socket (e.g. PgBouncer's). @default - the server's socket */
  readonly port?: number;
  /** Password (PGPASSWORD) for a TCP connection. @default - none */
  readonly password?: string;
  /** Return the result instead of throwing on a non-zero exit. @default false */
  readonly allowFailure?: boolean;
}

export interface RunningPostgres {
  /** TCP port on 127.0.0.1 (also the socket's port number). */
  readonly port: number;
  /** PGDATA. */
  readonly dataDir: string;
  /** The temporary folder holding PGDATA, the socket folder and the log (owned by `postgres` under root). */
  readonly dir: string;
  /** The Unix socket folder (`unix_socket_directories`). */
  readonly socketDir: string;
  /** The server log file. */
  readonly logFile: string;
  /** The env that logs a psql in as the superuser: PGPASSWORD when it has a password. */
  readonly superuserEnv: Readonly<Record<string, string>>;
  /** Path of a PostgreSQL program, e.g. `bin('pgbench')`. */
  bin(name: string): string;
  /** Runs `cmd args` (synchronously) as `postgres` under root, else directly; `env` is added to this process's. */
  runAsPostgres(cmd: string, args: readonly string[], env?: Readonly<Record<string, string>>): SpawnSyncReturns<string>;
  /** Runs `sql` through psql (`-AtX`, ON_ERROR_STOP) and returns its output; throws on failure unless `allowFailure`. */
  psql(sql: string, opts?: PsqlOptions): string;
  /** Stops the server at once and removes {@link dir}. Idempotent. */
  stop(): void;
}

function quoteSetting(value: string | number | boolean): string {
  return typeof value === 'string' ? `'${value.replace(/'/g, "''")}'` : String(value);
}

/**
 * initdb in a fresh temporary folder, then start PostgreSQL on a free port, listening on
 * 127.0.0.1 and a socket in the folder; resolves once it accepts connections.
 */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<RunningPostgres> {
  if (!POSTGRES_BIN_DIR) throw new Error('PostgreSQL is not installed (postgresOrSkip should have skipped this suite)');
  const binDir = POSTGRES_BIN_DIR;
  const bin = (name: string) => path.join(binDir, name);
  const dir = postgresScratch();
  const dataDir = path.join(dir, 'data');
  const socketDir = path.join(dir, 'sock');
  const logFile = path.join(dir, 'postgres.log');
  const port = await freePort();
  const runAsPostgres = (cmd: string, args: readonly string[], env: Readonly<Record<string, string>> = {}) => {
    const [c, a] = asPostgres(cmd, args);
    return spawnSync(c, a, { encoding: 'utf8', env: { ...process.env, ...env }, cwd: dir, timeout: 60_000 });
  };
  const must = (what: string, r: SpawnSyncReturns<string>) => {
    if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (existsSync(path.join(dataDir, 'postmaster.pid'))) runAsPostgres(bin('pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    removeScratch(dir);
  };
  liveScratch.set(dir, stop);
  try {
    must('mkdir', runAsPostgres('mkdir', ['-m', '0700', socketDir]));
    const pwfile = path.join(dir, 'superuser-password');
    if (opts.superuserPassword !== undefined) {
      writeFileSync(pwfile, opts.superuserPassword, { mode: 0o600 });
      if (isRoot()) must('chown', spawnSync('chown', ['postgres:postgres', pwfile], { encoding: 'utf8' }));
    }
    must('initdb', runAsPostgres(bin('initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C',
      ...(opts.superuserPassword !== undefined ? [`--pwfile=${pwfile}`] : [])]));
    const settings: Record<string, string | number | boolean> = {
      listen_addresses: '127.0.0.1', port, unix_socket_directories: socketDir, ...opts.settings,
    };
    const speed = Object.entries(opts.speed ?? { fsync: false }).map(([k, v]) => `-c ${k}=${typeof v === 'boolean' ? (v ? 'on' : 'off') : v}`).join(' ');
    appendFileSync(path.join(dataDir, 'postgresql.conf'),
      `\n# test settings\n${Object.entries(settings).map(([k, v]) => `${k} = ${quoteSetting(v)}`).join('\n')}\n`);
    writeFileSync(path.join(dataDir, 'pg_hba.conf'),
      `${(opts.hba ?? ['local all all trust', 'host all all 127.0.0.1/32 scram-sha-256']).join('\n')}\n`);
    if (isRoot()) must('chown', spawnSync('chown', ['postgres:postgres', path.join(dataDir, 'postgresql.conf'), path.join(dataDir, 'pg_hba.conf')], { encoding: 'utf8' }));
    must('pg_ctl start', runAsPostgres(bin('pg_ctl'), ['-D', dataDir, '-l', logFile, '-w', '-t', '30', ...(speed ? ['-o', speed] : []), 'start']));
  } catch (e) {
    stop();
    throw e;
  }
  const superuserEnv: Record<string, string> = opts.superuserPassword !== undefined ? { PGPASSWORD: opts.superuserPassword } : {};
  const psql = (sql: string, o: PsqlOptions = {}) => {
    const user = o.user ?? 'postgres';
    const args = ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', o.port ? '127.0.0.1' : socketDir, '-p', String(o.port ?? port),
      '-U', user, '-d', o.database ?? 'postgres', '-c', sql];
    const password = o.password !== undefined ? { PGPASSWORD: o.password } : user === 'postgres' ? superuserEnv : {};
    const r = spawnSync(bin('psql'), args, { encoding: 'utf8', env: { ...process.env, ...password, PGCONNECT_TIMEOUT: '5' }, timeout: 30_000 });
    if (r.status !== 0 && !o.allowFailure) throw new Error(`psql failed (${r.status}): ${r.stderr}`);
    return r.status === 0 ? r.stdout.trim() : `${r.stdout}${r.stderr}`;
  };
  return { port, dataDir, dir, socketDir, logFile, superuserEnv, bin, runAsPostgres, psql, stop };
}

/** Makes `dir` (and its parents below the scratch folder) exist, owned by `postgres` under root. */
export function mkdirForPostgres(dir: string): void {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  if (isRoot()) spawnSync('chown', ['postgres:postgres', dir]);
}

/** A program running in the background (as `postgres` under root), in a process group of its own. */
export interface BackgroundProgram {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Kills the whole process group (runuser and the program), at once. Idempotent. */
  kill(): void;
}

/** Starts `cmd args` in the background as `postgres` under root (else directly), in its own process group. */
export function spawnAsPostgres(cmd: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): BackgroundProgram {
  const [c, a] = asPostgres(cmd, args);
  const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...env } });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  let killed = false;
  return {
    child,
    output: () => out,
    kill: () => {
      if (killed || child.pid === undefined) return;
      killed = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
      child.stdout?.destroy();
      child.stderr?.destroy();
    },
  };
}
