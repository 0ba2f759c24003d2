import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { RunAsIds, recommendedLabels, resolveRunAsIds, resourceName, selectorLabels } from '../core';
import { ContainerSpec } from './container';
import { PodExtensionPoint, PodVolumeSpec } from './pod-extension';
import { DEFAULT_TERMINATION_GRACE_SECONDS, renderPodTemplate } from './pod-template';

export interface ScheduledJobProps {
  /** Object name of the CronJob (at most 52 characters: Kubernetes appends 11 to its Jobs). */
  readonly name: string;
  /** `app.kubernetes.io/name` and `instance` of the CronJob and its pods. @default - `name` */
  readonly appName?: string;
  /** `app.kubernetes.io/component`, e.g. `backup`. */
  readonly component: string;
  /** Cron schedule, e.g. `17 3 * * *`. */
  readonly schedule: string;
  /** IANA time zone of the schedule. @default 'Etc/UTC' */
  readonly timeZone?: string;
  /** Containers, run to completion; the first gives the version label. No probes. */
  readonly containers: readonly ContainerSpec[];
  /** Plain init containers. @default - none */
  readonly initContainers?: readonly ContainerSpec[];
  /** Pod volumes. @default - none */
  readonly volumes?: readonly PodVolumeSpec[];
  /** What capabilities add to the pods. @default - nothing */
  readonly extension?: PodExtensionPoint;
  /**
   * What happens when a run is due while the last one still runs. `Allow` is not offered:
   * overlapping runs cannot be bounded, so the capacity guard could not count them.
   * @default 'Forbid'
   */
  readonly concurrencyPolicy?: 'Forbid' | 'Replace';
  /** Seconds after the scheduled time a missed run may still start. @default 300 */
  readonly startingDeadlineSeconds?: number;
  /** Seconds a run may take in all before Kubernetes stops it; required, sized by the caller. */
  readonly activeDeadlineSeconds: number;
  /** Retries of a failed run. @default 2 */
  readonly backoffLimit?: number;
  /** Finished Jobs kept for inspection. @default 3 */
  readonly successfulJobsHistoryLimit?: number;
  /** Failed Jobs kept for inspection. @default 3 */
  readonly failedJobsHistoryLimit?: number;
  /** Name of an existing ServiceAccount. @default - a ServiceAccount of its own, named `name`, that mounts no token */
  readonly serviceAccountName?: string;
  /** Numeric identity of the containers. @default - the extension's, else the job's own (derived from its name, see {@link RunAsIds}) */
  readonly runAs?: RunAsIds;
  /** Seconds from SIGTERM to SIGKILL. @default 30 */
  readonly terminationGracePeriodSeconds?: number;
}

/** Longest CronJob name: its Jobs are named `<name>-<11 digits>`, and a Job name is at most 63. */
const MAX_CRONJOB_NAME = 52;

/**
 * A CronJob with the pod discipline of {@link Workload} and the limits SREs ask of
 * scheduled work: bounded concurrency, a starting deadline, a total deadline, retries
 * and history limits. Its pods never restart in place (`restartPolicy: Never`), so a
 * failed attempt stays inspectable.
 */
export class ScheduledJob extends Construct {
  public readonly cronJob: kplus.k8s.KubeCronJob;
  public readonly serviceAccountName: string;
  public readonly concurrencyPolicy: 'Forbid' | 'Replace';

  public constructor(scope: Construct, id: string, props: ScheduledJobProps) {
    super(scope, id);
    const name = resourceName(props.name);
    if (name.length > MAX_CRONJOB_NAME) throw new Error(`${name}: a CronJob name may have at most ${MAX_CRONJOB_NAME} characters, found ${name.length}`);
    if (!(props.activeDeadlineSeconds > 0)) throw new Error(`${name}: activeDeadlineSeconds must be > 0, found ${props.activeDeadlineSeconds}`);
    this.concurrencyPolicy = props.concurrencyPolicy ?? 'Forbid';
    const appName = props.appName ?? name;
    const image = props.containers[0].image;
    const labels = recommendedLabels({ name: appName, component: props.component, version: image.version });
    this.serviceAccountName = props.serviceAccountName ?? name;
    if (!props.serviceAccountName) {
      new kplus.k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata: { name, labels }, automountServiceAccountToken: false });
    }
    const template = renderPodTemplate({
      owner: name,
      labels: { ...labels, ...selectorLabels(appName) },
      annotations: { ...image.annotations },
      serviceAccountName: this.serviceAccountName,
      containers: props.containers,
      initContainers: props.initContainers,
      volumes: props.volumes,
      extension: props.extension,
      runAs: props.extension ? props.extension.runAsFor(appName, props.runAs) : resolveRunAsIds(appName, props.runAs),
      terminationGracePeriodSeconds: props.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_SECONDS,
      restartPolicy: 'Never',
    });
    this.cronJob = new kplus.k8s.KubeCronJob(this, 'Resource', {
      metadata: { name, labels, annotations: Object.keys(image.annotations).length ? { ...image.annotations } : undefined },
      spec: {
        schedule: props.schedule,
        timeZone: props.timeZone ?? 'Etc/UTC',
        concurrencyPolicy: this.concurrencyPolicy,
        startingDeadlineSeconds: props.startingDeadlineSeconds ?? 300,
        successfulJobsHistoryLimit: props.successfulJobsHistoryLimit ?? 3,
        failedJobsHistoryLimit: props.failedJobsHistoryLimit ?? 3,
        jobTemplate: {
          metadata: { labels },
          spec: {
            backoffLimit: props.backoffLimit ?? 2,
            activeDeadlineSeconds: props.activeDeadlineSeconds,
            template,
          },
        },
      },
    });
  }
}
