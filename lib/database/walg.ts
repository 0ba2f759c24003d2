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
 *   (`WALG_LIBSODIUM_KEY_PATH`, `WALG_LIBSODIUM_KEY_TRANSFORM=hex`), only in the pods that
 *   encrypt or decrypt.
 *
 * Each pod's S3 credentials are those of its access level ({@link WALG_ACCESS}): PostgreSQL
 * writes WAL and nothing else, the base-backup job writes base backups and nothing else, only
 * the retention job deletes, the WAL check and the restore test only read.
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
  /** One file from the entries of several names: `path` holds `%s` (lib/secrets VaultSecretFile.forEach). @default - the one entry at `path` */
  readonly forEach?: readonly string[];
}

/** The workload name of PostgreSQL (StatefulSet, ServiceAccount, Vault role); owns the WAL-G KV entries. */
export const POSTGRES_WORKLOAD = 'postgres';

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

/** The archive's two folders below the prefix (WAL-G v3.0.9 utility/utility.go: BaseBackupPath, WalPath), or the whole prefix. */
export type WalgFolder = 'wal_005' | 'basebackups_005' | '*';

/** One S3 request a WAL-G command makes below the prefix, as the IAM action that allows it. */
export interface WalgS3Request {
  readonly action: 's3:ListBucket' | 's3:GetObject' | 's3:PutObject' | 's3:AbortMultipartUpload' | 's3:DeleteObject';
  /** The folder it touches (for s3:ListBucket: the prefixes it lists, and the keys whose absence it must see). */
  readonly folder: WalgFolder;
  /** Why, from WAL-G's source at v3.0.9. */
  readonly why: string;
}

/** A WAL-G command Pronto runs, what it asks of the object store, and whether it encrypts or decrypts. */
export interface WalgCommand {
  readonly requests: readonly WalgS3Request[];
  /** It encrypts or decrypts with the libsodium key. */
  readonly usesKey: boolean;
}

/**
 * A missing object reads as "not found" (404) only with s3:ListBucket on the bucket: without it
 * S3 answers 403, and WAL-G treats that as an error, not as absence
 * (pkg/storages/s3/folder.go isAwsNotExist; internal/fetch_helper.go TryDownloadFile). AWS
 * evaluates that ListBucket with the object's key as `s3:prefix`, so a prefix-bound grant
 * is enough (ceph/ceph#68577 mirrors it).
 */
const NOT_FOUND_NEEDS_LIST = 'a missing object must read as 404, which needs s3:ListBucket (else 403)';

/**
 * The WAL-G commands of Pronto's pods and the S3 requests each makes, read in wal-g/wal-g
 * at v3.0.9. Nothing lists the bucket outside the prefix: S3_SKIP_VALIDATION defaults to
 * true (pkg/storages/s3/configure.go: no ListObjects at start), AWS_REGION is always set (no
 * GetBucketLocation), and S3_ENABLE_VERSIONING=disabled ({@link walgEnv}) leaves out
 * GetBucketVersioning, ListObjectVersions and version deletes (pkg/storages/s3/folder.go).
 * Sentinels and metadata are plain JSON (internal/backup.go UploadDto); WAL segments, tar
 * parts and .history files are encrypted.
 */
export const WALG_COMMANDS = {
  /** PostgreSQL's archive_command. */
  walPush: {
    usesKey: true,
    requests: [
      { action: 's3:PutObject', folder: 'wal_005', why: 'uploads the segment (internal/databases/postgres/wal_push_handler.go uploadWALFile)' },
      { action: 's3:GetObject', folder: 'wal_005', why: 'WALG_PREVENT_WAL_OVERWRITE, always for .history files: downloads and decrypts the archived copy to compare (checkWALOverwrite)' },
      { action: 's3:ListBucket', folder: 'wal_005', why: `checkWALOverwrite: ${NOT_FOUND_NEEDS_LIST}` },
    ],
  },
  /** The base-backup job's remote backup-push (no data directory, no delta). */
  backupPush: {
    usesKey: true,
    requests: [
      { action: 's3:PutObject', folder: 'basebackups_005', why: 'tar parts, the sentinel and metadata.json (backup_push_handler.go createAndPushRemoteBackup: uploader.ChangeDirectory(BaseBackupPath)); it reads nothing' },
      { action: 's3:AbortMultipartUpload', folder: 'basebackups_005', why: 'a failed multipart upload of a tar part is aborted (pkg/storages/s3/uploader.go, the SDK s3manager)' },
    ],
  },
  /** The retention job's `delete retain FULL <n> --use-sentinel-time --confirm`. */
  delete: {
    usesKey: false,
    requests: [
      { action: 's3:ListBucket', folder: '*', why: 'lists both folders (internal/databases/postgres/delete.go)' },
      { action: 's3:GetObject', folder: 'basebackups_005', why: 'reads the sentinels and metadata (plain JSON: GetBackupDetails)' },
      { action: 's3:DeleteObject', folder: '*', why: 'deletes old backups and the WAL only they need (folder.go DeleteObjects)' },
    ],
  },
  /** The WAL check's `wal-verify integrity timeline`. */
  walVerify: {
    usesKey: true,
    requests: [
      { action: 's3:ListBucket', folder: '*', why: `lists the WAL and the backups; ${NOT_FOUND_NEEDS_LIST} (the .history of timeline 1 never exists)` },
      { action: 's3:GetObject', folder: '*', why: 'the sentinels (oldest backup) and the current timeline\'s .history, which it decrypts (timeline_history_record.go getHistoryFileFromStorage)' },
    ],
  },
  /** The restore test's backup-fetch and its restore_command's wal-fetch. */
  fetch: {
    usesKey: true,
    requests: [
      { action: 's3:ListBucket', folder: '*', why: `finds LATEST; ${NOT_FOUND_NEEDS_LIST} (wal-fetch exits 74 at the end of the archive only on a 404)` },
      { action: 's3:GetObject', folder: '*', why: 'reads and decrypts the backup and every segment it replays' },
    ],
  },
} as const satisfies Record<string, WalgCommand>;

export type WalgCommandName = keyof typeof WALG_COMMANDS;

/**
 * Who may do what to the archive: one set of S3 credentials (one Vault entry, one IAM
 * policy) per level, each allowing only the requests of the commands its pods run.
 * - `wal-archive`: PostgreSQL (archive_command): writes WAL only; cannot delete, cannot
 *   touch base backups;
 * - `base-backup`: the base-backup job: writes base backups only; reads and lists nothing;
 * - `retention`: the retention job, the only one that deletes; never gets the key;
 * - `read-only`: the WAL check and the restore test: list and read, nothing else.
 */
export const WALG_ACCESS = {
  'wal-archive': { commands: ['walPush'] },
  'base-backup': { commands: ['backupPush'] },
  retention: { commands: ['delete'] },
  'read-only': { commands: ['walVerify', 'fetch'] },
} as const satisfies Record<string, { readonly commands: readonly WalgCommandName[] }>;

/** What a WAL-G user may do to the archive ({@link WALG_ACCESS}). */
export type WalgAccess = keyof typeof WALG_ACCESS;

/** The access levels, in a fixed order. */
export const WALG_ACCESS_LEVELS = Object.keys(WALG_ACCESS) as WalgAccess[];

/** The S3 requests of `access`'s commands. */
export function walgRequests(access: WalgAccess): WalgS3Request[] {
  return WALG_ACCESS[access].commands.flatMap((c) => [...WALG_COMMANDS[c].requests]);
}

/** `access` encrypts or decrypts: it gets the key. */
export function walgUsesKey(access: WalgAccess): boolean {
  return WALG_ACCESS[access].commands.some((c) => WALG_COMMANDS[c].usesKey);
}

/**
 * The WAL-G environment of `prefix` for a user with `access`, without credentials: region,
 * endpoint, path style, versioning, compression, upload concurrency, overwrite protection,
 * and the key's encoding when it gets the key. Only PostgreSQL pushes WAL, so only it takes
 * `preventWalOverwrite` from the settings; every other user has it on.
 */
export function walgEnv(walg: WalgSettings, prefix: string, access: WalgAccess): EnvEntry[] {
  return [
    { name: 'WALG_S3_PREFIX', value: prefix },
    { name: 'AWS_REGION', value: walg.region },
    ...(walg.endpoint ? [{ name: 'AWS_ENDPOINT', value: walg.endpoint }] : []),
    { name: 'AWS_S3_FORCE_PATH_STYLE', value: String(walg.forcePathStyle) },
    { name: 'AWS_SDK_LOAD_CONFIG', value: '1' },
    // WAL-G asks the bucket's versioning state otherwise, and on a versioned bucket lists and deletes
    // object versions (pkg/storages/s3/folder.go isVersioningEnabled; docs/STORAGES.md S3_ENABLE_VERSIONING):
    // actions the IAM policies do not grant. Read through viper's AutomaticEnv (internal/storage_adapter.go).
    { name: 'S3_ENABLE_VERSIONING', value: 'disabled' },
    { name: 'WALG_COMPRESSION_METHOD', value: walg.compression },
    { name: 'WALG_UPLOAD_CONCURRENCY', value: String(walg.uploadConcurrency) },
    { name: 'WALG_PREVENT_WAL_OVERWRITE', value: String(access === 'wal-archive' ? walg.preventWalOverwrite : true) },
    ...(walgUsesKey(access) ? [{ name: 'WALG_LIBSODIUM_KEY_TRANSFORM', value: 'hex' }] : []),
  ];
}

/** The files {@link walgSecrets} renders, by purpose. */
export const WALG_FILES = {
  aws: { file: 'walg-aws', env: 'AWS_CONFIG_FILE', path: `${SECRETS_DIR}/walg-aws` },
  key: { file: 'walg-key', env: 'WALG_LIBSODIUM_KEY_PATH', path: `${SECRETS_DIR}/walg-key` },
} as const;

/** The Vault KV entry (below the environment's prefix) of `access`'s S3 credentials, owned by the PostgreSQL workload. */
export function walgCredentialsPath(access: WalgAccess): string {
  return `${POSTGRES_WORKLOAD}/walg-s3-${access}`;
}

/** The Vault KV entry of the libsodium key. */
export const WALG_KEY_PATH = `${POSTGRES_WORKLOAD}/walg-encryption`;

/**
 * The Vault KV entries a WAL-G user with `access` reads (paths below the environment's KV
 * prefix), owned by the PostgreSQL workload:
 * - `postgres/walg-s3-<access>` (fields `access_key_id`, `secret_access_key`): the object
 *   store's credentials of that level, whose IAM policy is {@link walgIamPolicy};
 * - `postgres/walg-encryption` (field `key`: 64 hex characters, `openssl rand -hex 32`): the
 *   libsodium key, only for a level that encrypts or decrypts. WAL-G's libsodium crypter is
 *   symmetric (internal/crypto/libsodium): the key that encrypts also decrypts, so the
 *   writers hold the same key as the readers. Losing it makes every backup unreadable; keep a
 *   copy outside Vault.
 *
 * The key is one entry read by every user that needs it, not a copy per workload: two copies
 * could drift and the restore test would prove only its own.
 */
export function walgSecrets(access: WalgAccess): DataTierSecret[] {
  return [
    {
      path: walgCredentialsPath(access), file: WALG_FILES.aws.file, env: WALG_FILES.aws.env,
      template: '[default]\naws_access_key_id = {{ .Data.data.access_key_id }}\naws_secret_access_key = {{ .Data.data.secret_access_key }}\n',
    },
    ...(walgUsesKey(access) ? [{ path: WALG_KEY_PATH, file: WALG_FILES.key.file, env: WALG_FILES.key.env, template: '{{ .Data.data.key }}' }] : []),
  ];
}

/**
 * Where the IAM policy of `access`'s credentials is written below `dist/<env>/`: named after
 * the Vault entry that holds them (`object-store/walg-s3-<access>.json`), so the entry and
 * the policy of its key are found by one name.
 */
export function walgIamPolicyPath(access: WalgAccess): string {
  return `object-store/${walgCredentialsPath(access).split('/').pop()}.json`;
}

/** The bucket and the key prefix (no trailing slash) of a WAL-G prefix `s3://<bucket>[/<path>]`. */
export function s3Location(prefix: string): { bucket: string; path: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(prefix);
  if (!m) throw new Error(`WAL-G prefix: expected s3://<bucket>[/<path>], found "${prefix}"`);
  return { bucket: m[1], path: (m[2] ?? '').replace(/\/+$/, '') };
}

/**
 * The least-privilege S3 IAM policy (identity policy, JSON) of `access` on the archive at
 * `prefix`: exactly the requests of its commands ({@link walgRequests}), on the keys below the
 * prefix. The ARNs are of the `aws` partition (S3-compatible stores such as MinIO read them
 * the same way). No credential is in it.
 */
export function walgIamPolicy(access: WalgAccess, prefix: string): Record<string, unknown> {
  const { bucket, path } = s3Location(prefix);
  const keys = (folder: WalgFolder) => `${path ? `${path}/` : ''}${folder === '*' ? '' : `${folder}/`}*`;
  const requests = walgRequests(access);
  const foldersOf = (action: WalgS3Request['action']) => [...new Set(requests.filter((r) => r.action === action).map((r) => r.folder))]
    // A grant on the whole prefix covers its folders.
    .filter((f, _i, all) => f === '*' || !all.includes('*')).sort();
  const statement = (sid: string, actions: Array<WalgS3Request['action']>) => {
    const folders = foldersOf(actions[0]);
    return folders.length === 0 ? [] : [{ Sid: sid, Effect: 'Allow', Action: actions, Resource: folders.map((f) => `arn:aws:s3:::${bucket}/${keys(f)}`) }];
  };
  const listed = foldersOf('s3:ListBucket');
  return {
    Version: '2012-10-17',
    Statement: [
      ...(listed.length === 0 ? [] : [{
        Sid: 'ListArchive', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${bucket}`,
        Condition: { StringLike: { 's3:prefix': listed.map(keys) } },
      }]),
      ...statement('ReadArchive', ['s3:GetObject']),
      ...statement('WriteArchive', ['s3:PutObject']),
      ...statement('AbortUploads', ['s3:AbortMultipartUpload']),
      ...statement('DeleteArchive', ['s3:DeleteObject']),
    ],
  };
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
