import { ANNOTATION_TIER, Manifest } from '../core';

/** Where a workload kind keeps its pod template. */
const POD_TEMPLATE_PATHS: Record<string, string[]> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** A pod template (or a bare Pod) and where it sits in its owner. */
export interface PodTemplate {
  readonly owner: Manifest;
  /** Dotted path of the pod spec, e.g. `spec.template.spec`. */
  readonly specPath: string;
  readonly spec: Record<string, any>;
  readonly labels: Record<string, string>;
  /** Dotted path of the pod's metadata, e.g. `spec.template.metadata` (`metadata` for a bare Pod). */
  readonly metadataPath: string;
  readonly metadata: Record<string, any>;
  /** Job and CronJob pods run to completion: no probes, no disruption budget. */
  readonly runsToCompletion: boolean;
}

/** A container of a pod template, with its effective security settings. */
export interface ContainerRef {
  readonly pod: PodTemplate;
  /** Dotted path, e.g. `spec.template.spec.containers[0]`. */
  readonly path: string;
  readonly container: Record<string, any>;
  /** An init container that is not a native sidecar. */
  readonly plainInit: boolean;
}

/**
 * Work counters of one index. They exist for the scaling test (test/lib/validation/gate.spec.ts)
 * and the benchmark (test/bench/bench.ts), which prove that the gate's cost grows
 * linearly with the document set; no rule reads them.
 */
export interface IndexStats {
  /** Pod selector lookups made (`podsSelectedBy`, `selectPods`). */
  selections: number;
  /** Candidate pod templates those lookups examined: posting-list entries, or the pods of a namespace when scanned. */
  podsExamined: number;
}

/** Kinds that live outside namespaces. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition',
  'PersistentVolume', 'StorageClass', 'PriorityClass', 'IngressClass', 'RuntimeClass', 'CSIDriver', 'Node',
  'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'APIService', 'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding', 'FlowSchema', 'PriorityLevelConfiguration', 'VolumeAttachment']);

/**
 * Read-only lookups over one document set (all charts of one environment together).
 *
 * Every index is built once, in one pass, so that cross-object rules cost time in
 * proportion to the objects they relate, never to all pairs of objects: objects by kind and
 * by (kind, namespace, name), HPAs by their target, pod templates by namespace and by label
 * (a posting list of the pods per namespace and `key=value`). Keys keep the values'
 * identity (a namespace `undefined` is not `""`), so every lookup answers exactly what a
 * scan comparing with `===` would, in document order.
 */
export class ManifestIndex {
  public readonly pods: PodTemplate[];
  /** Work done by selector lookups so far; see {@link IndexStats}. Read it, never write it. */
  public readonly stats: IndexStats = { selections: 0, podsExamined: 0 };

  private readonly kinds = new Map<unknown, Manifest[]>();
  /** kind → namespace → name → the first such object. */
  private readonly named = new Map<unknown, Map<unknown, Map<unknown, Manifest>>>();
  /** namespace → target kind → target name → the first HPA that scales it. */
  private readonly autoscalers = new Map<unknown, Map<unknown, Map<unknown, Manifest>>>();
  /** namespace → its pod templates, in document order. */
  private readonly podsByNamespace = new Map<unknown, PodTemplate[]>();
  /** namespace → label key → label value → pod templates with that label (posting lists, in document order). */
  private readonly postings = new Map<unknown, Map<string, Map<unknown, PodTemplate[]>>>();
  private containerRefs?: ContainerRef[];

  public constructor(public readonly manifests: Manifest[]) {
    this.pods = manifests.flatMap((m) => podTemplateOf(m));
    for (const m of manifests) {
      push(this.kinds, m.kind, m);
      const byName = child(child(this.named, m.kind), m.metadata?.namespace);
      if (!byName.has(m.metadata?.name)) byName.set(m.metadata?.name, m);
      if (m.kind === 'HorizontalPodAutoscaler') {
        const target = child(child(this.autoscalers, m.metadata?.namespace), m.spec?.scaleTargetRef?.kind);
        if (!target.has(m.spec?.scaleTargetRef?.name)) target.set(m.spec?.scaleTargetRef?.name, m);
      }
    }
    for (const pod of this.pods) {
      const ns = pod.owner.metadata?.namespace;
      push(this.podsByNamespace, ns, pod);
      if (!isMap(pod.labels)) continue;
      const byKey = child(this.postings, ns);
      for (const [key, value] of Object.entries(pod.labels)) push(child(byKey, key), value, pod);
    }
  }

  /** The objects of `kind`, in document order. */
  public ofKind(kind: string): readonly Manifest[] {
    return this.kinds.get(kind) ?? [];
  }

  /** The first object of `kind` named `name` in `namespace` (undefined for cluster-scoped kinds). */
  public find(kind: string, namespace: string | undefined, name: string): Manifest | undefined {
    return this.named.get(kind)?.get(namespace)?.get(name);
  }

  /**
   * Pod templates in `namespace` whose labels match `selector` (a label map, `matchLabels`
   * semantics; an empty map selects every pod of the namespace).
   */
  public podsSelectedBy(namespace: string | undefined, selector: Record<string, string> = {}): PodTemplate[] {
    this.stats.selections++;
    const wanted = Object.entries(selector);
    if (wanted.length === 0) return this.scan(namespace).slice();
    // Intersect the posting lists: walk the shortest, test the other labels by hash lookup.
    const byKey = this.postings.get(namespace);
    let shortest: PodTemplate[] | undefined;
    for (const [key, value] of wanted) {
      const list = byKey?.get(key)?.get(value);
      if (!list) return [];
      if (!shortest || list.length < shortest.length) shortest = list;
    }
    this.stats.podsExamined += shortest!.length;
    return shortest!.filter((p) => matches(selector, p.labels));
  }

  /**
   * Pod templates in `namespace` a label selector (`matchLabels` and `matchExpressions`)
   * selects, as {@link selectorMatches} decides; no selector selects nothing. With
   * `matchLabels`, only the pods of its shortest posting list are examined; a selector with
   * only `matchExpressions` (or an empty one) examines the pods of its namespace.
   */
  public selectPods(namespace: string | undefined, selector: Record<string, any> | undefined): PodTemplate[] {
    if (!selector) return [];
    const byLabels = isMap(selector.matchLabels) && Object.keys(selector.matchLabels).length > 0;
    let candidates: readonly PodTemplate[];
    if (byLabels) {
      candidates = this.podsSelectedBy(namespace, selector.matchLabels);
    } else {
      this.stats.selections++;
      candidates = this.scan(namespace);
    }
    return candidates.filter((p) => selectorMatches(selector, p.labels));
  }

  /** Every container of every pod template, init containers included. */
  public containers(): ContainerRef[] {
    this.containerRefs ??= this.pods.flatMap((pod) => [
      ...(pod.spec.containers ?? []).map((c: any, i: number) => ({ pod, container: c, path: `${pod.specPath}.containers[${i}]`, plainInit: false })),
      ...(pod.spec.initContainers ?? []).map((c: any, i: number) => ({
        pod, container: c, path: `${pod.specPath}.initContainers[${i}]`, plainInit: c.restartPolicy !== 'Always',
      })),
    ]);
    return this.containerRefs;
  }

  /** The HPA that scales `workload`, if any. */
  public autoscalerOf(workload: Manifest): Manifest | undefined {
    return this.autoscalers.get(workload.metadata?.namespace)?.get(workload.kind)?.get(workload.metadata?.name);
  }

  /** True when the namespace object carries the tier annotation `production`. */
  public isProduction(namespace: string | undefined): boolean {
    return this.find('Namespace', undefined, namespace ?? '')?.metadata?.annotations?.[ANNOTATION_TIER] === 'production';
  }

  /** Every pod template of `namespace`, counted as examined. */
  private scan(namespace: string | undefined): readonly PodTemplate[] {
    const pods = this.podsByNamespace.get(namespace) ?? [];
    this.stats.podsExamined += pods.length;
    return pods;
  }
}

/** The map under `key` in `map`, created empty when absent. */
function child<K, K2, V>(map: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let found = map.get(key);
  if (!found) map.set(key, found = new Map());
  return found;
}

/** Appends `value` to the list under `key`. */
function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** A plain label map (an object that is not an array). */
function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True for kinds that must carry `metadata.namespace`. */
export function isNamespaced(m: Manifest): boolean {
  return !CLUSTER_SCOPED.has(m.kind);
}

/** `matchLabels` semantics: every selector label is present with the same value. */
export function matches(selector: Record<string, string> = {}, labels: Record<string, string> = {}): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** A label selector (`matchLabels` and `matchExpressions`) applied to `labels`. */
export function selectorMatches(selector: Record<string, any> | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  if (!matches(selector.matchLabels, labels)) return false;
  return (selector.matchExpressions ?? []).every((e: any) => {
    const has = e.key in labels;
    switch (e.operator) {
      case 'In': return has && e.values.includes(labels[e.key]);
      case 'NotIn': return !has || !e.values.includes(labels[e.key]);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: return false;
    }
  });
}

function podTemplateOf(m: Manifest): PodTemplate[] {
  if (m.kind === 'Pod') {
    return [{
      owner: m, specPath: 'spec', spec: m.spec ?? {}, labels: m.metadata?.labels ?? {},
      metadataPath: 'metadata', metadata: m.metadata ?? {}, runsToCompletion: false,
    }];
  }
  const at = POD_TEMPLATE_PATHS[m.kind];
  if (!at) return [];
  const template = at.reduce((node: any, key) => node?.[key], m);
  if (!template) return [];
  return [{
    owner: m,
    specPath: [...at, 'spec'].join('.'),
    spec: template.spec ?? {},
    labels: template.metadata?.labels ?? {},
    metadataPath: [...at, 'metadata'].join('.'),
    metadata: template.metadata ?? {},
    runsToCompletion: m.kind === 'Job' || m.kind === 'CronJob',
  }];
}
