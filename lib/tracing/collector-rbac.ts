import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { resourceName } from '../core';

const k8s = kplus.k8s;

/** What k8sattributes reads: pods (their names, uids, nodes), namespaces, and replicasets (the Deployment behind a pod). */
export const K8SATTRIBUTES_RULES: ReadonlyArray<{ readonly apiGroups: readonly string[]; readonly resources: readonly string[]; readonly verbs: readonly string[] }> = [
  { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get', 'list', 'watch'] },
];

export interface CollectorRbacProps {
  /** Name of the ClusterRole and its binding; cluster-wide, so it carries the namespace (e.g. `pronto-otel-collector`). */
  readonly name: string;
  /** The collector's ServiceAccount. */
  readonly serviceAccountName: string;
  /** Namespace of the ServiceAccount. */
  readonly namespace: string;
  /** Metadata labels. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * A ClusterRole that can read exactly pods, namespaces and replicasets (get, list, watch)
 * and its ClusterRoleBinding to the collector's ServiceAccount. Namespaces are
 * cluster-scoped, so a Role could not grant them. Both objects are cluster-scoped: the
 * chart's namespace is removed from them.
 */
export class CollectorRbac extends Construct {
  public readonly clusterRole: kplus.k8s.KubeClusterRole;
  public readonly binding: kplus.k8s.KubeClusterRoleBinding;

  public constructor(scope: Construct, id: string, props: CollectorRbacProps) {
    super(scope, id);
    const name = resourceName(props.name);
    const labels = { ...props.labels };
    this.clusterRole = new k8s.KubeClusterRole(this, 'Resource', {
      metadata: { name, labels },
      rules: K8SATTRIBUTES_RULES.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] })),
    });
    this.binding = new k8s.KubeClusterRoleBinding(this, 'Binding', {
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name: props.serviceAccountName, namespace: props.namespace }],
    });
    // Cluster-scoped objects have no namespace; the chart would give them its own.
    if (Chart.of(this).namespace) {
      for (const o of [this.clusterRole, this.binding]) ApiObject.of(o).addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    }
  }
}
