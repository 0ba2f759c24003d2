import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { recommendedLabels, resourceName } from '../core';

export interface DefaultDenyPolicyProps {
  /** Namespace whose every pod it isolates. */
  readonly namespace: string;
  /** Object name. @default 'default-deny' */
  readonly name?: string;
}

/**
 * Selects every pod of a namespace for ingress and egress and allows nothing: traffic
 * flows only where another policy allows it (NetworkPolicies add up).
 */
export class DefaultDenyPolicy extends Construct {
  public readonly policy: kplus.k8s.KubeNetworkPolicy;

  public constructor(scope: Construct, id: string, props: DefaultDenyPolicyProps) {
    super(scope, id);
    const name = resourceName(props.name ?? 'default-deny');
    this.policy = new kplus.k8s.KubeNetworkPolicy(this, 'Resource', {
      metadata: { name, namespace: props.namespace, labels: recommendedLabels({ name, component: 'network-policy' }) },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] },
    });
  }
}
