import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { resourceName } from '../core';

const k8s = kplus.k8s;

/**
 * What k8sattributes reads with `filter.namespace` and the metadata the collector extracts:
 * pods, and replicasets (the Deployment behind a pod), both in that namespace only. No
 * namespaces or nodes: k8s.namespace.name and k8s.node.name come from the pod itself, and
 * the namespace informer is a no-op unless namespace labels or annotations are extracted
 * (opentelemetry-collector-contrib v0.135.0, processor/k8sattributesprocessor: README
 * "Namespace-scoped RBAC", internal/kube/client.go).
 */
export const K8SATTRIBUTES_RULES: ReadonlyArray<{ readonly apiGroups: readonly string[]; readonly resources: readonly string[]; readonly verbs: readonly string[] }> = [
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get', 'list', 'watch'] },
];

export interface CollectorRbacProps {
  /** Name of the Role and its binding, e.g. `otel-collector`. */
  readonly name: string;
  /** The collector's ServiceAccount. */
  readonly serviceAccountName: string;
  /** Namespace of the ServiceAccount, which is also the namespace k8sattributes watches. */
  readonly namespace: string;
  /** Metadata labels. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * A Role that can read exactly pods and replicasets (get, list, watch) in the collector's
 * namespace, the one k8sattributes is filtered to, and its RoleBinding to the collector's
 * ServiceAccount: nothing cluster-wide.
 */
export class CollectorRbac extends Construct {
  public readonly role: kplus.k8s.KubeRole;
  public readonly binding: kplus.k8s.KubeRoleBinding;

  public constructor(scope: Construct, id: string, props: CollectorRbacProps) {
    super(scope, id);
    const name = resourceName(props.name);
    const labels = { ...props.labels };
    this.role = new k8s.KubeRole(this, 'Resource', {
      metadata: { name, labels },
      rules: K8SATTRIBUTES_RULES.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] })),
    });
    this.binding = new k8s.KubeRoleBinding(this, 'Binding', {
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: props.serviceAccountName, namespace: props.namespace }],
    });
  }
}
