/**
 * The capacity guard: everything that can run in a namespace, all at its peak at once,
 * must fit in the namespace's ResourceQuota. A quota that only fits the steady state
 * rejects pods exactly when they are needed (a scale-up under load, a rollout, a CronJob
 * run), so we refuse to synthesize it.
 *
 * What counts, per object (one rule each, below): Deployments, StatefulSets (and their
 * claim templates), Jobs, CronJobs, PersistentVolumeClaims; each pod with its containers,
 * native sidecars, init containers and the containers webhooks inject into it.
 */
import {
  ANNOTATION_INJECTED, InjectedContainer, Manifest, bytes, cpuMillis, parseInjected, resourcesProblems, surgePods,
} from '../core';

/** What one object can demand at its peak. */
export interface WorkloadPeak {
  /** The object, e.g. `Deployment/clients-app-blue` or `PersistentVolumeClaim/uploads`. */
  readonly workload: string;
  /** Most pods at once (see `reason`); 0 for a PersistentVolumeClaim. */
  readonly pods: number;
  /** Per-pod requests and limits, as the quota counts them (see `podCompute`), injected containers included. */
  readonly perPod: Compute;
  /** PersistentVolumeClaims the object holds at peak, all its pods together. */
  readonly claims: number;
  /** `requests.storage` of those claims, summed, in bytes. */
  readonly storageBytes: number;
  /** Why the numbers are what they are, e.g. `HPA maximum 10 + surge 3 (maxSurge 25%)`. */
  readonly reason: string;
  /** Set when the peak cannot be bounded; `pods` and `perPod` are then only a lower bound. */
  readonly unbounded?: Unbounded;
}

/** Why an object's peak has no bound. */
export interface Unbounded {
  /** `pods`: the pod count has no bound (nor, then, has compute); `compute`: the per-pod compute is unknown. */
  readonly what: 'pods' | 'compute';
  /** The reason and the fix, e.g. `concurrencyPolicy Allow … set Forbid or Replace`. */
  readonly why: string;
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
  /** ResourceQuota `hard` key as written, e.g. `requests.cpu`, `cpu`, `persistentvolumeclaims`. */
  readonly resource: string;
  /** Peak demand: millicores, bytes or a count. `Infinity` when it cannot be bounded (see `message`). */
  readonly demand: number;
  /** What the quota allows, in the same unit. */
  readonly allowed: number;
  /** The objects behind the demand, largest first. */
  readonly peaks: WorkloadPeak[];
  /** Set when the demand cannot be bounded: the object, why, and the fix. */
  readonly message?: string;
}

/** How a quota line reads a peak, and how its `hard` value parses. */
interface Line {
  /** What the line counts: pods, per-pod compute (pods × perPod) or claims. */
  readonly counts: 'pods' | 'compute' | 'claims';
  readonly demand: (peak: WorkloadPeak) => number;
  readonly parse: (quantity: string) => number;
}

/** A count may be written as a quantity (`1k`); `bytes` parses the same notations. */
const count = bytes;

function computeLine(pick: (c: Compute) => number, parse: (q: string) => number): Line {
  return { counts: 'compute', demand: (p) => p.pods * pick(p.perPod), parse };
}

/**
 * The quota lines checked, in report order. Kubernetes reads `cpu` and `memory` as the
 * requests lines; when both spellings are present it enforces both, and so do we.
 */
const LINES: ReadonlyArray<readonly [string, Line]> = [
  ['requests.cpu', computeLine((c) => c.requestsCpu, cpuMillis)],
  ['cpu', computeLine((c) => c.requestsCpu, cpuMillis)],
  ['requests.memory', computeLine((c) => c.requestsMemory, bytes)],
  ['memory', computeLine((c) => c.requestsMemory, bytes)],
  ['limits.cpu', computeLine((c) => c.limitsCpu, cpuMillis)],
  ['limits.memory', computeLine((c) => c.limitsMemory, bytes)],
  ['pods', { counts: 'pods', demand: (p) => p.pods, parse: count }],
  ['requests.storage', { counts: 'claims', demand: (p) => p.storageBytes, parse: bytes }],
  ['persistentvolumeclaims', { counts: 'claims', demand: (p) => p.claims, parse: count }],
];

/** What `peak` counts against the quota line `resource` (0 for a line the guard does not check). */
export function peakDemand(peak: WorkloadPeak, resource: string): number {
  return LINES.find(([key]) => key === resource)?.[1].demand(peak) ?? 0;
}

/**
 * Checks that every object of `namespace`, all at peak at once, fits in the namespace's
 * ResourceQuota: one violation per quota line exceeded, plus one per object whose peak
 * cannot be bounded. Lines absent from the quota are not checked; no quota, no check.
 */
export function checkCapacity(manifests: Manifest[], namespace: string): CapacityViolation[] {
  const inNamespace = manifests.filter((m) => m.metadata?.namespace === namespace);
  const quota = inNamespace.find((m) => m.kind === 'ResourceQuota');
  if (!quota) return [];
  const hard: Record<string, string | number> = quota.spec?.hard ?? {};
  const present = LINES.filter(([key]) => hard[key] !== undefined);
  const peaks = workloadPeaks(inNamespace);
  return [
    ...present.flatMap(([key, line]) => overrun(key, line, String(hard[key]), peaks)),
    ...peaks.flatMap((peak) => unboundedViolation(peak, present, hard)),
  ];
}

/** The violation of one quota line, if the summed peaks exceed it. */
function overrun(resource: string, line: Line, hardValue: string, peaks: WorkloadPeak[]): CapacityViolation[] {
  const demand = peaks.reduce((total, p) => total + line.demand(p), 0);
  const allowed = line.parse(hardValue);
  if (demand <= allowed) return [];
  const contributors = peaks.filter((p) => line.demand(p) > 0);
  return [{ resource, demand, allowed, peaks: byLargest(contributors, line.demand) }];
}

/**
 * An unbounded object is reported once, against the first quota line present that it can
 * overrun: an unbounded pod count `pods` first, then the compute lines; unknown per-pod
 * compute the compute lines only. With none of them present it cannot overrun the quota.
 */
function unboundedViolation(
  peak: WorkloadPeak, present: ReadonlyArray<readonly [string, Line]>, hard: Record<string, string | number>,
): CapacityViolation[] {
  if (!peak.unbounded) return [];
  const order: Array<Line['counts']> = peak.unbounded.what === 'pods' ? ['pods', 'compute'] : ['compute'];
  const first = order.map((counts) => present.find(([, line]) => line.counts === counts)).find((l) => l !== undefined);
  if (!first) return [];
  const [resource, line] = first;
  return [{
    resource, demand: Infinity, allowed: line.parse(String(hard[resource])), peaks: [peak],
    message: `${peak.workload}: ${peak.unbounded.why}`,
  }];
}

/** Reads one object's peak; `hpaMax` maps `Kind/name` to its HPA's maxReplicas. */
type PeakReader = (m: Manifest, hpaMax: Map<string, number>) => WorkloadPeak;

/** The objects that count against a quota, and how each one peaks. */
const READERS: Record<string, PeakReader> = {
  Deployment: deploymentPeak,
  StatefulSet: statefulSetPeak,
  Job: jobPeak,
  CronJob: cronJobPeak,
  PersistentVolumeClaim: claimPeak,
};

/** The peak of every Deployment, StatefulSet, Job, CronJob and PersistentVolumeClaim among `manifests`, in order. */
export function workloadPeaks(manifests: Manifest[]): WorkloadPeak[] {
  const hpaMax = new Map<string, number>();
  for (const m of manifests.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    hpaMax.set(`${m.spec.scaleTargetRef.kind}/${m.spec.scaleTargetRef.name}`, m.spec.maxReplicas);
  }
  return manifests.flatMap((m) => {
    const read = READERS[m.kind];
    if (!read) return [];
    try {
      return [read(m, hpaMax)];
    } catch (e) {
      // A malformed quantity: name the object, so the error is actionable.
      throw new Error(`${ref(m)}: ${(e as Error).message}`, { cause: e });
    }
  });
}

function ref(m: Manifest): string {
  return `${m.kind}/${m.metadata?.name}`;
}

/** Kubernetes' default `maxSurge` for a RollingUpdate Deployment. */
const DEFAULT_MAX_SURGE = '25%';

/** Maximum scale plus the rollout surge: a rollout starts `maxSurge` new pods before old ones stop. */
function deploymentPeak(m: Manifest, hpaMax: Map<string, number>): WorkloadPeak {
  const scale = maxScale(m, hpaMax);
  const surge = rolloutSurge(m.spec, scale.replicas);
  return podPeak(m, m.spec.template, scale.replicas + surge.pods, `${scale.why}${surge.why}`);
}

/** The most replicas: the HPA's maxReplicas, else `spec.replicas`, else Kubernetes' default 1. */
function maxScale(m: Manifest, hpaMax: Map<string, number>): { replicas: number; why: string } {
  const hpa = hpaMax.get(ref(m));
  if (hpa !== undefined) return { replicas: hpa, why: `HPA maximum ${hpa}` };
  if (m.spec.replicas !== undefined) return { replicas: m.spec.replicas, why: `replicas ${m.spec.replicas}` };
  return { replicas: 1, why: 'replicas unset (1)' };
}

/**
 * Extra pods during a rollout. None at 0 replicas (the new ReplicaSet never exceeds
 * `replicas`) nor under `Recreate` (old pods stop first).
 */
function rolloutSurge(spec: any, replicas: number): { pods: number; why: string } {
  if (spec.strategy?.type === 'Recreate') return { pods: 0, why: ', no surge (Recreate)' };
  if (replicas === 0) return { pods: 0, why: '' };
  const declared = spec.strategy?.rollingUpdate?.maxSurge;
  const pods = surgePods(declared ?? DEFAULT_MAX_SURGE, replicas);
  return { pods, why: ` + surge ${pods} (maxSurge ${declared ?? `unset: ${DEFAULT_MAX_SURGE}`})` };
}

/**
 * Maximum scale, no surge: a StatefulSet replaces its pods one by one. Each replica holds
 * one PersistentVolumeClaim per `volumeClaimTemplates` entry.
 */
function statefulSetPeak(m: Manifest, hpaMax: Map<string, number>): WorkloadPeak {
  const scale = maxScale(m, hpaMax);
  const templates: any[] = m.spec.volumeClaimTemplates ?? [];
  const perPod = templates.reduce((total, t) => total + claimStorage(t), 0);
  const listed = templates.map((t) => `${t.metadata?.name} ${t.spec?.resources?.requests?.storage ?? 'no storage request'}`);
  const claims = templates.length > 0 ? `; ${templates.length} claim(s) per pod: ${listed.join(', ')}` : '';
  return podPeak(m, m.spec.template, scale.replicas, `${scale.why}, no surge (pods are replaced one by one)${claims}`,
    { claims: scale.replicas * templates.length, storageBytes: scale.replicas * perPod });
}

function jobPeak(m: Manifest): WorkloadPeak {
  const job = jobPods(m.spec);
  return podPeak(m, m.spec.template, job.pods, job.why);
}

/** Pods of a Job running at once: `parallelism` (default 1), never more than `completions`. */
function jobPods(spec: any): { pods: number; why: string } {
  const parallelism: number = spec.parallelism ?? 1;
  const pods = spec.completions === undefined ? parallelism : Math.min(parallelism, spec.completions);
  const completions = spec.completions === undefined ? '' : `, completions ${spec.completions}`;
  return { pods, why: `${pods} pod(s) at once (parallelism ${spec.parallelism ?? 'unset: 1'}${completions})` };
}

/**
 * Runs at once, by `concurrencyPolicy`: `Forbid` 1; `Replace` 2, because the replaced Job's
 * pods still count while they terminate; `Allow` (the default) has no bound.
 */
const CRON_RUNS: Record<string, number> = { Forbid: 1, Replace: 2 };

/** The Job template's pods at once × the runs that can overlap. */
function cronJobPeak(m: Manifest): WorkloadPeak {
  const jobSpec = m.spec.jobTemplate?.spec ?? {};
  const job = jobPods(jobSpec);
  const policy: string = m.spec.concurrencyPolicy ?? 'Allow';
  const runs = CRON_RUNS[policy];
  if (runs === undefined) {
    // Counted as one run (a lower bound) so the other quota lines stay meaningful.
    const named = m.spec.concurrencyPolicy === undefined ? 'unset (Allow)' : JSON.stringify(policy);
    return podPeak(m, jobSpec.template, job.pods, `concurrencyPolicy ${named}: runs unbounded × ${job.why}`, NO_CLAIMS, {
      what: 'pods',
      why: `concurrencyPolicy ${named} lets runs overlap without bound, so no quota can hold its peak; ` +
        'set concurrencyPolicy Forbid (skip a run while one is active) or Replace (stop the active run)',
    });
  }
  return podPeak(m, jobSpec.template, runs * job.pods, `concurrencyPolicy ${policy}: ${runs} run(s) × ${job.why}`);
}

/** A standalone claim: 1 against `persistentvolumeclaims`, its size against `requests.storage`. */
function claimPeak(m: Manifest): WorkloadPeak {
  const size = m.spec?.resources?.requests?.storage;
  return {
    workload: ref(m), pods: 0, perPod: ZERO, claims: 1, storageBytes: claimStorage(m),
    reason: `1 claim of ${size ?? 'no storage request'}`,
  };
}

/** `spec.resources.requests.storage` of a claim or claim template, in bytes (0 when unset). */
function claimStorage(claim: any): number {
  const size = claim.spec?.resources?.requests?.storage;
  return size === undefined ? 0 : bytes(String(size));
}

const NO_CLAIMS = { claims: 0, storageBytes: 0 };

/** The peak of `pods` pods of `template`, injected containers included. */
function podPeak(
  m: Manifest, template: any, pods: number, reason: string,
  claims: { claims: number; storageBytes: number } = NO_CLAIMS, unbounded?: Unbounded,
): WorkloadPeak {
  const spec = template?.spec ?? {};
  const injected = readInjected(template?.metadata?.annotations?.[ANNOTATION_INJECTED]);
  if (typeof injected === 'string') {
    // Unknown per-pod compute: count the declared containers (a lower bound) and report it.
    const why = `${injected}; fix the annotation on the pod template`;
    const both: Unbounded = unbounded ? { what: unbounded.what, why: `${unbounded.why}; ${why}` } : { what: 'compute', why };
    return { workload: ref(m), pods, perPod: podCompute(spec), ...claims, reason, unbounded: both };
  }
  const names = injected.map((c) => `${c.name} (${c.kind})`).join(', ');
  return {
    workload: ref(m), pods, perPod: podCompute(spec, injected), ...claims,
    reason: injected.length > 0 ? `${reason}; injected: ${names}` : reason,
    ...(unbounded ? { unbounded } : {}),
  };
}

/** The injected containers a template declares, or why the annotation is malformed. */
function readInjected(value: unknown): InjectedContainer[] | string {
  if (value === undefined) return [];
  try {
    const injected = parseInjected(String(value));
    const problems = injected.flatMap((c) => resourcesProblems(c.resources, `${ANNOTATION_INJECTED}: ${c.name}`));
    return problems.length > 0 ? problems.join('; ') : injected;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Effective pod resources as the scheduler and quota count them: app containers plus
 * native sidecars (init containers with `restartPolicy: Always`), or the largest plain
 * init container plus the sidecars, whichever is more. Injected `sidecar` containers count
 * like native sidecars (in both phases: the safe bound, whichever way the webhook adds
 * them), injected `init` containers like plain init containers.
 */
export function podCompute(podSpec: any, injected: readonly InjectedContainer[] = []): Compute {
  const containers: any[] = podSpec.containers ?? [];
  const inits: any[] = podSpec.initContainers ?? [];
  const asContainer = (c: InjectedContainer) => ({ resources: c.resources });
  const sidecars = [
    ...inits.filter((c) => c.restartPolicy === 'Always'),
    ...injected.filter((c) => c.kind === 'sidecar').map(asContainer),
  ];
  const plainInits = [
    ...inits.filter((c) => c.restartPolicy !== 'Always'),
    ...injected.filter((c) => c.kind === 'init').map(asContainer),
  ];
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
