/**
 * An add-on contract: what a pinned Helm chart renders with the values Pronto gives it, read
 * in the chart's public repository at that tag. Consumers take Service names, ports, TLS
 * modes and tenancy from here, and the Argo CD project takes the namespaces and kinds the
 * chart writes: never a second copy of a string. A version bump says what to re-read:
 * {@link AddonContract.sources}.
 *
 * Pure (no cdk8s): config/ and every capability may import it.
 */

/** An API group and kind (`group` "" for the core group). */
export interface AddonKind {
  readonly group: string;
  readonly kind: string;
}

/** A Service the chart renders. */
export interface AddonService {
  /** Service name. */
  readonly name: string;
  /** Service port. */
  readonly port: number;
  /** Port the pods listen on (the NetworkPolicy flow to them allows this one). */
  readonly targetPort: number;
  /** `http` or `grpc` over plaintext, or their TLS variants. */
  readonly protocol: 'http' | 'grpc' | 'https' | 'grpcs';
  /** Labels of the pods behind it. */
  readonly podLabels: Readonly<Record<string, string>>;
  /** Every client logs in with HTTP basic auth. @default - no login */
  readonly login?: 'basic';
}

/** A Helm chart at a pinned version. */
export interface AddonChart {
  readonly repoURL: string;
  readonly name: string;
  readonly version: string;
}

export interface AddonContract {
  /** The chart as installed. */
  readonly chart: AddonChart;
  /** Helm release name (it names the objects). */
  readonly release: string;
  /** The namespace it is installed into. */
  readonly namespace: string;
  /**
   * The version of the software the pinned chart installs (its Chart.yaml `appVersion`), stated
   * where Pronto renders objects for it and validates them against that release's CRDs.
   */
  readonly appVersion?: string;
  /** The Services other parts use, by role. */
  readonly services: Readonly<Record<string, AddonService>>;
  /**
   * ServiceAccounts of its pods that Pronto grants something (a Role in Pronto's namespace, a
   * Vault role), by role; each in {@link AddonContract.namespace}.
   */
  readonly serviceAccounts?: Readonly<Record<string, string>>;
  /** Multi-tenancy: the header every reader and writer must send, when the add-on requires one. */
  readonly tenantHeader?: string;
  /** What the chart writes: the Argo CD project allows exactly these. */
  readonly writes: {
    /** Every namespace it writes objects into. */
    readonly namespaces: readonly string[];
    /** Every cluster-scoped kind it creates. */
    readonly clusterScoped: readonly AddonKind[];
    /**
     * The name of every ClusterRole it creates, when the contract states them: what to read for
     * what each grants cluster-wide (a review keeps a component that needs only its own
     * namespaces out of this list).
     */
    readonly clusterRoles?: readonly string[];
    /** Every namespaced kind it creates. */
    readonly namespaced: readonly AddonKind[];
  };
  /** Where each fact comes from: `<repository>@<tag>: <path>`. */
  readonly sources: readonly string[];
}

/** The contracts of the add-ons Pronto installs, by add-on id (`gitops.addons.<id>`). */
export type AddonContracts = Readonly<Record<string, AddonContract>>;

/**
 * Why `labels` (a section's pod selector for the flow to an add-on) would miss the pods of
 * the contract's Service `role`, or undefined: each label must be one those pods carry.
 */
export function podLabelsProblem(contract: AddonContract, role: string, labels: Readonly<Record<string, string>>): string | undefined {
  const service = serviceOf(contract, role);
  const wrong = Object.entries(labels).filter(([k, v]) => service.podLabels[k] !== v);
  if (wrong.length === 0) return undefined;
  return `expected labels the pods of ${service.name} carry (${Object.entries(service.podLabels).map(([k, v]) => `${k}: ${v}`).join(', ')}), ` +
    `found ${wrong.map(([k, v]) => `${k}: ${v}`).join(', ')}: the NetworkPolicy flow to them would select no pod`;
}

/** `http(s)://<service>.<namespace>.svc:<port>` of a contract's Service. */
export function serviceUrl(contract: AddonContract, role: string): string {
  const s = serviceOf(contract, role);
  const scheme = s.protocol === 'https' || s.protocol === 'grpcs' ? 'https' : 'http';
  return `${scheme}://${s.name}.${contract.namespace}.svc:${s.port}`;
}

/** `<service>.<namespace>.svc:<port>` of a contract's Service (gRPC endpoints take no scheme). */
export function serviceAddress(contract: AddonContract, role: string): string {
  const s = serviceOf(contract, role);
  return `${s.name}.${contract.namespace}.svc:${s.port}`;
}

/** The Service of `role`; a contract without it is a programming error. */
export function serviceOf(contract: AddonContract, role: string): AddonService {
  const s = contract.services[role];
  if (!s) throw new Error(`add-on ${contract.chart.name}: no Service for "${role}" in its contract`);
  return s;
}

/** Whether the Service of `role` speaks TLS. */
export function servesTls(contract: AddonContract, role: string): boolean {
  const p = serviceOf(contract, role).protocol;
  return p === 'https' || p === 'grpcs';
}

/** Core and well-known kinds, written once for the contracts. */
export const KINDS = {
  ServiceAccount: { group: '', kind: 'ServiceAccount' },
  Service: { group: '', kind: 'Service' },
  ConfigMap: { group: '', kind: 'ConfigMap' },
  Secret: { group: '', kind: 'Secret' },
  Endpoints: { group: '', kind: 'Endpoints' },
  PersistentVolumeClaim: { group: '', kind: 'PersistentVolumeClaim' },
  Pod: { group: '', kind: 'Pod' },
  Deployment: { group: 'apps', kind: 'Deployment' },
  StatefulSet: { group: 'apps', kind: 'StatefulSet' },
  DaemonSet: { group: 'apps', kind: 'DaemonSet' },
  Job: { group: 'batch', kind: 'Job' },
  Role: { group: 'rbac.authorization.k8s.io', kind: 'Role' },
  RoleBinding: { group: 'rbac.authorization.k8s.io', kind: 'RoleBinding' },
  ClusterRole: { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
  ClusterRoleBinding: { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
  MutatingWebhookConfiguration: { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration' },
  ValidatingWebhookConfiguration: { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration' },
  CustomResourceDefinition: { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
  PodDisruptionBudget: { group: 'policy', kind: 'PodDisruptionBudget' },
  NetworkPolicy: { group: 'networking.k8s.io', kind: 'NetworkPolicy' },
  HorizontalPodAutoscaler: { group: 'autoscaling', kind: 'HorizontalPodAutoscaler' },
  ServiceMonitor: { group: 'monitoring.coreos.com', kind: 'ServiceMonitor' },
  PrometheusRule: { group: 'monitoring.coreos.com', kind: 'PrometheusRule' },
  Prometheus: { group: 'monitoring.coreos.com', kind: 'Prometheus' },
  Alertmanager: { group: 'monitoring.coreos.com', kind: 'Alertmanager' },
  Certificate: { group: 'cert-manager.io', kind: 'Certificate' },
  Issuer: { group: 'cert-manager.io', kind: 'Issuer' },
} as const satisfies Record<string, AddonKind>;
