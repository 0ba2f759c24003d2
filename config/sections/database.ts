/**
 * The `database` section of the environment file: PostgreSQL (image with WAL-G, storage,
 * connections, WAL archiving), WAL-G's object store, PgBouncer, the exporters and Redis.
 * Pure: zod and the pure lib/core files only (config/ imports it). Checks that need the
 * catalog (pool sizes against max_connections) run in the capability (index.ts).
 */
import { z } from 'zod';
import { cidrBlockSchema, computeResourcesSchema, parseCidrBlock, serviceTlsSettingSchema, upstreamImageSchema } from './schemas';
import { cronCadence, cronSchema, formatSeconds, parseCron } from './cron';
import { compareVersions } from '../../lib/core/image';
import { bytes } from '../../lib/core/quantity';
import { isDnsLabel } from '../../lib/core/naming';

/** The first WAL-G release whose remote (streaming) `backup-push` works on PostgreSQL 15+ (PR #2262). */
export const MIN_WALG_VERSION = '3.0.9';
/** The oldest PostgreSQL major version supported. */
export const MIN_POSTGRES_MAJOR = 15;
/**
 * The oldest PgBouncer supported: the first with `auth_dbname`, so its auth_query runs in the
 * `postgres` database, the only one with the lookup function (the app databases are created
 * by the pg-roles job, which cannot install a SECURITY DEFINER function over pg_authid).
 */
export const MIN_PGBOUNCER_VERSION = '1.19.0';
/**
 * Seconds a run of the pg-roles job may take in all (its Job's activeDeadlineSeconds): scheduling,
 * an image pull, the Vault agent's login and render (about 90 s on a busy node), then one psql.
 * The schedule must leave runs further apart than this.
 */
export const ROLES_JOB_DEADLINE_SECONDS = 240;

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;


/** `s3://bucket` or `s3://bucket/path/below`, no trailing slash. */
export const S3_PREFIX = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[A-Za-z0-9._-]+)*$/;

const dnsLabel = (what: string) => z.string().refine(isDnsLabel, { error: `expected ${what}: a DNS label (lower-case letters, digits and "-")` });

const postgresSchema = z.strictObject({
  image: upstreamImageSchema.describe('PostgreSQL image that also contains WAL-G (wal-g on the PATH), e.g. a Spilo-like or in-house image; its tag starts with majorVersion'),
  majorVersion: z.int().min(MIN_POSTGRES_MAJOR, { error: `expected PostgreSQL ${MIN_POSTGRES_MAJOR} or later` }).default(16)
    .describe('PostgreSQL major version the image runs; names the WAL-G prefix (one prefix per major version) and must start the image tag'),
  walgVersion: z.string().regex(SEMVER, { error: 'expected the WAL-G release in the image as major.minor.patch, such as 3.0.9' })
    .describe(`WAL-G release the image contains; at least ${MIN_WALG_VERSION} (the first whose remote backup-push works on PostgreSQL 15+)`),
  storage: z.strictObject({
    size: z.string().regex(/^[1-9]\d*(Mi|Gi|Ti)$/, { error: 'expected a size in whole Mi, Gi or Ti, such as 20Gi' }).default('20Gi')
      .describe('Size of the data volume (PVC per replica): PGDATA and pg_wal'),
    storageClassName: dnsLabel('a StorageClass name').optional().describe('StorageClass of the data volume; absent: the cluster default'),
  }).prefault({}).describe('The data volume (the claim data-postgres-0)'),
  resources: computeResourcesSchema({
    requests: { cpu: '500m', memory: '1Gi', ephemeralStorage: '1Gi' },
    limits: { cpu: '2', memory: '2Gi', ephemeralStorage: '2Gi' },
  }).prefault({}).describe('Requests and limits of the postgres container'),
  sharedMemoryMi: z.int().min(64).max(4096).default(256)
    .describe('Size of /dev/shm (in-memory emptyDir, counted against the memory limit): parallel query workers\' shared memory'),
  maxConnections: z.int().min(20).max(5000).default(100).describe('PostgreSQL max_connections'),
  reservedConnections: z.strictObject({
    superuser: z.int().min(1).default(3).describe('superuser_reserved_connections: kept for an administrator'),
    backup: z.int().min(1).default(2).describe('Sessions kept for the backup jobs (remote backup-push opens one normal session; wal-verify one more)'),
    monitoring: z.int().min(1).default(2).describe('Sessions kept for postgres_exporter'),
    roles: z.int().min(2).default(2)
      .describe('Sessions kept for the pg-roles job, also pronto_roles\' CONNECTION LIMIT (psql\'s \\connect briefly holds two)'),
  }).prefault({}).describe('Connections PgBouncer\'s pools may never take: max_connections minus their sum is the pools\' budget'),
  maxWalSenders: z.int().min(2).max(32).default(4)
    .describe('max_wal_senders (not counted in max_connections): the backup job\'s BASE_BACKUP stream, plus a spare and any replica'),
  archiveTimeoutSeconds: z.int().min(10).max(3600).default(60)
    .describe('archive_timeout: a WAL segment is switched and archived at least this often, bounding the data lost with the pod'),
}).superRefine((p, ctx) => {
  if (!p.image.tag.startsWith(`${p.majorVersion}.`) && !p.image.tag.startsWith(`${p.majorVersion}-`)) {
    ctx.addIssue({ code: 'custom', path: ['image', 'tag'], input: p.image.tag,
      message: `expected a tag starting with the major version (majorVersion: ${p.majorVersion}), such as ${p.majorVersion}.4 or ${p.majorVersion}.4-walg3.0.9` });
  }
  if (SEMVER.test(p.walgVersion) && compareVersions(p.walgVersion, MIN_WALG_VERSION) < 0) {
    ctx.addIssue({ code: 'custom', path: ['walgVersion'], input: p.walgVersion,
      message: `expected WAL-G ${MIN_WALG_VERSION} or later: older releases send the BASE_BACKUP syntax PostgreSQL 15 removed, so the remote backup-push of the backup jobs fails (wal-g#1385, fixed by PR #2262 in ${MIN_WALG_VERSION})` });
  }
  const r = p.reservedConnections;
  const reserved = r.superuser + r.backup + r.monitoring + r.roles;
  if (reserved >= p.maxConnections) {
    ctx.addIssue({ code: 'custom', path: ['reservedConnections'], input: p.reservedConnections,
      message: `expected reserved connections (${reserved}) below maxConnections (${p.maxConnections})` });
  }
});

const walgSchema = z.strictObject({
  s3Prefix: z.string({ error: 'expected the WAL-G base prefix such as s3://pronto-backups/postgres (required: without it nothing is archived)' })
    .regex(S3_PREFIX, { error: 'expected s3://<bucket>[/<path>] without a trailing slash, such as s3://pronto-backups/postgres' })
    // Optional only so the missing prefix is reported here (below) and not as the section's vaguer error.
    .optional()
    .describe('Base of WALG_S3_PREFIX; the cluster writes below <s3Prefix>/<clusterName>/<majorVersion>'),
  region: z.string().regex(/^[a-z0-9-]+$/, { error: 'expected a region such as eu-west-1' }).default('us-east-1')
    .describe('AWS_REGION of the bucket (S3-compatible stores: any value they accept)'),
  endpoint: z.url({ error: 'expected the endpoint URL such as https://minio.example.com:9000' }).optional()
    .describe('AWS_ENDPOINT for an S3-compatible store; absent: AWS S3'),
  forcePathStyle: z.boolean().default(false).describe('AWS_S3_FORCE_PATH_STYLE: path-style URLs (MinIO, Ceph)'),
  compression: z.enum(['lz4', 'lzma', 'zstd', 'brotli']).default('lz4').describe('WALG_COMPRESSION_METHOD'),
  uploadConcurrency: z.int().min(1).max(64).default(16).describe('WALG_UPLOAD_CONCURRENCY'),
  preventWalOverwrite: z.boolean().default(true)
    .describe('WALG_PREVENT_WAL_OVERWRITE: refuse to overwrite an archived segment with different content (another cluster writing the same prefix)'),
  storageCidrs: z.array(cidrBlockSchema, { error: 'expected the address blocks of the object store, such as [52.95.128.0/21]' })
    .min(1, { error: 'expected at least one address block of the object store (the egress to it is allowed to these only)' })
    .describe('Address blocks of the object store: the egress of PostgreSQL and the backup jobs is allowed to these only'),
  storagePort: z.int().min(1).max(65535).optional()
    .describe('Port of the object store; absent: the endpoint URL\'s port, else 443'),
}).superRefine((w, ctx) => {
  if (w.s3Prefix === undefined) {
    ctx.addIssue({ code: 'custom', path: ['s3Prefix'], input: w,
      message: 'expected the WAL-G base prefix such as s3://pronto-backups/postgres (required: without it nothing is archived)' });
  }
});

const pgbouncerSchema = z.strictObject({
  image: upstreamImageSchema.describe('PgBouncer image, e.g. ghcr.io/cloudnative-pg/pgbouncer (CloudNativePG\'s, built from PGDG\'s Debian package); its tag names the release (≥ 1.25.2 recommended)'),
  version: z.string().regex(SEMVER, { error: 'expected the PgBouncer release in the image as major.minor.patch, such as 1.25.2' })
    .refine((v) => !SEMVER.test(v) || compareVersions(v, MIN_PGBOUNCER_VERSION) >= 0, {
      error: `expected PgBouncer ${MIN_PGBOUNCER_VERSION} or later: the auth_query must run in the postgres database (auth_dbname, new in 1.19), the only one with ` +
        'the lookup function; older releases run it in each app\'s database, which the pg-roles job creates without one, so no app could log in',
    })
    .describe(`PgBouncer release the image runs, at least ${MIN_PGBOUNCER_VERSION} (auth_dbname); settings newer than it are never emitted (max_prepared_statements 1.21)`),
  replicas: z.int().min(2, { error: 'expected at least 2 PgBouncer replicas (one may be drained at a time)' }).default(2)
    .describe('Replicas at full scale: the pools are sized so that all of them together fit in max_connections'),
  maxClientConn: z.int().min(10).max(100000).default(1000).describe('max_client_conn per replica'),
  defaultPoolSize: z.int().min(1).optional().describe('default_pool_size; absent: derived (the per-database budget minus the reserve)'),
  reservePoolSize: z.int().min(0).optional().describe('reserve_pool_size; absent: derived (a quarter of the per-database budget)'),
  reservePoolTimeoutSeconds: z.int().min(1).default(3).describe('reserve_pool_timeout'),
  queryWaitTimeoutSeconds: z.int().min(1).default(30).describe('query_wait_timeout: a client waiting longer for a server connection gets an error'),
  serverLifetimeSeconds: z.int().min(60).default(3600).describe('server_lifetime'),
  serverIdleTimeoutSeconds: z.int().min(10).default(600).describe('server_idle_timeout'),
  idleTransactionTimeoutSeconds: z.int().min(0).default(600).describe('idle_transaction_timeout (0 = off)'),
  maxPreparedStatements: z.int().min(0).default(200).describe('max_prepared_statements (emitted only for PgBouncer ≥ 1.21)'),
  appConnectionLifetimeSeconds: z.int().min(0).default(300)
    .describe('Longest lifetime of an app\'s pooled connection (SQLAlchemy pool_recycle): the grace period is longer, so a draining PgBouncer outlives it'),
  resources: computeResourcesSchema({
    requests: { cpu: '100m', memory: '64Mi', ephemeralStorage: '64Mi' },
    limits: { cpu: '500m', memory: '128Mi', ephemeralStorage: '128Mi' },
  }).prefault({}).describe('Requests and limits of the pgbouncer container'),
});

const exportersSchema = z.strictObject({
  postgres: z.strictObject({
    image: upstreamImageSchema.default({ repository: 'quay.io/prometheuscommunity/postgres-exporter', tag: 'v0.17.1' })
      .describe('postgres_exporter image (a sidecar of PostgreSQL)'),
    resources: computeResourcesSchema({
      requests: { cpu: '25m', memory: '32Mi', ephemeralStorage: '32Mi' },
      limits: { cpu: '100m', memory: '64Mi', ephemeralStorage: '64Mi' },
    }).prefault({}).describe('Requests and limits of the postgres-exporter container'),
  }).prefault({}).describe('postgres_exporter, beside PostgreSQL (the WAL archiving alerts read it)'),
  pgbouncer: z.strictObject({
    image: upstreamImageSchema.default({ repository: 'quay.io/prometheuscommunity/pgbouncer-exporter', tag: 'v0.11.0' })
      .describe('pgbouncer_exporter image (a sidecar of PgBouncer)'),
    resources: computeResourcesSchema({
      requests: { cpu: '10m', memory: '16Mi', ephemeralStorage: '16Mi' },
      limits: { cpu: '50m', memory: '32Mi', ephemeralStorage: '32Mi' },
    }).prefault({}).describe('Requests and limits of the pgbouncer-exporter container'),
  }).prefault({}).describe('pgbouncer_exporter, beside each PgBouncer (the pool alerts read it)'),
}).prefault({}).describe('Prometheus exporters; scraped when the metrics capability is on');

/** How old the pg-roles job's last success may be before it alerts: three of its longest intervals, at least 15 minutes. */
export function rolesMaxAgeSeconds(schedule: string): number {
  const parsed = parseCron(schedule);
  const gap = typeof parsed === 'string' ? 0 : cronCadence(parsed).maxGapSeconds;
  return Math.max(3 * gap, 900);
}

const rolesSchema = z.strictObject({
  schedule: cronSchema.default('*/5 * * * *')
    .describe(`When the pg-roles job applies the apps' roles and databases and the heartbeat's login (cron, Etc/UTC); runs further apart than its deadline (${ROLES_JOB_DEADLINE_SECONDS} s). A new service's role exists at most this long after the sync`),
  resources: computeResourcesSchema({
    requests: { cpu: '10m', memory: '32Mi', ephemeralStorage: '32Mi' },
    limits: { cpu: '100m', memory: '64Mi', ephemeralStorage: '64Mi' },
  }).prefault({}).describe('Requests and limits of the pg-roles container (one psql)'),
}).superRefine((r, ctx) => {
  const parsed = parseCron(r.schedule);
  if (typeof parsed === 'string') return;
  const gap = cronCadence(parsed).minGapSeconds;
  if (gap <= ROLES_JOB_DEADLINE_SECONDS) {
    ctx.addIssue({ code: 'custom', path: ['schedule'], input: r.schedule,
      message: `expected runs further apart than the job's deadline of ${formatSeconds(ROLES_JOB_DEADLINE_SECONDS)}, or a run could still be going when the next is due, ` +
        `found "${r.schedule}" (runs ${formatSeconds(gap)} apart)` });
  }
}).prefault({}).describe('The pg-roles CronJob: the apps\' roles and databases, and the heartbeat\'s login, applied as pronto_roles without restarting PostgreSQL');

/** Redis's maxmemory as a share of its memory limit: the default, and the most a config may set. */
export const REDIS_MAXMEMORY_SHARE = {
  cache: 0.75,
  persistent: 0.4,
  max: { cache: 0.85, persistent: 0.5 },
} as const;

/**
 * The first patched release of each Redis line still receiving fixes: the urgent security
 * release of July 2026 (remote code execution; docker-library/official-images #21922 and
 * #21927), which also carries the Lua fixes of October 2025 (CVE-2025-49844, 7.4.6). A tag of
 * an older release in a listed line is refused.
 */
export const REDIS_PATCHED: Readonly<Record<string, string>> = { '6.2': '6.2.23', '7.2': '7.2.15', '7.4': '7.4.10', '8.2': '8.2.8', '8.4': '8.4.5', '8.6': '8.6.5', '8.8': '8.8.1' };

/** Why a Redis image tag runs a release with a known remote-code-execution flaw, or nothing. */
export function redisTagProblem(tag: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(tag);
  if (!m) return undefined;
  const patched = REDIS_PATCHED[`${m[1]}.${m[2]}`];
  if (patched && compareVersions(`${m[1]}.${m[2]}.${m[3]}`, patched) < 0) {
    return `expected Redis ${patched} or later in the ${m[1]}.${m[2]} line: older releases have known remote code execution flaws (CVE-2025-49844 and the July 2026 security release), found "${tag}"`;
  }
  return undefined;
}

const redisSchema = z.strictObject({
  image: upstreamImageSchema.describe('Redis image, e.g. docker.io/library/redis:7.4.10-alpine (a release with the security fixes of its line: REDIS_PATCHED)'),
  persistence: z.union([
    z.literal(false),
    z.strictObject({
      size: z.string().regex(/^[1-9]\d*(Mi|Gi)$/, { error: 'expected a size in whole Mi or Gi, such as 2Gi' }).default('2Gi').describe('Size of the data volume'),
      storageClassName: dnsLabel('a StorageClass name').optional().describe('StorageClass; absent: the cluster default'),
    }),
  ]).default(false).describe('false: a Deployment with an in-memory cache (data lost on restart); an object: a StatefulSet with an append-only file on a PVC'),
  maxMemoryMi: z.int().min(16).optional()
    .describe(`maxmemory in MiB; absent: ${REDIS_MAXMEMORY_SHARE.cache * 100} % of the memory limit for a cache, ${REDIS_MAXMEMORY_SHARE.persistent * 100} % with persistence ` +
      '(an AOF rewrite forks Redis, and copy-on-write can double the data set for its duration)'),
  resources: computeResourcesSchema({
    requests: { cpu: '100m', memory: '128Mi', ephemeralStorage: '64Mi' },
    limits: { cpu: '500m', memory: '256Mi', ephemeralStorage: '128Mi' },
  }).prefault({}).describe('Requests and limits of the redis container; maxmemory is derived from limits.memory'),
  tls: serviceTlsSettingSchema.optional()
    .describe('TLS between the apps (and the readiness probe) and Redis: a cert-manager certificate from issuer for the Service\'s names, TLS only on the port '
      + '(no plaintext listener), verified by the apps (rediss://, ssl_cert_reqs=required, ssl_check_hostname) against caBundle; '
      + 'false: plaintext on purpose; absent: plaintext, refused in a production-tier environment'),
}).superRefine((r, ctx) => {
  const vulnerable = redisTagProblem(r.image.tag);
  if (vulnerable) ctx.addIssue({ code: 'custom', path: ['image', 'tag'], input: r.image.tag, message: vulnerable });
  const limitMi = Math.floor(bytes(r.resources.limits.memory) / (1024 * 1024));
  const persistent = r.persistence !== false;
  const most = Math.floor(limitMi * REDIS_MAXMEMORY_SHARE.max[persistent ? 'persistent' : 'cache']);
  if (r.maxMemoryMi !== undefined && r.maxMemoryMi > most) {
    ctx.addIssue({ code: 'custom', path: ['maxMemoryMi'], input: r.maxMemoryMi,
      message: `expected at most ${most} (MiB): ${persistent
        ? `with persistence an AOF rewrite forks Redis and copy-on-write can double the data set, so maxmemory must stay within half of resources.limits.memory (${r.resources.limits.memory})`
        : `the cache needs room for client buffers and fragmentation within resources.limits.memory (${r.resources.limits.memory})`}` });
  }
});

/** The maxmemory of Redis in MiB: configured, else {@link REDIS_MAXMEMORY_SHARE} of the memory limit. */
export function redisMaxMemoryMi(redis: { maxMemoryMi?: number; persistence: unknown; resources: { limits: { memory: string } } }): number {
  const share = redis.persistence === false ? REDIS_MAXMEMORY_SHARE.cache : REDIS_MAXMEMORY_SHARE.persistent;
  return redis.maxMemoryMi ?? Math.floor(bytes(redis.resources.limits.memory) / (1024 * 1024) * share);
}

/**
 * The address blocks private networks use (RFC 1918), where the pod networks of the common CNIs
 * live: what PostgreSQL's and PgBouncer's hba files accept clients from unless the environment
 * names its pod network. Never a public address.
 */
export const DEFAULT_CLIENT_CIDRS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] as const;

const clientCidrSchema = cidrBlockSchema.superRefine((text, ctx) => {
  const block = parseCidrBlock(text);
  if (typeof block !== 'string' && block.prefix === 0) {
    ctx.addIssue({ code: 'custom', input: text, message: `expected the pod network's block, not every address (${text}): the hba files would accept a client from anywhere` });
  }
});

export const databaseSectionSchema = z.strictObject({
  clusterName: dnsLabel('the cluster name').default('pronto')
    .describe('Names the WAL-G prefix: <walg.s3Prefix>/<clusterName>/<postgres.majorVersion>; one prefix per cluster and major version'),
  clientCidrs: z.array(clientCidrSchema, { error: 'expected the address blocks of the pod network, such as [10.244.0.0/16]' })
    .min(1, { error: 'expected at least one address block: the pod network the data tier\'s clients run in' })
    .default([...DEFAULT_CLIENT_CIDRS])
    .describe('Address blocks PostgreSQL\'s and PgBouncer\'s hba files accept logins from (the cluster\'s pod network); every other address is refused. '
      + `Absent: the private blocks of RFC 1918 (${DEFAULT_CLIENT_CIDRS.join(', ')}); name the pod CIDR to narrow it`),
  tls: serviceTlsSettingSchema.optional()
    .describe('TLS for app → PgBouncer → PostgreSQL (and the jobs that connect): cert-manager certificates from issuer, verified (verify-full) '
      + 'against caBundle; false: plaintext on purpose; absent: plaintext, refused in a production-tier environment'),
  postgres: postgresSchema.describe('The PostgreSQL StatefulSet (postgres), with WAL-G archiving every WAL segment to the object store'),
  walg: walgSchema.describe('WAL-G\'s object store (S3 or S3-compatible): where WAL and base backups go; its credentials and encryption key are Vault entries'),
  pgbouncer: pgbouncerSchema.describe('The PgBouncer Deployment (pgbouncer) every app reaches PostgreSQL through, in transaction pooling'),
  roles: rolesSchema,
  exporters: exportersSchema,
  redis: redisSchema.describe('Redis (redis): a cache by default, or persistent with an append-only file'),
});
export type DatabaseSection = z.output<typeof databaseSectionSchema>;
