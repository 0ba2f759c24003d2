/**
 * The `gitops` section of the environment file: the GitOps repository `npm run publish`
 * writes `dist/<env>/` into, the Argo CD that syncs it, the sync policy, and the platform
 * add-ons the root application installs (Helm charts, pinned).
 * Pure: zod and the pure lib/core files only (config/ imports it).
 */
import { z } from 'zod';
import { isDnsLabel } from '../../lib/core/naming';
import { JAEGER_CHART } from '../../lib/addons/jaeger';
import { KUBE_PROMETHEUS_STACK_CHART } from '../../lib/addons/kube-prometheus-stack';
import { LOKI_CHART } from '../../lib/addons/loki';
import { PUSHGATEWAY_CHART } from '../../lib/addons/pushgateway';
import { VAULT_CHART } from '../../lib/addons/vault-agent-injector';
import { OPENTELEMETRY_OPERATOR_APP_VERSION, OPENTELEMETRY_OPERATOR_CHART } from '../../lib/addons/opentelemetry-operator';
import { ISTIO_CHART } from '../../lib/addons/istio';

const dnsLabel = (what: string) => z.string({ error: `expected ${what}: a DNS label` })
  .refine(isDnsLabel, { error: `expected ${what}: a DNS label (lower-case letters, digits and "-")` });

/** A folder of the GitOps repository: relative, `/`-separated, no `.` or `..` segments. */
const REPO_PATH = /^[A-Za-z0-9_][-A-Za-z0-9_.]*(\/[A-Za-z0-9_][-A-Za-z0-9_.]*)*$/;
const REPO_URL = 'expected the URL of the GitOps repository, such as https://git.example.com/platform/gitops.git';
const REPO_FOLDER = 'expected the folder of the GitOps repository that holds this environment, such as pronto/prod';

/** An Argo CD duration: a number and a unit (`10s`, `3m`, `1h`). */
const DURATION = /^\d+(s|m|h)$/;

/** A Helm chart of an add-on: repository, name, and a pinned version (never a range). */
export const helmChartSchema = z.strictObject({
  repoURL: z.url({ protocol: /^(https|oci)$/, error: 'expected the https:// (or oci://) URL of the Helm repository' })
    .describe('Helm repository of the chart'),
  name: z.string().regex(/^[a-z0-9][-a-z0-9]*$/, { error: 'expected a chart name such as kube-prometheus-stack' }).describe('Chart name'),
  version: z.string().regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, { error: 'expected an exact chart version such as 77.0.0 (a range or "latest" would move under a running cluster)' })
    .describe('Chart version, pinned'),
});

/**
 * The add-ons, their charts at the versions this repository was tested against, and the
 * namespace each goes into unless the add-on's own settings (or the capability section it
 * serves) name another. Bump a version here, or per environment with `chart.version`.
 */
export const ADDONS = {
  kubePrometheusStack: {
    description: 'kube-prometheus-stack: the Prometheus Operator, Prometheus and Grafana (dashboard and datasource sidecars); its kube-system exporters off',
    chart: KUBE_PROMETHEUS_STACK_CHART,
    namespace: 'monitoring',
  },
  pushgateway: {
    description: 'the Prometheus Pushgateway the restore test pushes its results to (scraped through a ServiceMonitor)',
    chart: PUSHGATEWAY_CHART,
    namespace: 'monitoring',
  },
  loki: {
    description: 'Loki 3 (single binary, multi-tenant), structured metadata allowed, retention by the compactor',
    chart: LOKI_CHART,
    namespace: 'loki',
  },
  jaeger: {
    description: 'Jaeger v2 (all in one, in memory)',
    chart: JAEGER_CHART,
    namespace: 'tracing',
  },
  vaultAgentInjector: {
    description: 'the Vault Agent Injector (hashicorp/vault chart, injector only; Vault itself runs elsewhere)',
    chart: VAULT_CHART,
    namespace: 'vault',
  },
  opentelemetryOperator: {
    description: 'the OpenTelemetry Operator (installed only when tracing.instrumentation is on); its webhooks\' certificate comes from cert-manager, which the cluster must run',
    chart: OPENTELEMETRY_OPERATOR_CHART,
    namespace: 'opentelemetry-operator-system',
  },
  istio: {
    description: 'Istio: base, istiod and the CNI plugin, plus ztunnel for ambient (installed only when circuitBreakers.mesh is on)',
    chart: ISTIO_CHART,
    namespace: 'istio-system',
  },
} as const;
export type AddonId = keyof typeof ADDONS;

/** `a.b.c` of numeric versions compared (pre-release tags ignored): negative when `a` is older. */
function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split('-')[0].split('.').map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

/** The value at `path` in nested mappings, or undefined. */
function valueAt(values: Readonly<Record<string, unknown>>, path: readonly string[]): unknown {
  let at: unknown = values;
  for (const key of path) at = typeof at === 'object' && at !== null && !Array.isArray(at) ? (at as Record<string, unknown>)[key] : undefined;
  return at;
}

interface AddonCheckInput { readonly chart: { readonly version: string }; readonly values: Readonly<Record<string, unknown>> }

const OPERATOR_CERT_MANAGER = ['admissionWebhooks', 'certManager', 'enabled'];

/** Values of kube-prometheus-stack that would put Grafana's admin password in the environment file, so in Git. */
const GRAFANA_PLAIN_PASSWORDS = [['grafana', 'adminPassword'], ['grafana', 'env', 'GF_SECURITY_ADMIN_PASSWORD']] as const;
const GRAFANA_NAMESPACED_RBAC = ['grafana', 'rbac', 'namespaced'];

/** What an add-on's settings must also satisfy, by add-on id. */
/** Values of the vault chart that would give the injector another agent image than secrets.agent.image. */
const VAULT_AGENT_IMAGE_VALUES = ['injector', 'agentImage'];

const ADDON_CHECKS: Partial<Record<AddonId, (s: AddonCheckInput, ctx: z.RefinementCtx) => void>> = {
  vaultAgentInjector: (s, ctx) => {
    const value = valueAt(s.values, VAULT_AGENT_IMAGE_VALUES);
    if (value !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['values', ...VAULT_AGENT_IMAGE_VALUES], input: value,
        message: 'expected no value: the agent image is secrets.agent.image (every pod that reads secrets names it, the injector is given it, and the image policy and the admission policies admit it from there)' });
    }
  },
  kubePrometheusStack: (s, ctx) => {
    for (const path of GRAFANA_PLAIN_PASSWORDS) {
      const value = valueAt(s.values, path);
      // Never echoed: the message must not repeat a password.
      if (value !== undefined && value !== null) {
        ctx.addIssue({ code: 'custom', path: ['values', ...path],
          message: 'expected no value: Grafana\'s admin password comes from Vault (the entry grafana/admin below secrets.kv.prefix, field password), and a password here is a password in Git; remove it and put it in Vault (docs/capabilities/secrets.md, "Grafana\'s admin login")' });
      }
    }
    // The grafana chart's ClusterRole would let its sidecars read every Secret and ConfigMap of the cluster.
    if (valueAt(s.values, GRAFANA_NAMESPACED_RBAC) === false) {
      ctx.addIssue({ code: 'custom', path: ['values', ...GRAFANA_NAMESPACED_RBAC], input: false,
        message: 'expected true or absent (with false the grafana chart renders a ClusterRole that reads every Secret and ConfigMap of the cluster; the sidecars read ConfigMaps through Roles in the namespaces they search)' });
    }
  },
  opentelemetryOperator: (s, ctx) => {
    const pinned = OPENTELEMETRY_OPERATOR_CHART.version;
    // The Instrumentation Pronto renders is validated against this operator release's CRD (cdk8s.yaml): an older
    // operator's API server would prune what its CRD lacks (initContainerSecurityContext before v0.150.0).
    if (compareVersions(s.chart.version, pinned) < 0) {
      ctx.addIssue({ code: 'custom', path: ['chart', 'version'], input: s.chart.version,
        message: `expected ${pinned} or later (it installs operator v${OPENTELEMETRY_OPERATOR_APP_VERSION}, whose Instrumentation CRD Pronto's Instrumentation is validated against; an older operator drops the fields its CRD lacks, such as the injected init container's security context)` });
    }
    // The chart's other certificate (genCA at render time) changes at every Argo CD render (helm template, no lookup).
    if (valueAt(s.values, OPERATOR_CERT_MANAGER) === false) {
      ctx.addIssue({ code: 'custom', path: ['values', ...OPERATOR_CERT_MANAGER], input: false,
        message: 'expected true or absent (cert-manager issues the webhooks\' certificate, a prerequisite of this add-on: without it the chart generates a new CA at every Argo CD render, as helm template cannot look up the previous one, and recreates the certificate\'s Secret on every sync, so the webhooks fail until the operator reloads it; a cluster without cert-manager sets opentelemetryOperator: false and installs the operator another way)' });
    }
  },
};

/** One add-on: `false` when the cluster already has it, else its settings (all defaulted). */
function addonSchema(id: AddonId) {
  const addon = ADDONS[id];
  const settings = z.strictObject({
    chart: z.strictObject({
      repoURL: helmChartSchema.shape.repoURL.default(addon.chart.repoURL),
      version: helmChartSchema.shape.version.default(addon.chart.version),
    }).prefault({}).describe(`Chart ${addon.chart.name} (Istio: every Istio chart at this version); default ${addon.chart.repoURL} ${addon.chart.version}`),
    namespace: dnsLabel('the namespace the add-on runs in').optional()
      .describe(`Namespace of the add-on (created by Argo CD); absent: ${addon.namespace}. The capability it serves must name the same one`),
    values: z.record(z.string().meta({ title: 'value' }), z.unknown()).default({})
      .describe('Helm values merged over Pronto\'s (a mapping; yours win): storage, ingress, anything cluster-specific'),
  }).superRefine((s, ctx) => ADDON_CHECKS[id]?.(s, ctx));
  return z.union([z.literal(false), settings], { error: `expected false (the cluster already has it) or the settings of ${id} (a mapping, {} for the defaults)` })
    .default({ chart: { ...addon.chart }, values: {} })
    .describe(`${addon.description}; false: the cluster already has it`);
}
export type AddonSettings = Exclude<z.output<ReturnType<typeof addonSchema>>, false>;

const automatedSchema = z.strictObject({
  prune: z.boolean().default(true).describe('Delete objects that are no longer in Git (syncPolicy.automated.prune)'),
  selfHeal: z.boolean().default(true).describe('Revert changes made in the cluster by hand (syncPolicy.automated.selfHeal)'),
});

export const gitopsSectionSchema = z.strictObject({
  repository: z.strictObject({
    url: z.string({ error: REPO_URL })
      .regex(/^(https:\/\/|ssh:\/\/|git@)[^\s]+$/, { error: 'expected an https://, ssh:// or git@ URL of the GitOps repository' })
      .optional().describe('GitOps repository Argo CD reads (spec.source.repoURL); `npm run publish -- --to <checkout>` writes into a checkout of it (required)'),
    revision: z.string().regex(/^[-A-Za-z0-9_./]+$/, { error: 'expected a branch, tag or commit' }).default('main')
      .describe('Branch, tag or commit Argo CD follows (spec.source.targetRevision)'),
    path: z.string({ error: REPO_FOLDER })
      .regex(REPO_PATH, { error: 'expected a relative folder such as pronto/prod (no leading "/", no "." or ".." segments)' })
      .optional().describe('Folder of the GitOps repository that holds this environment\'s dist/<env>/ (publish replaces it); the namespace and its guardrails are in its guardrails/ subfolder, the Argo CD objects in argocd/projects/ and argocd/applications/ (required)'),
  }).superRefine((r, ctx) => {
    // Required, but checked here rather than by the field's type: a missing field would
    // otherwise abort the section's `false | settings` union, which reports only its own vaguer error.
    if (r.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], input: undefined, message: REPO_URL });
    if (r.path === undefined) ctx.addIssue({ code: 'custom', path: ['path'], input: undefined, message: REPO_FOLDER });
  }).transform((r) => r as { url: string; revision: string; path: string })
    .describe('Where the synthesized environment is published'),
  argocd: z.strictObject({
    namespace: dnsLabel('the namespace Argo CD runs in').default('argocd')
      .describe('Namespace of Argo CD (run by the platform team; never created or guarded): the Applications and AppProjects go there'),
    destination: z.string().regex(/^https:\/\/[^\s]+$/, { error: 'expected the https:// URL of the cluster API server as Argo CD knows it' })
      .default('https://kubernetes.default.svc')
      .describe('Cluster the environment is deployed to (spec.destination.server); the default is the cluster Argo CD runs in'),
  }).prefault({}).describe('The Argo CD that syncs the environment (run by the platform team)'),
  sync: z.strictObject({
    automated: z.union([z.literal(false), automatedSchema], { error: 'expected false (sync by hand) or { prune, selfHeal }' })
      .default({ prune: true, selfHeal: true })
      .describe('Automated sync; false: an operator syncs by hand (a production choice). Production should not prune automatically'),
    retry: z.strictObject({
      limit: z.int().min(1).max(20).default(5).describe('Attempts of a failed sync'),
      backoff: z.strictObject({
        duration: z.string().regex(DURATION, { error: 'expected a duration such as 10s, 3m or 1h' }).default('10s').describe('First wait'),
        factor: z.int().min(1).max(10).default(2).describe('Each wait is the previous one times this'),
        maxDuration: z.string().regex(DURATION, { error: 'expected a duration such as 10s, 3m or 1h' }).default('3m').describe('Longest wait'),
      }).prefault({}).describe('Waits between attempts'),
    }).prefault({}).describe('Retry of a failed sync with exponential backoff (syncPolicy.retry)'),
  }).prefault({}).describe('The sync policy of the environment\'s Applications'),
  addons: z.strictObject(Object.fromEntries((Object.keys(ADDONS) as AddonId[]).map((id) => [id, addonSchema(id)])) as {
    [K in AddonId]: ReturnType<typeof addonSchema>
  }).prefault({}).describe('Platform add-ons the root Application installs, each a Helm chart at a pinned version; false per add-on when the cluster already has it'),
});
export type GitopsSection = z.output<typeof gitopsSectionSchema>;

/** The namespaces the section refers to without owning them: Argo CD's. */
export function gitopsForeignNamespaces(section: GitopsSection): string[] {
  return [section.argocd.namespace];
}
