/**
 * The backup jobs' domain, from typed props: their names, deadlines sized from the database
 * and the throughput, the Vault entries each reads (least privilege: read-only storage
 * credentials for the WAL check and the restore test), and the restore test's resources.
 * The backups capability maps its section and the database's port onto
 * {@link BackupPlanProps}; the constructs ({@link BackupJob}, {@link RestoreTestJob}) take
 * what this computes.
 */
import { ComputeResources, bytes } from '../core';
import { DataTierReader, DataTierSecret, WalgAccess } from '../database';
import { BACKUP_SCRIPT_ENV } from './scripts';

/** The CronJobs (also their ServiceAccounts, Vault roles and `app.kubernetes.io/name`). */
export const BACKUP_JOBS = {
  baseBackup: 'pg-base-backup',
  retention: 'pg-backup-retention',
  walIntegrity: 'pg-wal-verify',
  restoreTest: 'pg-restore-test',
  heartbeat: 'pg-heartbeat',
} as const;

export type BackupJobKey = keyof typeof BACKUP_JOBS;

/** The archive access levels the jobs use (lib/database WALG_ACCESS): each job's S3 credentials are of one of them. */
export const BACKUP_ARCHIVE_ACCESS: readonly WalgAccess[] = ['base-backup', 'retention', 'read-only'];

/** Fixed parts of the deadlines, in seconds. */
export const DEADLINES = {
  /** Base backup: connection, checkpoint, the sentinel upload; plus 2 × size / throughput. */
  baseBackupFixedSeconds: 1800,
  /** Restore test: start, checks, amcheck of the catalogs; plus 3 × size / throughput (fetch, replay, reading every table). */
  restoreTestFixedSeconds: 3600,
  retentionSeconds: 3600,
  walIntegritySeconds: 3600,
  /**
   * Heartbeat: the run's whole life counts (activeDeadlineSeconds starts with the Job), so
   * it covers scheduling, an image pull, the Vault agent's login and render (about 90 s on a
   * busy node), then one psql (20 s). The schedule must leave runs further apart than this.
   */
  heartbeatSeconds: 110,
} as const;

/** The heartbeat's own KV entry (fields `username`, `password`): its job logs in with it, and PostgreSQL creates its role from it. */
export const HEARTBEAT_SECRET = `${BACKUP_JOBS.heartbeat}/database`;

const MI = 1024 * 1024;

export interface BackupPlanProps {
  /** Size the deadlines are sized from, a quantity such as `20Gi`. */
  readonly databaseSize: string;
  /** Size of the volume the restore test restores into. */
  readonly restoreVolumeSize: string;
  /** Transfer rate the deadlines assume, in MiB/s. */
  readonly throughputMiBPerSecond: number;
  /** The restore test's own resources; the restore volume is added to its ephemeral storage. */
  readonly restoreTestResources: ComputeResources;
  /** The heartbeat job runs. */
  readonly heartbeat: boolean;
  /** The backup role's Vault entry and the template of its password. */
  readonly backupRole: { readonly secretPath: string; readonly passwordTemplate: string };
  /** WAL-G's Vault entries for a user with `access`. */
  walgSecrets(access: WalgAccess): DataTierSecret[];
}

/** The backup jobs of one environment. */
export class BackupPlan {
  /** The jobs that run, in order. */
  public readonly jobs: readonly BackupJobKey[];
  /** activeDeadlineSeconds of each job. */
  public readonly deadlines: Readonly<Record<BackupJobKey, number>>;

  public constructor(public readonly props: BackupPlanProps) {
    this.jobs = ['baseBackup', 'retention', 'walIntegrity', 'restoreTest', ...(props.heartbeat ? ['heartbeat' as const] : [])];
    const transfer = Math.ceil(bytes(props.databaseSize) / (props.throughputMiBPerSecond * MI));
    this.deadlines = {
      baseBackup: DEADLINES.baseBackupFixedSeconds + 2 * transfer,
      retention: DEADLINES.retentionSeconds,
      walIntegrity: DEADLINES.walIntegritySeconds,
      restoreTest: DEADLINES.restoreTestFixedSeconds + 3 * transfer,
      heartbeat: DEADLINES.heartbeatSeconds,
    };
  }

  /**
   * The jobs that read Vault entries. Storage credentials of their own level (lib/database
   * WALG_ACCESS): the base backup writes base backups only; the retention job is the only
   * one that deletes; the WAL check and the restore test only read (a restored copy must
   * never be able to write into the production archive). The encryption key goes only where
   * data is encrypted or decrypted (not to the retention job, which reads plain JSON
   * sentinels); the restore test reads the same key entry PostgreSQL encrypts with, so it
   * also proves that key decrypts the backups.
   */
  public get readers(): DataTierReader[] {
    const { walgSecrets: walg, backupRole } = this.props;
    const role: DataTierSecret = { path: backupRole.secretPath, file: 'walg-backup', env: BACKUP_SCRIPT_ENV.backupRoleFile, template: backupRole.passwordTemplate };
    const reader = (job: BackupJobKey, secrets: DataTierSecret[]): DataTierReader =>
      ({ name: BACKUP_JOBS[job], serviceAccount: BACKUP_JOBS[job], appContainer: BACKUP_JOBS[job], secrets });
    return [
      reader('baseBackup', [role, ...walg('base-backup')]),
      reader('retention', walg('retention')),
      reader('walIntegrity', [role, ...walg('read-only')]),
      reader('restoreTest', walg('read-only')),
      ...(this.props.heartbeat ? [reader('heartbeat', [{ path: HEARTBEAT_SECRET, file: 'heartbeat-login', env: BACKUP_SCRIPT_ENV.heartbeatLoginFile,
        template: '{{ .Data.data.username }}\n{{ .Data.data.password }}\n' }])] : []),
    ];
  }

  /** The restore test's container resources: its own plus the restore volume in ephemeral storage. */
  public get restoreTestResources(): ComputeResources {
    const r = this.props.restoreTestResources;
    const plus = (q: string) => {
      const mi = Math.ceil((bytes(q) + bytes(this.props.restoreVolumeSize)) / MI);
      return mi % 1024 === 0 ? `${mi / 1024}Gi` : `${mi}Mi`;
    };
    return {
      requests: { ...r.requests, ephemeralStorage: plus(r.requests.ephemeralStorage) },
      limits: { ...r.limits, ephemeralStorage: plus(r.limits.ephemeralStorage) },
    };
  }
}
