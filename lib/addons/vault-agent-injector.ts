import { AddonChart, AddonContract, KINDS } from './contract';

/** hashicorp/vault-helm 0.30.0, injector only (vault-k8s 1.6.2, agent image hashicorp/vault 1.19.0). */
export const VAULT_CHART: AddonChart = { repoURL: 'https://helm.releases.hashicorp.com', name: 'vault', version: '0.30.0' };

/**
 * The Vault agent image of the pinned chart: `injector.agentImage` (hashicorp/vault-helm@v0.30.0
 * values.yaml: `hashicorp/vault`, `1.19.0`), written with its registry: the short name
 * resolves to Docker Hub, but an admission policy compares the string the mutated pod
 * carries. The default of `secrets.agent.image`, which Pronto's pods name themselves (the
 * `vault.hashicorp.com/agent-image` annotation) and Pronto's injector is given.
 */
export const VAULT_AGENT_IMAGE = { repository: 'docker.io/hashicorp/vault', tag: '1.19.0' } as const;

/**
 * The containers the injector adds to a pod (hashicorp/vault-k8s@v1.6.2
 * agent-inject/agent/container_init_sidecar.go, container_sidecar.go). Both run the image the
 * pod's `vault.hashicorp.com/agent-image` annotation names, else the injector's
 * AGENT_INJECT_VAULT_IMAGE (agent-inject/agent/annotations.go): admission checks the result.
 */
export const VAULT_AGENT_CONTAINERS = { init: 'vault-agent-init', sidecar: 'vault-agent' } as const;

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
      'hashicorp/vault-helm@v0.30.0: templates/injector-deployment.yaml (AGENT_INJECT_VAULT_IMAGE "<injector.agentImage.repository>:<injector.agentImage.tag>"); hashicorp/vault-k8s@v1.6.2: agent-inject/agent/annotations.go (agent-image annotation, else that image), container_init_sidecar.go and container_sidecar.go (vault-agent-init, vault-agent)',
    ],
  };
}

export interface VaultInjectorValuesProps {
  /** The agent image (`repository:tag[@sha256:…]`) of pods that name none; Pronto's own name theirs. */
  readonly agentImage: string;
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
    injector: {
      enabled: true, authPath: props.authPath,
      // The template joins them with ":" (AGENT_INJECT_VAULT_IMAGE), so a digest rides on the tag.
      agentImage: splitReference(props.agentImage),
      ...(props.caBundle ? { extraEnvironmentVars: { [INJECTOR_CA_ENV]: props.caBundle } } : {}),
    },
    global: { externalVaultAddr: props.address },
  };
}

/** `{ repository, tag }` of `repository:tag[@digest]`, the digest kept on the tag. */
function splitReference(reference: string): { repository: string; tag: string } {
  const at = reference.split('@')[0].lastIndexOf(':');
  if (at < 0 || reference.slice(0, at).includes('@')) throw new Error(`vault agent image: expected repository:tag[@digest], found "${reference}"`);
  return { repository: reference.slice(0, at), tag: reference.slice(at + 1) };
}
