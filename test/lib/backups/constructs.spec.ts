/**
 * The backups' constructs: BackupScripts (the ConfigMap and its checksum), BackupJob (a
 * ScheduledJob running one script in the PostgreSQL image) and RestoreTestJob (its volume,
 * its env, one attempt per run), each with its documented defaults, passing the gate; and
 * the alert expressions' shape.
 */
import { Testing } from 'cdk8s';
import {
  BACKUP_SCRIPTS_DIR, BACKUP_SCRIPT_FILES, BackupJob, BackupJobProps, BackupScripts, RESTORE_TEST_DIR, RESTORE_TEST_ENV as E, RestoreTestJob,
  RestoreTestJobProps, backupRuleGroups, backupScriptFiles, lastRunFailedExpr, staleCronJobExpr,
} from '../../../lib/backups';
import { UpstreamImage } from '../../../lib/core';
import { gateFindingsInNamespace, named } from '../../helpers';

const image = new UpstreamImage({ repository: 'registry.example.com/postgres-walg', tag: '16.4-walg3.0.9' });
const resources = { requests: { cpu: '100m', memory: '256Mi', ephemeralStorage: '256Mi' }, limits: { cpu: '1', memory: '1Gi', ephemeralStorage: '1Gi' } };

function synthJob(props: Partial<BackupJobProps> = {}): any[] {
  const chart = Testing.chart();
  const scripts = new BackupScripts(chart, 'Scripts');
  new BackupJob(chart, 'Job', { name: 'pg-base-backup', schedule: '15 2 * * *', image, scripts, script: BACKUP_SCRIPT_FILES.baseBackup, resources, activeDeadlineSeconds: 3600, ...props });
  return Testing.synth(chart);
}

function synthRestore(props: Partial<RestoreTestJobProps> = {}): { out: any[]; job: RestoreTestJob } {
  const chart = Testing.chart();
  const scripts = new BackupScripts(chart, 'Scripts');
  const job = new RestoreTestJob(chart, 'Restore', {
    schedule: '30 6 1 * *', image, scripts, resources, activeDeadlineSeconds: 7200, volumeSize: '20Gi',
    walgEnv: [{ name: 'WALG_S3_PREFIX', value: 's3://b/p' }], rpoSeconds: 900, database: 'pronto', ...props,
  });
  return { out: Testing.synth(chart), job };
}

describe('BackupScripts', () => {
  test('a ConfigMap pg-backup-scripts with every script, and its checksum', () => {
    const chart = Testing.chart();
    const scripts = new BackupScripts(chart, 'Scripts');
    const cm = named(Testing.synth(chart), 'ConfigMap', 'pg-backup-scripts');
    expect(cm.data).toEqual(backupScriptFiles());
    expect(scripts.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(scripts.command(BACKUP_SCRIPT_FILES.walVerify)).toEqual(['sh', `${BACKUP_SCRIPTS_DIR}/wal-verify.sh`]);
    expect(scripts.volume()).toEqual({ name: 'scripts', configMap: { name: 'pg-backup-scripts', defaultMode: 0o444 } });
  });
});

describe('BackupJob', () => {
  test('documented defaults: Forbid, 1 h starting deadline, 1 retry, 3 + 3 history, a 64Mi /tmp, the scripts read-only, their checksum', () => {
    const out = synthJob();
    const spec = named(out, 'CronJob', 'pg-base-backup').spec;
    expect(spec).toMatchObject({ concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 3600, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3 });
    expect(spec.jobTemplate.spec).toMatchObject({ backoffLimit: 1, activeDeadlineSeconds: 3600 });
    const pod = spec.jobTemplate.spec.template;
    expect(pod.metadata.annotations['pronto.io/config-checksum']).toMatch(/^sha256:/);
    expect(pod.spec.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
    expect(pod.spec.containers[0]).toMatchObject({ name: 'pg-base-backup', command: ['sh', `${BACKUP_SCRIPTS_DIR}/base-backup.sh`] });
    expect(pod.spec.containers[0].volumeMounts).toContainEqual({ name: 'scripts', mountPath: BACKUP_SCRIPTS_DIR, readOnly: true });
    expect(gateFindingsInNamespace(out)).toEqual([]);
  });

  test('every prop is used', () => {
    const spec = named(synthJob({
      startingDeadlineSeconds: 60, backoffLimit: 0, successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 5, tmpSize: '16Mi',
      env: [{ name: 'X', value: '1' }], volumes: [{ name: 'extra', emptyDir: { sizeLimit: '1Mi' } }], mounts: [{ volume: 'extra', path: '/extra' }],
    }), 'CronJob', 'pg-base-backup').spec;
    expect(spec).toMatchObject({ startingDeadlineSeconds: 60, successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 5 });
    expect(spec.jobTemplate.spec.backoffLimit).toBe(0);
    const pod = spec.jobTemplate.spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '16Mi' } });
    expect(pod.containers[0].env).toEqual([{ name: 'X', value: '1' }]);
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'extra', mountPath: '/extra' });
  });
});

describe('RestoreTestJob', () => {
  test('defaults: named pg-restore-test, one attempt, 6 h to start, amcheck of all databases, shared_buffers a quarter of the memory limit', () => {
    const { out, job } = synthRestore();
    const spec = named(out, 'CronJob', 'pg-restore-test').spec;
    expect(spec.startingDeadlineSeconds).toBe(6 * 3600);
    expect(spec.jobTemplate.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 7200 });
    const env = Object.fromEntries(job.env.map((e) => [e.name, (e as { value: string }).value]));
    expect(env).toMatchObject({
      WALG_S3_PREFIX: 's3://b/p', [E.pgdata]: `${RESTORE_TEST_DIR}/pgdata`, [E.workDir]: `${RESTORE_TEST_DIR}/work`, [E.rpoSeconds]: '900',
      [E.database]: 'pronto', [E.superuser]: 'postgres', [E.amcheck]: 'all', [E.sharedBuffers]: '256MB', [E.recoveryTimeoutSeconds]: '7200',
    });
    expect(env[E.recencyTable]).toBeUndefined();
    expect(env[E.pushgatewayUrl]).toBeUndefined();
    const pod = spec.jobTemplate.spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'restore', emptyDir: { sizeLimit: '20Gi' } });
    expect(pod.volumes).toContainEqual({ name: 'shm', emptyDir: { sizeLimit: '128Mi', medium: 'Memory' } });
    expect(gateFindingsInNamespace(out)).toEqual([]);
  });

  test('every check becomes env: recency, floors, amcheck off, Pushgateway', () => {
    const { job } = synthRestore({
      name: 'restore-drill', superuser: 'admin', recency: { table: 'ops.heartbeat', column: 'beat_at' }, rowFloors: [{ table: 'public.orders', minRows: 10 }, { table: 'public.payments', minRows: 1 }],
      amcheck: false, sharedBuffers: '64MB', pushgateway: { url: 'http://pgw.monitoring.svc:9091', group: 'job/x' }, sharedMemorySize: '64Mi',
    });
    const env = Object.fromEntries(job.env.map((e) => [e.name, (e as { value: string }).value]));
    expect(env).toMatchObject({
      [E.superuser]: 'admin', [E.recencyTable]: 'ops.heartbeat', [E.recencyColumn]: 'beat_at', [E.rowFloors]: 'public.orders=10 public.payments=1',
      [E.amcheck]: 'off', [E.sharedBuffers]: '64MB', [E.pushgatewayUrl]: 'http://pgw.monitoring.svc:9091', [E.pushGroup]: 'job/x',
    });
  });
});

describe('the backup alerts', () => {
  test('staleness reads the last success, a never-succeeded CronJob older than the limit, and absent()', () => {
    const expr = staleCronJobExpr('pronto', 'pg-base-backup', 93600);
    expect(expr).toContain('time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{namespace="pronto", cronjob="pg-base-backup"}) > 93600');
    expect(expr).toContain('unless on (namespace, cronjob) kube_cronjob_status_last_successful_time');
    expect(expr).toContain('absent(kube_cronjob_created{namespace="pronto", cronjob="pg-base-backup"})');
    expect(lastRunFailedExpr('pronto', 'pg-wal-verify')).toContain('kube_cronjob_status_active{namespace="pronto", cronjob="pg-wal-verify"}) == 0');
  });

  test('the pushed result joins the restore-test failure only when pushed', () => {
    const cronJobs = { baseBackup: 'b', walIntegrity: 'w', restoreTest: 'r' };
    const failed = (groups: ReturnType<typeof backupRuleGroups>) => (groups[0].rules.find((r) => 'alert' in r && r.alert === 'PostgresRestoreTestFailed') as { expr: string }).expr;
    expect(failed(backupRuleGroups({ namespace: 'p', cronJobs, runbookBaseUrl: 'https://x/README.md' }))).not.toContain('pg_restore_test_success');
    expect(failed(backupRuleGroups({ namespace: 'p', cronJobs, runbookBaseUrl: 'https://x/README.md', pushedLabels: { job: 'r', namespace: 'p' } })))
      .toContain('min by (namespace) (pg_restore_test_success{job="r", namespace="p"}) == 0');
  });
});
