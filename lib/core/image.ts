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
/** `registry.example.com[:port]/path/name`, lower case, no tag. */
export const REPOSITORY = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/;

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

/** A validated, pinned image reference. */
export class ContainerImage {
  public readonly repository: string;
  public readonly tag: string;
  public readonly gitSha: string;
  public readonly digest?: string;

  public constructor(props: ContainerImageProps) {
    check(props.repository, REPOSITORY, 'repository', 'a registry/repository such as registry.example.com/pronto/app');
    check(props.tag, SEMVER_TAG, 'tag', 'a semantic version such as 1.4.2 or v1.4.2');
    check(props.gitSha, GIT_SHA, 'gitSha', '7 to 40 lower-case hex characters');
    if (props.digest !== undefined) check(props.digest, DIGEST, 'digest', 'sha256:<64 hex characters>');
    this.repository = props.repository;
    this.tag = props.tag;
    this.gitSha = props.gitSha;
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
}

function check(value: string, pattern: RegExp, field: string, expected: string): void {
  if (!pattern.test(value)) {
    throw new Error(`image ${field}: expected ${expected}, found "${value}"`);
  }
}
