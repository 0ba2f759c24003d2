import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ANNOTATION_CONFIG_CHECKSUM, ComputeResources, PinnedImage, configChecksum, recommendedLabels, resourceName } from '../core';
import { CaBundle, mountCaBundle } from '../tls';
import { EnvEntry, PodExtensionPoint, ScheduledJob } from '../workload';
import { ROLES_JOB_FILES } from './app-roles';

/** Where the job sees its ConfigMap. */
export const ROLES_JOB_DIR = '/opt/pronto/roles';

export interface RolesJobProps {
  /** CronJob, ConfigMap, ServiceAccount and `app.kubernetes.io/name`. @default 'pg-roles' */
  readonly name?: string;
  /** The PostgreSQL image (it has psql, of the server's version). */
  readonly image: PinnedImage;
  readonly resources: ComputeResources;
  /** Cron schedule (5 fields, Etc/UTC). */
  readonly schedule: string;
  /** Seconds a run may take in all (the Job's activeDeadlineSeconds); shorter than the schedule's interval. */
  readonly activeDeadlineSeconds: number;
  /** The ConfigMap's files ({@link ROLES_JOB_FILES}): the script and its SQL. */
  readonly files: Readonly<Record<typeof ROLES_JOB_FILES[keyof typeof ROLES_JOB_FILES], string>>;
  /** Connection settings (PGHOST, PGPORT, PGUSER, PGDATABASE …), no credentials. */
  readonly env: readonly EnvEntry[];
  /** What capabilities add (the Vault agent, pre-populate only). @default - nothing */
  readonly extension?: PodExtensionPoint;
  /** The CA bundle PostgreSQL's certificate is verified against (the env's PGSSLROOTCERT names its file). @default - none (no TLS) */
  readonly caBundle?: CaBundle;
}

/**
 * The pg-roles CronJob ({@link ScheduledJob}: concurrency Forbid, a deadline shorter than
 * the interval, no retry within a run (the next run is minutes away), history limits) and
 * its ConfigMap: `sh pg-roles.sh` in the PostgreSQL image, the files read-only, a small
 * writable /tmp, the files' checksum as a pod annotation. A CronJob's jobTemplate is
 * mutable, so a changed script or Vault file list is picked up by the next run: nothing
 * restarts.
 */
export class RolesJob extends Construct {
  public readonly job: ScheduledJob;
  public readonly configMap: kplus.k8s.KubeConfigMap;
  public readonly name: string;

  public constructor(scope: Construct, id: string, props: RolesJobProps) {
    super(scope, id);
    this.name = resourceName(props.name ?? 'pg-roles');
    const missing = Object.values(ROLES_JOB_FILES).filter((f) => !(f in props.files));
    if (missing.length > 0) throw new Error(`${this.name}: files: expected ${missing.join(', ')}`);
    const files = Object.fromEntries(Object.values(ROLES_JOB_FILES).map((f) => [f, props.files[f]]));
    this.configMap = new kplus.k8s.KubeConfigMap(this, 'Config', {
      metadata: { name: this.name, labels: recommendedLabels({ name: this.name, component: 'database' }) },
      data: files,
    });
    const extension = props.extension ?? new PodExtensionPoint(this.name);
    extension.addPodAnnotation(ANNOTATION_CONFIG_CHECKSUM, configChecksum(files));
    if (props.caBundle) mountCaBundle(extension, props.caBundle);
    this.job = new ScheduledJob(this, 'Resource', {
      name: this.name,
      component: 'database',
      schedule: props.schedule,
      containers: [{
        name: this.name,
        image: props.image,
        resources: props.resources,
        command: ['sh', `${ROLES_JOB_DIR}/${ROLES_JOB_FILES.script}`],
        env: props.env,
        mounts: [
          { volume: 'scripts', path: ROLES_JOB_DIR, readOnly: true },
          { volume: 'tmp', path: '/tmp' },
        ],
      }],
      volumes: [
        { name: 'scripts', configMap: { name: this.name, defaultMode: 0o444 } },
        { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } },
      ],
      extension,
      concurrencyPolicy: 'Forbid',
      // A missed run is not worth catching up late: the next one is minutes away.
      startingDeadlineSeconds: 60,
      activeDeadlineSeconds: props.activeDeadlineSeconds,
      backoffLimit: 0,
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 3,
    });
  }
}
