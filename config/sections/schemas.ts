/**
 * Building blocks of capability sections (zod only, like index.ts): one definition of
 * an image tag, a third-party image and a pod-label map, shared by config/ and every
 * section, so each is validated the same way everywhere.
 */
import { z } from 'zod';
import { DIGEST, REPOSITORY, VERSION_TAG, versionLabelProblem } from '../../lib/core/image';
import { WITHDRAWN_REPOSITORIES } from '../../lib/core/image-sources';
import { labelValueProblem, qualifiedNameProblem } from '../../lib/core/labels';
import { isDnsLabel, isDnsSubdomain } from '../../lib/core/naming';
import { cpuMillis, isByteQuantity, isCpuQuantity } from '../../lib/core/quantity';
import { parseCidrBlock } from '../../lib/core/cidr';
import { ComputeAmounts, ComputeField, ComputeResources, requestExceedsLimit } from '../../lib/core/resources';

/**
 * An image tag: matches `pattern` (described by `expected`) and can become the
 * `app.kubernetes.io/version` label. Pronto's own images and third-party ones share it.
 */
export function imageTagSchema(pattern: RegExp, expected: string) {
  return z.string({ error: `expected ${expected}` })
    .regex(pattern, { error: `expected ${expected}`, abort: true })
    .superRefine((tag, ctx) => {
      const problem = versionLabelProblem(tag);
      if (problem) ctx.addIssue({ code: 'custom', input: tag, message: `expected a tag usable as the app.kubernetes.io/version label (${problem})` });
    });
}

/** Pod labels to select by (cluster DNS, the Vault server): keys and values in Kubernetes' label syntax. */
export const labelMapSchema = z.record(
  z.string().superRefine((key, ctx) => {
    const problem = qualifiedNameProblem(key);
    if (problem) ctx.addIssue({ code: 'custom', input: key, message: `expected a label key (${problem})` });
  }).meta({ title: 'label' }),
  z.string().superRefine((value, ctx) => {
    const problem = labelValueProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', input: value, message: `expected a label value (${problem})` });
  }),
);

/**
 * A third-party image in a section (nginx, PgBouncer, the collector): pinned by its
 * upstream release tag, plus a digest when given. Sections use this, so every such image
 * is validated the same way and its tag can become the version label.
 */
export const upstreamImageSchema = z.strictObject({
  repository: z.string().regex(REPOSITORY, { error: 'expected registry/repository such as ghcr.io/cloudnative-pg/pgbouncer, without a tag' })
    .superRefine((repository, ctx) => {
      // Not aborting: the section's union would report an aborted branch as its own, vaguer error.
      const withdrawn = WITHDRAWN_REPOSITORIES.find((w) => repository.startsWith(w.prefix));
      if (withdrawn) ctx.addIssue({ code: 'custom', input: repository, message: `expected an image that is still published: ${withdrawn.reason}` });
    })
    .describe('registry/repository of the image, without a tag; a withdrawn repository (lib/core/image-sources.ts) is refused'),
  tag: imageTagSchema(VERSION_TAG, 'an upstream release tag such as 1.23.1 or 16.4-bookworm (never latest or a major-only tag)')
    .describe('Upstream release tag, major.minor at least (never latest): also the app.kubernetes.io/version label'),
  digest: z.string().regex(DIGEST, { error: 'expected sha256:<64 lower-case hex characters>' }).optional()
    .describe('Pins the image content; the tag stays for humans'),
});

export { cidrStrictlyInside, parseCidrBlock } from '../../lib/core/cidr';
export type { CidrBlock } from '../../lib/core/cidr';

/**
 * A CIDR block (`203.0.113.0/24`, `2001:db8::/32`): a valid address, a prefix length within
 * its family, and the host bits zero. One definition for every section that takes CIDRs
 * (network policies, the gateway's trusted proxies), so what one accepts the others do.
 */
export const cidrBlockSchema = z.string({ error: 'expected a CIDR block such as 203.0.113.0/24 or 2001:db8::/32' }).superRefine((text, ctx) => {
  const block = parseCidrBlock(text);
  if (typeof block === 'string') ctx.addIssue({ code: 'custom', input: text, message: block });
});

const sectionCpu = z.union([z.string(), z.number()], { error: 'expected a CPU quantity such as 50m' })
  .transform((v) => String(v))
  .refine((v) => isCpuQuantity(v) && cpuMillis(v) > 0, { error: 'expected a CPU quantity above zero, such as 50m' });
const sectionBytes = z.string({ error: 'expected a quantity such as 64Mi' })
  .regex(/^[1-9]\d*(Mi|Gi)$/, { error: 'expected a quantity in whole Mi or Gi, such as 64Mi' })
  .refine(isByteQuantity);

/**
 * Requests and limits of a container a section adds or declares (the Vault agent, the
 * Istio proxy), with `defaults` for every value: CPU above zero, memory and ephemeral
 * storage in whole Mi or Gi, and no request above its limit.
 */
export function computeResourcesSchema(defaults: ComputeResources) {
  const amounts = (d: ComputeAmounts) => z.strictObject({
    cpu: sectionCpu.default(d.cpu).describe('CPU, above zero: millicores such as 50m, or cores such as 0.5'),
    memory: sectionBytes.default(d.memory).describe('Memory, in whole Mi or Gi'),
    ephemeralStorage: sectionBytes.default(d.ephemeralStorage)
      .describe('Ephemeral storage (logs, emptyDirs, the writable layer), in whole Mi or Gi'),
  });
  return z.strictObject({
    requests: amounts(defaults.requests).prefault({})
      .describe('What the scheduler reserves for the container, and what the namespace quota and the capacity guard count'),
    limits: amounts(defaults.limits).prefault({})
      .describe('The most the container may use: CPU above it is throttled, memory above it is OOM-killed, ephemeral storage above it evicts the pod; each at least its request'),
  }).superRefine((r, ctx) => {
    for (const field of ['cpu', 'memory', 'ephemeralStorage'] as ComputeField[]) {
      if (requestExceedsLimit(field, r.requests[field], r.limits[field])) {
        ctx.addIssue({ code: 'custom', path: ['limits', field], input: r.limits[field], message: `expected a limit ≥ the request (${r.requests[field]})` });
      }
    }
  });
}

const dnsLabelName = (what: string) => z.string({ error: `expected ${what}: a DNS label (lower-case letters, digits and "-")` })
  .refine(isDnsLabel, { error: `expected ${what}: a DNS label (lower-case letters, digits and "-")` });
const dnsSubdomainName = (what: string) => z.string({ error: `expected ${what}: a DNS subdomain (lower-case letters, digits, "-" and ".")` })
  .refine(isDnsSubdomain, { error: `expected ${what}: a DNS subdomain (lower-case letters, digits, "-" and ".")` });

/**
 * The cert-manager issuer that signs a capability's server certificates (lib/tls's
 * CertificateIssuer): a ClusterIssuer by default, the platform's internal CA.
 */
export const certificateIssuerSchema = z.strictObject({
  // A refinement, not z.enum: its issue does not abort, so a section's union reports this field's own line and message.
  kind: z.string({ error: 'expected ClusterIssuer or Issuer' }).refine((v) => ['ClusterIssuer', 'Issuer'].includes(v), { error: 'expected ClusterIssuer or Issuer' })
    .default('ClusterIssuer').transform((v) => v as 'ClusterIssuer' | 'Issuer').meta({ enum: ['ClusterIssuer', 'Issuer'] })
    .describe('ClusterIssuer (the cluster\'s, usable from every namespace) or Issuer (one in this namespace)'),
  name: dnsSubdomainName('the issuer\'s name').describe('Name of the cert-manager issuer, kept by the platform team beside cert-manager'),
  group: dnsSubdomainName('an API group').default('cert-manager.io')
    .describe('API group of the issuer kind: cert-manager.io, or an external issuer\'s (such as awspca.cert-manager.io)'),
});

/**
 * The CA bundle clients verify servers' certificates against (lib/tls's CaBundle): a
 * ConfigMap of the namespace the platform keeps (a trust-manager Bundle, for example); a CA
 * certificate is public, so never a Secret.
 */
export const caBundleSchema = z.strictObject({
  configMap: dnsLabelName('a ConfigMap name').describe('ConfigMap in the namespace with the PEM certificate(s) of the CA that signs the issuer\'s certificates'),
  key: z.string().regex(/^[-._a-zA-Z0-9]+$/, { error: 'expected a ConfigMap key such as ca.crt' }).default('ca.crt').describe('Key of the ConfigMap holding the PEM'),
});

/**
 * TLS inside the cluster for one capability's servers: cert-manager issues each server a
 * certificate for its Service's names (lib/tls's ServiceCertificate), and its clients verify
 * it (verify-full) against the CA bundle. One shape for every capability (the data tier,
 * Redis, Loki, OTLP), so an environment states its issuer and CA the same way everywhere.
 */
export const serviceTlsSchema = z.strictObject({
  issuer: certificateIssuerSchema.describe('The cert-manager issuer of the servers\' certificates'),
  caBundle: caBundleSchema.describe('Where clients find the CA to verify the servers\' certificates (the CA of the issuer)'),
});
export type ServiceTls = z.output<typeof serviceTlsSchema>;

/**
 * A capability's TLS setting: the issuer and CA ({@link serviceTlsSchema}), or `false` for
 * plaintext stated on purpose. Absent, the capability decides (the data tier: refused in a
 * production-tier environment).
 */
export const serviceTlsSettingSchema = z.union([z.literal(false), serviceTlsSchema], {
  error: 'expected false (plaintext) or { issuer: { kind, name }, caBundle: { configMap, key } }',
});

/** The JSON Schema of {@link serviceTlsSettingSchema}, for the fields that check it themselves. */
const SERVICE_TLS_JSON = (({ $schema: _ignored, ...rest }) => rest)(z.toJSONSchema(serviceTlsSettingSchema, { io: 'input' }) as Record<string, unknown>);

/**
 * {@link serviceTlsSettingSchema} as an optional field of a capability section whose problems
 * are reported at their own paths (`logs.loki.tls.caBundle`): checked by a refinement, since a
 * missing key in a nested union would abort the section's union, which then reports only its
 * own vaguer error. Absent: undefined (the capability's default).
 */
export const serviceTlsFieldSchema = z.unknown().superRefine((value, ctx) => {
  if (value === undefined || value === false) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', input: value, message: 'expected false (plaintext) or { issuer: { kind, name }, caBundle: { configMap, key } }' });
    return;
  }
  const checked = serviceTlsSchema.safeParse(value);
  if (checked.success) return;
  for (const issue of checked.error.issues) {
    const at = issue.path.reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined), value);
    ctx.addIssue({ code: 'custom', path: issue.path as PropertyKey[], input: at, message: issue.message });
  }
}).transform((value) => (value === undefined ? undefined : serviceTlsSettingSchema.parse(value))).meta(SERVICE_TLS_JSON);
