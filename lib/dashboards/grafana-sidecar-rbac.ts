import { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-28';
import { recommendedLabels, resourceName } from '../core';

/** A rule of a Role. */
export interface RoleRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

export interface GrafanaSidecarRbacProps {
  /** Name of the Role and its binding, e.g. `grafana-sidecar`. */
  readonly name: string;
  /** Grafana's ServiceAccount, in its own namespace (the monitoring namespace). */
  readonly serviceAccount: { readonly name: string; readonly namespace: string };
  /** What the sidecars read: get, list and watch on ConfigMaps, nothing else. */
  readonly rules: readonly RoleRule[];
}

/**
 * The Role that lets Grafana's dashboard and datasource sidecars read the ConfigMaps of this
 * namespace (they list and watch by label, so no `resourceNames` can narrow it), and its
 * RoleBinding to Grafana's ServiceAccount of another namespace: the sidecars need no
 * ClusterRole, and no Secret here. A rule naming Secrets or a verb that writes is refused.
 */
export class GrafanaSidecarRbac extends Construct {
  public readonly role: kplus.k8s.KubeRole;
  public readonly binding: kplus.k8s.KubeRoleBinding;

  public constructor(scope: Construct, id: string, props: GrafanaSidecarRbacProps) {
    super(scope, id);
    const readOnly = ['get', 'list', 'watch'];
    for (const rule of props.rules) {
      const wide = rule.resources.find((r) => r !== 'configmaps') ?? rule.verbs.find((v) => !readOnly.includes(v)) ?? rule.apiGroups.find((g) => g !== '');
      if (wide !== undefined) throw new Error(`${this.node.path}: expected get, list and watch on ConfigMaps only (the dashboards and datasources), found "${wide}"`);
    }
    const name = resourceName(props.name);
    const labels = recommendedLabels({ name, component: 'dashboards' });
    this.role = new kplus.k8s.KubeRole(this, 'Resource', {
      metadata: { name, labels },
      rules: props.rules.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] })),
    });
    this.binding = new kplus.k8s.KubeRoleBinding(this, 'Binding', {
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: props.serviceAccount.name, namespace: props.serviceAccount.namespace }],
    });
  }
}
