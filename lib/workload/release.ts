import { ContainerImage } from '../core';
import { Scaling } from './scaling';

/** The two slots of a blue-green service. */
export const SLOTS = ['blue', 'green'] as const;
export type Slot = typeof SLOTS[number];

/** How a service's new versions reach users. */
export type Release = RollingRelease | BlueGreenRelease;

/** One Deployment, updated in place pod by pod. */
export interface RollingRelease {
  readonly strategy: 'rolling';
  /** Image every pod runs. */
  readonly image: ContainerImage;
  /** Pod count of the Deployment. */
  readonly scaling: Scaling;
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
  readonly images: Readonly<Record<Slot, ContainerImage>>;
  /** Pod count of the active slot. */
  readonly scaling: Scaling;
  /**
   * Pods kept in the idle slot: 0 parks it, more keeps it warm for preview or rollback.
   * With autoscaling, a warm idle slot gets its own HPA from this minimum up to the
   * active maximum.
   */
  readonly idleReplicas: number;
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
