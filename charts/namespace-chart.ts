import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../config/load';
import { InjectedImage, imageRepository } from '../lib/core';
import { AdmissionPolicies, ProntoNamespace } from '../lib/namespace';

/**
 * The namespace and its guardrails (and, when on, its admission policies); applied before
 * everything that lives in it. Synth writes it apart, in `guardrails/` with a kustomization
 * of its own: with gitops, its own Argo CD Application in its own project syncs it, so that
 * a change to the application folder cannot relabel the namespace or lift its quota.
 */
export class NamespaceChart extends Chart {
  public readonly prontoNamespace: ProntoNamespace;
  /** The namespace's admission guardrails, when `namespace.admissionPolicies` is on. */
  public readonly admissionPolicies?: AdmissionPolicies;

  /**
   * @param extraLabels labels the enabled capabilities need on the namespace (an Istio data plane)
   * @param injectedImages images admission webhooks add to the namespace's pods: with an allow-list, their repositories are admitted too
   */
  public constructor(scope: Construct, id: string, config: EnvironmentConfig, extraLabels: Readonly<Record<string, string>> = {},
    injectedImages: readonly InjectedImage[] = []) {
    super(scope, id, { disableResourceNameHashes: true });
    const ns = config.namespace;
    this.prontoNamespace = new ProntoNamespace(this, 'Namespace', {
      name: ns.name,
      podSecurityVersion: ns.podSecurityVersion,
      tier: config.tier,
      quota: ns.quota,
      limitRange: ns.limitRange,
      extraLabels,
    });
    if (ns.admissionPolicies) {
      const { allowedRepositories, requireDigest } = config.images;
      this.admissionPolicies = new AdmissionPolicies(this, 'AdmissionPolicies', {
        namespace: ns.name, enforcement: ns.admissionPolicies.enforcement, requireDigest,
        // Each injected image's own repository, exactly: what the add-on contracts and the config pin, not a second list.
        ...(allowedRepositories.length > 0 ? { allowedRepositories: [...new Set([...allowedRepositories, ...injectedImages.map((i) => imageRepository(i.reference))])] } : {}),
      });
    }
  }
}
