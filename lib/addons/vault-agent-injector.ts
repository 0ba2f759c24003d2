import { AddonChart, AddonContract, KINDS } from './contract';

/** hashicorp/vault-helm 0.30.0, injector only (vault-k8s 1.6.2, agent image hashicorp/vault 1.19.0). */
export const VAULT_CHART: AddonChart = { repoURL: 'https://helm.releases.hashicorp.com', name: 'vault', version: '0.30.0' };

/** The release: the chart's base name is the release when it contains "vault" (templates/_helpers.tpl). */
export const VAULT_INJECTOR_RELEASE = 'vault-agent-injector';

/** Injector env that gives every injected agent the CA it verifies Vault with (vault-k8s subcommand/injector/flags.go). */
export const INJECTOR_CA_ENV = 'AGENT_INJECT_VAULT_CACERT_BYTES';

/** What the chart renders with {@link vaultInjectorValues} in `namespace`. */
export function vaultInjectorContract(namespace: string, chart: AddonChart = VAULT_CHART): AddonContract {
  return {
    chart, release: VAULT_INJECTOR_RELEASE, namespace,
    services: {
      webhook: { name: `${VAULT_INJECTOR_RELEASE}-agent-injector-svc`, port: 443, targetPort: 8080, protocol: 'https',
        podLabels: { 'app.kubernetes.io/name': VAULT_INJECTOR_RELEASE, component: 'webhook' } },
    },
    writes: {
      namespaces: [namespace],
      // The webhook, its RBAC (patches its own webhook's caBundle), and the auth-delegator binding of the server ServiceAccount.
      clusterScoped: [KINDS.ClusterRole, KINDS.ClusterRoleBinding, KINDS.MutatingWebhookConfiguration],
      namespaced: [KINDS.ServiceAccount, KINDS.Service, KINDS.Deployment],
    },
    sources: [
      'hashicorp/vault-helm@v0.30.0: values.yaml (injector.extraEnvironmentVars, injector.agentImage hashicorp/vault:1.19.0), templates/_helpers.tpl (external mode with global.externalVaultAddr; server ServiceAccount and auth-delegator binding while global.enabled)',
      'hashicorp/vault-helm@v0.30.0: templates/injector-deployment.yaml (AGENT_INJECT_VAULT_ADDR from global.externalVaultAddr), injector-service.yaml, injector-mutating-webhook.yaml (caBundle "" patched by the injector), injector-clusterrole*.yaml',
      'hashicorp/vault-k8s@v1.6.2: agent-inject/handler.go (CACertBytes on every agent), agent-inject/agent/container_env.go (VAULT_CACERT_BYTES), agent-inject/agent/annotations.go (ca-cert, tls-secret mounted at /vault/tls)',
    ],
  };
}

export interface VaultInjectorValuesProps {
  /** The Vault address every agent is given. */
  readonly address: string;
  /** Mount path of the Kubernetes auth method. */
  readonly authPath: string;
  /** The CA bundle (PEM, base64) every agent verifies Vault with. @default - the agent image's system roots */
  readonly caBundle?: string;
}

/** Injector only: Vault itself runs elsewhere (external mode). */
export function vaultInjectorValues(props: VaultInjectorValuesProps): Record<string, unknown> {
  return {
    server: { enabled: false },
    injector: { enabled: true, authPath: props.authPath, ...(props.caBundle ? { extraEnvironmentVars: { [INJECTOR_CA_ENV]: props.caBundle } } : {}) },
    global: { externalVaultAddr: props.address },
  };
}
