/**
 * How many pods a Deployment runs: a fixed count, or CPU-driven autoscaling.
 * With autoscaling the Deployment leaves `spec.replicas` unset, so that an apply
 * never fights the HorizontalPodAutoscaler.
 */
export type Scaling = FixedScaling | Autoscaling;

export interface FixedScaling {
  readonly kind: 'fixed';
  /** Pod count; 0 parks the Deployment (an idle blue-green slot). */
  readonly replicas: number;
}

export interface Autoscaling {
  readonly kind: 'autoscaling';
  /** Lowest pod count the HPA keeps, at least 1. */
  readonly minReplicas: number;
  /** Highest pod count the HPA may reach; greater than `minReplicas`. */
  readonly maxReplicas: number;
  /** Average CPU utilisation, in percent of the CPU request, that the HPA aims for. */
  readonly targetCpuUtilizationPercent: number;
}

/** The most pods the scaling can ever ask for. */
export function maxReplicas(scaling: Scaling): number {
  return scaling.kind === 'fixed' ? scaling.replicas : scaling.maxReplicas;
}

/** Throws when the bounds are inconsistent; `where` names the owner in the message. */
export function validateScaling(scaling: Scaling, where: string): void {
  if (scaling.kind === 'fixed') {
    if (!Number.isInteger(scaling.replicas) || scaling.replicas < 0) {
      throw new Error(`${where}: replicas must be an integer ≥ 0, found ${scaling.replicas}`);
    }
    return;
  }
  if (!Number.isInteger(scaling.minReplicas) || scaling.minReplicas < 1) {
    throw new Error(`${where}: minReplicas must be an integer ≥ 1, found ${scaling.minReplicas}`);
  }
  if (scaling.maxReplicas <= scaling.minReplicas) {
    throw new Error(`${where}: maxReplicas (${scaling.maxReplicas}) must be greater than minReplicas (${scaling.minReplicas})`);
  }
  if (scaling.targetCpuUtilizationPercent < 1 || scaling.targetCpuUtilizationPercent > 100) {
    throw new Error(`${where}: targetCpuUtilizationPercent must be 1-100, found ${scaling.targetCpuUtilizationPercent}`);
  }
}
