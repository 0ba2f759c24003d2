/**
 * Building blocks of capability sections (zod only, like index.ts): one definition of
 * an image tag, a third-party image and a pod-label map, shared by config/ and every
 * section, so each is validated the same way everywhere.
 */
import { z } from 'zod';
import { DIGEST, REPOSITORY, VERSION_TAG, versionLabelProblem } from '../../lib/core/image';
import { WITHDRAWN_REPOSITORIES } from '../../lib/core/image-sources';
import { labelValueProblem, qualifiedNameProblem } from '../../lib/core/labels';
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
