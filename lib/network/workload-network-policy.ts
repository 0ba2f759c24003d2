import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { LABEL_SLOT, recommendedLabels, resourceName } from '../core';
import { PolicyPeer, PolicyRule } from './policy-rules';

/** Label every namespace carries with its own name (set by the API server since Kubernetes 1.22). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface WorkloadNetworkPolicyProps {
  /** Object name: the workload's name. */
  readonly name: string;
  /** Namespace of the policy and of the pods it selects. */
  readonly namespace: string;
  /** Stable labels of the workload's pods (never the blue-green slot); must not be empty. */
  readonly podSelector: Readonly<Record<string, string>>;
  /** Who may reach the pods, and on which ports; empty allows nothing in. */
  readonly ingress: readonly PolicyRule[];
  /** What the pods may reach, and on which ports; empty allows nothing out. */
  readonly egress: readonly PolicyRule[];
}

/**
 * One workload's NetworkPolicy: both policy types, one rule per peer (pods by their
 * labels, pods of another namespace by its `kubernetes.io/metadata.name`, or address
 * blocks), each on exactly its ports with their protocol. An empty rule list is written
 * as `[]`, so a reviewer reads "nothing" rather than a missing field.
 */
export class WorkloadNetworkPolicy extends Construct {
  public readonly policy: kplus.k8s.KubeNetworkPolicy;

  public constructor(scope: Construct, id: string, props: WorkloadNetworkPolicyProps) {
    super(scope, id);
    const name = resourceName(props.name);
    if (Object.keys(props.podSelector).length === 0) {
      throw new Error(`NetworkPolicy ${name}: expected the labels of the workload's pods, found an empty selector (DefaultDenyPolicy covers the whole namespace)`);
    }
    const selectors = [['podSelector', props.podSelector] as const,
      ...[...props.ingress, ...props.egress].flatMap((r) => (r.peer.kind === 'pods' ? [[`peer ${r.peerKey}`, r.peer.podLabels] as const] : []))];
    for (const [where, labels] of selectors) {
      if (LABEL_SLOT in labels) throw new Error(`NetworkPolicy ${name}: ${where} selects on ${LABEL_SLOT}; select on stable labels, never the blue-green slot`);
    }
    this.policy = new kplus.k8s.KubeNetworkPolicy(this, 'Resource', {
      metadata: { name, namespace: props.namespace, labels: recommendedLabels({ name, component: 'network-policy' }) },
      spec: {
        podSelector: { matchLabels: { ...props.podSelector } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: props.ingress.map((r) => ({ from: peers(r.peer), ports: ports(r) })),
        egress: props.egress.map((r) => ({ to: peers(r.peer), ports: ports(r) })),
      },
    });
  }
}

function peers(peer: PolicyPeer): kplus.k8s.NetworkPolicyPeer[] {
  if (peer.kind === 'ipBlocks') {
    return peer.blocks.map((b) => ({ ipBlock: { cidr: b.cidr, ...(b.except ? { except: [...b.except] } : {}) } }));
  }
  const podSelector = Object.keys(peer.podLabels).length > 0 ? { podSelector: { matchLabels: { ...peer.podLabels } } } : {};
  if (peer.namespace === undefined) return [{ podSelector: { matchLabels: { ...peer.podLabels } } }];
  return [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: peer.namespace } }, ...podSelector }];
}

function ports(rule: PolicyRule): kplus.k8s.NetworkPolicyPort[] {
  return rule.ports.map((p) => ({ protocol: p.protocol, port: kplus.k8s.IntOrString.fromNumber(p.port) }));
}
