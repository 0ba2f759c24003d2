import { ANNOTATION_INJECTED, InjectedContainer, Manifest, bytes, cpuMillis, formatInjected } from '../../../lib/core';
import { CapacityViolation, checkCapacity, peakDemand, podCompute, workloadPeaks } from '../../../lib/namespace';

const NS = 'pronto';
const MI = 2 ** 20;
const GI = 2 ** 30;

const container = (cpu: string, memory: string, extra: object = {}) => ({
  resources: { requests: { cpu, memory }, limits: { cpu, memory } }, ...extra,
});
const template = (containers: object[], annotations?: Record<string, string>) => ({
  metadata: annotations ? { annotations } : {}, spec: { containers },
});
const APP = template([container('100m', '1Mi')]);
const object = (kind: string, name: string, spec: object, namespace = NS): Manifest => ({ kind, metadata: { name, namespace }, spec });
const deployment = (name: string, spec: object, pod: object = APP) => object('Deployment', name, { ...spec, template: pod });
const statefulSet = (name: string, spec: object, pod: object = APP) => object('StatefulSet', name, { ...spec, template: pod });
const job = (name: string, spec: object, pod: object = APP) => object('Job', name, { ...spec, template: pod });
const cronJob = (name: string, policy: string | undefined, jobSpec: object, pod: object = APP) => object('CronJob', name, {
  schedule: '0 * * * *', ...(policy ? { concurrencyPolicy: policy } : {}), jobTemplate: { spec: { ...jobSpec, template: pod } },
});
const hpa = (kind: string, name: string, maxReplicas: number, namespace = NS) =>
  object('HorizontalPodAutoscaler', name, { scaleTargetRef: { kind, name }, minReplicas: 2, maxReplicas }, namespace);
const claimTemplate = (name: string, storage: string) => ({ metadata: { name }, spec: { resources: { requests: { storage } } } });
const claim = (name: string, storage: string) => object('PersistentVolumeClaim', name, { resources: { requests: { storage } } });
const quota = (hard: object, namespace = NS) => object('ResourceQuota', 'q', { hard }, namespace);

const peakOf = (manifests: Manifest[], workload: string) => {
  const found = workloadPeaks(manifests).find((p) => p.workload === workload);
  if (!found) throw new Error(`no peak for ${workload}`);
  return found;
};
const summary = (violations: CapacityViolation[]) => violations.map((v) => [v.resource, v.demand, v.allowed]);
const millis = (n: number) => `${n}m`;

/** The quota line holds `manifests` at exactly `demand`, and one unit less is a violation of that line alone. */
function expectBoundary(manifests: Manifest[], resource: string, demand: number, format: (n: number) => string | number = (n) => n) {
  expect(checkCapacity([quota({ [resource]: format(demand) }), ...manifests], NS)).toEqual([]);
  expect(summary(checkCapacity([quota({ [resource]: format(demand - 1) }), ...manifests], NS))).toEqual([[resource, demand, demand - 1]]);
}

describe('per-pod compute (7)', () => {
  test('a pod counts its containers and native sidecars, or its largest init container plus sidecars if larger', () => {
    const pod = {
      containers: [container('100m', '100Mi')],
      initContainers: [container('50m', '50Mi', { restartPolicy: 'Always' }), container('1', '10Mi')],
    };
    // CPU: init 1000m + sidecar 50m beats app 100m + sidecar 50m; memory: app 100Mi + sidecar 50Mi beats init 10Mi + 50Mi.
    expect(podCompute(pod)).toEqual({ requestsCpu: 1050, requestsMemory: 150 * MI, limitsCpu: 1050, limitsMemory: 150 * MI });
  });

  test('requests and limits are counted separately', () => {
    const pod = { containers: [{ resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '256Mi' } } }] };
    expect(podCompute(pod)).toEqual({ requestsCpu: 100, requestsMemory: 64 * MI, limitsCpu: 1000, limitsMemory: 256 * MI });
  });

  test('a malformed container quantity names the object', () => {
    expect(() => workloadPeaks([deployment('bad', { replicas: 1 }, template([container('lots', '1Mi')]))]))
      .toThrow(/^Deployment\/bad: "lots" is not a CPU quantity/);
  });
});

describe('Deployments (1)', () => {
  const fixed = deployment('fixed', { replicas: 3, strategy: { rollingUpdate: { maxSurge: 1 } } });
  const scaled = deployment('scaled', { replicas: 2, strategy: { rollingUpdate: { maxSurge: '50%' } } });
  const scaledHpa = hpa('Deployment', 'scaled', 5);
  const defaultSurge = deployment('default-surge', { replicas: 5 });
  const unset = deployment('unset', {});
  const parked = deployment('parked', { replicas: 0, strategy: { rollingUpdate: { maxSurge: 1 } } });
  const recreate = deployment('recreate', { replicas: 3, strategy: { type: 'Recreate' } });
  const all = [fixed, scaled, scaledHpa, defaultSurge, unset, parked, recreate];

  test('peak pods are the HPA maximum (else replicas, else 1) plus the surge, rounded up, 25% by default', () => {
    const max = scaledHpa.spec.maxReplicas;
    expect(workloadPeaks(all).map((p) => [p.workload, p.pods])).toEqual([
      ['Deployment/fixed', fixed.spec.replicas + fixed.spec.strategy.rollingUpdate.maxSurge],
      ['Deployment/scaled', max + Math.ceil(max * 0.5)],
      ['Deployment/default-surge', defaultSurge.spec.replicas + Math.ceil(defaultSurge.spec.replicas * 0.25)],
      ['Deployment/unset', 1 + 1],
      ['Deployment/parked', 0],
      ['Deployment/recreate', recreate.spec.replicas],
    ]);
  });

  test('the reason says where the number comes from', () => {
    expect(workloadPeaks(all).map((p) => p.reason)).toEqual([
      'replicas 3 + surge 1 (maxSurge 1)',
      'HPA maximum 5 + surge 3 (maxSurge 50%)',
      'replicas 5 + surge 2 (maxSurge unset: 25%)',
      'replicas unset (1) + surge 1 (maxSurge unset: 25%)',
      'replicas 0',
      'replicas 3, no surge (Recreate)',
    ]);
  });

  test('over quota when the peak exceeds pods or compute by one', () => {
    const pods = workloadPeaks(all).reduce((total, p) => total + p.pods, 0);
    expectBoundary(all, 'pods', pods);
    expectBoundary(all, 'requests.cpu', pods * cpuMillis('100m'), millis);
  });
});

describe('StatefulSets (2)', () => {
  const db = statefulSet('db', { volumeClaimTemplates: [claimTemplate('data', '10Gi'), claimTemplate('wal', '512Mi')] });
  const dbHpa = hpa('StatefulSet', 'db', 4);
  const cache = statefulSet('cache', { replicas: 3, strategy: { rollingUpdate: { maxSurge: 1 } } });
  const all = [db, dbHpa, cache];
  const replicas = dbHpa.spec.maxReplicas;
  const perPodStorage = 10 * GI + 512 * MI;

  test('peak pods are the HPA maximum (else replicas), with no surge; each replica claims every template', () => {
    const peak = peakOf(all, 'StatefulSet/db');
    expect([peak.pods, peak.claims, peak.storageBytes]).toEqual([replicas, replicas * 2, replicas * perPodStorage]);
    expect(peak.reason).toBe('HPA maximum 4, no surge (pods are replaced one by one); 2 claim(s) per pod: data 10Gi, wal 512Mi');
    const plain = peakOf(all, 'StatefulSet/cache');
    expect([plain.pods, plain.claims, plain.storageBytes]).toEqual([cache.spec.replicas, 0, 0]);
  });

  test('over quota on pods, persistentvolumeclaims and requests.storage', () => {
    expectBoundary(all, 'pods', replicas + cache.spec.replicas);
    expectBoundary(all, 'persistentvolumeclaims', replicas * db.spec.volumeClaimTemplates.length);
    expectBoundary(all, 'requests.storage', replicas * perPodStorage);
  });
});

describe('Jobs (3)', () => {
  const capped = job('capped', { parallelism: 3, completions: 2 });
  const queue = job('queue', { parallelism: 3 });
  const serial = job('serial', { completions: 5 });
  const all = [capped, queue, serial];

  test('pods at once are parallelism (default 1), at most completions', () => {
    expect(workloadPeaks(all).map((p) => [p.workload, p.pods, p.reason])).toEqual([
      ['Job/capped', capped.spec.completions, '2 pod(s) at once (parallelism 3, completions 2)'],
      ['Job/queue', queue.spec.parallelism, '3 pod(s) at once (parallelism 3)'],
      ['Job/serial', 1, '1 pod(s) at once (parallelism unset: 1, completions 5)'],
    ]);
  });

  test('over quota on pods and compute', () => {
    const pods = capped.spec.completions + queue.spec.parallelism + 1;
    expectBoundary(all, 'pods', pods);
    expectBoundary(all, 'requests.memory', pods * bytes('1Mi'));
  });
});

describe('CronJobs (4)', () => {
  const forbid = cronJob('forbid', 'Forbid', { parallelism: 2 });
  const replace = cronJob('replace', 'Replace', { parallelism: 2 });
  const jobPods = 2;

  test('Forbid runs once at a time; Replace twice (the replaced run still terminates)', () => {
    expect(workloadPeaks([forbid, replace]).map((p) => [p.workload, p.pods, p.reason])).toEqual([
      ['CronJob/forbid', 1 * jobPods, 'concurrencyPolicy Forbid: 1 run(s) × 2 pod(s) at once (parallelism 2)'],
      ['CronJob/replace', 2 * jobPods, 'concurrencyPolicy Replace: 2 run(s) × 2 pod(s) at once (parallelism 2)'],
    ]);
  });

  test('over quota on pods and compute', () => {
    expectBoundary([forbid, replace], 'pods', 3 * jobPods);
    expectBoundary([forbid, replace], 'limits.cpu', 3 * jobPods * cpuMillis('100m'), millis);
  });

  test('Allow, set or by default, cannot be bounded: a violation of its own on pods, naming the fix', () => {
    const allow = cronJob('allow', 'Allow', {});
    const unset = cronJob('unset', undefined, {});
    const violations = checkCapacity([quota({ pods: 100 }), allow, unset, forbid], NS);
    expect(summary(violations)).toEqual([['pods', Infinity, 100], ['pods', Infinity, 100]]);
    expect(violations.map((v) => v.peaks.map((p) => p.workload))).toEqual([['CronJob/allow'], ['CronJob/unset']]);
    expect(violations[0].message).toBe('CronJob/allow: concurrencyPolicy "Allow" lets runs overlap without bound, so no quota ' +
      'can hold its peak; set concurrencyPolicy Forbid (skip a run while one is active) or Replace (stop the active run)');
    expect(violations[1].message).toMatch(/^CronJob\/unset: concurrencyPolicy unset \(Allow\) lets runs overlap/);
  });

  test('an unbounded CronJob is reported against the first compute line without a pods line, and not at all without either', () => {
    const allow = cronJob('allow', 'Allow', {});
    expect(summary(checkCapacity([quota({ 'limits.memory': '1Gi', 'requests.cpu': '1' }), allow], NS)))
      .toEqual([['requests.cpu', Infinity, 1000]]);
    expect(checkCapacity([quota({ 'persistentvolumeclaims': 5 }), allow], NS)).toEqual([]);
  });

  test('the other lines still count an unbounded CronJob as one run', () => {
    const allow = cronJob('allow', undefined, { parallelism: 3 });
    expect(peakOf([allow], 'CronJob/allow').pods).toBe(3);
    expect(summary(checkCapacity([quota({ 'requests.cpu': '200m' }), allow], NS)))
      .toEqual([['requests.cpu', 3 * 100, 200], ['requests.cpu', Infinity, 200]]);
  });
});

describe('PersistentVolumeClaims (5)', () => {
  const uploads = claim('uploads', '5Gi');
  const scratch = claim('scratch', '500Mi');
  const all = [uploads, scratch, deployment('web', { replicas: 1, strategy: { rollingUpdate: { maxSurge: 1 } } })];

  test('each claim counts 1 and its storage request, and no pods', () => {
    const peak = peakOf(all, 'PersistentVolumeClaim/uploads');
    expect([peak.pods, peak.claims, peak.storageBytes, peak.reason]).toEqual([0, 1, bytes('5Gi'), '1 claim of 5Gi']);
  });

  test('over quota on persistentvolumeclaims and requests.storage', () => {
    expectBoundary(all, 'persistentvolumeclaims', 2);
    expectBoundary(all, 'requests.storage', bytes('5Gi') + bytes('500Mi'));
    expectBoundary(all, 'pods', 2);
  });
});

describe('injected containers (6)', () => {
  const quantities = (cpu: string, memory: string) => ({ cpu, memory, ephemeralStorage: '1Gi' });
  const agent: InjectedContainer = { name: 'vault-agent', kind: 'sidecar', resources: { requests: quantities('50m', '64Mi'), limits: quantities('100m', '128Mi') } };
  const init: InjectedContainer = { name: 'vault-init', kind: 'init', resources: { requests: quantities('1', '32Mi'), limits: quantities('1', '32Mi') } };
  const app = container('100m', '256Mi');
  const annotated = (value: string) => deployment('api', { replicas: 2, strategy: { rollingUpdate: { maxSurge: 1 } } },
    template([app], { [ANNOTATION_INJECTED]: value }));

  test('sidecars count like native sidecars, init containers like plain init containers', () => {
    const pod = { containers: [app] };
    // Same pod written out by hand: the sidecar as a native sidecar, the init as a plain init container.
    const byHand = podCompute({ ...pod, initContainers: [{ ...agent, restartPolicy: 'Always' }, init] });
    expect(podCompute(pod, [agent, init])).toEqual(byHand);
    // CPU: init 1000m + agent 50m beats app 100m + agent 50m; memory: app + agent beats init + agent.
    expect(byHand.requestsCpu).toBe(1000 + 50);
    expect(byHand.requestsMemory).toBe(256 * MI + 64 * MI);
  });

  test('the annotation adds them to every pod of the workload, and the reason names them', () => {
    const peak = peakOf([annotated(formatInjected([agent, init]))], 'Deployment/api');
    expect(peak.perPod).toEqual(podCompute({ containers: [app] }, [agent, init]));
    expect(peak.reason).toBe('replicas 2 + surge 1 (maxSurge 1); injected: vault-agent (sidecar), vault-init (init)');
  });

  test('over quota because of the injected containers alone', () => {
    const pods = 2 + 1;
    const withInjected = annotated(formatInjected([agent, init]));
    expectBoundary([withInjected], 'requests.cpu', pods * (1000 + 50), millis);
    expectBoundary([withInjected], 'limits.memory', pods * (256 * MI + 128 * MI));
    const bare = deployment('api', withInjected.spec, template([app]));
    expect(checkCapacity([quota({ 'requests.cpu': millis(pods * 100) }), bare], NS)).toEqual([]);
  });

  test('a malformed annotation is a violation naming the object, not a crash', () => {
    const cases: Array<[string, RegExp]> = [
      ['{not json', /expected JSON/],
      ['["vault-agent"]', /expected a JSON object keyed by container name/],
      ['{"vault-agent":{"kind":"proxy"}}', /vault-agent\.kind: expected "sidecar" or "init", found "proxy"/],
      ['{"vault-agent":{"kind":"sidecar","requests":{"cpu":"lots"}}}', /vault-agent: resources are required/],
    ];
    for (const [value, reason] of cases) {
      const violations = checkCapacity([quota({ 'pods': 100, 'limits.cpu': '10' }), annotated(value)], NS);
      expect(summary(violations)).toEqual([['limits.cpu', Infinity, 10000]]);
      expect(violations[0].message).toMatch(new RegExp(`^Deployment/api: ${ANNOTATION_INJECTED}`));
      expect(violations[0].message).toMatch(reason);
    }
  });

  test('a malformed annotation leaves the pod count known: a quota without compute lines is not affected', () => {
    expect(checkCapacity([quota({ pods: 3 }), annotated('{not json')], NS)).toEqual([]);
    expect(peakOf([annotated('{not json')], 'Deployment/api').unbounded?.what).toBe('compute');
  });
});

describe('quota lines (8)', () => {
  const web = deployment('web', { replicas: 2, strategy: { rollingUpdate: { maxSurge: 1 } } },
    template([{ resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } } }]));
  const pods = 3;

  test('every line is checked, in a fixed order; cpu and memory are the requests lines', () => {
    const hard = { 'pods': 2, 'memory': '100Mi', 'limits.memory': '300Mi', 'limits.cpu': '2', 'cpu': '200m', 'requests.cpu': '299m' };
    expect(summary(checkCapacity([quota(hard), web], NS))).toEqual([
      ['requests.cpu', pods * 100, 299],
      ['cpu', pods * 100, 200],
      ['memory', pods * 64 * MI, 100 * MI],
      ['limits.cpu', pods * 1000, 2000],
      ['limits.memory', pods * 128 * MI, 300 * MI],
      ['pods', pods, 2],
    ]);
  });

  test('a line absent from the quota is not checked', () => {
    expect(checkCapacity([quota({ 'requests.memory': '1Gi' }), web], NS)).toEqual([]);
  });

  test('no quota, no check', () => {
    expect(checkCapacity([web], NS)).toEqual([]);
  });

  test('only objects in the namespace count: workloads, HPAs and quotas elsewhere are ignored', () => {
    const elsewhere = [
      { ...deployment('other', { replicas: 50 }), metadata: { name: 'other', namespace: 'elsewhere' } },
      hpa('Deployment', 'web', 40, 'elsewhere'),
      quota({ pods: 1 }, 'elsewhere'),
      { ...claim('other', '1Ti'), metadata: { name: 'other', namespace: 'elsewhere' } },
    ];
    expect(checkCapacity([quota({ 'pods': pods, 'requests.storage': '1Gi' }), web, ...elsewhere], NS)).toEqual([]);
    expect(summary(checkCapacity([quota({ pods: pods - 1 }), web, ...elsewhere], NS))).toEqual([['pods', pods, pods - 1]]);
  });

  test('a violation lists the objects behind it, largest first, and only those', () => {
    const manifests: Manifest[] = [
      quota({ 'requests.cpu': '1', 'requests.memory': '1Gi', 'pods': 3 }),
      deployment('small', { replicas: 1, strategy: { rollingUpdate: { maxSurge: 1 } } }, template([container('100m', '1Mi')])),
      deployment('big', { replicas: 2, strategy: { rollingUpdate: { maxSurge: 1 } } }, template([container('300m', '1Mi')])),
      claim('data', '1Gi'),
    ];
    const violations = checkCapacity(manifests, NS);
    expect(summary(violations)).toEqual([['requests.cpu', 1100, 1000], ['pods', 5, 3]]);
    expect(violations[0].peaks.map((p) => [p.workload, peakDemand(p, 'requests.cpu')])).toEqual([
      ['Deployment/big', 900], ['Deployment/small', 200]]);
  });
});
