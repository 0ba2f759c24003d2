/**
 * The rules of each workload's NetworkPolicy, derived from the connection graph: ingress
 * from every peer that may call it, egress to every peer it may call, each on exactly the
 * ports the graph declares. Pure data; {@link WorkloadNetworkPolicy} renders it.
 */
import { ConnectionGraph, Endpoint, ExternalEndpoint, Flow, FlowPort, WorkloadEndpoint, cidrStrictlyInside, cidrWithin, endpointKey, parseCidrBlock } from '../core';

/**
 * Ranges no egress rule reaches through a broader block: link-local (169.254.0.0/16, the
 * clouds' instance metadata at 169.254.169.254 and its credentials), shared address space
 * (100.64.0.0/10: some clouds' metadata and internal services), and their IPv6 kin
 * (fe80::/10 link-local, fd00:ec2::/32 AWS's metadata). An egress block that contains one of
 * them gets it as an `except`; a block that names one exactly (a node-local DNS cache at
 * 169.254.20.10/32) is an explicit choice and kept.
 */
export const NEVER_VIA_BROAD_EGRESS: readonly string[] = ['169.254.0.0/16', '100.64.0.0/10', 'fe80::/10', 'fd00:ec2::/32'];

/** `block` with every {@link NEVER_VIA_BROAD_EGRESS} range it strictly contains (and does not already leave out) added to its `except`. */
export function withoutSensitiveRanges(block: IpBlockSpec): IpBlockSpec {
  const outer = parseCidrBlock(block.cidr);
  if (typeof outer === 'string') return block;
  const excepted = (block.except ?? []).map(parseCidrBlock).filter((b): b is Exclude<typeof b, string> => typeof b !== 'string');
  const added = NEVER_VIA_BROAD_EGRESS.filter((text) => {
    const range = parseCidrBlock(text);
    return typeof range !== 'string' && cidrStrictlyInside(range, outer) && !excepted.some((e) => cidrWithin(range, e));
  });
  return added.length === 0 ? block : { ...block, except: [...(block.except ?? []), ...added] };
}

/** An address block, as a NetworkPolicy `ipBlock` writes it. */
export interface IpBlockSpec {
  /** The block, e.g. `203.0.113.0/24`. */
  readonly cidr: string;
  /** Blocks inside {@link cidr} to leave out. @default - none */
  readonly except?: readonly string[];
}

/**
 * One peer of a rule: pods selected by labels (in the policy's own namespace, or in the
 * namespace named, matched on `kubernetes.io/metadata.name`), or address blocks.
 */
export type PolicyPeer =
  | {
    readonly kind: 'pods';
    /** The peer's namespace when it is not the policy's own. @default - the policy's namespace */
    readonly namespace?: string;
    /** Labels of the peer's pods; empty selects every pod of {@link namespace}. */
    readonly podLabels: Readonly<Record<string, string>>;
  }
  | { readonly kind: 'ipBlocks'; readonly blocks: readonly IpBlockSpec[] };

/** Traffic from (ingress) or to (egress) one peer, on these destination ports. */
export interface PolicyRule {
  /** `workload:pronto/order-service`, `foreign:kube-system/kube-dns`, `external:api.stripe.com`. */
  readonly peerKey: string;
  readonly peer: PolicyPeer;
  /** Destination ports, sorted by number then protocol (TCP before UDP). */
  readonly ports: readonly FlowPort[];
}

/** What one running workload may receive and send. */
export interface WorkloadPolicyRules {
  readonly workload: WorkloadEndpoint;
  /** One rule per peer that may reach the workload, sorted by peer key. */
  readonly ingress: readonly PolicyRule[];
  /** One rule per peer the workload may reach, sorted by peer key. */
  readonly egress: readonly PolicyRule[];
}

/** An external host a running workload talks to, for which no address blocks were given. */
export interface UnresolvedHost {
  readonly host: string;
  /** The flows that name it, e.g. `workload:pronto/payment-gateway -> external:api.stripe.com TCP 443 (calls api.stripe.com, from catalog)`. */
  readonly flows: readonly string[];
}

/**
 * The external hosts of flows that have a running workload at the other end, and no
 * address blocks in `externalBlocks`: the policies could not express them.
 */
export function unresolvedExternalHosts(graph: ConnectionGraph,
  externalBlocks: Readonly<Record<string, readonly IpBlockSpec[]>>): UnresolvedHost[] {
  const running = new Set(graph.workloads.map(endpointKey));
  const byHost = new Map<string, string[]>();
  for (const flow of graph.flows) {
    for (const [end, other] of [[flow.from, flow.to], [flow.to, flow.from]] as const) {
      if (end.kind !== 'external' || !running.has(endpointKey(other)) || blocksOf(end, externalBlocks).length > 0) continue;
      const list = byHost.get(end.name) ?? [];
      list.push(`${endpointKey(flow.from)} -> ${endpointKey(flow.to)} ${flow.ports.map((p) => `${p.protocol} ${p.port}`).join(', ')} ` +
        `(${flow.purpose}, from ${flow.declaredBy})`);
      byHost.set(end.name, list);
    }
  }
  return [...byHost.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([host, flows]) => ({ host, flows }));
}

/**
 * The rules of every running workload ({@link ConnectionGraph.workloads}, in that order).
 * A flow becomes a rule only when its other end exists: a running workload, pods of a
 * namespace Pronto does not own, or an external host (through its address blocks). A flow
 * naming a workload that does not run here (the gateway while its capability is off) is
 * left out: a rule toward pods that do not exist would only be noise.
 *
 * @throws when an external host a running workload talks to has no address blocks
 *   (see {@link unresolvedExternalHosts}).
 */
export function policyRulesFromGraph(graph: ConnectionGraph,
  externalBlocks: Readonly<Record<string, readonly IpBlockSpec[]>>): WorkloadPolicyRules[] {
  const unresolved = unresolvedExternalHosts(graph, externalBlocks);
  if (unresolved.length > 0) {
    throw new Error(`no address blocks for the external host(s) ${unresolved.map((u) => u.host).join(', ')}: ` +
      'a NetworkPolicy cannot name a host, so each needs its CIDR blocks');
  }
  const running = new Set(graph.workloads.map(endpointKey));
  // Each workload reads only its own flows (the graph's index): linear in the flows, not workloads × flows.
  return graph.workloads.map((workload) => {
    const rules = (flows: readonly Flow[], peerEnd: (f: Flow) => Endpoint) => {
      const byPeer = new Map<string, { peer: PolicyPeer; ports: FlowPort[] }>();
      for (const flow of flows) {
        const there = peerEnd(flow);
        const peer = peerOf(there, workload.namespace, running, externalBlocks);
        if (!peer) continue;
        const key = endpointKey(there);
        const entry = byPeer.get(key) ?? { peer, ports: [] };
        for (const p of flow.ports) {
          if (!entry.ports.some((q) => q.port === p.port && q.protocol === p.protocol)) entry.ports.push(p);
        }
        byPeer.set(key, entry);
      }
      return [...byPeer.entries()].sort(([a], [b]) => a.localeCompare(b))
        .map(([peerKey, { peer, ports }]): PolicyRule => ({ peerKey, peer, ports: [...ports].sort(comparePorts) }));
    };
    const egress = rules(graph.flowsFrom(workload), (f) => f.to).map((r) => (r.peer.kind === 'ipBlocks'
      ? { ...r, peer: { kind: 'ipBlocks' as const, blocks: r.peer.blocks.map(withoutSensitiveRanges) } } : r));
    return { workload, ingress: rules(graph.flowsTo(workload), (f) => f.from), egress };
  });
}

/** The peer for `end`, seen from a policy in `namespace`; undefined for a workload that does not run. */
function peerOf(end: Endpoint, namespace: string, running: ReadonlySet<string>,
  externalBlocks: Readonly<Record<string, readonly IpBlockSpec[]>>): PolicyPeer | undefined {
  switch (end.kind) {
    case 'workload':
      if (!running.has(endpointKey(end))) return undefined;
      return end.namespace === namespace ? { kind: 'pods', podLabels: end.selector } : { kind: 'pods', namespace: end.namespace, podLabels: end.selector };
    case 'foreign':
      return { kind: 'pods', namespace: end.namespace, podLabels: end.podLabels };
    case 'external':
      return { kind: 'ipBlocks', blocks: blocksOf(end, externalBlocks) };
  }
}

/** The blocks of an external host: the environment's `externalBlocks`, else those its flow carries. */
function blocksOf(end: ExternalEndpoint, externalBlocks: Readonly<Record<string, readonly IpBlockSpec[]>>): readonly IpBlockSpec[] {
  return externalBlocks[end.name] ?? (end.blocks ?? []).map((cidr) => ({ cidr }));
}

function comparePorts(a: FlowPort, b: FlowPort): number {
  return a.port - b.port || a.protocol.localeCompare(b.protocol);
}
