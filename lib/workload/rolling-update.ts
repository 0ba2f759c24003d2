import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';

/**
 * Rolling-update settings of a Deployment. Pronto never takes a pod down before its
 * replacement is ready: `maxUnavailable` is always 0, and `maxSurge` extra pods start first.
 */
export interface RollingUpdateSpec {
  /** Extra pods during a rollout: a count (`1`) or a percentage of replicas (`'25%'`, rounded up). @default 1 */
  readonly maxSurge?: number | string;
  /** Seconds a new pod must stay ready before it counts as available. @default 10 */
  readonly minReadySeconds?: number;
  /** Seconds without progress before the rollout is reported as failed. @default 600 */
  readonly progressDeadlineSeconds?: number;
}

/** Resolved rolling-update settings. */
export function resolveRollingUpdate(spec: RollingUpdateSpec = {}): Required<RollingUpdateSpec> {
  return {
    maxSurge: spec.maxSurge ?? 1,
    minReadySeconds: spec.minReadySeconds ?? 10,
    progressDeadlineSeconds: spec.progressDeadlineSeconds ?? 600,
  };
}

/** Surge pods for a Deployment of `replicas` pods (Kubernetes rounds percentages up). */
export function surgePods(maxSurge: number | string, replicas: number): number {
  if (typeof maxSurge === 'number') return maxSurge;
  return Math.ceil((replicas * Number(maxSurge.replace('%', ''))) / 100);
}

/** The cdk8s-plus Deployment props that carry these settings. */
export function rollingUpdateProps(spec: Required<RollingUpdateSpec>):
Pick<kplus.DeploymentProps, 'strategy' | 'minReady' | 'progressDeadline'> {
  const surge = typeof spec.maxSurge === 'number'
    ? kplus.PercentOrAbsolute.absolute(spec.maxSurge)
    : kplus.PercentOrAbsolute.percent(Number(spec.maxSurge.replace('%', '')));
  return {
    strategy: kplus.DeploymentStrategy.rollingUpdate({
      maxSurge: surge,
      maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
    }),
    minReady: Duration.seconds(spec.minReadySeconds),
    progressDeadline: Duration.seconds(spec.progressDeadlineSeconds),
  };
}
