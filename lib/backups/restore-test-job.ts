import { Construct } from 'constructs';
import { ComputeResources, PinnedImage, bytes } from '../core';
import { EnvEntry, PodExtensionPoint } from '../workload';
import { BackupJob } from './backup-job';
import { BackupScripts } from './backup-scripts';
import { RESTORE_TEST_ENV } from './restore-test-script';
import { BACKUP_SCRIPT_FILES } from './scripts';

/** Where the restore test restores: the ephemeral volume's mount point. */
export const RESTORE_TEST_DIR = '/restore';

/** A table that must hold at least `minRows` rows in the restored copy. */
export interface RowFloor {
  /** `schema.table`. */
  readonly table: string;
  readonly minRows: number;
}

export interface RestoreTestJobProps {
  /** CronJob name. @default 'pg-restore-test' */
  readonly name?: string;
  /** Cron schedule (5 fields, Etc/UTC), e.g. monthly `30 6 1 * *`. */
  readonly schedule: string;
  /** The PostgreSQL image (same major version as the backups; contains WAL-G, psql, pg_amcheck). */
  readonly image: PinnedImage;
  /** The scripts ConfigMap. */
  readonly scripts: BackupScripts;
  /** Requests and limits of the container; the restore volume's size is added to its ephemeral storage by the caller. */
  readonly resources: ComputeResources;
  /** Seconds a run may take in all. */
  readonly activeDeadlineSeconds: number;
  /** Size of the volume the backup is restored into (emptyDir with this sizeLimit); must hold the whole database. */
  readonly volumeSize: string;
  /** WAL-G's env (read-only access; no credentials). */
  readonly walgEnv: readonly EnvEntry[];
  /** Recovery-point objective, in seconds. */
  readonly rpoSeconds: number;
  /** Database of the checked tables. */
  readonly database: string;
  /** Superuser of the restored cluster. @default 'postgres' */
  readonly superuser?: string;
  /** Table and timestamp column whose newest row must be within the RPO. @default - no recency check */
  readonly recency?: { readonly table: string; readonly column: string };
  /** Row-count floors. @default - none */
  readonly rowFloors?: readonly RowFloor[];
  /** pg_amcheck of the checked database, of all, or none. @default 'all' */
  readonly amcheck?: 'database' | 'all' | false;
  /** shared_buffers of the restored copy. @default - a quarter of the memory limit, at most 1024MB */
  readonly sharedBuffers?: string;
  /** Pushgateway base URL and grouping path (`job/<job>/namespace/<ns>`). @default - no push */
  readonly pushgateway?: { readonly url: string; readonly group: string };
  /** Size of the in-memory /dev/shm (PostgreSQL's dynamic shared memory). @default '128Mi' */
  readonly sharedMemorySize?: string;
  /** What capabilities add (the Vault agent with the read-only storage credentials). @default - nothing */
  readonly extension?: PodExtensionPoint;
}

/**
 * The monthly restore test: the restore-test script ({@link RESTORE_TEST_SCRIPT}) run as a
 * {@link BackupJob} with an ephemeral volume sized for the whole database, an in-memory
 * /dev/shm, its checks as env, one attempt per run (a failed restore is a finding, not
 * something to retry) and six hours to start after a missed schedule.
 */
export class RestoreTestJob extends Construct {
  public readonly job: BackupJob;
  /** The container's env: the script's settings (also what the real test runs it with). */
  public readonly env: readonly EnvEntry[];

  public constructor(scope: Construct, id: string, props: RestoreTestJobProps) {
    super(scope, id);
    const E = RESTORE_TEST_ENV;
    const name = props.name ?? 'pg-restore-test';
    const memoryMi = Math.floor(bytes(props.resources.limits.memory) / (1024 * 1024));
    const settings: Array<[string, string | undefined]> = [
      [E.pgdata, `${RESTORE_TEST_DIR}/pgdata`],
      [E.workDir, `${RESTORE_TEST_DIR}/work`],
      [E.rpoSeconds, String(props.rpoSeconds)],
      [E.database, props.database],
      [E.superuser, props.superuser ?? 'postgres'],
      [E.recencyTable, props.recency?.table],
      [E.recencyColumn, props.recency?.column],
      [E.rowFloors, props.rowFloors?.length ? props.rowFloors.map((f) => `${f.table}=${f.minRows}`).join(' ') : undefined],
      [E.amcheck, (props.amcheck ?? 'all') === false ? 'off' : String(props.amcheck ?? 'all')],
      [E.recoveryTimeoutSeconds, String(props.activeDeadlineSeconds)],
      [E.sharedBuffers, props.sharedBuffers ?? `${Math.min(1024, Math.max(32, Math.floor(memoryMi / 4)))}MB`],
      [E.pushgatewayUrl, props.pushgateway?.url],
      [E.pushGroup, props.pushgateway?.group],
    ];
    this.env = [
      ...props.walgEnv,
      ...settings.filter((s): s is [string, string] => s[1] !== undefined).map(([n, value]) => ({ name: n, value })),
    ];
    this.job = new BackupJob(this, 'Job', {
      name,
      schedule: props.schedule,
      image: props.image,
      scripts: props.scripts,
      script: BACKUP_SCRIPT_FILES.restoreTest,
      resources: props.resources,
      activeDeadlineSeconds: props.activeDeadlineSeconds,
      env: this.env,
      volumes: [
        { name: 'restore', emptyDir: { sizeLimit: props.volumeSize } },
        { name: 'shm', emptyDir: { sizeLimit: props.sharedMemorySize ?? '128Mi', medium: 'Memory' } },
      ],
      mounts: [{ volume: 'restore', path: RESTORE_TEST_DIR }, { volume: 'shm', path: '/dev/shm' }],
      extension: props.extension,
      startingDeadlineSeconds: 6 * 3600,
      backoffLimit: 0,
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 3,
    });
  }
}

