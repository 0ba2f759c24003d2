/**
 * The `secrets` section of the environment file: where Vault runs, how pods authenticate
 * to it, where the KV entries live, and what the injected Vault agent may use.
 * Pure: zod and the pure lib/core files only (config/ imports it).
 */
import { z } from 'zod';
import { computeResourcesSchema, labelMapSchema, upstreamImageSchema } from './schemas';
import { VAULT_AGENT_IMAGE } from '../../lib/addons/vault-agent-injector';
import { isDnsLabel, isDnsSubdomain } from '../../lib/core/naming';

/** What the agent (its init container and its sidecar, each) requests and may use, unless the section says otherwise. */
export const DEFAULT_AGENT_RESOURCES = {
  requests: { cpu: '25m', memory: '64Mi', ephemeralStorage: '64Mi' },
  limits: { cpu: '100m', memory: '128Mi', ephemeralStorage: '128Mi' },
} as const;

const agentResources = computeResourcesSchema(DEFAULT_AGENT_RESOURCES);

const dnsLabel = (what: string) => z.string().refine(isDnsLabel, { error: `expected ${what}: a DNS label (lower-case letters, digits and "-")` });

const podLabels = labelMapSchema.refine((labels) => Object.keys(labels).length > 0, { error: 'expected at least one label that selects the Vault server pods' });

/** A KV path segment list: `pronto` or `pronto/prod`. */
const KV_PATH = /^[a-z0-9][-a-z0-9]*(\/[a-z0-9][-a-z0-9]*)*$/;

export const secretsSectionSchema = z.strictObject({
  address: z.string().regex(/^https?:\/\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?$/, { error: 'expected a URL such as https://vault.vault.svc:8200, without a path' })
    .default('https://vault.vault.svc:8200')
    .describe('Vault address the agent talks to (vault.hashicorp.com/service): a Service of server.namespace (<name>.<namespace>[.svc[.cluster.local]]) on server.port; ' +
      'an external Vault is not supported yet. Over HTTPS the agent must trust the server\'s certificate: see tls'),
  server: z.strictObject({
    namespace: dnsLabel('the namespace of the Vault server').default('vault')
      .describe('Namespace of the Vault server (run by another team; never created or guarded)'),
    podLabels: podLabels.default({ 'app.kubernetes.io/name': 'vault', component: 'server' })
      .describe('Labels of the Vault server pods (the official Helm chart\'s, by default)'),
    port: z.int().min(1).max(65535).default(8200).describe('Port the Vault server pods listen on (the flow to them)'),
  }).prefault({}).describe('The Vault server pods, which the agents\' egress policy allows'),
  kubernetesAuth: z.strictObject({
    path: z.string().regex(/^auth\/[a-z0-9][-a-z0-9/]*$/, { error: 'expected the auth mount path, such as auth/kubernetes-prod' }).optional()
      .describe('Mount path of the Kubernetes auth method in Vault, configured for this environment\'s cluster only; absent: auth/kubernetes-<environment>. ' +
        'No two environments may share it: a mount trusting two clusters lets a ServiceAccount of one log in to the other\'s roles (same namespace and name)'),
    audience: z.string().regex(/^[a-z0-9][-a-z0-9.:/]*$/, { error: 'expected a token audience such as vault-prod' }).optional()
      .describe('Audience of the projected ServiceAccount token; the Vault roles accept only this audience. Absent: vault-<environment>. ' +
        'No two environments may share it, so a token minted for one is refused by every other\'s roles'),
    tokenExpirationSeconds: z.int().min(600).max(86400).default(3600)
      .describe('Lifetime of the projected ServiceAccount token (Kubernetes refreshes it at 80 %)'),
    tokenTtlSeconds: z.int().min(60).default(3600).describe('TTL of the Vault token a role issues'),
    tokenMaxTtlSeconds: z.int().min(60).default(86400).describe('Maximum TTL of the Vault token a role issues (the agent logs in again)'),
  }).prefault({}).refine((a) => a.tokenMaxTtlSeconds >= a.tokenTtlSeconds, {
    error: 'expected tokenMaxTtlSeconds ≥ tokenTtlSeconds', path: ['tokenMaxTtlSeconds'],
  }).describe('How pods log in to Vault: the Kubernetes auth method, with a projected ServiceAccount token per pod'),
  kv: z.strictObject({
    mount: z.string().regex(KV_PATH, { error: 'expected a KV version 2 mount such as secret' }).default('secret')
      .describe('Mount of the KV version 2 secrets engine'),
    prefix: z.string().regex(KV_PATH, { error: 'expected a path such as pronto or pronto/prod (no leading or trailing "/")' }).default('pronto')
      .describe('Path below the mount holding this environment\'s <service>/<name> entries; also names the Vault roles and policies'),
  }).prefault({}).describe('Where the KV entries live: <mount>/data/<prefix>/<service>/<name>'),
  // The agent runs under a UID of its own per workload and the pod's GID (lib/core agentRunAsIds): no ids to set.
  agent: z.strictObject({
    resources: agentResources.prefault({}).describe('Requests and limits of each agent container (init and sidecar); counted by the capacity guard'),
    image: upstreamImageSchema.default({ ...VAULT_AGENT_IMAGE })
      .describe(`Image of the injected agent containers (vault-agent-init, vault-agent); default ${VAULT_AGENT_IMAGE.repository}:${VAULT_AGENT_IMAGE.tag}, the pinned injector chart's. `
        + 'Every pod that reads secrets names it (vault.hashicorp.com/agent-image), so whichever injector serves the namespace injects exactly this; '
        + 'the image policy and the admission policies admit its repository without it being listed in images.allowedRepositories. With images.requireDigest, give its digest'),
  }).prefault({}).describe('The Vault agent containers the injector adds to every pod that reads a secret (vault-agent-init and vault-agent)'),
  // Over HTTPS the agent verifies Vault's certificate: by default against the CA the injector
  // is configured with (its AGENT_INJECT_VAULT_CACERT_BYTES / -vault-cacert-bytes, or the
  // system roots of the agent image). A Vault whose certificate another CA signed needs these.
  tls: z.strictObject({
    caCertPath: z.string().regex(/^\/[-_.a-zA-Z0-9/]*[^/]$/, { error: 'expected an absolute file path in the agent containers, such as /vault/tls/ca.crt' }).optional()
      .describe('CA certificate the agent trusts for the Vault address, a path in the agent containers (vault.hashicorp.com/ca-cert), e.g. /vault/tls/ca.crt from tlsSecret'),
    tlsSecret: z.string().refine(isDnsSubdomain, { error: 'expected the name of a Secret in the namespace (a DNS subdomain)' }).optional()
      .describe('Secret (managed outside Git, in the namespace) the injector mounts into the agent containers at /vault/tls (vault.hashicorp.com/tls-secret)'),
    injectorCaBundle: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, { error: 'expected the CA certificate (PEM) base64-encoded on one line: base64 -w0 ca.crt' }).optional()
      .describe('The CA certificate (PEM, base64-encoded: public, not a secret) the Vault injector Pronto installs hands every agent (AGENT_INJECT_VAULT_CACERT_BYTES); needs gitops.addons.vaultAgentInjector'),
  }).optional().describe('How the agent trusts Vault\'s HTTPS certificate: caCertPath (with tlsSecret) per pod, or injectorCaBundle for the injector Pronto installs. ' +
    'Absent with an https address: tlsSecret vault-ca, caCertPath /vault/tls/ca.crt'),
}).superRefine((s, ctx) => {
  // The flow (and so the NetworkPolicy egress) goes to the server.namespace pods on server.port: the address must name exactly those.
  const problem = addressProblem(s.address, s.server.namespace, s.server.port);
  if (problem) ctx.addIssue({ code: 'custom', path: ['address'], input: s.address, message: problem });
});

/** The Kubernetes auth method of one environment: its mount path and the token audience its roles accept. */
export interface KubernetesAuthMount {
  readonly path: string;
  readonly audience: string;
}

/**
 * The auth mount and audience of `environment` (the file name without `.yaml`): the
 * section's, else `auth/kubernetes-<environment>` and `vault-<environment>`. Each
 * environment gets its own by default, so that no role of one accepts a token of another
 * (environments run the same namespace and ServiceAccount names, and a token's issuer is
 * only as distinct as the mount's configuration).
 */
export function kubernetesAuthMount(section: Pick<SecretsSection, 'kubernetesAuth'>, environment: string): KubernetesAuthMount {
  return {
    path: section.kubernetesAuth.path ?? `auth/kubernetes-${environment}`,
    audience: section.kubernetesAuth.audience ?? `vault-${environment}`,
  };
}

/**
 * Every two environments that share an auth mount path or a token audience, as problems
 * naming both files and the field (the first environment's line). `environments` are the
 * loaded ones whose secrets section is on; the check is across files, so main.ts runs it
 * once every environment is loaded.
 */
export function sharedKubernetesAuthProblems(environments: ReadonlyArray<{
  readonly name: string; readonly file: string; readonly secrets: Pick<SecretsSection, 'kubernetesAuth'>;
  lineOf(at: readonly PropertyKey[]): number;
}>): string[] {
  const problems: string[] = [];
  for (const field of ['path', 'audience'] as const) {
    const seen = new Map<string, (typeof environments)[number]>();
    for (const env of environments) {
      const value = kubernetesAuthMount(env.secrets, env.name)[field];
      const other = seen.get(value);
      if (other === undefined) {
        seen.set(value, env);
        continue;
      }
      problems.push(`${env.file}:${env.lineOf(['secrets', 'kubernetesAuth', field])}: secrets.kubernetesAuth.${field}: expected ` +
        `${field === 'path' ? 'an auth mount' : 'a token audience'} of this environment's own (absent: ${field === 'path' ? `auth/kubernetes-${env.name}` : `vault-${env.name}`}), ` +
        `found "${value}", which ${other.file} uses too: ${field === 'path'
          ? 'a mount that trusts both clusters lets a ServiceAccount of one log in to the other\'s roles'
          : 'a token minted for one environment would be accepted by the other\'s roles'}`);
    }
  }
  return problems;
}

/**
 * Why `address` does not reach the Vault server pods the flow allows, or undefined: its host
 * must be a Service of `namespace` (`<name>.<namespace>`, `<name>.<namespace>.svc` or
 * `<name>.<namespace>.svc.cluster.local`) and its port (443 or 80 when absent) must be `port`.
 * An external Vault would need its address blocks in the egress policies: not supported yet.
 */
export function addressProblem(address: string, namespace: string, port: number): string | undefined {
  const url = /^(https?):\/\/([^:/]+)(?::(\d+))?$/.exec(address);
  if (!url) return 'expected a URL such as https://vault.vault.svc:8200, without a path';
  const [, scheme, host, given] = url;
  const labels = host.split('.');
  const suffix = labels.slice(2).join('.');
  const inNamespace = labels.length >= 2 && labels[1] === namespace && isDnsLabel(labels[0]) && ['', 'svc', 'svc.cluster.local'].includes(suffix);
  if (!inNamespace) {
    return `expected a Service of the Vault server's namespace (server.namespace: ${namespace}): <name>.${namespace}, <name>.${namespace}.svc or ` +
      `<name>.${namespace}.svc.cluster.local; an external Vault (or one elsewhere in the cluster) is not supported yet: the agent's egress would need its address blocks`;
  }
  const actual = given !== undefined ? Number(given) : scheme === 'https' ? 443 : 80;
  if (actual !== port) {
    return `expected the port the Vault server pods listen on (server.port: ${port}), found ${actual}${given === undefined ? ` (the ${scheme} default)` : ''}: ` +
      'the egress to Vault allows only server.port (a Service whose port differs from its target port is not supported yet)';
  }
  return undefined;
}

export type SecretsSection = z.output<typeof secretsSectionSchema>;

/**
 * How agents trust an https Vault when the section says nothing: the CA file `ca.crt` of the
 * Secret `vault-ca` in the namespace, mounted at /vault/tls (kept there by the platform team,
 * for example by a trust-manager Bundle). A pod whose Secret is missing stays Pending with a
 * mount error, never in Init with an unverifiable certificate.
 */
export const DEFAULT_VAULT_TLS = { tlsSecret: 'vault-ca', caCertPath: '/vault/tls/ca.crt' } as const;

/** The TLS settings in force: the section's, else {@link DEFAULT_VAULT_TLS} for an https address. */
export function vaultTls(section: SecretsSection): NonNullable<SecretsSection['tls']> | undefined {
  return section.tls ?? (section.address.startsWith('https:') ? { ...DEFAULT_VAULT_TLS } : undefined);
}
