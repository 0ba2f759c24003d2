/**
 * The restore-test script, for real: a live PostgreSQL with WAL archiving (a `cp` archive),
 * a base backup of it (`pg_basebackup`, no WAL: like WAL-G, every restore needs the
 * archive), more writes and WAL switches; then the exact script of the synthesized
 * ConfigMap, with PostgreSQL's own equivalents of WAL-G's fetch commands, restores,
 * recovers and verifies a copy. It must pass on the good archive and fail, saying why, on
 * a missing WAL segment, an unreadable one, a stale heartbeat and a corrupted backup.
 * The restores share one live database and one base backup and run in parallel.
 */
import { spawn } from 'child_process';
import { spawnSync } from 'child_process';
import {
  chmodSync, closeSync, copyFileSync, cpSync, existsSync, linkSync, openSync, readFileSync, readdirSync, unlinkSync, writeFileSync, writeSync,
} from 'fs';
import { AddressInfo } from 'net';
import { Server, createServer } from 'http';
import * as path from 'path';
import { HEARTBEAT_SQL, RESTORE_TEST_ENV as E } from '../../lib/backups';
import { RunningPostgres, asPostgres, isRoot, mkdirForPostgres, postgresOrSkip, postgresScratch, removeScratch, startPostgres } from './postgres';
import { restoreTestFromSynth } from '../lib/backups/fixture';

/**
 * Free space the restores' folder needs: six copies of the small cluster, its WAL and the
 * archive (some 500 MB). In /dev/shm when it has that much (on a slow disk the copies are
 * most of the suite's time), else in the temporary folder.
 */
const SCRATCH_BYTES = 2 * 1024 ** 3;

interface Run {
  readonly status: number | null;
  readonly output: string;
}

const HEARTBEAT_STALE_SECONDS = 300;

postgresOrSkip('the restore-test script against real PostgreSQL')('the restore-test script, run for real', () => {
  let pg: RunningPostgres;
  let scratch: string;
  let archive: string;
  let base: string;
  let scriptFile: string;
  let synthEnv: Record<string, string>;
  /** Segments: the one the backup starts in (needed for consistency), and three written after it. */
  let segments: { start: string; after: string[] };
  let pushed: string[] = [];
  let server: Server;
  let pushUrl: string;

  /** Runs the script as postgres in a fresh work folder; `env` overrides the synthesized job's. */
  function restore(name: string, env: Record<string, string>): Promise<Run> {
    const work = path.join(scratch, `work-${name}`);
    mkdirForPostgres(work);
    const all: Record<string, string> = {
      ...synthEnv,
      PATH: `${path.dirname(pg.bin('postgres'))}:/usr/local/bin:/usr/bin:/bin`,
      PGDATA: path.join(work, 'pgdata'),
      [E.workDir]: work,
      [E.fetchCommand]: `mkdir -p "$PGDATA" && cp -R '${base}/.' "$PGDATA"`,
      [E.walFetchCommand]: walFetch(archive),
      [E.pollSeconds]: '0.1',
      [E.recoveryTimeoutSeconds]: '60',
      // The job's shared_buffers is sized for its pod; six copies at once here need little.
      [E.sharedBuffers]: '16MB',
      [E.pushgatewayUrl]: '',
      ...env,
    };
    const [cmd, args] = asPostgres('env', [...Object.entries(all).map(([k, v]) => `${k}=${v}`), 'sh', scriptFile]);
    return new Promise((resolve) => {
      const child = spawn(cmd, args, { cwd: scratch, env: { PATH: process.env.PATH } });
      let output = '';
      child.stdout.on('data', (d) => { output += d; });
      child.stderr.on('data', (d) => { output += d; });
      child.on('close', (status) => resolve({ status, output }));
    });
  }

  /**
   * PostgreSQL's equivalent of `wal-g wal-fetch %f %p`: copy from the archive folder, exit 74
   * when the file is not there (WAL-G's code), any other failure as cp fails. A script, since
   * the wrapper runs `$WALG_FETCH %f %p` without a shell.
   */
  function walFetch(dir: string): string {
    const file = path.join(scratch, `wal-fetch-${path.basename(dir)}.sh`);
    writeFileSync(file, `#!/bin/sh\n[ -e '${dir}/'"$1" ] || exit 74\nexec cp '${dir}/'"$1" "$2"\n`, { mode: 0o755 });
    return `sh ${file}`;
  }

  /** A copy of the archive made of hard links (instant), so a case can take one segment away. */
  function archiveCopy(name: string): string {
    const dir = path.join(scratch, `archive-${name}`);
    mkdirForPostgres(dir);
    for (const f of readdirSync(archive)) linkSync(path.join(archive, f), path.join(dir, f));
    return dir;
  }

  const runs: Record<string, Promise<Run>> = {};
  const heartbeatRuns: Array<{ status: number | null; stderr: string }> = [];
  let heartbeatRows = '';

  beforeAll(async () => {
    scratch = postgresScratch('pronto-restore-test-', SCRATCH_BYTES);
    archive = path.join(scratch, 'archive');
    base = path.join(scratch, 'base');
    mkdirForPostgres(archive);
    pg = await startPostgres({
      settings: { wal_level: 'replica', archive_mode: 'on', archive_command: `cp %p ${archive}/%f`, autovacuum: false },
      hba: ['local all all trust', 'local replication all trust'],
    });
    const { script, env } = restoreTestFromSynth();
    scriptFile = path.join(scratch, 'restore-test.sh');
    writeFileSync(scriptFile, script, { mode: 0o644 });
    synthEnv = env;

    // The live database: the heartbeat job's own SQL (twice: it creates its table once) and orders.
    const db = synthEnv[E.database];
    const heartbeatSql = path.join(scratch, 'heartbeat.sql');
    writeFileSync(heartbeatSql, HEARTBEAT_SQL);
    const beat = () => pg.runAsPostgres(pg.bin('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-d', db,
      '-v', 'schema=ops', '-v', 'table=heartbeat', '-v', 'retention_days=7', '-f', heartbeatSql]);
    heartbeatRuns.push(beat());
    pg.psql("INSERT INTO ops.heartbeat (beat_at) VALUES (now() - interval '8 days')", { database: db });
    heartbeatRuns.push(beat());
    heartbeatRows = pg.psql('SELECT count(*) FROM ops.heartbeat', { database: db });
    // The heartbeat stopped two hours ago (it writes again after the backup, below).
    pg.psql("UPDATE ops.heartbeat SET beat_at = now() - interval '2 hours'", { database: db });
    pg.psql(`
      CREATE TABLE public.orders (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), item text NOT NULL)
        WITH (autovacuum_enabled = false);
      INSERT INTO public.orders (item) SELECT 'order ' || g FROM generate_series(1, 2000) g;`, { database: db });

    // The base backup, without WAL (as WAL-G's): every restore needs the archive.
    mkdirForPostgres(base);
    const backup = pg.runAsPostgres(pg.bin('pg_basebackup'), ['-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-D', base, '-X', 'none', '-c', 'fast', '--no-sync']);
    if (backup.status !== 0) throw new Error(`pg_basebackup failed: ${backup.stderr}`);
    const start = /START WAL LOCATION: .* \(file ([0-9A-F]{24})\)/.exec(readFileSync(path.join(base, 'backup_label'), 'utf8'))![1];

    // Writes after the backup, one WAL segment each; the last is a heartbeat HEARTBEAT_STALE_SECONDS old.
    const after: string[] = [];
    for (const sql of [
      "INSERT INTO public.orders (item) SELECT 'later ' || g FROM generate_series(1, 50) g",
      `INSERT INTO public.orders (item) SELECT 'later ' || g FROM generate_series(51, 100) g;
       INSERT INTO ops.heartbeat (beat_at) VALUES (now() - interval '${HEARTBEAT_STALE_SECONDS} seconds')`,
    ]) {
      pg.psql(sql, { database: db });
      after.push(pg.psql('SELECT pg_walfile_name(pg_switch_wal())'));
    }
    const last = after[after.length - 1];
    for (let i = 0; !existsSync(path.join(archive, last)); i++) {
      if (i > 200) throw new Error(`WAL segment ${last} was not archived within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    segments = { start, after };
    expect(existsSync(path.join(archive, start))).toBe(true);

    // A Pushgateway stand-in that records what is pushed.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => { pushed.push(`${req.method} ${req.url}\n${body}`); res.writeHead(200); res.end(); });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    pushUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // A damaged base backup: the page header of the first block of orders overwritten.
    const corrupt = path.join(scratch, 'base-corrupt');
    cpSync(base, corrupt, { recursive: true });
    if (isRoot()) spawnSync('chown', ['-R', 'postgres:postgres', corrupt]);
    const relation = pg.psql("SELECT pg_relation_filepath('public.orders')", { database: db });
    const fd = openSync(path.join(corrupt, relation), 'r+');
    writeSync(fd, Buffer.alloc(24, 0xff), 0, 24, 0);
    closeSync(fd);

    // A missing segment the backup needs to become consistent, and one in the middle of the archive.
    const noStart = archiveCopy('no-start');
    unlinkSync(path.join(noStart, start));
    const gap = archiveCopy('gap');
    unlinkSync(path.join(gap, after[0]));
    // An unreadable segment: the fetch fails with an error other than "not in the archive".
    const unreadable = archiveCopy('unreadable');
    unlinkSync(path.join(unreadable, after[0]));
    copyFileSync(path.join(archive, after[0]), path.join(unreadable, after[0]));
    chmodSync(path.join(unreadable, after[0]), 0);

    Object.assign(runs, {
      good: restore('good', { [E.pushgatewayUrl]: pushUrl }),
      missingStart: restore('missing-start', { [E.walFetchCommand]: walFetch(noStart) }),
      // The checks these two do not exercise are off, to keep the suite fast.
      gap: restore('gap', { [E.walFetchCommand]: walFetch(gap), [E.amcheck]: 'off' }),
      unreadable: restore('unreadable', { [E.walFetchCommand]: walFetch(unreadable) }),
      stale: restore('stale', { [E.rpoSeconds]: '60', [E.pushgatewayUrl]: pushUrl, [E.amcheck]: 'off' }),
      // A Pushgateway that refuses connections (a closed port on loopback).
      unpushed: restore('unpushed', { [E.pushgatewayUrl]: 'http://127.0.0.1:9', [E.amcheck]: 'off' }),
      corrupt: restore('corrupt', { [E.fetchCommand]: `mkdir -p "$PGDATA" && cp -R '${corrupt}/.' "$PGDATA"` }),
    });
    await Promise.all(Object.values(runs));
  }, 60_000);

  afterAll(() => {
    server?.close();
    pg?.stop();
    if (scratch) removeScratch(scratch);
  });

  const lastLine = (r: Run) => r.output.trim().split('\n').filter((l) => l.includes('restore-test:')).pop() ?? '';

  test('the heartbeat job\'s SQL creates its table once, adds one row a run and deletes rows past the retention', () => {
    expect(heartbeatRuns.map((r) => ({ status: r.status, stderr: r.stderr }))).toEqual([{ status: 0, stderr: '' }, { status: 0, stderr: '' }]);
    expect(heartbeatRows).toBe('2');
  });

  test('the synthesized job checks within an RPO above the heartbeat\'s age, so the good archive passes', () => {
    expect(Number(synthEnv[E.rpoSeconds])).toBeGreaterThan(HEARTBEAT_STALE_SECONDS + 60);
  });

  test('a Pushgateway that is down does not fail a restore that passed: exit 0, with a warning', async () => {
    const r = await runs.unpushed;
    expect({ status: r.status, output: r.output }).toEqual({ status: 0, output: expect.stringContaining('PASSED') });
    expect(r.output).toContain('WARNING: could not push the result to http://127.0.0.1:9; the restore itself passed');
  });

  test('a good backup and archive: restores, recovers to the last archived segment, verifies and exits 0', async () => {
    const r = await runs.good;
    expect({ status: r.status, output: r.output }).toEqual({ status: 0, output: expect.stringContaining('PASSED') });
    // Recovered to the end of the archive: the later orders and the last heartbeat are there.
    expect(r.output).toMatch(/row count: public\.orders has 2100 rows/);
    expect(r.output).toMatch(new RegExp(`recency: the newest row of ops\\.heartbeat is (${HEARTBEAT_STALE_SECONDS}|${HEARTBEAT_STALE_SECONDS + 1}|${HEARTBEAT_STALE_SECONDS + 2}|${HEARTBEAT_STALE_SECONDS + 3}|${HEARTBEAT_STALE_SECONDS + 4}|${HEARTBEAT_STALE_SECONDS + 5}) s old`));
    expect(r.output).toMatch(/amcheck \(\w+\): no corruption found/);
  });

  test('the restored copy never archived (archive_mode off) and the archive is unchanged', async () => {
    await runs.good;
    const log = readFileSync(path.join(scratch, 'work-good', 'postgres.log'), 'utf8');
    expect(log).not.toMatch(/archive command|archiver/i);
    // The copy promoted to timeline 2; nothing of timeline 2 reached the production archive.
    expect(readdirSync(archive).filter((f) => f.startsWith('00000002'))).toEqual([]);
    const conf = readFileSync(path.join(scratch, 'work-good', 'pgdata', 'postgresql.auto.conf'), 'utf8');
    expect(conf).toMatch(/^archive_mode = 'off'$/m);
    expect(conf).toMatch(/^listen_addresses = ''$/m);
    // The live server's speed settings (its command line) did not travel with the backup: the copy ran as the script set it up.
    expect(readFileSync(path.join(scratch, 'work-good', 'pgdata', 'postgresql.conf'), 'utf8')).not.toMatch(/^\s*fsync\s*=/m);
  });

  test('its result is pushed: success 1, the lag, the duration, the last success', async () => {
    await runs.good;
    const good = pushed.find((p) => p.includes('pg_restore_test_success 1'));
    expect(good).toMatch(/^POST \/metrics\/job\/pg-restore-test\/namespace\/pronto\n/);
    expect(good).toMatch(/^pg_restore_test_recovered_lag_seconds \d+$/m);
    expect(good).toMatch(/^pg_restore_test_duration_seconds \d+$/m);
    expect(good).toMatch(/^pg_restore_test_last_success_timestamp_seconds \d+$/m);
    const failed = pushed.find((p) => p.includes('pg_restore_test_success 0'));
    expect(failed).toBeDefined();
    expect(failed).not.toContain('pg_restore_test_last_success_timestamp_seconds');
  });

  test('a WAL segment the backup needs is missing: PostgreSQL cannot recover, the script says so and exits non-zero', async () => {
    const r = await runs.missingStart;
    expect(r.status).not.toBe(0);
    expect(lastLine(r)).toContain('FAILED: PostgreSQL stopped before recovery finished: a WAL segment the backup needs is missing or unreadable');
    expect(r.output).toContain('could not locate required checkpoint record');
  });

  test('a segment missing in the middle of the archive: recovery ends early, and the copy misses the RPO', async () => {
    const r = await runs.gap;
    expect(r.status).not.toBe(0);
    expect(lastLine(r)).toContain('FAILED: the restored copy failed its checks');
    expect(r.output).toMatch(/recovery-point objective violated: the newest row of ops\.heartbeat .* is \d+ s older than the start of this test; the RPO is \d+ s/);
    expect(r.output).toMatch(/public\.orders has 2000 rows/);
  });

  test('an unreadable segment (fetch fails, not "not in the archive"): recovery stops instead of ending early', async () => {
    const r = await runs.unreadable;
    expect(r.status).not.toBe(0);
    expect(lastLine(r)).toContain('FAILED: PostgreSQL stopped before recovery finished');
    expect(r.output).toContain(`restore-wal.sh: fetching ${segments.after[0]} failed with exit code 1: stopping recovery (not ending it early)`);
  });

  test('a stale heartbeat (the RPO is violated): exits non-zero naming the table, the lag and the RPO', async () => {
    const r = await runs.stale;
    expect(r.status).not.toBe(0);
    expect(lastLine(r)).toContain('FAILED: the restored copy failed its checks');
    expect(r.output).toMatch(/recovery-point objective violated: the newest row of ops\.heartbeat \(\S+\) is 30\d s older than the start of this test; the RPO is 60 s/);
  });

  test('a corrupted base backup: the damaged table cannot be read and amcheck reports it; exits non-zero', async () => {
    const r = await runs.corrupt;
    expect(r.status).not.toBe(0);
    expect(lastLine(r)).toContain('FAILED: the restored copy failed its checks');
    expect(r.output).toMatch(/row count: reading public\.orders failed: .*invalid page in block 0/);
    expect(r.output).toContain('amcheck found corruption');
  });
});
