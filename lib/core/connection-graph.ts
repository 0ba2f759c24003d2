/**
 * Who talks to whom, on which port: every flow that the catalog and the enabled
 * capabilities declare. The network-policy capability renders it into NetworkPolicies;
 * nothing else needs to know a port or a peer's labels twice.
 */
import { selectorLabels } from './labels';

/** Pods Pronto runs, selected by their stable labels (never the blue-green slot). */
export interface WorkloadEndpoint {
  readonly kind: 'workload';
  /** `app.kubernetes.io/name` of the pods: a catalog service or a platform workload. */
  readonly name: string;
  readonly namespace: string;
  readonly selector: Readonly<Record<string, string>>;
}

/** Pods in a namespace Pronto does not own (the cluster DNS, Prometheus, the Vault server). */
export interface ForeignEndpoint {
  readonly kind: 'foreign';
  /** A readable name, e.g. `kube-dns`. */
  readonly name: string;
  readonly namespace: string;
  readonly podLabels: Readonly<Record<string, string>>;
}

/** A host outside the cluster, e.g. `api.stripe.com`. */
export interface ExternalEndpoint {
  readonly kind: 'external';
  /** The host name. */
  readonly name: string;
  /**
   * Its address blocks (CIDR), when the capability that declares the flow knows them
   * (e.g. the object store of the database section). `networkPolicies.externalHosts.<name>`
   * overrides them. @default - none: the blocks must come from `networkPolicies.externalHosts`
   */
  readonly blocks?: readonly string[];
}

export type Endpoint = WorkloadEndpoint | ForeignEndpoint | ExternalEndpoint;

/** A destination port of a flow. */
export interface FlowPort {
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
}

/** One allowed connection. */
export interface Flow {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly ports: readonly FlowPort[];
  /** Why it exists, e.g. `calls order-service` or `resolves names`. */
  readonly purpose: string;
  /** What declared it: `catalog`, `cluster`, or a capability id. */
  readonly declaredBy: string;
}

/** A workload endpoint for pods named `name` in `namespace`. */
export function workloadEndpoint(name: string, namespace: string): WorkloadEndpoint {
  return { kind: 'workload', name, namespace, selector: selectorLabels(name) };
}

/** `workload:pronto/order-service`, `foreign:kube-system/kube-dns`, `external:api.stripe.com`. */
export function endpointKey(e: Endpoint): string {
  return e.kind === 'external' ? `external:${e.name}` : `${e.kind}:${e.namespace}/${e.name}`;
}

/**
 * The flows of one environment. Adding the same flow twice (same ends, port and
 * protocol) keeps one; the listing is sorted so the output never depends on who declared first.
 */
export class ConnectionGraph {
  private readonly _flows = new Map<string, Flow>();
  private readonly _workloads = new Map<string, WorkloadEndpoint>();

  /**
   * Records pods Pronto runs: a catalog service, or a workload of a capability that is on.
   * Flows every workload needs (DNS) reach exactly these. A flow may name a workload that
   * nothing runs in this environment (the gateway, while its capability is off): it is
   * kept, but that workload is not among {@link workloads}.
   */
  public addWorkload(endpoint: WorkloadEndpoint): void {
    this._workloads.set(endpointKey(endpoint), endpoint);
  }

  /** Records a flow. Throws on a flow without ports or a port out of range. */
  public addFlow(flow: Flow): void {
    if (flow.ports.length === 0) throw new Error(`flow ${describe(flow)}: expected at least one port`);
    for (const p of flow.ports) {
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new Error(`flow ${describe(flow)}: port ${p.port} is not 1-65535`);
    }
    for (const port of flow.ports) {
      const key = `${endpointKey(flow.from)}>${endpointKey(flow.to)}:${port.port}/${port.protocol}`;
      if (!this._flows.has(key)) this._flows.set(key, { ...flow, ports: [port] });
    }
  }

  /** Every flow, one port each, sorted by source, destination and port. */
  public get flows(): Flow[] {
    return [...this._flows.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, f]) => f);
  }

  /** Every workload Pronto runs in this environment ({@link addWorkload}), sorted. */
  public get workloads(): WorkloadEndpoint[] {
    return [...this._workloads.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, w]) => w);
  }

  /** True when `from` may reach `to` on `port`/`protocol`. */
  public allows(from: Endpoint, to: Endpoint, port: number, protocol: 'TCP' | 'UDP' = 'TCP'): boolean {
    return this._flows.has(`${endpointKey(from)}>${endpointKey(to)}:${port}/${protocol}`);
  }
}

function describe(flow: Flow): string {
  return `${endpointKey(flow.from)} -> ${endpointKey(flow.to)} (${flow.purpose}, from ${flow.declaredBy})`;
}
