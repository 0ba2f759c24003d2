import { ANNOTATION_GIT_SHA, labelValueProblem } from './labels';

/**
 * Container image references. Pronto images are tagged with a semantic version and
 * built from a known git commit; a digest may pin the exact bytes.
 */

/** `1.4.2`, `v1.4.2`, `1.5.0-rc.1`. No build metadata: `+` is not allowed in an image tag. */
export const SEMVER_TAG = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
/** `sha256:` followed by 64 lower-case hex digits. */
export const DIGEST = /^sha256:[a-f0-9]{64}$/;
/** A git commit id, abbreviated (7) or full (40). */
export const GIT_SHA = /^[a-f0-9]{7,40}$/;
/**
 * An upstream release tag: a version of at least `major.minor`, optionally with a PEP 440
 * pre-release (`0.64b0`, how the OpenTelemetry Operator tags its Python auto-instrumentation
 * images) and a variant suffix (`16.4`, `1.23.1`, `v0.110.0`, `1.27.3-alpine`, `16.4-bookworm`).
 * Floating tags (`latest`, `stable`, `16`) are refused: they change under a running cluster.
 */
export const VERSION_TAG = /^v?\d+(\.\d+)+((a|b|rc)\d+)?([-_.][0-9A-Za-z][-0-9A-Za-z_.]*)?$/;
/** `registry.example.com[:port]/path/name`, lower case, no tag. */
export const REPOSITORY = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/;

/**
 * Why `tag` cannot become the `app.kubernetes.io/version` label (the tag without a
 * leading `v`), or undefined when it can. Semver allows 128-character tags and a
 * trailing `-`; a label allows neither, and the API server would reject the object.
 */
export function versionLabelProblem(tag: string): string | undefined {
  const problem = labelValueProblem(tag.replace(/^v/, ''));
  return problem && `the version after a leading "v" is ${problem}`;
}

/** An image as config states it: where it is and which version. */
export interface ImageRef {
  /** Registry and repository, e.g. `registry.pronto.example.com/pronto/order-service`. */
  readonly repository: string;
  /** Version tag. */
  readonly tag: string;
  /** Git commit the image was built from (Pronto's own images). @default - not recorded */
  readonly gitSha?: string;
  /** Content digest that pins the image. @default - the tag alone identifies the image */
  readonly digest?: string;
}

/** What a container needs from an image: the reference to run and the version to label. */
export interface PinnedImage {
  /** `repo:tag` or `repo:tag@sha256:…`. */
  readonly reference: string;
  /** `app.kubernetes.io/version` of what runs. */
  readonly version: string;
  /** Annotations that identify the build (`pronto.io/git-sha`). */
  readonly annotations: Readonly<Record<string, string>>;
}

export interface ContainerImageProps {
  /** Registry and repository, e.g. `registry.pronto.example.com/pronto/order-service`. */
  readonly repository: string;
  /** Semantic version tag, e.g. `1.4.2` or `v1.4.2`. `latest` is refused. */
  readonly tag: string;
  /** Git commit the image was built from, 7 to 40 hex characters. */
  readonly gitSha: string;
  /** Content digest that pins the image. @default - the tag alone identifies the image */
  readonly digest?: string;
}

/**
 * What both kinds of image share: a repository, a tag its kind accepts (checked also as a
 * future version label), an optional digest, and the reference and version derived from them.
 */
abstract class TaggedImage implements PinnedImage {
  public readonly repository: string;
  public readonly tag: string;
  public readonly digest?: string;

  protected constructor(props: UpstreamImageProps, tagPattern: RegExp, tagExpected: string) {
    check(props.repository, REPOSITORY, 'repository', 'a registry/repository such as registry.example.com/pronto/app');
    check(props.tag, tagPattern, 'tag', tagExpected);
    if (props.digest !== undefined) check(props.digest, DIGEST, 'digest', 'sha256:<64 hex characters>');
    const labelProblem = versionLabelProblem(props.tag);
    if (labelProblem) throw new Error(`image tag: expected a value usable as the version label (${labelProblem}), found "${props.tag}"`);
    this.repository = props.repository;
    this.tag = props.tag;
    this.digest = props.digest;
  }

  /** The reference a container runs: `repo:tag` or `repo:tag@sha256:…`. */
  public get reference(): string {
    return `${this.repository}:${this.tag}${this.digest ? `@${this.digest}` : ''}`;
  }

  /** The version label value: the tag without a leading `v`. */
  public get version(): string {
    return this.tag.replace(/^v/, '');
  }

  public abstract get annotations(): Readonly<Record<string, string>>;
}

/** A validated, pinned image of Pronto's own: semantic version tag plus the git commit it was built from. */
export class ContainerImage extends TaggedImage {
  public readonly gitSha: string;

  public constructor(props: ContainerImageProps) {
    super(props, SEMVER_TAG, 'a semantic version such as 1.4.2 or v1.4.2');
    check(props.gitSha, GIT_SHA, 'gitSha', '7 to 40 lower-case hex characters');
    this.gitSha = props.gitSha;
  }

  public get annotations(): Readonly<Record<string, string>> {
    return { [ANNOTATION_GIT_SHA]: this.gitSha };
  }
}

export interface UpstreamImageProps {
  /** Registry and repository, e.g. `ghcr.io/cloudnative-pg/pgbouncer`. */
  readonly repository: string;
  /** The upstream release tag, e.g. `1.23.1` or `16.4-bookworm`; never a floating tag. */
  readonly tag: string;
  /** Content digest that pins the image. @default - the tag alone identifies the image */
  readonly digest?: string;
}

/**
 * A third-party image (nginx, PgBouncer, PostgreSQL, the OpenTelemetry collector),
 * pinned by its upstream version tag and, when config gives one, a digest. It carries
 * no git SHA: the upstream tag is the version.
 */
export class UpstreamImage extends TaggedImage {
  public constructor(props: UpstreamImageProps) {
    super(props, VERSION_TAG, 'an upstream version tag such as 1.27.3 or 16.4-bookworm (never latest or a major-only tag)');
  }

  public get annotations(): Readonly<Record<string, string>> {
    return {};
  }
}

function check(value: string, pattern: RegExp, field: string, expected: string): void {
  if (!pattern.test(value)) {
    throw new Error(`image ${field}: expected ${expected}, found "${value}"`);
  }
}

/** Orders two release versions `x.y.z` (missing parts count as 0): negative, 0 or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0) ? -1 : 1;
  }
  return 0;
}

/**
 * The pattern (RE2 and JavaScript alike, with no backslash: it also goes into CEL string
 * literals) of an image reference whose repository lies under one of `prefixes`, on exact
 * path boundaries. A prefix that is a registry alone (`registry.example.com`, no `/`) needs
 * at least one path segment after it; a prefix with a path (`docker.io/library/redis`) may be
 * the whole repository. After the repository only a `:tag` and an `@digest` may follow, with
 * no `/` in them. So `registry.example.com.evil.io/x`, `registry.example.com:5000/x` (another
 * registry address), `registry.example.com@evil` (a digest on no repository) and
 * `docker.io/library/redis-evil:1.0` are outside `registry.example.com` and
 * `docker.io/library/redis`. Matching is on the string a pod states: a short name (`redis:7`),
 * which the runtime would resolve to Docker Hub, is under no prefix.
 */
export function allowedImagePattern(prefixes: readonly string[]): string {
  if (prefixes.length === 0) throw new Error('allowedImagePattern: expected at least one repository prefix');
  const bad = prefixes.find((p) => !ALLOWED_PREFIX.test(p));
  if (bad !== undefined) throw new Error(`allowedImagePattern: expected a registry or registry/path prefix such as ghcr.io/cloudnative-pg, found "${bad}"`);
  const alternatives = [...new Set(prefixes)].map((p) => `${p.replace(/\./g, '[.]')}(/[^/:@]+)${p.includes('/') ? '*' : '+'}`);
  return `^(?:${alternatives.join('|')})([:@][^/]*)?$`;
}

/** A registry (`host[:port]`) or a registry and path, lower case, as `images.allowedRepositories` takes them. */
export const ALLOWED_PREFIX = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d+)?(\/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)*$/;

/** The pattern of a reference pinned by digest: it ends in `@sha256:` and 64 lower-case hex digits (RE2 and JavaScript, no backslash). */
export const DIGEST_PINNED_IMAGE = '@sha256:[a-f0-9]{64}$';

/** True when `image` lies under one of `prefixes` ({@link allowedImagePattern}). */
export function imageUnderRepositories(image: string, prefixes: readonly string[]): boolean {
  return new RegExp(allowedImagePattern(prefixes)).test(image);
}

/** The repository of a reference: `docker.io/hashicorp/vault` of `docker.io/hashicorp/vault:1.19.0@sha256:…`. */
export function imageRepository(image: string): string {
  return image.split('@')[0].replace(/:[^/:]+$/, '');
}

/**
 * An image an admission webhook adds to pods at run time (the Vault agent, an operator's
 * init container). It is not in the output, yet the API server admits the mutated pod with
 * it, so the image policy (synth and admission) must know it.
 */
export interface InjectedImage {
  /** Who injects it, for messages: `the Vault agent injector`. */
  readonly injector: string;
  /** The containers it runs as, e.g. `vault-agent-init`, `vault-agent`. */
  readonly containers: readonly string[];
  /** The reference injected: `repository:tag[@sha256:…]`. */
  readonly reference: string;
  /** The config field that chooses it (its path), for messages. */
  readonly configPath: readonly string[];
}
