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
 * Work counters of one graph, for the growth tests (test/charts/growth.spec.ts): how many
 * flows its readers were handed, through how many lookups. No output depends on them.
 */
export interface GraphStats {
  /** Calls of {@link ConnectionGraph.flows}, {@link ConnectionGraph.flowsFrom} and {@link ConnectionGraph.flowsTo}. */
  lookups: number;
  /** Flows those calls returned, summed. */
  flowsExamined: number;
  /** Times the sorted flows and the per-endpoint indexes were rebuilt (on a read after flows were added). */
  indexBuilds: number;
}

/** The sorted flows of a graph and its flows by endpoint, built on first read after a change. */
interface GraphIndex {
  readonly flows: readonly Flow[];
  readonly from: ReadonlyMap<string, readonly Flow[]>;
  readonly to: ReadonlyMap<string, readonly Flow[]>;
}

const NO_FLOWS: readonly Flow[] = [];

/**
 * The flows of one environment. Adding the same flow twice (same ends, port and
 * protocol) keeps one; the listing is sorted so the output never depends on who declared first.
 * Readers get the flows of one endpoint from an index ({@link flowsFrom}, {@link flowsTo}),
 * so that deriving something per workload stays linear in the number of flows.
 */
export class ConnectionGraph {
  private readonly _flows = new Map<string, Flow>();
  private readonly _workloads = new Map<string, WorkloadEndpoint>();
  private _index?: GraphIndex;
  private _sortedWorkloads?: readonly WorkloadEndpoint[];
  /** See {@link GraphStats}. */
  public readonly stats: GraphStats = { lookups: 0, flowsExamined: 0, indexBuilds: 0 };

  /**
   * Records pods Pronto runs: a catalog service, or a workload of a capability that is on.
   * Flows every workload needs (DNS) reach exactly these. A flow may name a workload that
   * nothing runs in this environment (the gateway, while its capability is off): it is
   * kept, but that workload is not among {@link workloads}.
   */
  public addWorkload(endpoint: WorkloadEndpoint): void {
    this._workloads.set(endpointKey(endpoint), endpoint);
    this._sortedWorkloads = undefined;
  }

  /** Records a flow. Throws on a flow without ports or a port out of range. */
  public addFlow(flow: Flow): void {
    if (flow.ports.length === 0) throw new Error(`flow ${describe(flow)}: expected at least one port`);
    for (const p of flow.ports) {
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new Error(`flow ${describe(flow)}: port ${p.port} is not 1-65535`);
    }
    const ends = `${endpointKey(flow.from)}>${endpointKey(flow.to)}`;
    for (const port of flow.ports) {
      const key = `${ends}:${port.port}/${port.protocol}`;
      if (!this._flows.has(key)) {
        this._flows.set(key, { ...flow, ports: [port] });
        this._index = undefined;
      }
    }
  }

  /** Every flow, one port each, sorted by source, destination and port. */
  public get flows(): readonly Flow[] {
    return this.counted(this.index().flows);
  }

  /** The flows from `endpoint`, in the order of {@link flows}. */
  public flowsFrom(endpoint: Endpoint): readonly Flow[] {
    return this.counted(this.index().from.get(endpointKey(endpoint)) ?? NO_FLOWS);
  }

  /** The flows to `endpoint`, in the order of {@link flows}. */
  public flowsTo(endpoint: Endpoint): readonly Flow[] {
    return this.counted(this.index().to.get(endpointKey(endpoint)) ?? NO_FLOWS);
  }

  /** Every workload Pronto runs in this environment ({@link addWorkload}), sorted. */
  public get workloads(): readonly WorkloadEndpoint[] {
    this._sortedWorkloads ??= [...this._workloads.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, w]) => w);
    return this._sortedWorkloads;
  }

  /** True when `from` may reach `to` on `port`/`protocol`. */
  public allows(from: Endpoint, to: Endpoint, port: number, protocol: 'TCP' | 'UDP' = 'TCP'): boolean {
    return this._flows.has(`${endpointKey(from)}>${endpointKey(to)}:${port}/${protocol}`);
  }

  private counted(flows: readonly Flow[]): readonly Flow[] {
    this.stats.lookups++;
    this.stats.flowsExamined += flows.length;
    return flows;
  }

  private index(): GraphIndex {
    if (this._index) return this._index;
    this.stats.indexBuilds++;
    const flows = [...this._flows.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, f]) => f);
    const from = new Map<string, Flow[]>();
    const to = new Map<string, Flow[]>();
    const add = (index: Map<string, Flow[]>, end: Endpoint, flow: Flow) => {
      const key = endpointKey(end);
      const list = index.get(key);
      if (list) list.push(flow);
      else index.set(key, [flow]);
    };
    for (const flow of flows) {
      add(from, flow.from, flow);
      add(to, flow.to, flow);
    }
    this._index = { flows, from, to };
    return this._index;
  }
}

function describe(flow: Flow): string {
  return `${endpointKey(flow.from)} -> ${endpointKey(flow.to)} (${flow.purpose}, from ${flow.declaredBy})`;
}
