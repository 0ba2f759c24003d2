import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ANNOTATION_TIER, DEFAULT_POD_SECURITY_VERSION, recommendedLabels, resourceName } from '../core';

/** CPU and memory amounts, as Kubernetes quantities (`500m`, `256Mi`). */
export interface QuotaAmounts {
  readonly cpu: string;
  readonly memory: string;
}

/** Totals the namespace may not exceed. */
export interface NamespaceQuota {
  /** Sum of container requests, and of PersistentVolumeClaim storage requests. */
  readonly requests: QuotaAmounts & {
    /** Sum of the storage all claims request. @default - not limited (no `requests.storage` line) */
    readonly storage?: string;
  };
  /** Sum of container limits. */
  readonly limits: QuotaAmounts;
  /** Pods, counting every replica, slot and surge pod. */
  readonly pods: number;
  /** PersistentVolumeClaims. */
  readonly persistentVolumeClaims: number;
}

/** Per-container defaults and bounds, enforced at admission. */
export interface ContainerLimitRange {
  /** Limits given to a container that sets none. */
  readonly default: QuotaAmounts;
  /** Requests given to a container that sets none. */
  readonly defaultRequest: QuotaAmounts;
  /** Largest limit a container may set. */
  readonly max: QuotaAmounts;
}

export interface ProntoNamespaceProps {
  /** Namespace name. */
  readonly name: string;
  /** Totals for the ResourceQuota. */
  readonly quota: NamespaceQuota;
  /** Container defaults and maxima for the LimitRange. */
  readonly limitRange: ContainerLimitRange;
  /**
   * Pod Security Standards version the admission labels pin, so a cluster upgrade
   * cannot tighten the policy under running workloads unannounced.
   * @default 'v1.28'
   */
  readonly podSecurityVersion?: string;
  /**
   * Environment tier, recorded as the annotation `pronto.io/tier`. The validation gate
   * applies production rules (HPA minReplicas ≥ 2) to a `production` namespace.
   * @default - no tier annotation
   */
  readonly tier?: string;
  /**
   * Labels a capability needs on the namespace, e.g. `istio.io/dataplane-mode: ambient`.
   * They may not change the Pod Security labels or the recommended ones.
   * @default - none
   */
  readonly extraLabels?: Readonly<Record<string, string>>;
}

/** Label prefix of Pod Security admission. */
const PSA = 'pod-security.kubernetes.io';

/**
 * The namespace Pronto runs in, with Pod Security admission at "restricted" (enforce,
 * audit, warn), a ResourceQuota and a LimitRange.
 */
export class ProntoNamespace extends Construct {
  public readonly namespace: kplus.k8s.KubeNamespace;
  public readonly name: string;
  public readonly podSecurityVersion: string;

  public constructor(scope: Construct, id: string, props: ProntoNamespaceProps) {
    super(scope, id);
    this.name = resourceName(props.name);
    this.podSecurityVersion = props.podSecurityVersion ?? DEFAULT_POD_SECURITY_VERSION;
    const labels = recommendedLabels({ name: this.name, component: 'namespace' });

    // The L1 object: cdk8s-plus's Namespace renders an empty `spec: {}`.
    this.namespace = new kplus.k8s.KubeNamespace(this, 'Resource', {
      metadata: {
        name: this.name,
        labels: { ...labels, ...this.podSecurityLabels(), ...this.extraLabels(props.extraLabels ?? {}, labels) },
        annotations: props.tier ? { [ANNOTATION_TIER]: props.tier } : undefined,
      },
    });
    new kplus.k8s.KubeResourceQuota(this, 'Quota', {
      metadata: { name: resourceName(this.name, 'quota'), namespace: this.name, labels },
      spec: { hard: quotaHard(props.quota) },
    });
    new kplus.k8s.KubeLimitRange(this, 'LimitRange', {
      metadata: { name: resourceName(this.name, 'limits'), namespace: this.name, labels },
      spec: {
        limits: [{
          type: 'Container',
          default: quantities(props.limitRange.default),
          defaultRequest: quantities(props.limitRange.defaultRequest),
          max: quantities(props.limitRange.max),
        }],
      },
    });
  }

  /** `extra`, refused where it would replace a label this construct sets: the profile is never weakened. */
  private extraLabels(extra: Readonly<Record<string, string>>, own: Record<string, string>): Record<string, string> {
    const fixed = { ...own, ...this.podSecurityLabels() };
    const replaced = Object.keys(extra).find((key) => key in fixed);
    if (replaced) throw new Error(`${this.name}: namespace label "${replaced}" is set by ProntoNamespace and cannot be replaced`);
    return { ...extra };
  }

  private podSecurityLabels(): Record<string, string> {
    const labels: Record<string, string> = {};
    for (const mode of ['enforce', 'audit', 'warn']) {
      labels[`${PSA}/${mode}`] = 'restricted';
      labels[`${PSA}/${mode}-version`] = this.podSecurityVersion;
    }
    return labels;
  }
}

function quantities(amounts: QuotaAmounts): Record<string, kplus.k8s.Quantity> {
  return { cpu: kplus.k8s.Quantity.fromString(amounts.cpu), memory: kplus.k8s.Quantity.fromString(amounts.memory) };
}

function quotaHard(quota: NamespaceQuota): Record<string, kplus.k8s.Quantity> {
  return {
    'requests.cpu': kplus.k8s.Quantity.fromString(quota.requests.cpu),
    'requests.memory': kplus.k8s.Quantity.fromString(quota.requests.memory),
    'limits.cpu': kplus.k8s.Quantity.fromString(quota.limits.cpu),
    'limits.memory': kplus.k8s.Quantity.fromString(quota.limits.memory),
    'pods': kplus.k8s.Quantity.fromNumber(quota.pods),
    'persistentvolumeclaims': kplus.k8s.Quantity.fromNumber(quota.persistentVolumeClaims),
    ...(quota.requests.storage ? { 'requests.storage': kplus.k8s.Quantity.fromString(quota.requests.storage) } : {}),
  };
}
