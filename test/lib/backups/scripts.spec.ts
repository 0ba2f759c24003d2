/**
 * The backup jobs' scripts run by a real `sh` (dash on Debian, like the PostgreSQL image's):
 * the WAL integrity script fails itself on FAILURE though wal-verify exits 0, the base
 * backup and retention scripts run the WAL-G commands they must (a stand-in `wal-g` on the
 * PATH records its arguments and the password it was given), and the restore-test script
 * refuses bad settings before touching anything.
 */
import { spawnSync } from 'child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import {
  BACKUP_JOBS, BACKUP_SCRIPT_ENV as E, BASE_BACKUP_SCRIPT, BackupPlan, HEARTBEAT_SCRIPT, RESTORE_TEST_ENV as R, RESTORE_TEST_SCRIPT, RETENTION_SCRIPT, WAL_VERIFY_SCRIPT,
} from '../../../lib/backups';
import { walgSecrets } from '../../../lib/database';
import { renderVaultTemplate } from '../../helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'pronto-backup-scripts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A `wal-g` stand-in: prints its arguments and PGPASSWORD to a log, then exits 0. */
const bin = path.join(dir, 'bin');
spawnSync('mkdir', ['-p', bin]);
writeFileSync(path.join(bin, 'wal-g'), `#!/bin/sh\necho "wal-g $* (PGPASSWORD=\${PGPASSWORD:-})" >> "${dir}/wal-g.log"\n`);
chmodSync(path.join(bin, 'wal-g'), 0o755);

function run(script: string, env: Record<string, string>): { status: number | null; out: string } {
  const file = path.join(dir, 'script.sh');
  writeFileSync(file, script);
  const r = spawnSync('sh', [file], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, ...env } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const report = (integrity: string, timeline: string) => JSON.stringify({
  integrity: { status: integrity, details: [{ timeline_id: 1, start_segment: '000000010000000000000002', end_segment: '000000010000000000000009', segments_count: 8, status: 'FOUND' }] },
  timeline: { status: timeline, details: { current_timeline_id: 1, highest_storage_timeline_id: 1 } },
}, null, 2);

describe('the WAL integrity script', () => {
  const verify = (json: string, exit = 0) => {
    const id = Math.random().toString(36).slice(2);
    const file = path.join(dir, `report-${id}.json`);
    writeFileSync(file, json);
    // The command is words (no shell syntax), as WAL-G's is: a stand-in script prints the report.
    const fake = path.join(dir, `wal-verify-${id}.sh`);
    writeFileSync(fake, `cat '${file}'\nexit ${exit}\n`);
    return run(WAL_VERIFY_SCRIPT, { [E.walVerifyCommand]: `sh ${fake}` });
  };

  test('OK and OK: passes and prints the report', () => {
    const r = verify(report('OK', 'OK'));
    expect(r).toEqual({ status: 0, out: expect.stringContaining('wal-verify: integrity OK, timeline OK') });
    expect(r.out).toContain('"segments_count": 8');
  });

  test('FAILURE in either check fails the job, though wal-verify exited 0', () => {
    const integrity = verify(report('FAILURE', 'OK'));
    expect(integrity.status).toBe(1);
    expect(integrity.out).toContain('wal-verify: FAILED: integrity check reports FAILURE');
    const timeline = verify(report('OK', 'FAILURE'));
    expect(timeline.status).toBe(1);
    expect(timeline.out).toContain('wal-verify: FAILED: timeline check reports FAILURE');
  });

  test('WARNING (segments still uploading) passes with a warning', () => {
    const r = verify(report('WARNING', 'OK'));
    expect(r.status).toBe(0);
    expect(r.out).toContain('wal-verify: WARNING: integrity check');
  });

  test('no statuses in the output, or the command failing, fails the job', () => {
    expect(verify('{"something":"else"}')).toEqual({ status: 1, out: expect.stringContaining('no integrity.status and timeline.status') });
    expect(verify(report('OK', 'OK'), 3)).toEqual({ status: 1, out: expect.stringContaining('exited with 3') });
  });
});

describe('the base backup and retention scripts', () => {
  test('base backup: remote-mode backup-push (no data directory), with the password from its Vault file', () => {
    const pw = path.join(dir, 'walg-backup');
    writeFileSync(pw, 's3cr3t');
    rmSync(path.join(dir, 'wal-g.log'), { force: true });
    const r = run(BASE_BACKUP_SCRIPT, { [E.backupRoleFile]: pw, PGHOST: 'postgres.pronto.svc.cluster.local', PGPORT: '5432', PGUSER: 'walg_backup', WALG_S3_PREFIX: 's3://b/p' });
    expect(r.status).toBe(0);
    expect(readFileSync(path.join(dir, 'wal-g.log'), 'utf8')).toBe('wal-g backup-push (PGPASSWORD=s3cr3t)\n');
  });

  test('retention: delete retain FULL n by sentinel time, confirmed', () => {
    rmSync(path.join(dir, 'wal-g.log'), { force: true });
    const r = run(RETENTION_SCRIPT, { [E.retainFull]: '7', WALG_S3_PREFIX: 's3://b/p' });
    expect(r.status).toBe(0);
    expect(readFileSync(path.join(dir, 'wal-g.log'), 'utf8')).toBe('wal-g delete retain FULL 7 --use-sentinel-time --confirm (PGPASSWORD=)\n');
  });

  test('base backup without its password file fails before running wal-g', () => {
    rmSync(path.join(dir, 'wal-g.log'), { force: true });
    const r = run(BASE_BACKUP_SCRIPT, { [E.backupRoleFile]: path.join(dir, 'missing'), PGHOST: 'h', PGPORT: '1', PGUSER: 'u', WALG_S3_PREFIX: 's3://b/p' });
    expect(r.status).not.toBe(0);
    expect(() => readFileSync(path.join(dir, 'wal-g.log'))).toThrow();
  });
});

describe('the restore-test script refuses bad settings before fetching anything', () => {
  const base = { PGDATA: path.join(dir, 'pgdata'), [R.workDir]: path.join(dir, 'work'), [R.rpoSeconds]: '900' };
  test.each([
    ['no RPO', { [R.rpoSeconds]: '' }, 'RESTORE_TEST_RPO_SECONDS'],
    ['an RPO that is not whole seconds', { [R.rpoSeconds]: '15m' }, 'RESTORE_TEST_RPO_SECONDS: expected whole seconds, found "15m"'],
    ['a table without schema', { [R.recencyTable]: 'heartbeat', [R.recencyColumn]: 'beat_at' }, 'RESTORE_TEST_RECENCY_TABLE: expected schema.table, found "heartbeat"'],
    ['a floor that is not a number', { [R.rowFloors]: 'public.orders=many' }, 'RESTORE_TEST_ROW_FLOORS: expected schema.table=rows, found "public.orders=many"'],
    ['an unknown amcheck scope', { [R.amcheck]: 'yes' }, 'RESTORE_TEST_AMCHECK: expected database, all or off, found "yes"'],
  ])('%s', (_name, env, message) => {
    const r = run(RESTORE_TEST_SCRIPT, { ...base, ...env });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain(message);
    expect(r.out).not.toContain('fetching the latest base backup');
  });

  test('a PGDATA that is not empty is never restored over', () => {
    spawnSync('mkdir', ['-p', path.join(dir, 'full')]);
    writeFileSync(path.join(dir, 'full', 'PG_VERSION'), '16');
    const r = run(RESTORE_TEST_SCRIPT, { ...base, PGDATA: path.join(dir, 'full') });
    expect(r.status).toBe(1);
    expect(r.out).toContain('is not empty: the restore test only restores into an empty folder');
  });

  test('the defaults are the WAL-G commands', () => {
    expect(RESTORE_TEST_SCRIPT).toContain(': "${RESTORE_TEST_FETCH_COMMAND:=wal-g backup-fetch "$PGDATA" LATEST}"');
    expect(RESTORE_TEST_SCRIPT).toContain(': "${WALG_FETCH:=wal-g wal-fetch}"');
    expect(RESTORE_TEST_SCRIPT).toMatch(/^archive_mode = 'off'$/m);
    expect(RESTORE_TEST_SCRIPT).toMatch(/^listen_addresses = ''$/m);
    expect(RESTORE_TEST_SCRIPT).toContain('postgres -D "$PGDATA" -c archive_mode=off -c listen_addresses=');
  });
});

describe('the heartbeat reads its login file as data: a password is never shell code (attack: a hostile Vault value)', () => {
  /** The job's login file as its Vault agent renders it: the reader's own template, from the plan. */
  const plan = new BackupPlan({
    databaseSize: '1Gi', restoreVolumeSize: '1Gi', throughputMiBPerSecond: 25, heartbeat: true,
    restoreTestResources: { requests: { cpu: '1', memory: '1Gi', ephemeralStorage: '1Gi' }, limits: { cpu: '1', memory: '1Gi', ephemeralStorage: '1Gi' } },
    backupRole: { secretPath: 'postgres/backup', passwordTemplate: '{{ .Data.data.password }}' }, walgSecrets,
  });
  const login = plan.readers.find((r) => r.name === BACKUP_JOBS.heartbeat)!.secrets.find((f) => f.env === E.heartbeatLoginFile)!;
  const marker = path.join(dir, 'pwned');
  const passwords = {
    /** Closes the quote a sourced `PGPASSWORD='…'` line opens, so `$(…)` runs: what the old sourced file let a Vault value do. */
    'a quote-breaking $(…)': `x'$(touch ${marker})'y`,
    /** Every character a shell acts on: command substitution both ways, both quotes, a backslash, `;`, `#`, spaces, a variable. */
    'every shell metacharacter': `a'b"c$(touch ${marker})\`touch ${marker}\`;d \\e #f $HOME  `,
  };
  /** A psql stand-in: writes the login it was given, exactly, then exits 0. */
  const psql = path.join(bin, 'psql');
  writeFileSync(psql, `#!/bin/sh\nprintf '%s\\n%s\\n' "$PGUSER" "$PGPASSWORD" > "${dir}/psql-login"\n`);
  chmodSync(psql, 0o755);

  test.each(['sh', 'bash'].flatMap((shell) => Object.entries(passwords).map(([what, pw]) => [shell, what, pw])))('%s, %s: the password reaches psql byte for byte, and nothing in it runs', (shell, _what, hostile) => {
    rmSync(marker, { force: true });
    const file = path.join(dir, 'heartbeat-login');
    writeFileSync(file, renderVaultTemplate(login.template, { username: 'pronto_heartbeat', password: hostile }));
    const script = path.join(dir, 'heartbeat.sh');
    writeFileSync(script, HEARTBEAT_SCRIPT);
    const r = spawnSync(shell, [script], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, HOME: '/nonexistent', [E.heartbeatLoginFile]: file,
      [E.heartbeatSchema]: 'ops', [E.heartbeatTable]: 'heartbeat', [E.heartbeatRetentionDays]: '7' } });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(readFileSync(path.join(dir, 'psql-login'), 'utf8')).toBe(`pronto_heartbeat\n${hostile}\n`);
    expect(existsSync(marker)).toBe(false);
  });

  test('a login file that is not two lines fails the run, naming the file', () => {
    const file = path.join(dir, 'heartbeat-login-empty');
    writeFileSync(file, '');
    const r = run(HEARTBEAT_SCRIPT, { [E.heartbeatLoginFile]: file });
    expect(r.status).toBe(1);
    expect(r.out).toContain(`heartbeat: ${file}: expected the user name and the password on two lines`);
  });
});

test('shellcheck finds nothing in the scripts (Debian package shellcheck; skipped loudly without it)', () => {
  const check = spawnSync('shellcheck', ['--version']);
  if (check.status !== 0) {
    console.warn('\n!!! SKIPPED: shellcheck of the backup scripts: shellcheck is missing (Debian package shellcheck) !!!\n');
    return;
  }
  for (const [name, text] of Object.entries({ BASE_BACKUP_SCRIPT, RETENTION_SCRIPT, WAL_VERIFY_SCRIPT, RESTORE_TEST_SCRIPT, HEARTBEAT_SCRIPT })) {
    const file = path.join(dir, `${name}.sh`);
    writeFileSync(file, text);
    const r = spawnSync('shellcheck', ['-s', 'sh', file], { encoding: 'utf8' });
    expect({ name, out: r.stdout }).toEqual({ name, out: '' });
  }
});
