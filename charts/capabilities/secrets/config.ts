/**
 * The `secrets` section of the environment file: where Vault runs, how pods authenticate
 * to it, where the KV entries live, and what the injected Vault agent may use.
 * Pure: zod and the pure lib/core files only (config/ imports it).
 */
import { z } from 'zod';
import { labelMapSchema } from '../schemas';
import { isDnsLabel } from '../../../lib/core/naming';
import { cpuMillis, isByteQuantity, isCpuQuantity } from '../../../lib/core/quantity';
import { ComputeField, requestExceedsLimit } from '../../../lib/core/resources';

/** What the agent (its init container and its sidecar, each) requests and may use, unless the section says otherwise. */
export const DEFAULT_AGENT_RESOURCES = {
  requests: { cpu: '25m', memory: '64Mi', ephemeralStorage: '64Mi' },
  limits: { cpu: '100m', memory: '128Mi', ephemeralStorage: '128Mi' },
} as const;

const cpu = z.union([z.string(), z.number()], { error: 'expected a CPU quantity such as 25m' })
  .transform((v) => String(v))
  .refine((v) => isCpuQuantity(v) && cpuMillis(v) > 0, { error: 'expected a CPU quantity above zero, such as 25m' });
const bytes = (example: string) => z.string({ error: `expected a quantity such as ${example}` })
  .regex(/^[1-9]\d*(Mi|Gi)$/, { error: `expected a quantity in whole Mi or Gi, such as ${example}` })
  .refine(isByteQuantity);

const amounts = (d: { cpu: string; memory: string; ephemeralStorage: string }) => z.strictObject({
  cpu: cpu.default(d.cpu),
  memory: bytes('64Mi').default(d.memory),
  ephemeralStorage: bytes('64Mi').default(d.ephemeralStorage),
});

const agentResources = z.strictObject({
  requests: amounts(DEFAULT_AGENT_RESOURCES.requests).prefault({}),
  limits: amounts(DEFAULT_AGENT_RESOURCES.limits).prefault({}),
}).superRefine((r, ctx) => {
  for (const field of ['cpu', 'memory', 'ephemeralStorage'] as ComputeField[]) {
    if (requestExceedsLimit(field, r.requests[field], r.limits[field])) {
      ctx.addIssue({ code: 'custom', path: ['limits', field], input: r.limits[field], message: `expected a limit ≥ the request (${r.requests[field]})` });
    }
  }
});

const dnsLabel = (what: string) => z.string().refine(isDnsLabel, { error: `expected ${what}: a DNS label (lower-case letters, digits and "-")` });

const podLabels = labelMapSchema.refine((labels) => Object.keys(labels).length > 0, { error: 'expected at least one label that selects the Vault server pods' });

/** A KV path segment list: `pronto` or `pronto/prod`. */
const KV_PATH = /^[a-z0-9][-a-z0-9]*(\/[a-z0-9][-a-z0-9]*)*$/;
/** UIDs and GIDs the gate accepts (run-as-non-root). */
const MIN_ID = 10000;

export const secretsSectionSchema = z.strictObject({
  address: z.string().regex(/^https?:\/\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?$/, { error: 'expected a URL such as https://vault.vault.svc:8200, without a path' })
    .default('https://vault.vault.svc:8200')
    .describe('Vault address the agent talks to (vault.hashicorp.com/service)'),
  server: z.strictObject({
    namespace: dnsLabel('the namespace of the Vault server').default('vault')
      .describe('Namespace of the Vault server (run by another team; never created or guarded)'),
    podLabels: podLabels.default({ 'app.kubernetes.io/name': 'vault', component: 'server' })
      .describe('Labels of the Vault server pods (the official Helm chart\'s, by default)'),
    port: z.int().min(1).max(65535).default(8200).describe('Port the Vault server pods listen on (the flow to them)'),
  }).prefault({}),
  kubernetesAuth: z.strictObject({
    path: z.string().regex(/^auth\/[a-z0-9][-a-z0-9/]*$/, { error: 'expected the auth mount path, such as auth/kubernetes' })
      .default('auth/kubernetes').describe('Mount path of the Kubernetes auth method in Vault (one per cluster)'),
    audience: z.string().regex(/^[a-z0-9][-a-z0-9.:/]*$/).default('vault')
      .describe('Audience of the projected ServiceAccount token; the Vault roles accept only this audience'),
    tokenExpirationSeconds: z.int().min(600).max(86400).default(3600)
      .describe('Lifetime of the projected ServiceAccount token (Kubernetes refreshes it at 80 %)'),
    tokenTtlSeconds: z.int().min(60).default(3600).describe('TTL of the Vault token a role issues'),
    tokenMaxTtlSeconds: z.int().min(60).default(86400).describe('Maximum TTL of the Vault token a role issues (the agent logs in again)'),
  }).prefault({}).refine((a) => a.tokenMaxTtlSeconds >= a.tokenTtlSeconds, {
    error: 'expected tokenMaxTtlSeconds ≥ tokenTtlSeconds', path: ['tokenMaxTtlSeconds'],
  }),
  kv: z.strictObject({
    mount: z.string().regex(KV_PATH, { error: 'expected a KV version 2 mount such as secret' }).default('secret')
      .describe('Mount of the KV version 2 secrets engine'),
    prefix: z.string().regex(KV_PATH, { error: 'expected a path such as pronto or pronto/prod (no leading or trailing "/")' }).default('pronto')
      .describe('Path below the mount holding this environment\'s <service>/<name> entries; also names the Vault roles and policies'),
  }).prefault({}),
  agent: z.strictObject({
    runAsUser: z.int().min(MIN_ID, { error: `expected a UID ≥ ${MIN_ID} (the agent runs under Pod Security restricted)` }).default(10100)
      .describe('UID of the injected agent containers'),
    runAsGroup: z.int().min(MIN_ID, { error: `expected a GID ≥ ${MIN_ID}` }).default(10001)
      .describe('GID of the injected agent containers; the app reads the rendered files (mode 0440) through this group'),
    resources: agentResources.prefault({}).describe('Requests and limits of each agent container (init and sidecar); counted by the capacity guard'),
  }).prefault({}),
}).superRefine((s, ctx) => {
  // An in-cluster address names the server's namespace; a mismatch would send the agent elsewhere than the flow allows.
  const host = /^https?:\/\/([^:/]+)/.exec(s.address)?.[1] ?? '';
  const inCluster = /^[^.]+\.([^.]+)\.svc(\.|$)/.exec(host);
  if (inCluster && inCluster[1] !== s.server.namespace) {
    ctx.addIssue({ code: 'custom', path: ['address'], input: s.address,
      message: `expected an in-cluster address in the Vault server's namespace (server.namespace: ${s.server.namespace})` });
  }
});

export type SecretsSection = z.output<typeof secretsSectionSchema>;
