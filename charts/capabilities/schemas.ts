/**
 * Building blocks of capability sections (zod only, like sections.ts): one definition of
 * an image tag, a third-party image and a pod-label map, shared by config/ and every
 * section, so each is validated the same way everywhere.
 */
import { z } from 'zod';
import { DIGEST, REPOSITORY, VERSION_TAG, versionLabelProblem } from '../../lib/core/image';
import { labelValueProblem, qualifiedNameProblem } from '../../lib/core/labels';

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
  }),
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
  repository: z.string().regex(REPOSITORY, { error: 'expected registry/repository such as docker.io/bitnami/pgbouncer, without a tag' }),
  tag: imageTagSchema(VERSION_TAG, 'an upstream release tag such as 1.23.1 or 16.4-bookworm (never latest or a major-only tag)'),
  digest: z.string().regex(DIGEST, { error: 'expected sha256:<64 lower-case hex characters>' }).optional()
    .describe('Pins the image content; the tag stays for humans'),
});
