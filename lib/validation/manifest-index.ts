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

/** Kinds that live outside namespaces. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition',
  'PersistentVolume', 'StorageClass', 'PriorityClass', 'IngressClass', 'RuntimeClass', 'CSIDriver', 'Node',
  'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'APIService', 'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding', 'FlowSchema', 'PriorityLevelConfiguration', 'VolumeAttachment']);

/** Read-only lookups over one document set (all charts of one environment together). */
export class ManifestIndex {
  public readonly pods: PodTemplate[];

  public constructor(public readonly manifests: Manifest[]) {
    this.pods = manifests.flatMap((m) => podTemplateOf(m));
  }

  public ofKind(kind: string): Manifest[] {
    return this.manifests.filter((m) => m.kind === kind);
  }

  public find(kind: string, namespace: string | undefined, name: string): Manifest | undefined {
    return this.manifests.find((m) => m.kind === kind && m.metadata?.name === name && m.metadata?.namespace === namespace);
  }

  /** Pod templates in `namespace` whose labels match `selector` (a label map). */
  public podsSelectedBy(namespace: string | undefined, selector: Record<string, string>): PodTemplate[] {
    return this.pods.filter((p) => p.owner.metadata?.namespace === namespace && matches(selector, p.labels));
  }

  /** Every container of every pod template, init containers included. */
  public containers(): ContainerRef[] {
    return this.pods.flatMap((pod) => [
      ...(pod.spec.containers ?? []).map((c: any, i: number) => ({ pod, container: c, path: `${pod.specPath}.containers[${i}]`, plainInit: false })),
      ...(pod.spec.initContainers ?? []).map((c: any, i: number) => ({
        pod, container: c, path: `${pod.specPath}.initContainers[${i}]`, plainInit: c.restartPolicy !== 'Always',
      })),
    ]);
  }

  /** The HPA that scales `workload`, if any. */
  public autoscalerOf(workload: Manifest): Manifest | undefined {
    return this.ofKind('HorizontalPodAutoscaler').find((h) => h.metadata?.namespace === workload.metadata?.namespace
      && h.spec?.scaleTargetRef?.kind === workload.kind && h.spec?.scaleTargetRef?.name === workload.metadata?.name);
  }

  /** True when the namespace object carries the tier annotation `production`. */
  public isProduction(namespace: string | undefined): boolean {
    return this.find('Namespace', undefined, namespace ?? '')?.metadata?.annotations?.[ANNOTATION_TIER] === 'production';
  }
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
    return [{ owner: m, specPath: 'spec', spec: m.spec ?? {}, labels: m.metadata?.labels ?? {}, runsToCompletion: false }];
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
    runsToCompletion: m.kind === 'Job' || m.kind === 'CronJob',
  }];
}
