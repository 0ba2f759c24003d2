/**
 * A Mermaid flowchart (GitHub renders it) of who talks to whom: a pure renderer of nodes
 * grouped in subgraphs and labelled edges. What goes in it is decided by the caller, from
 * the connection graph, so the picture cannot drift from the NetworkPolicies.
 */

/** A box of the diagram. */
export interface DiagramNode {
  /** Unique key, any text (made into a Mermaid id). */
  readonly key: string;
  readonly label: string;
  /** Key of its {@link DiagramGroup}. */
  readonly group: string;
  /** `store` is drawn as a cylinder, `external` as a rounded box, `workload` as a box. */
  readonly shape: 'workload' | 'store' | 'external';
}

/** A subgraph. */
export interface DiagramGroup {
  readonly key: string;
  readonly title: string;
}

/** An arrow: a flow, or several between the same two nodes. */
export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  /** Dashed: telemetry (scraping, logs, traces), not the request path. */
  readonly dashed: boolean;
}

/** `workload:pronto/order-service` → `workload_pronto_order_service`. */
export function mermaidId(key: string): string {
  return key.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

const quote = (text: string) => `"${text.replace(/"/g, '#quot;')}"`;

/** The flowchart, without fences; groups in the order given, nodes and edges sorted. */
export function renderMermaid(groups: readonly DiagramGroup[], nodes: readonly DiagramNode[], edges: readonly DiagramEdge[]): string {
  const ids = new Map(nodes.map((n) => [n.key, mermaidId(n.key)]));
  if (new Set(ids.values()).size !== ids.size) throw new Error('two diagram nodes map to the same Mermaid id');
  const lines = ['flowchart LR'];
  for (const group of groups) {
    const members = nodes.filter((n) => n.group === group.key).sort((a, b) => a.label.localeCompare(b.label));
    if (members.length === 0) continue;
    lines.push(`  subgraph ${mermaidId(`group ${group.key}`)}[${quote(group.title)}]`);
    for (const n of members) {
      const id = ids.get(n.key)!;
      lines.push(`    ${id}${n.shape === 'store' ? `[(${quote(n.label)})]` : n.shape === 'external' ? `(${quote(n.label)})` : `[${quote(n.label)}]`}`);
    }
    lines.push('  end');
  }
  const orphan = nodes.find((n) => !groups.some((g) => g.key === n.group));
  if (orphan) throw new Error(`diagram node ${orphan.key} is in no group (${orphan.group})`);
  const sorted = [...edges].sort((a, b) => `${a.from} ${a.to}`.localeCompare(`${b.from} ${b.to}`));
  for (const e of sorted) {
    const from = ids.get(e.from);
    const to = ids.get(e.to);
    if (!from || !to) throw new Error(`diagram edge ${e.from} -> ${e.to} names a node that is not in the diagram`);
    lines.push(`  ${from} ${e.dashed ? '-.->' : '-->'}|${quote(e.label)}| ${to}`);
  }
  return lines.join('\n');
}
