import { Construct } from 'constructs';
import { ANNOTATION_CONFIG_CHECKSUM } from '../core';
import { ContainerSpec, PodExtensionPoint, PodVolumeSpec, ScheduledJob } from '../workload';
import { BACKUP_SCRIPTS_DIR, BackupScripts } from './backup-scripts';
import { BackupScriptFile } from './scripts';

/**
 * A backup job: its container's `image` (the PostgreSQL image, which contains WAL-G and
 * psql), `resources`, `env` (WAL-G's, connection settings; no credentials) and extra
 * `mounts` as in {@link ContainerSpec}, and the CronJob's settings.
 */
export interface BackupJobProps extends Pick<ContainerSpec, 'image' | 'resources' | 'env' | 'mounts'> {
  /** CronJob, ServiceAccount and `app.kubernetes.io/name`, e.g. `pg-base-backup`. */
  readonly name: string;
  /** Cron schedule (5 fields, Etc/UTC). */
  readonly schedule: string;
  /** The scripts ConfigMap. */
  readonly scripts: BackupScripts;
  /** The script the container runs (`sh <file>`). */
  readonly script: BackupScriptFile;
  /** Seconds a run may take in all (the Job's activeDeadlineSeconds). */
  readonly activeDeadlineSeconds: number;
  /** More volumes, e.g. the restore test's. @default - none */
  readonly volumes?: readonly PodVolumeSpec[];
  /** What capabilities add (the Vault agent, pre-populate only). @default - nothing */
  readonly extension?: PodExtensionPoint;
  /** Seconds after the scheduled time a missed run may still start. @default 3600 */
  readonly startingDeadlineSeconds?: number;
  /** Retries of a failed run. @default 1 */
  readonly backoffLimit?: number;
  /** Succeeded Jobs kept. @default 3 */
  readonly successfulJobsHistoryLimit?: number;
  /** Failed Jobs kept (kube-state-metrics reports them while they exist). @default 3 */
  readonly failedJobsHistoryLimit?: number;
  /** Size of the writable /tmp. @default '64Mi' */
  readonly tmpSize?: string;
}

/**
 * One backup CronJob ({@link ScheduledJob}: concurrency Forbid, starting and total
 * deadlines, retries, history limits) running one script of {@link BackupScripts} in the
 * PostgreSQL image: the scripts read-only at their folder, a writable /tmp, the scripts'
 * checksum as a pod annotation.
 */
export class BackupJob extends Construct {
  public readonly job: ScheduledJob;
  public readonly name: string;

  public constructor(scope: Construct, id: string, props: BackupJobProps) {
    super(scope, id);
    this.name = props.name;
    const extension = props.extension ?? new PodExtensionPoint(props.name);
    extension.addPodAnnotation(ANNOTATION_CONFIG_CHECKSUM, props.scripts.checksum);
    this.job = new ScheduledJob(this, 'Resource', {
      name: props.name,
      component: 'backup',
      schedule: props.schedule,
      containers: [{
        name: props.name,
        image: props.image,
        resources: props.resources,
        command: props.scripts.command(props.script),
        env: props.env,
        mounts: [
          { volume: 'scripts', path: BACKUP_SCRIPTS_DIR, readOnly: true },
          { volume: 'tmp', path: '/tmp' },
          ...(props.mounts ?? []),
        ],
      }],
      volumes: [props.scripts.volume('scripts'), { name: 'tmp', emptyDir: { sizeLimit: props.tmpSize ?? '64Mi' } }, ...(props.volumes ?? [])],
      extension,
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: props.startingDeadlineSeconds ?? 3600,
      activeDeadlineSeconds: props.activeDeadlineSeconds,
      backoffLimit: props.backoffLimit ?? 1,
      successfulJobsHistoryLimit: props.successfulJobsHistoryLimit ?? 3,
      failedJobsHistoryLimit: props.failedJobsHistoryLimit ?? 3,
    });
  }
}
