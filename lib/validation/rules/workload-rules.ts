import { ANNOTATION_TIER, PRODUCTION_MIN_PODS } from '../../core';
import { Finding, Manifest, Rule, finding, rule } from '../finding';
import { ManifestIndex, PodTemplate, matches } from '../manifest-index';

/** Workloads that keep pods running and can be disrupted: Deployments and StatefulSets. */
function replicated(index: ManifestIndex): PodTemplate[] {
  return index.pods.filter((p) => p.owner.kind === 'Deployment' || p.owner.kind === 'StatefulSet');
}

/** Fewest pods a workload runs: the HPA minimum, else spec.replicas (Kubernetes defaults it to 1). */
function minPods(index: ManifestIndex, w: Manifest): number {
  return index.autoscalerOf(w)?.spec?.minReplicas ?? w.spec?.replicas ?? 1;
}

/** Runs several pods at some point: replicas ≥ 2, or autoscaled. */
function isMultiReplica(index: ManifestIndex, w: Manifest): boolean {
  return index.autoscalerOf(w) !== undefined || (w.spec?.replicas ?? 1) >= 2;
}

/** The pod templates some PodDisruptionBudget selects: each PDB marks its pods. */
function pdbCovered(index: ManifestIndex): Set<PodTemplate> {
  const covered = new Set<PodTemplate>();
  for (const pdb of index.ofKind('PodDisruptionBudget')) {
    for (const pod of index.selectPods(pdb.metadata?.namespace, pdb.spec?.selector)) covered.add(pod);
  }
  return covered;
}

/** The label naming a pod's workload (one per Microservice, whatever its slots). */
const LABEL_NAME = 'app.kubernetes.io/name';
/** The Vault agent the injector adds runs under these ids, when given (lib/secrets). */
const VAULT_AGENT_IDS = { user: 'vault.hashicorp.com/agent-run-as-user', group: 'vault.hashicorp.com/agent-run-as-group' } as const;

/**
 * Every numeric id a pod template's processes run or own files under, with where it is set:
 * each container's effective runAsUser and runAsGroup, the pod's fsGroup, and its Vault
 * agent's ids.
 */
function podIds(pod: PodTemplate): Array<{ kind: 'UID' | 'GID'; id: number; path: string }> {
  const ids: Array<{ kind: 'UID' | 'GID'; id: number; path: string }> = [];
  const podContext = pod.spec.securityContext ?? {};
  const containers: Array<[any, string]> = [
    ...(pod.spec.containers ?? []).map((c: any, i: number): [any, string] => [c, `containers[${i}]`]),
    ...(pod.spec.initContainers ?? []).map((c: any, i: number): [any, string] => [c, `initContainers[${i}]`]),
  ];
  for (const [c, at] of containers) {
    for (const [kind, field] of [['UID', 'runAsUser'], ['GID', 'runAsGroup']] as const) {
      const own = c.securityContext?.[field];
      const id = own ?? podContext[field];
      if (Number.isInteger(id)) ids.push({ kind, id, path: `${pod.specPath}.${own !== undefined ? `${at}.securityContext` : 'securityContext'}.${field}` });
    }
  }
  if (Number.isInteger(podContext.fsGroup)) ids.push({ kind: 'GID', id: podContext.fsGroup, path: `${pod.specPath}.securityContext.fsGroup` });
  for (const [kind, key] of [['UID', VAULT_AGENT_IDS.user], ['GID', VAULT_AGENT_IDS.group]] as const) {
    const value = pod.metadata?.annotations?.[key];
    if (value !== undefined && /^\d+$/.test(value)) ids.push({ kind, id: Number(value), path: `${pod.metadataPath}.annotations.${key}` });
  }
  return ids;
}

export const WORKLOAD_RULES: Rule[] = [
  rule('distinct-run-as-ids', 'Each workload runs under UIDs and GIDs no other workload uses (its containers, its fsGroup, its Vault agent).',
    'Give the workload its own ids: Pronto derives them from the workload name (lib/core workloadRunAsId); where two names land on one, pin one of them in the pinned range (a service: runAs.user or runAs.agentUser in its catalog entry).',
    (index) => {
      // Workloads are told apart by app.kubernetes.io/name (a service's blue and green slots are one), else by the object.
      const owners = new Map<string, string>();
      const found: Finding[] = [];
      for (const pod of index.pods) {
        const workload = pod.labels[LABEL_NAME] ?? `${pod.owner.kind}/${pod.owner.metadata?.name}`;
        const reported = new Set<string>();
        for (const { kind, id, path } of podIds(pod)) {
          const key = `${kind} ${id}`;
          const other = owners.get(key);
          if (other === undefined) owners.set(key, workload);
          else if (other !== workload && !reported.has(key)) {
            reported.add(key);
            found.push(finding('distinct-run-as-ids', pod.owner, path,
              `${kind} ${id} is also workload ${other}'s: a process of one could read the other's files and signal its processes on a node`));
          }
        }
      }
      return found;
    }),


  rule('pdb-covers-workload', 'Deployments and StatefulSets with ≥ 2 replicas (or an HPA) are covered by a PodDisruptionBudget.',
    'Add a PodDisruptionBudget (maxUnavailable: 1) selecting the pods; Microservice does this.',
    (index) => {
      const covered = pdbCovered(index);
      return replicated(index).filter((p) => isMultiReplica(index, p.owner) && !covered.has(p))
        .map((p) => finding('pdb-covers-workload', p.owner, 'spec.selector', 'no PodDisruptionBudget selects these pods'));
    }),

  rule('pdb-allows-eviction', 'PodDisruptionBudgets select pods, never block every eviction, and set unhealthyPodEvictionPolicy.',
    'Use maxUnavailable: 1 with matchLabels and unhealthyPodEvictionPolicy: AlwaysAllow.',
    (index) => index.ofKind('PodDisruptionBudget').flatMap((pdb) => {
      const found: Finding[] = [];
      const add = (path: string, message: string) => found.push(finding('pdb-allows-eviction', pdb, path, message));
      const spec = pdb.spec ?? {};
      const selector = spec.selector ?? {};
      if (!selector.matchLabels && !selector.matchExpressions) add('spec.selector', 'empty: it would select every pod in the namespace');
      if (spec.maxUnavailable === undefined && spec.minAvailable === undefined) add('spec', 'sets neither maxUnavailable nor minAvailable');
      if (spec.maxUnavailable === 0 || spec.maxUnavailable === '0%') add('spec.maxUnavailable', 'is 0: no pod can ever be evicted (drains hang)');
      if (spec.minAvailable !== undefined) {
        const covered = index.selectPods(pdb.metadata?.namespace, selector);
        const pods = covered.reduce((n, p) => n + minPods(index, p.owner), 0);
        if (spec.minAvailable === '100%' || (typeof spec.minAvailable === 'number' && spec.minAvailable >= pods)) {
          add('spec.minAvailable', `${spec.minAvailable} leaves no pod evictable (the selected workloads run ${pods} at minimum)`);
        }
      }
      if (!spec.unhealthyPodEvictionPolicy) add('spec.unhealthyPodEvictionPolicy', 'not set (expected AlwaysAllow or IfHealthyBudget)');
      return found;
    })),

  rule('spread-or-anti-affinity', 'Multi-replica workloads spread their pods (topology spread constraints or pod anti-affinity).',
    'Add topologySpreadConstraints over zones and hosts (whenUnsatisfiable: ScheduleAnyway) and a preferred anti-affinity on hostname.',
    (index) => replicated(index).filter((p) => isMultiReplica(index, p.owner)
      && !(p.spec.topologySpreadConstraints ?? []).length && !p.spec.affinity?.podAntiAffinity)
      .map((p) => finding('spread-or-anti-affinity', p.owner, `${p.specPath}.topologySpreadConstraints`, 'pods of this workload may all land on one node'))),

  rule('hpa-target-exists', 'Every HorizontalPodAutoscaler targets a workload in the output.',
    'Point scaleTargetRef at an existing Deployment or StatefulSet, or remove the HPA.',
    (index) => index.ofKind('HorizontalPodAutoscaler').filter((h) =>
      !index.find(h.spec?.scaleTargetRef?.kind, h.metadata?.namespace, h.spec?.scaleTargetRef?.name))
      .map((h) => finding('hpa-target-exists', h, 'spec.scaleTargetRef', `${h.spec?.scaleTargetRef?.kind}/${h.spec?.scaleTargetRef?.name} is not in the output`))),

  rule('hpa-replica-bounds', `HPAs scale between distinct bounds, with minReplicas ≥ ${PRODUCTION_MIN_PODS} in a production namespace.`,
    `Set maxReplicas > minReplicas, and minReplicas ≥ ${PRODUCTION_MIN_PODS} where the namespace is annotated ${ANNOTATION_TIER}: production.`,
    (index) => index.ofKind('HorizontalPodAutoscaler').flatMap((h) => {
      const { minReplicas = 1, maxReplicas } = h.spec ?? {};
      const found: Finding[] = [];
      if (!(maxReplicas > minReplicas)) found.push(finding('hpa-replica-bounds', h, 'spec.maxReplicas', `${maxReplicas} is not greater than minReplicas ${minReplicas}`));
      if (index.isProduction(h.metadata?.namespace) && minReplicas < PRODUCTION_MIN_PODS) {
        found.push(finding('hpa-replica-bounds', h, 'spec.minReplicas', `${minReplicas} in a production namespace (expected ≥ ${PRODUCTION_MIN_PODS})`));
      }
      return found;
    })),

  rule('hpa-target-has-no-replicas', 'A workload scaled by an HPA leaves spec.replicas unset.',
    'Remove spec.replicas; otherwise every apply resets the count the HPA chose.',
    (index) => index.ofKind('HorizontalPodAutoscaler').flatMap((h) => {
      const target = index.find(h.spec?.scaleTargetRef?.kind, h.metadata?.namespace, h.spec?.scaleTargetRef?.name);
      return target?.spec?.replicas !== undefined
        ? [finding('hpa-target-has-no-replicas', target, 'spec.replicas', `set to ${target.spec.replicas} although HorizontalPodAutoscaler ${h.metadata.name} scales it`)] : [];
    })),

  rule('rolling-update', 'Deployments roll with RollingUpdate and maxUnavailable: 0.',
    'Set strategy.type: RollingUpdate, rollingUpdate.maxUnavailable: 0 and a maxSurge ≥ 1.',
    (index) => index.ofKind('Deployment').flatMap((d) => {
      const strategy = d.spec?.strategy ?? {};
      if (strategy.type !== 'RollingUpdate') return [finding('rolling-update', d, 'spec.strategy.type', `expected RollingUpdate, found ${strategy.type}`)];
      const unavailable = strategy.rollingUpdate?.maxUnavailable;
      return unavailable === 0 || unavailable === '0%' ? []
        : [finding('rolling-update', d, 'spec.strategy.rollingUpdate.maxUnavailable', `expected 0, found ${unavailable ?? 'unset (25%)'}`)];
    })),

  rule('statefulset-headless-service', 'StatefulSets name a headless Service that selects their pods.',
    'Create a Service with clusterIP: None selecting the pods and set spec.serviceName to it.',
    (index) => replicated(index).filter((p) => p.owner.kind === 'StatefulSet').flatMap((p) => {
      const svc = index.find('Service', p.owner.metadata?.namespace, p.owner.spec?.serviceName ?? '');
      return svc && svc.spec?.clusterIP === 'None' && matches(svc.spec?.selector, p.labels) ? []
        : [finding('statefulset-headless-service', p.owner, 'spec.serviceName', `"${p.owner.spec?.serviceName}" is not a headless Service selecting these pods`)];
    })),

  rule('cronjob-limits', 'CronJobs set concurrencyPolicy, startingDeadlineSeconds, backoffLimit and activeDeadlineSeconds.',
    'Set all four, so a stuck or missed run neither piles up nor runs forever.',
    (index) => index.ofKind('CronJob').flatMap((c) => [
      ['spec.concurrencyPolicy', c.spec?.concurrencyPolicy],
      ['spec.startingDeadlineSeconds', c.spec?.startingDeadlineSeconds],
      ['spec.jobTemplate.spec.backoffLimit', c.spec?.jobTemplate?.spec?.backoffLimit],
      ['spec.jobTemplate.spec.activeDeadlineSeconds', c.spec?.jobTemplate?.spec?.activeDeadlineSeconds],
    ].filter(([, value]) => value === undefined).map(([path]) => finding('cronjob-limits', c, path, 'not set')))),
];
