import { Construct } from 'constructs';
import { ConnectionGraph } from '../core';
import { DefaultDenyPolicy } from './default-deny-policy';
import { IpBlockSpec, WorkloadPolicyRules, policyRulesFromGraph } from './policy-rules';
import { WorkloadNetworkPolicy } from './workload-network-policy';

export interface ConnectionGraphPoliciesProps {
  /** The finished graph: every flow of the environment, and the workloads that run. */
  readonly graph: ConnectionGraph;
  /** Namespaces Pronto owns: each gets a {@link DefaultDenyPolicy}; every running workload must be in one. */
  readonly namespaces: readonly string[];
  /** Address blocks of each external host the graph names, by host name. */
  readonly externalBlocks: Readonly<Record<string, readonly IpBlockSpec[]>>;
}

/**
 * The NetworkPolicies of the connection graph, in a stable order: a default deny for each
 * owned namespace, then one policy per running workload (named after it, in graph order)
 * allowing exactly the flows the graph declares for it.
 */
export class ConnectionGraphPolicies extends Construct {
  /** The rules each workload's policy was rendered from, in order. */
  public readonly rules: readonly WorkloadPolicyRules[];

  public constructor(scope: Construct, id: string, props: ConnectionGraphPoliciesProps) {
    super(scope, id);
    this.rules = policyRulesFromGraph(props.graph, props.externalBlocks);
    const outside = this.rules.filter((r) => !props.namespaces.includes(r.workload.namespace));
    if (outside.length > 0) {
      throw new Error(`workload(s) ${outside.map((r) => `${r.workload.namespace}/${r.workload.name}`).join(', ')} run outside the owned namespaces ` +
        `(${props.namespaces.join(', ')}): no default deny would cover them`);
    }
    for (const namespace of props.namespaces) new DefaultDenyPolicy(this, `DefaultDeny-${namespace}`, { namespace });
    for (const r of this.rules) {
      new WorkloadNetworkPolicy(this, `${r.workload.namespace}-${r.workload.name}`, {
        name: r.workload.name, namespace: r.workload.namespace, podSelector: r.workload.selector, ingress: r.ingress, egress: r.egress,
      });
    }
  }
}
