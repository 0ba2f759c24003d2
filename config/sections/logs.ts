/**
 * The `logs` section of the environment file: which shipper runs beside every service
 * (Promtail or Grafana Alloy), where Loki is, and how each service's lines are captured.
 * Pure: zod and the pure lib/core files only (config/ imports it). The services come from
 * the catalog; an override naming a service the catalog does not have is refused by the
 * capability (charts/capabilities/logs/index.ts), which knows the catalog.
 */
import { z } from 'zod';
import { isDnsLabel } from '../../lib/core/naming';
import { computeResourcesSchema, labelMapSchema, serviceTlsFieldSchema, upstreamImageSchema } from './schemas';

/** Promtail's sidecar: it tails one file (tens of MiB of RSS at most). */
export const DEFAULT_PROMTAIL_RESOURCES = {
  requests: { cpu: '20m', memory: '48Mi', ephemeralStorage: '32Mi' },
  limits: { cpu: '100m', memory: '96Mi', ephemeralStorage: '64Mi' },
} as const;
/** Alloy's sidecar: a larger runtime than Promtail's for the same pipeline. */
export const DEFAULT_ALLOY_RESOURCES = {
  requests: { cpu: '25m', memory: '96Mi', ephemeralStorage: '32Mi' },
  limits: { cpu: '150m', memory: '192Mi', ephemeralStorage: '64Mi' },
} as const;

/**
 * One of `values`. A refinement, not z.enum: its issue does not abort, so the section's
 * union (off or on) reports this field's own line and message.
 */
function oneOf<T extends string>(values: readonly T[], expected: string) {
  return z.string({ error: expected }).refine((v) => (values as readonly string[]).includes(v), { error: expected })
    .transform((v) => v as T).meta({ enum: [...values] });
}

const CAPTURE_MODE = oneOf(['stdout', 'file'] as const, 'expected stdout (the app writes to stdout; its command is wrapped) or file (the app writes LOG_FILE itself)');
const URL_EXAMPLE = 'http://loki-gateway.loki.svc.cluster.local/loki/api/v1/push';
const SERVICE = /^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$/;
/** Loki's tenant ids: at most 150 of these characters (Loki's own rule), never "." or "..". */
const TENANT = /^[A-Za-z0-9!\-_.*'()]{1,150}$/;
const PUSH_PATH = '/loki/api/v1/push';

/**
 * Why `url` is not a push URL of Loki's pods in `namespace`, or undefined. Its host must be a
 * Service of that namespace (`<name>.<namespace>`, `….svc`, `….svc.cluster.local`): the flow,
 * and so the NetworkPolicy egress, goes to those pods. Its port is the Service's; the pods'
 * own port is `loki.port`.
 */
export function lokiUrlProblem(url: string, namespace: string): string | undefined {
  const parsed = /^(https?):\/\/([^/:?#]+)(?::(\d{1,5}))?(\/[^?#\s]*)$/.exec(url);
  if (!parsed) return `expected the URL of Loki's push API, such as http://loki-gateway.${namespace}.svc.cluster.local${PUSH_PATH}`;
  const [, , host, , path] = parsed;
  if (!path.endsWith(PUSH_PATH)) return `expected the path of Loki's push API, ending in ${PUSH_PATH}`;
  const labels = host.split('.');
  const inNamespace = labels.length >= 2 && labels[1] === namespace && isDnsLabel(labels[0]) && ['', 'svc', 'svc.cluster.local'].includes(labels.slice(2).join('.'));
  if (!inNamespace) {
    return `expected a Service of Loki's namespace (loki.namespace: ${namespace}): <name>.${namespace}, <name>.${namespace}.svc or <name>.${namespace}.svc.cluster.local; ` +
      'a Loki outside the cluster is not supported yet: the egress to it would need its address blocks';
  }
  return undefined;
}

const shipper = (repository: string, tag: string, resources: typeof DEFAULT_PROMTAIL_RESOURCES | typeof DEFAULT_ALLOY_RESOURCES, what: string) => z.strictObject({
  image: upstreamImageSchema.default({ repository, tag }).describe(`${what} image, pinned by its release tag`),
  resources: computeResourcesSchema(resources).prefault({}).describe('Requests and limits of the sidecar in every service pod; counted by the capacity guard'),
}).prefault({}).describe(`The ${what} sidecar, when logShipper names it`);

export const logsSectionSchema = z.strictObject({
  logShipper: oneOf(['promtail', 'alloy'] as const, 'expected promtail or alloy (Grafana Alloy is Promtail\'s successor)').default('promtail')
    .describe('The sidecar that ships each pod\'s log file to Loki (default promtail). Promtail reached end of life on 2 March 2026 (no fixes, security ones included); Alloy is its successor and runs the same pipeline'),
  loki: z.strictObject({
    // Optional only so that a missing URL is reported at its own field (a required key would abort the section's union).
    url: z.string({ error: `expected the URL of Loki's push API, such as ${URL_EXAMPLE}` }).optional()
      .describe(`Loki's push API (required; no default): a Service of loki.namespace, path ending in ${PUSH_PATH}`),
    tenant: z.string().regex(TENANT, { error: 'expected a Loki tenant id: 1 to 150 letters, digits and !-_.*\'()' })
      .refine((t) => t !== '.' && t !== '..', { error: 'expected a Loki tenant id other than "." and ".."' }).optional()
      .describe('Tenant sent as X-Scope-OrgID (a multi-tenant Loki requires one); absent: no header'),
    namespace: z.string().refine(isDnsLabel, { error: 'expected the namespace of Loki: a DNS label (lower-case letters, digits and "-")' }).default('loki')
      .describe('Namespace of Loki (run by another team; never created or guarded)'),
    podLabels: labelMapSchema.refine((l) => Object.keys(l).length > 0, { error: 'expected at least one label that selects the pods behind the URL' })
      .default({ 'app.kubernetes.io/name': 'loki', 'app.kubernetes.io/component': 'gateway' })
      .describe('Labels of the pods behind the URL (default: the gateway of the grafana/loki Helm chart); the flow to Loki allows these pods only'),
    port: z.int().min(1).max(65535).default(8080).describe('Port those pods listen on (the Service may forward another port to it); the flow to Loki allows this port'),
    // A refinement, not z.boolean: its issue does not abort, so the section's union reports this field's own line and message.
    basicAuth: z.unknown().refine((v) => v === undefined || typeof v === 'boolean', { error: 'expected true (every shipper and Grafana log in, passwords from Vault) or false (no login)' })
      .transform((v) => v as boolean | undefined).optional().meta({ type: 'boolean' })
      .describe('Log in to Loki with basic auth: each service\'s shipper as its service (push only), the datasource of the Grafana Pronto installs as grafana (read only), ' +
        'each password from Vault (needs secrets; docs/capabilities/logs.md, "Loki\'s logins"). Absent: on with the Loki add-on (gitops.addons.loki), whose gateway requires it; off for another Loki'),
    tls: serviceTlsFieldSchema.optional()
      .describe('TLS between the shippers (and Grafana) and the Loki add-on\'s gateway: it serves a certificate of the issuer for its Service\'s names on 443 ' +
        '(url then https://), and the shippers and Grafana verify it against the CA bundle (a ConfigMap kept in this namespace and in Grafana\'s). ' +
        'Needs the Loki add-on (gitops.addons.loki) and cert-manager. Absent or false: plaintext (off by default in every environment)'),
  }).prefault({}).superRefine((loki, ctx) => {
    const problem = loki.url === undefined
      ? `expected the URL of Loki's push API, such as ${URL_EXAMPLE} (required: there is no default Loki)`
      : lokiUrlProblem(loki.url, loki.namespace);
    if (problem) ctx.addIssue({ code: 'custom', path: ['url'], input: loki.url, message: problem });
  }).transform((loki) => ({ ...loki, url: loki.url! })).describe('Where the shippers push (url required: there is no default Loki)'),
  capture: z.strictObject({
    mode: CAPTURE_MODE.default('stdout').describe('How every service\'s lines reach the shared file, unless services says otherwise'),
    services: z.record(z.string().regex(SERVICE, { error: 'expected a catalog service name' }).meta({ title: 'service' }), CAPTURE_MODE).default({})
      .describe('Per catalog service, a capture mode other than mode'),
    rotateAtMi: z.int().min(1).max(256).default(16)
      .describe('Size (MiB) at which the log file is renamed to <file>.1, replacing the previous one; the shared emptyDir holds the two files and 16Mi more'),
  }).prefault({}).describe('How each service\'s log lines reach the file the shipper tails'),
  promtail: shipper('docker.io/grafana/promtail', '3.6.11', DEFAULT_PROMTAIL_RESOURCES, 'Promtail (3.x)'),
  alloy: shipper('docker.io/grafana/alloy', 'v1.18.1', DEFAULT_ALLOY_RESOURCES, 'Grafana Alloy (1.x)'),
});
export type LogsSection = z.output<typeof logsSectionSchema>;

/** The namespaces the section refers to without owning them: Loki's (for SECTIONS.logs.foreignNamespaces). */
export const logsForeignNamespaces = (s: LogsSection): string[] => [s.loki.namespace];
