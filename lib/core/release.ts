/**
 * How a service runs and ships new versions, as plain data: the one definition that the
 * environment config resolves into and that the workload constructs take. Pure (no
 * cdk8s), so that `config/` can share the types, defaults and rules.
 */
import { ImageRef } from './image';

/** The two slots of a blue-green service. */
export const SLOTS = ['blue', 'green'] as const;
export type Slot = typeof SLOTS[number];

/** Pod count a service runs when its environment sets neither replicas nor autoscaling. */
export const DEFAULT_REPLICAS = 2;
/** Fewest pods per service, and HPA minimum, in a production-tier environment. */
export const PRODUCTION_MIN_PODS = 2;
/** Average CPU utilisation (percent of the request) an HPA aims for unless told otherwise. */
export const DEFAULT_TARGET_CPU_PERCENT = 70;

/** How many pods a Deployment runs: a fixed count, or CPU-driven autoscaling. */
export type Scaling = FixedScaling | Autoscaling;

export interface FixedScaling {
  readonly kind: 'fixed';
  /** Pod count; 0 parks the Deployment (an idle blue-green slot). */
  readonly replicas: number;
}

/** With autoscaling the Deployment leaves `spec.replicas` unset, so an apply never fights the HPA. */
export interface Autoscaling {
  readonly kind: 'autoscaling';
  /** Lowest pod count the HPA keeps, at least 1. */
  readonly minReplicas: number;
  /** Highest pod count the HPA may reach; greater than `minReplicas`. */
  readonly maxReplicas: number;
  /** Average CPU utilisation, in percent of the CPU request, that the HPA aims for. */
  readonly targetCpuUtilizationPercent: number;
}

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

/** The documented defaults of {@link RollingUpdateSpec}; config and constructs both read these. */
export const ROLLOUT_DEFAULTS: Required<RollingUpdateSpec> = { maxSurge: 1, minReadySeconds: 10, progressDeadlineSeconds: 600 };

/** Resolved rolling-update settings. */
export function resolveRollingUpdate(spec: RollingUpdateSpec = {}): Required<RollingUpdateSpec> {
  return {
    maxSurge: spec.maxSurge ?? ROLLOUT_DEFAULTS.maxSurge,
    minReadySeconds: spec.minReadySeconds ?? ROLLOUT_DEFAULTS.minReadySeconds,
    progressDeadlineSeconds: spec.progressDeadlineSeconds ?? ROLLOUT_DEFAULTS.progressDeadlineSeconds,
  };
}

/** How a service's new versions reach users. */
export type Release = RollingRelease | BlueGreenRelease;

/** One Deployment, updated in place pod by pod. */
export interface RollingRelease {
  readonly strategy: 'rolling';
  /** Image every pod runs. */
  readonly image: ImageRef;
  /** Pod count of the Deployment. */
  readonly scaling: Scaling;
  /** Rollout settings. @default - see {@link RollingUpdateSpec} */
  readonly rollingUpdate?: RollingUpdateSpec;
}

/**
 * Two Deployments (`<svc>-blue`, `<svc>-green`); the Service selects the active slot,
 * `<svc>-preview` the idle one. Promotion flips `activeSlot` in Git.
 */
export interface BlueGreenRelease {
  readonly strategy: 'blueGreen';
  /** Slot that receives production traffic. */
  readonly activeSlot: Slot;
  /** Image of each slot. */
  readonly images: Readonly<Record<Slot, ImageRef>>;
  /** Pod count of the active slot. */
  readonly scaling: Scaling;
  /**
   * Pods kept in the idle slot: 0 parks it, more keeps it warm for preview or rollback.
   * With autoscaling, a warm idle slot gets its own HPA from this minimum up to the
   * active maximum.
   */
  readonly idleReplicas: number;
  /** Rollout settings of both slots' Deployments. @default - see {@link RollingUpdateSpec} */
  readonly rollingUpdate?: RollingUpdateSpec;
}

/** The slot that is not active. */
export function otherSlot(slot: Slot): Slot {
  return slot === 'blue' ? 'green' : 'blue';
}

/** Scaling of the idle slot, derived from the active scaling and `idleReplicas`. */
export function idleScaling(release: BlueGreenRelease): Scaling {
  const active = release.scaling;
  if (release.idleReplicas === 0 || active.kind === 'fixed') {
    return { kind: 'fixed', replicas: release.idleReplicas };
  }
  return { ...active, minReplicas: release.idleReplicas };
}

/** The image serving traffic. */
export function activeImage(release: Release): ImageRef {
  return release.strategy === 'rolling' ? release.image : release.images[release.activeSlot];
}

/** The most pods the scaling can ever ask for. */
export function maxReplicas(scaling: Scaling): number {
  return scaling.kind === 'fixed' ? scaling.replicas : scaling.maxReplicas;
}

/** Fewest pods the scaling keeps. */
export function minReplicas(scaling: Scaling): number {
  return scaling.kind === 'fixed' ? scaling.replicas : scaling.minReplicas;
}

/** Surge pods for a Deployment of `replicas` pods (Kubernetes rounds percentages up). */
export function surgePods(maxSurge: number | string, replicas: number): number {
  if (typeof maxSurge === 'number') return maxSurge;
  return Math.ceil((replicas * Number(maxSurge.replace('%', ''))) / 100);
}

/** Why the scaling bounds are inconsistent, or undefined. `where` names the owner in the message. */
export function scalingProblem(scaling: Scaling, where: string): string | undefined {
  if (scaling.kind === 'fixed') {
    return Number.isInteger(scaling.replicas) && scaling.replicas >= 0 ? undefined
      : `${where}: replicas must be an integer ≥ 0, found ${scaling.replicas}`;
  }
  if (!Number.isInteger(scaling.minReplicas) || scaling.minReplicas < 1) {
    return `${where}: minReplicas must be an integer ≥ 1, found ${scaling.minReplicas}`;
  }
  if (!Number.isInteger(scaling.maxReplicas) || scaling.maxReplicas <= scaling.minReplicas) {
    return `${where}: maxReplicas (${scaling.maxReplicas}) must be greater than minReplicas (${scaling.minReplicas})`;
  }
  if (scaling.targetCpuUtilizationPercent < 1 || scaling.targetCpuUtilizationPercent > 100) {
    return `${where}: targetCpuUtilizationPercent must be 1-100, found ${scaling.targetCpuUtilizationPercent}`;
  }
  return undefined;
}

/** Seconds a service may take to finish in-flight requests after SIGTERM, unless its catalog entry says otherwise. */
export const DEFAULT_DRAIN_SECONDS = 30;
