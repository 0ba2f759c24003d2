/**
 * Redis's users, one per service: the ACL rules of an app, the `user` lines the Vault agent
 * renders (the password as its SHA-256, so Redis's files never hold one), and the start
 * script that refuses two users with one password. Pure renderers; the facts come from
 * the Redis documentation and source of the 7.x line (`src/acl.c`, `src/commands/*.json`),
 * and `test/tools/redis.spec.ts` checks every rule in a real redis-server.
 */

/** Redis's built-in user: switched off, so a connection that has not authenticated can run nothing. */
export const REDIS_DEFAULT_USER = 'default';

/**
 * The key (and channel) prefix of a service's Redis user: its name and a colon. A service's
 * keys are `<service>:…`; another prefix is out of its reach.
 */
export function redisKeyPrefix(user: string): string {
  return `${user}:`;
}

/**
 * What an app's user may run, after `reset` (no keys, no channels, no commands): the data
 * commands (`@read`, `@write`: strings, hashes, lists, sets, sorted sets, streams, expiry,
 * blocking pops), pub/sub, MULTI/EXEC and the connection commands, then without
 * - `@dangerous`, `@admin`: FLUSHALL, FLUSHDB, SWAPDB, KEYS, SORT (its BY/GET read other
 *   keys), MIGRATE, RESTORE, CONFIG, ACL, DEBUG, SHUTDOWN, MONITOR, INFO, SLOWLOG,
 *   CLIENT KILL/LIST/PAUSE, SAVE, REPLICAOF, MODULE …;
 * - `@scripting`: EVAL, EVALSHA, SCRIPT, FUNCTION, FCALL (a script's keys are not checked
 *   against the prefix when it builds them at run time);
 * - the keyspace commands that reach keys without naming them, so the prefix cannot limit
 *   them: SCAN and RANDOMKEY (other services' key names), DBSIZE (their count), SELECT
 *   (every service uses database 0: `/0` in its URL);
 * - PUBSUB (CHANNELS, NUMSUB …: every service's channel names) and CLIENT TRACKING (its
 *   BCAST mode reports other services' keys as they change).
 * Keys and channels are limited to the user's prefix ({@link redisUserRules}), so a
 * command that names a key of another service is refused (NOPERM).
 */
export const REDIS_APP_COMMANDS: readonly string[] = [
  '+@read', '+@write', '+@pubsub', '+@transaction', '+@connection',
  '-@dangerous', '-@admin', '-@scripting',
  '-scan', '-randomkey', '-dbsize', '-select', '-pubsub', '-client|tracking',
];

/** What the readiness probe's user may run: PING, nothing else (no key, no channel). */
export const REDIS_HEALTHCHECK_COMMANDS: readonly string[] = ['+ping'];

/** The Vault agent's template of a password's SHA-256 (consul-template's `sha256Hex`, lower-case hex as Redis's `#<hash>` wants it). */
export const PASSWORD_SHA256_TEMPLATE = '{{ .Data.data.password | sha256Hex }}';

/** The ACL rules of an app's user, after its password: keys and channels below its prefix, {@link REDIS_APP_COMMANDS}. */
export function redisUserRules(user: string): string {
  const prefix = redisKeyPrefix(user);
  return [`~${prefix}*`, `&${prefix}*`, ...REDIS_APP_COMMANDS].join(' ');
}

/**
 * One `user` line of redis.conf as a Vault agent template: `reset` first (whatever the
 * line is applied over, only what follows counts), on, the password as `#<sha256>` from
 * the KV entry's `password` field (`sha256Hex`: consul-template `template/funcs.go`, in
 * consul-template v0.25.0 and later, which Vault's agent embeds: its go.mod pinned v0.32.0 by 2023), then `rules`.
 */
export function redisUserTemplate(user: string, rules: string): string {
  if (!/^[a-z0-9][-a-z0-9_]*$/.test(user)) throw new Error(`Redis user "${user}": expected lower-case letters, digits, "-" and "_"`);
  return `user ${user} reset on #${PASSWORD_SHA256_TEMPLATE} ${rules}`;
}

/**
 * The `user` lines of every app, as one Vault agent template over the apps' entries (lib/secrets
 * VaultSecretFile.forEach): per app, {@link redisUserTemplate}'s line for `{{ $name }}`, the app's
 * name, with its keys and channels below `{{ $name }}:` ({@link redisUserRules}), and a newline.
 */
export function redisAppUsersTemplate(): string {
  const name = '{{ $name }}';
  return `user ${name} reset on #${PASSWORD_SHA256_TEMPLATE} ${redisUserRules(name)}\n`;
}

/** redis.conf's line for the built-in user: `reset` leaves it off, without password, keys, channels or commands. */
export const REDIS_DEFAULT_USER_LINE = `user ${REDIS_DEFAULT_USER} reset`;

/** SHA-256 of the empty string: a user with it has an empty password. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * The user that reloads Redis's TLS certificate: it exists only in the Redis container, made
 * by the start script with a random password that is never written down, and may run
 * CONFIG SET alone. Not a DNS label ("_"), so no catalog service can have its name.
 */
export const REDIS_TLS_RELOAD_USER = 'pronto_tls_reload';

/** Seconds between two looks at the TLS files (the script's TLS_RELOAD_CHECK_SECONDS overrides it). cert-manager renews weeks before expiry. */
export const REDIS_TLS_RELOAD_CHECK_SECONDS = 300;

/** What the start script needs to reload Redis's certificate when cert-manager renews it. */
export interface RedisStartTls {
  /** Redis's certificate and key files (`tls-cert-file`, `tls-key-file`). */
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA that signed them, for redis-cli's own check of the server. */
  readonly caFile: string;
  /** The TLS port. */
  readonly port: number;
}

/**
 * The Redis container's start script (`sh start.sh <redis.conf>`): reads the `user` lines of
 * every file the configuration includes (the Vault-rendered ones) and refuses to start
 * when two users have one password (each could log in as the other: until the per-service
 * users, every `<service>/redis` entry held the one shared password, so an environment
 * upgraded without new passwords stops here, with the users named) or a user has an
 * empty one. Then Redis replaces the shell.
 *
 * With `tls`: Redis reads its certificate at start and on `CONFIG SET tls-cert-file` only
 * (a VOLATILE_CONFIG in src/config.c: setting the same path again reloads the file). A
 * background loop looks at the files every {@link REDIS_TLS_RELOAD_CHECK_SECONDS} and, when
 * cert-manager has renewed them, sets them again as {@link REDIS_TLS_RELOAD_USER}, whose
 * random password lives only in the loop's memory and which Redis gets on its command line
 * as a hash.
 */
export function redisStartScript(tls?: RedisStartTls): string {
  const reload = tls ? `# cert-manager renews the certificate into its Secret; Redis reads the files at start and on CONFIG SET only.
reload_pw=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n')
reload_hash=$(printf '%s' "$reload_pw" | sha256sum | cut -d' ' -f1)
(
  last=$(cat "${tls.certFile}" "${tls.keyFile}" 2>/dev/null | cksum)
  while sleep "\${TLS_RELOAD_CHECK_SECONDS:-${REDIS_TLS_RELOAD_CHECK_SECONDS}}"; do
    now=$(cat "${tls.certFile}" "${tls.keyFile}" 2>/dev/null | cksum)
    if [ "$now" != "$last" ] && REDISCLI_AUTH="$reload_pw" redis-cli --tls --cacert "${tls.caFile}" -p ${tls.port} --user ${REDIS_TLS_RELOAD_USER} \\
        config set tls-cert-file "${tls.certFile}" tls-key-file "${tls.keyFile}" | grep -qx OK; then
      echo "$0: the TLS certificate changed: reloaded"
      last=$now
    fi
  done
) &
exec redis-server "$conf" --user ${REDIS_TLS_RELOAD_USER} reset on "#$reload_hash" "+config|set"
` : `exec redis-server "$conf"
`;
  return `#!/bin/sh
# Generated by Pronto Platform (lib/database/redis-acl.ts): do not edit.
# Starts Redis when every user of the files redis.conf includes has a password of its own.
set -eu
conf="$1"
# "<sha256> <user>" per user: a file of one user ends without a newline, which awk (unlike sed) adds.
users=$(sed -n 's/^include //p' "$conf" | while read -r file; do
  awk '$1 == "user" { for (i = 3; i <= NF; i++) if (length($i) == 65 && substr($i, 1, 1) == "#") print substr($i, 2), $2 }' "$file"
done)
shared=$(printf '%s\\n' "$users" | awk 'NF == 2 { n[$1] = n[$1] " " $2; c[$1]++ } END { for (h in c) if (c[h] > 1) print n[h] }')
if [ -n "$shared" ]; then
  echo "redis: not starting: these users have the same password, so each could log in as the other:$shared." >&2
  echo "redis: give each its own password in Vault (each service's <service>/redis entry, field password), then restart the pod." >&2
  exit 1
fi
empty=$(printf '%s\\n' "$users" | awk '$1 == "${EMPTY_SHA256}" { print $2 }')
if [ -n "$empty" ]; then
  echo "redis: not starting: empty password for $empty: set the password field of its Vault entry." >&2
  exit 1
fi
${reload}`;
}
