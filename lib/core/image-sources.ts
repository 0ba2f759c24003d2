/**
 * Where the images Pronto runs come from: for every repository an environment may name, who
 * publishes it, the file that shows how its tags are made, and the shape of those tags. A
 * tag we pin must be one its publisher pushes: a repository outside this table, or a tag of
 * another shape, is a config error before anything reaches a cluster.
 *
 * Pure (no cdk8s): config/ imports it.
 */

/** One publisher of images. */
export interface ImagePublisher {
  /** Registry and repository (`ghcr.io/cloudnative-pg/pgbouncer`), or a prefix ending in `/` for a whole registry of ours. */
  readonly repository: string;
  /** Who builds and pushes it. */
  readonly publisher: string;
  /** The public file that shows how it is tagged (repository and path). */
  readonly source: string;
  /** The tags it publishes, as we pin them. */
  readonly tags: RegExp;
  /** What a tag of {@link tags} looks like, for the error message. */
  readonly example: string;
}

/** Repositories that no longer publish versioned tags: refused, with the reason. */
export const WITHDRAWN_REPOSITORIES: ReadonlyArray<{ readonly prefix: string; readonly reason: string }> = [
  {
    prefix: 'docker.io/bitnami/',
    reason: 'Bitnami stopped publishing versioned tags on docker.io on 28 August 2025 and moved the old ones to docker.io/bitnamilegacy, ' +
      'which gets no updates (github.com/bitnami/containers issue 83267)',
  },
];

/** Every repository an environment may pin, with its source. */
export const IMAGE_PUBLISHERS: readonly ImagePublisher[] = [
  {
    repository: 'ghcr.io/cloudnative-pg/pgbouncer', publisher: 'CloudNativePG (PGDG\'s Debian package of PgBouncer)',
    source: 'cloudnative-pg/pgbouncer-containers: docker-bake.hcl (tags <version>, <version>-<distro>, <version>-<timestamp>-<distro>), .github/workflows/build.yml',
    tags: /^\d+\.\d+\.\d+(-\d{12})?(-[a-z]+)?$/, example: '1.25.2 or 1.25.2-trixie',
  },
  {
    repository: 'docker.io/library/redis', publisher: 'Docker Official Images',
    source: 'docker-library/official-images: library/redis', tags: /^\d+\.\d+\.\d+(-(alpine|bookworm|trixie)(\d+(\.\d+)*)?)?$/, example: '7.4.10-alpine',
  },
  {
    repository: 'docker.io/owasp/modsecurity-crs', publisher: 'OWASP CRS project',
    source: 'coreruleset/modsecurity-crs-docker: docker-bake.hcl', tags: /^\d+\.\d+\.\d+-nginx(-alpine)?-\d{12}$/, example: '4.18.0-nginx-202509051009',
  },
  {
    repository: 'docker.io/otel/opentelemetry-collector-contrib', publisher: 'OpenTelemetry',
    source: 'open-telemetry/opentelemetry-collector-releases: .goreleaser.yaml', tags: /^\d+\.\d+\.\d+$/, example: '0.135.0',
  },
  {
    repository: 'docker.io/grafana/promtail', publisher: 'Grafana Labs',
    source: 'grafana/loki: .github/workflows (images loki, promtail)', tags: /^\d+\.\d+\.\d+$/, example: '3.6.11',
  },
  {
    repository: 'docker.io/grafana/alloy', publisher: 'Grafana Labs',
    source: 'grafana/alloy: .github/workflows (image grafana/alloy)', tags: /^v\d+\.\d+\.\d+$/, example: 'v1.18.1',
  },
  {
    repository: 'quay.io/prometheuscommunity/postgres-exporter', publisher: 'Prometheus community',
    source: 'prometheus-community/postgres_exporter: Makefile.common (DOCKER_REPO quay.io/prometheuscommunity)', tags: /^v\d+\.\d+\.\d+$/, example: 'v0.17.1',
  },
  {
    repository: 'quay.io/prometheuscommunity/pgbouncer-exporter', publisher: 'Prometheus community',
    source: 'prometheus-community/pgbouncer_exporter: Makefile.common (DOCKER_REPO quay.io/prometheuscommunity)', tags: /^v\d+\.\d+\.\d+$/, example: 'v0.11.0',
  },
  {
    repository: 'docker.io/hashicorp/vault', publisher: 'HashiCorp',
    source: 'hashicorp/vault-helm@v0.30.0: values.yaml (injector.agentImage and server.image hashicorp/vault, tag 1.19.0: the Vault release)',
    tags: /^\d+\.\d+\.\d+$/, example: '1.19.0',
  },
  {
    repository: 'ghcr.io/open-telemetry/opentelemetry-operator/autoinstrumentation-python', publisher: 'OpenTelemetry',
    source: 'open-telemetry/opentelemetry-operator: autoinstrumentation/python', tags: /^\d+\.\d+(\.\d+)?b\d+$/, example: '0.59b0',
  },
];

/** The environment's own registry: images Pronto's CI builds and tags itself. */
export function ownRegistryPublisher(registryPrefix: string): ImagePublisher {
  return {
    repository: registryPrefix.endsWith('/') ? registryPrefix : `${registryPrefix}/`, publisher: 'Pronto\'s CI',
    source: 'the environment file (images.registry)', tags: /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, example: '2.1.0',
  };
}

/** The publisher of `repository` in `publishers`, or undefined. */
export function publisherOf(repository: string, publishers: readonly ImagePublisher[] = IMAGE_PUBLISHERS): ImagePublisher | undefined {
  return publishers.find((p) => (p.repository.endsWith('/') ? repository.startsWith(p.repository) : repository === p.repository));
}

/**
 * Why `repository:tag` cannot be pulled as pinned, or undefined: a withdrawn repository, a
 * repository no publisher of the table (or `extra`, the environment's own registry) owns,
 * or a tag its publisher does not make.
 */
export function imageSourceProblem(repository: string, tag: string, extra: readonly ImagePublisher[] = []): string | undefined {
  const withdrawn = WITHDRAWN_REPOSITORIES.find((w) => repository.startsWith(w.prefix));
  if (withdrawn) return `expected an image that is still published: ${withdrawn.reason}`;
  const publisher = publisherOf(repository, [...extra, ...IMAGE_PUBLISHERS]);
  if (!publisher) {
    return `expected a repository whose tags we checked (lib/core/image-sources.ts: ${IMAGE_PUBLISHERS.map((p) => p.repository).join(', ')}, ` +
      'or the environment\'s own registry); add a new one there with the file that shows how it is tagged';
  }
  if (!publisher.tags.test(tag)) return `expected a tag ${publisher.publisher} publishes for ${repository}, such as ${publisher.example} (${publisher.source}), found "${tag}"`;
  return undefined;
}
