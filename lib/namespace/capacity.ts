import { Manifest, bytes, cpuMillis } from '../core';
import { surgePods } from '../workload';

/** What one workload can demand at its peak. */
export interface WorkloadPeak {
  /** `Deployment/clients-app-blue`. */
  readonly workload: string;
  /** Most pods at once: maximum replicas plus rolling-update surge. */
  readonly pods: number;
  /** Per-pod requests and limits, every container and native sidecar included. */
  readonly perPod: Compute;
}

/** CPU in millicores, memory in bytes. */
export interface Compute {
  readonly requestsCpu: number;
  readonly requestsMemory: number;
  readonly limitsCpu: number;
  readonly limitsMemory: number;
}

/** One quota line the peak does not fit in. */
export interface CapacityViolation {
  /** ResourceQuota `hard` key, e.g. `requests.cpu`. */
  readonly resource: string;
  /** Peak demand: millicores, bytes or a count. */
  readonly demand: number;
  /** What the quota allows, in the same unit. */
  readonly allowed: number;
  /** The workloads behind the demand, largest first. */
  readonly peaks: WorkloadPeak[];
}

const TOTALS: Array<[string, (c: Compute) => number, (q: string) => number]> = [
  ['requests.cpu', (c) => c.requestsCpu, cpuMillis],
  ['requests.memory', (c) => c.requestsMemory, bytes],
  ['limits.cpu', (c) => c.limitsCpu, cpuMillis],
  ['limits.memory', (c) => c.limitsMemory, bytes],
];

/**
 * Checks that every workload of a namespace, all at maximum scale at once (HPA maximum,
 * both blue-green slots at their configured size) and mid-rollout (surge pods), fits in
 * the namespace's ResourceQuota. A quota that is too small fails rollouts and scale-ups
 * at the worst moment, under load, so we refuse to synthesize it.
 */
export function checkCapacity(manifests: Manifest[], namespace: string): CapacityViolation[] {
  const quota = manifests.find((m) => m.kind === 'ResourceQuota' && m.metadata?.namespace === namespace);
  if (!quota) return [];
  const hard: Record<string, string | number> = quota.spec?.hard ?? {};
  const peaks = workloadPeaks(manifests.filter((m) => m.metadata?.namespace === namespace));
  const violations: CapacityViolation[] = [];
  for (const [resource, pick, parse] of TOTALS) {
    if (hard[resource] === undefined) continue;
    const demand = peaks.reduce((sum, p) => sum + p.pods * pick(p.perPod), 0);
    const allowed = parse(String(hard[resource]));
    if (demand > allowed) {
      violations.push({ resource, demand, allowed, peaks: byLargest(peaks, (p) => p.pods * pick(p.perPod)) });
    }
  }
  if (hard.pods !== undefined) {
    const demand = peaks.reduce((sum, p) => sum + p.pods, 0);
    if (demand > Number(hard.pods)) {
      violations.push({ resource: 'pods', demand, allowed: Number(hard.pods), peaks: byLargest(peaks, (p) => p.pods) });
    }
  }
  return violations;
}

/** The peak of every Deployment and StatefulSet among `manifests`. */
export function workloadPeaks(manifests: Manifest[]): WorkloadPeak[] {
  const hpaMax = new Map<string, number>();
  for (const m of manifests.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    hpaMax.set(`${m.spec.scaleTargetRef.kind}/${m.spec.scaleTargetRef.name}`, m.spec.maxReplicas);
  }
  return manifests
    .filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet')
    .map((m) => {
      const workload = `${m.kind}/${m.metadata?.name}`;
      const replicas = hpaMax.get(workload) ?? m.spec.replicas ?? 1;
      const maxSurge = m.spec.strategy?.rollingUpdate?.maxSurge ?? '25%';
      const surge = m.kind === 'Deployment' && replicas > 0 ? surgePods(maxSurge, replicas) : 0;
      return { workload, pods: replicas + surge, perPod: podCompute(m.spec.template.spec) };
    });
}

/**
 * Effective pod resources as the scheduler and quota count them: app containers plus
 * native sidecars (init containers with `restartPolicy: Always`), or the largest plain
 * init container plus the sidecars, whichever is more.
 */
export function podCompute(podSpec: any): Compute {
  const containers: any[] = podSpec.containers ?? [];
  const inits: any[] = podSpec.initContainers ?? [];
  const sidecars = inits.filter((c) => c.restartPolicy === 'Always');
  const plainInits = inits.filter((c) => c.restartPolicy !== 'Always');
  const running = sum([...containers, ...sidecars].map(containerCompute));
  const withSidecars = sum(sidecars.map(containerCompute));
  return plainInits.map(containerCompute).reduce((peak, init) => max(peak, sum([init, withSidecars])), running);
}

function containerCompute(container: any): Compute {
  const r = container.resources ?? {};
  return {
    requestsCpu: r.requests?.cpu ? cpuMillis(String(r.requests.cpu)) : 0,
    requestsMemory: r.requests?.memory ? bytes(String(r.requests.memory)) : 0,
    limitsCpu: r.limits?.cpu ? cpuMillis(String(r.limits.cpu)) : 0,
    limitsMemory: r.limits?.memory ? bytes(String(r.limits.memory)) : 0,
  };
}

const ZERO: Compute = { requestsCpu: 0, requestsMemory: 0, limitsCpu: 0, limitsMemory: 0 };

function sum(list: Compute[]): Compute {
  return list.reduce((a, b) => ({
    requestsCpu: a.requestsCpu + b.requestsCpu,
    requestsMemory: a.requestsMemory + b.requestsMemory,
    limitsCpu: a.limitsCpu + b.limitsCpu,
    limitsMemory: a.limitsMemory + b.limitsMemory,
  }), ZERO);
}

function max(a: Compute, b: Compute): Compute {
  return {
    requestsCpu: Math.max(a.requestsCpu, b.requestsCpu),
    requestsMemory: Math.max(a.requestsMemory, b.requestsMemory),
    limitsCpu: Math.max(a.limitsCpu, b.limitsCpu),
    limitsMemory: Math.max(a.limitsMemory, b.limitsMemory),
  };
}

function byLargest(peaks: WorkloadPeak[], weight: (p: WorkloadPeak) => number): WorkloadPeak[] {
  return [...peaks].sort((a, b) => weight(b) - weight(a) || a.workload.localeCompare(b.workload));
}
