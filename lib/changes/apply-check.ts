/**
 * The apply check: the changes between the output a cluster holds and the new output that
 * the API server refuses on update (so an Argo CD sync or `kubectl apply` of the whole
 * application fails), each with what changed and what the operator does about it; and the
 * objects the new output no longer contains, with the command that removes each where
 * nothing prunes. The rules are Kubernetes 1.28's update validation, each citing its source
 * ({@link FROZEN_FIELD_RULES}).
 */
import { Manifest, bytes } from '../core';
import { ObjectChange, OutputChanges, isUnder, objectRef, valueAt } from './object-changes';

/** An update the API server refuses, and what to do instead. */
export interface ApplyRefusal {
  /** The object, `Kind[.group]/namespace/name`. */
  readonly ref: string;
  /** What changed, in the object's terms. */
  readonly change: string;
  /** Why the API server refuses it: the rule and its source. */
  readonly rule: string;
  /** What the operator does: the commands, in order. */
  readonly remedy: string;
}

/** One frozen-field rule: the kinds it applies to, what it finds in a change, and its source in Kubernetes v1.28.0. */
export interface FrozenFieldRule {
  readonly kinds: readonly string[];
  /** Where Kubernetes enforces it (file and function at v1.28.0). */
  readonly source: string;
  /** The frozen paths that changed, or none. */
  frozen(change: ObjectChange): string[];
  /** What the operator does instead. */
  remedy(change: ObjectChange): string;
}

/** Every rule was read in Kubernetes' 1.28.0 source tree; each names its file, function and lines there. */
const K8S = 'kubernetes v1.28.0';

/** `kubectl` arguments naming the object: `<resource> <name> [-n <namespace>]`. */
export function kubectlTarget(m: Manifest): string {
  const group = String(m.apiVersion ?? '').includes('/') ? `.${String(m.apiVersion).split('/')[0]}` : '';
  const ns = m.metadata?.namespace ? ` -n ${m.metadata.namespace}` : '';
  return `${String(m.kind).toLowerCase()}${group} ${m.metadata?.name}${ns}`;
}

/** The StatefulSet spec fields an update may change (everything else is refused). */
export const STATEFULSET_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'] as const;

const specPaths = (c: ObjectChange) => c.paths.filter((p) => isUnder(p, 'spec'));
const paths = (c: ObjectChange, frozen: readonly string[]) => c.paths.filter((p) => frozen.some((f) => isUnder(p, f)));

/**
 * Every rule the check applies. The remedies keep data: a StatefulSet is deleted with
 * `--cascade=orphan` (its pods and claims stay, and the new one adopts them).
 */
export const FROZEN_FIELD_RULES: readonly FrozenFieldRule[] = [
  {
    kinds: ['StatefulSet'],
    source: `${K8S} pkg/apis/apps/validation/validation.go ValidateStatefulSetUpdate (l. 171-195): "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"`,
    frozen: (c) => specPaths(c).filter((p) => !STATEFULSET_MUTABLE.some((f) => isUnder(p, `spec.${f}`))),
    remedy: (c) => `kubectl delete ${kubectlTarget(c.after)} --cascade=orphan (its pods and volume claims stay), then sync: the new StatefulSet adopts them and rolls its pods`,
  },
  {
    kinds: ['Deployment', 'ReplicaSet', 'DaemonSet'],
    source: `${K8S} pkg/registry/apps/{deployment,replicaset,daemonset}/strategy.go ValidateUpdate (deployment l. 145-149): for apps/v1, ValidateImmutableField(spec.selector): "field is immutable"`,
    frozen: (c) => paths(c, ['spec.selector']),
    remedy: (c) => `give the workload a new name (both run until the old one is deleted), or kubectl delete ${kubectlTarget(c.after)} and sync (its pods stop first)`,
  },
  {
    kinds: ['Job'],
    source: `${K8S} pkg/apis/batch/validation/validation.go ValidateJobSpecUpdate and validatePodTemplateUpdate (l. 445-485): spec.selector, completionMode, podFailurePolicy and the template are immutable (but the scheduling directives of a suspended Job that never started)`,
    frozen: (c) => paths(c, ['spec.selector', 'spec.template', 'spec.completionMode', 'spec.podFailurePolicy', 'spec.backoffLimitPerIndex']),
    remedy: (c) => `kubectl delete ${kubectlTarget(c.after)} and sync (a Job that ran is not rerun by the update), or give it a new name`,
  },
  {
    kinds: ['PersistentVolumeClaim'],
    source: `${K8S} pkg/apis/core/validation/validation.go ValidatePersistentVolumeClaimUpdate (l. 2213-2272): "spec is immutable after creation except resources.requests for bound claims", and storage "can not be less than previous value"`,
    frozen: (c) => specPaths(c).filter((p) => p !== 'spec.resources.requests.storage')
      .concat(shrinks(c) ? ['spec.resources.requests.storage'] : []),
    remedy: () => 'keep the claim as it is; a smaller or different volume is a new claim with a new name, and the data copied into it',
  },
  {
    kinds: ['RoleBinding', 'ClusterRoleBinding'],
    source: `${K8S} pkg/apis/rbac/validation/validation.go ValidateRoleBindingUpdate (l. 161) and ValidateClusterRoleBindingUpdate (l. 205): "cannot change roleRef"`,
    frozen: (c) => paths(c, ['roleRef']),
    remedy: (c) => `kubectl delete ${kubectlTarget(c.after)} and sync, or give the binding a new name`,
  },
  {
    kinds: ['ConfigMap', 'Secret'],
    source: `${K8S} pkg/apis/core/validation/validation.go ValidateSecretUpdate (l. 6206) and ValidateConfigMapUpdate (l. 6263): data of an immutable object, and \`immutable\` itself: "field is immutable when \`immutable\` is set"; a Secret's type: "field is immutable"`,
    frozen: (c) => [
      ...(c.before.immutable === true ? paths(c, ['data', 'binaryData', 'stringData', 'immutable']) : []),
      ...(c.before.kind === 'Secret' ? paths(c, ['type']) : []),
    ],
    remedy: (c) => `give the object a new name (and point its users at it), or kubectl delete ${kubectlTarget(c.after)} and sync`,
  },
  {
    kinds: ['Service'],
    source: `${K8S} pkg/apis/core/validation/validation.go ValidateServiceUpdate (l. 5419), validateUpgradeDowngradeClusterIPs (l. 7399-7419): clusterIPs "may not change once set" (but to and from ExternalName, and the dual-stack secondary); headless and not headless never swap`,
    frozen: (c) => paths(c, ['spec.clusterIP', 'spec.clusterIPs', 'spec.ipFamilies'])
      .filter(() => c.before.spec?.type !== 'ExternalName' && c.after.spec?.type !== 'ExternalName'),
    remedy: (c) => `kubectl delete ${kubectlTarget(c.after)} and sync (the Service's address changes; clients resolve it again through DNS)`,
  },
  {
    kinds: ['PriorityClass'],
    source: `${K8S} pkg/apis/scheduling/validation/validation.go ValidatePriorityClassUpdate (l. 53-63): value "may not be changed in an update."; preemptionPolicy is immutable`,
    frozen: (c) => paths(c, ['value', 'preemptionPolicy']),
    remedy: (c) => `kubectl delete ${kubectlTarget(c.after)} and sync (pods keep the priority they were admitted with), or a new name`,
  },
  {
    kinds: ['StorageClass'],
    source: `${K8S} pkg/apis/storage/validation/validation.go ValidateStorageClassUpdate (l. 67-83): "updates to parameters are forbidden.", and to provisioner, reclaimPolicy and volumeBindingMode`,
    frozen: (c) => paths(c, ['parameters', 'provisioner', 'reclaimPolicy', 'volumeBindingMode']),
    remedy: () => 'create a StorageClass with a new name and use it for new claims; existing volumes keep the old one',
  },
];

function shrinks(c: ObjectChange): boolean {
  const path = 'spec.resources.requests.storage';
  const [was, now] = [valueAt(c.before, path), valueAt(c.after, path)];
  return typeof was === 'string' && typeof now === 'string' && was !== now && bytes(now) < bytes(was);
}

/** Every update in `changes` that the API server refuses, rule by rule, and objects whose kind changed under the same name. */
export function applyRefusals(changes: OutputChanges): ApplyRefusal[] {
  const out: ApplyRefusal[] = [];
  for (const c of changes.changed) {
    for (const rule of FROZEN_FIELD_RULES.filter((r) => r.kinds.includes(c.after.kind))) {
      const frozen = rule.frozen(c);
      if (frozen.length > 0) out.push({ ref: c.ref, change: `changes ${frozen.join(', ')}`, rule: rule.source, remedy: rule.remedy(c) });
    }
  }
  for (const gone of changes.removed) {
    const successor = changes.added.find((m) => m.metadata?.name === gone.metadata?.name && m.kind !== gone.kind && sameScope(m, gone) && sameFamily(m, gone));
    if (successor) {
      out.push({
        ref: objectRef(gone),
        change: `becomes ${objectRef(successor)} under the same name`,
        rule: 'a different kind is a different object: applying creates the new one beside the old, which keeps running (and selecting the same pods) until it is deleted',
        remedy: `kubectl delete ${kubectlTarget(gone)}${gone.kind === 'StatefulSet' ? ' --cascade=orphan' : ''} before the sync, or at once after it`,
      });
    }
  }
  return out;
}

/** Namespaced objects in the same namespace, or both cluster-scoped. */
const sameScope = (a: Manifest, b: Manifest) => (a.metadata?.namespace ?? '') === (b.metadata?.namespace ?? '');

/** Kinds that can stand for each other: workloads, bindings, roles. A ConfigMap and a Service sharing a name are not a change of kind. */
const FAMILIES = [['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'], ['Role', 'ClusterRole'], ['RoleBinding', 'ClusterRoleBinding'], ['Job', 'CronJob']];
const sameFamily = (a: Manifest, b: Manifest) => FAMILIES.some((f) => f.includes(a.kind) && f.includes(b.kind));

/** An object the new output no longer contains, and the command that deletes it from the cluster. */
export interface Removal {
  readonly ref: string;
  readonly command: string;
}

/** The removed objects, each with `kubectl delete …` (StatefulSets keep their claims: delete those on purpose). */
export function removals(changes: OutputChanges): Removal[] {
  return changes.removed.map((m) => ({ ref: objectRef(m), command: `kubectl delete ${kubectlTarget(m)}` }));
}

/** A workload whose pods the change restarts: its pod template changed. */
export interface Restart {
  readonly ref: string;
  /** A StatefulSet (the database, Redis): its pods restart one by one, with their volumes. */
  readonly stateful: boolean;
  /** The template fields that changed. */
  readonly paths: readonly string[];
}

const WORKLOADS = ['Deployment', 'StatefulSet', 'DaemonSet'];

/** The workloads whose pods restart: their pod template changed. CronJobs change only their next run. */
export function restarts(changes: OutputChanges): Restart[] {
  return changes.changed.filter((c) => WORKLOADS.includes(c.after.kind)).map((c) => ({
    ref: c.ref, stateful: c.after.kind === 'StatefulSet', paths: c.paths.filter((p) => isUnder(p, 'spec.template')),
  })).filter((r) => r.paths.length > 0);
}
