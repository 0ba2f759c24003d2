/**
 * The `backups` section of the environment file: when the backup jobs run, how many full
 * backups are kept, how their deadlines are sized, the optional heartbeat, and what the
 * monthly restore test checks. Pure: zod and the pure lib/core files only (config/ imports
 * it). Checks that need the database section (the restore volume against the data volume,
 * the deadlines against the schedules, the RPO against archive_timeout) run in the
 * capability (index.ts).
 */
import { z } from 'zod';
import { computeResourcesSchema } from './schemas';

export type { CronCadence, CronSchedule } from './cron';
export { cronCadence, cronSchema, formatSeconds, parseCron } from './cron';
import { cronCadence, cronSchema, formatSeconds, parseCron } from './cron';

// ---------------------------------------------------------------- section

/** Base backups must run at least this often: the PostgresBaseBackupTooOld alert fires after 26 h. */
export const MAX_BASE_BACKUP_GAP_SECONDS = 24 * 3600;
/** Restore tests must run at least this often: the PostgresRestoreTestTooOld alert fires after 33 days. */
export const MAX_RESTORE_TEST_GAP_SECONDS = 32 * 86_400;

const SIZE = /^[1-9]\d*(Mi|Gi|Ti)$/;
const sizeSchema = z.string({ error: 'expected a size in whole Mi, Gi or Ti, such as 20Gi' }).regex(SIZE, { error: 'expected a size in whole Mi, Gi or Ti, such as 20Gi' });
/** `schema.table`, lower case, as PostgreSQL folds unquoted names. */
const TABLE = /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/;
const tableSchema = z.string().regex(TABLE, { error: 'expected schema.table in lower case, such as public.orders' });
const identifier = z.string().regex(/^[a-z_][a-z0-9_]*$/, { error: 'expected a lower-case SQL identifier such as beat_at' });

const heartbeatSchema = z.strictObject({
  schedule: cronSchema.default('*/2 * * * *')
    .describe('When a heartbeat row is written (cron, Etc/UTC): every 2 minutes by default, runs further apart than the job\'s deadline (110 s: scheduling, image pull, Vault login, one psql)'),
  table: tableSchema.default('ops.heartbeat').describe('Table the heartbeat writes (schema.table; created if missing, rows older than 7 days deleted)'),
  retentionDays: z.int().min(1).max(365).default(7).describe('Heartbeat rows older than this are deleted, so the table stays small'),
  resources: computeResourcesSchema({
    requests: { cpu: '10m', memory: '32Mi', ephemeralStorage: '32Mi' },
    limits: { cpu: '100m', memory: '64Mi', ephemeralStorage: '64Mi' },
  }).prefault({}).describe('Requests and limits of the heartbeat container (one psql a minute)'),
});


const restoreTestSchema = z.strictObject({
  rpoMinutes: z.int().min(1).max(1440).default(15)
    .describe('Recovery-point objective: the newest row of the recency table must be at most this old when the test starts'),
  database: identifier.default('pronto').describe('Database holding the recency table and the critical tables'),
  superuser: identifier.default('postgres').describe('Superuser of the restored cluster (the one initdb created); the test connects over its private Unix socket'),
  recency: z.strictObject({
    table: tableSchema.optional().describe('Table whose newest row must be within the RPO; absent: the heartbeat table'),
    column: identifier.default('beat_at').describe('Its timestamp column (timestamptz)'),
  }).prefault({}).describe('The table whose newest row measures how recent the restored copy is'),
  criticalTables: z.array(z.strictObject({
    table: tableSchema.describe('schema.table'),
    minRows: z.int({ error: 'expected a whole number of rows' }).refine((n) => n >= 1, { error: 'expected a floor of at least 1 row (a floor of 0 checks nothing)' })
      .describe('Fewest rows the restored table may have'),
  })).default([]).describe('Tables that must hold at least minRows rows in the restored copy (each is read in full: a damaged page fails the test)'),
  amcheck: z.union([z.literal(false), z.enum(['database', 'all'])]).default('all')
    .describe('pg_amcheck of tables and B-tree indexes (with heapallindexed): every database (all), the checked one (database), or false'),
  volumeSize: sizeSchema.optional()
    .describe('Size of the ephemeral volume the backup is restored into; absent: database.postgres.storage.size (it must hold the whole database)'),
  pushResults: z.boolean().default(false)
    .describe('Push each run\'s result (timestamp, duration, lag, success) to the Pushgateway the metrics capability provides (gitops.addons.pushgateway); false: not pushed (the alerts then read kube-state-metrics only)'),
  resources: computeResourcesSchema({
    requests: { cpu: '500m', memory: '1Gi', ephemeralStorage: '1Gi' },
    limits: { cpu: '2', memory: '2Gi', ephemeralStorage: '2Gi' },
  }).prefault({}).describe('Requests and limits of the restore-test container (the restore volume is added to its ephemeral storage)'),
});

export const backupsSectionSchema = z.strictObject({
  schedules: z.strictObject({
    baseBackup: cronSchema.default('15 2 * * *').describe('Daily base backup (cron, Etc/UTC); at least daily: the staleness alert fires after 26 h'),
    retention: cronSchema.default('15 5 * * *').describe('Retention run: wal-g delete retain FULL <retainFull>'),
    walIntegrity: cronSchema.default('45 5 * * *').describe('WAL integrity check: wal-g wal-verify integrity timeline'),
    restoreTest: cronSchema.default('30 6 1 * *').describe('Restore test, monthly by default (never more often than the base backup)'),
  }).prefault({}).describe('When each backup CronJob runs (cron, Etc/UTC): pg-base-backup, pg-backup-retention, pg-wal-verify, pg-restore-test'),
  retainFull: z.int({ error: 'expected a whole number of full backups' })
    .refine((n) => n >= 2, { error: 'expected at least 2 full backups to keep (with 1, a bad newest backup leaves nothing to restore)' })
    .default(7).describe('Full backups kept by the retention job (wal-g delete retain FULL <n> --use-sentinel-time)'),
  sizing: z.strictObject({
    databaseSize: sizeSchema.optional().describe('Expected size of the database; absent: database.postgres.storage.size. Sizes the jobs\' deadlines'),
    throughputMiBPerSecond: z.int().min(1).max(10_000).default(25)
      .describe('Slowest expected transfer between PostgreSQL, the jobs and the object store, in MiB/s'),
  }).prefault({}).describe('Sizes activeDeadlineSeconds: base backup 30 min + 2 × size / throughput; restore test 1 h + 3 × size / throughput'),
  heartbeat: z.union([z.literal(false), heartbeatSchema]).prefault({})
    .describe('A CronJob writing one row a minute through PgBouncer, so the restore test always has a recent row to measure; false: off'),
  restoreTest: restoreTestSchema.prefault({})
    .describe('The pg-restore-test CronJob: restores the latest base backup and the WAL archive into a scratch volume, then checks the copy (RPO, row floors, amcheck)'),
  resources: computeResourcesSchema({
    requests: { cpu: '100m', memory: '256Mi', ephemeralStorage: '256Mi' },
    limits: { cpu: '1', memory: '512Mi', ephemeralStorage: '1Gi' },
  }).prefault({}).describe('Requests and limits of the base-backup, retention and WAL-integrity containers'),
}).superRefine((s, ctx) => {
  const cadence = (text: string) => {
    const parsed = parseCron(text);
    return typeof parsed === 'string' ? undefined : cronCadence(parsed);
  };
  const base = cadence(s.schedules.baseBackup);
  const restore = cadence(s.schedules.restoreTest);
  if (base && base.maxGapSeconds > MAX_BASE_BACKUP_GAP_SECONDS) {
    ctx.addIssue({ code: 'custom', path: ['schedules', 'baseBackup'], input: s.schedules.baseBackup,
      message: `expected a base backup at least daily (runs at most 24 h apart; the PostgresBaseBackupTooOld alert fires after 26 h), but runs can be ${formatSeconds(base.maxGapSeconds)} apart` });
  }
  if (restore && restore.maxGapSeconds > MAX_RESTORE_TEST_GAP_SECONDS) {
    ctx.addIssue({ code: 'custom', path: ['schedules', 'restoreTest'], input: s.schedules.restoreTest,
      message: `expected a restore test at least monthly (runs at most 32 days apart; the PostgresRestoreTestTooOld alert fires after 33 days), but runs can be ${formatSeconds(restore.maxGapSeconds)} apart` });
  }
  if (base && restore && restore.runsPerYear > base.runsPerYear) {
    ctx.addIssue({ code: 'custom', path: ['schedules', 'restoreTest'], input: s.schedules.restoreTest,
      message: `expected a restore test no more often than the base backup (schedules.baseBackup "${s.schedules.baseBackup}": ${base.runsPerYear} runs a year): it would test the same backup again, but runs ${restore.runsPerYear} times a year` });
  }
  if (s.heartbeat === false && s.restoreTest.recency.table === undefined) {
    ctx.addIssue({ code: 'custom', path: ['restoreTest', 'recency', 'table'], input: undefined,
      message: 'expected a table whose newest row the restore test measures (such as public.orders with column created_at): the heartbeat is off, so there is no heartbeat table' });
  }
  if (s.heartbeat !== false) {
    const beat = cadence(s.heartbeat.schedule);
    if (beat && beat.maxGapSeconds >= s.restoreTest.rpoMinutes * 60) {
      ctx.addIssue({ code: 'custom', path: ['heartbeat', 'schedule'], input: s.heartbeat.schedule,
        message: `expected heartbeats closer together than the RPO (restoreTest.rpoMinutes ${s.restoreTest.rpoMinutes}), or the restore test fails with nothing lost, but runs can be ${formatSeconds(beat.maxGapSeconds)} apart` });
    }
  }
});
export type BackupsSection = z.output<typeof backupsSectionSchema>;

/** None: the Pushgateway's namespace is the metrics capability's, which names it. */
export const backupsForeignNamespaces = (_s: BackupsSection): string[] => [];
