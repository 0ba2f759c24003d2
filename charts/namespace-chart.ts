import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../config/load';
import { ProntoNamespace } from '../lib/namespace';

/** The namespace and its guardrails; applied before everything that lives in it. */
export class NamespaceChart extends Chart {
  public readonly prontoNamespace: ProntoNamespace;

  public constructor(scope: Construct, id: string, config: EnvironmentConfig) {
    super(scope, id, { disableResourceNameHashes: true });
    const ns = config.namespace;
    this.prontoNamespace = new ProntoNamespace(this, 'Namespace', {
      name: ns.name,
      podSecurityVersion: ns.podSecurityVersion,
      tier: config.tier,
      quota: ns.quota,
      limitRange: ns.limitRange,
    });
  }
}
