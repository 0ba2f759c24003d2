/**
 * Shell pieces the PostgreSQL and PgBouncer start scripts share.
 *
 * The exporters' logins. An exporter is a sidecar, and the Vault agent renders every file of a
 * pod into one volume: mounted into the exporter, it would hand the exporter the superuser's,
 * the WAL-G and the other platform credentials too. So the exporter never mounts it. The main
 * container's start script copies the one password the exporter needs, as a libpq password
 * file (mode 0600), into a small in-memory volume only the two share, which the exporter
 * mounts read-only. Both exporters read it through `PGPASSFILE` at every connection (lib/pq
 * v1.10.9, conn.go handlePgpass; postgres_exporter v0.17.1 and pgbouncer_exporter v0.11.0 use
 * it), so an exporter that starts first simply fails its first scrapes.
 *
 * TLS reloads. cert-manager renews a certificate into its Secret, and the kubelet updates the
 * mounted files; PostgreSQL and PgBouncer read them at start and on SIGHUP only (PostgreSQL's
 * "reloaded on SIGHUP", PgBouncer's config.md "TLS settings": "used for new connections after
 * a RELOAD"). The start scripts watch the files and send SIGHUP when they change.
 */

/** The volume the main container writes the exporter's login to, and where both see it. */
export const EXPORTER_LOGIN = {
  volume: 'exporter-login',
  dir: '/run/exporter',
  /** The libpq password file (`PGPASSFILE` of the exporter). */
  file: 'pgpass',
} as const;

/** The exporter's password file, as its container sees it. */
export const EXPORTER_PGPASSFILE = `${EXPORTER_LOGIN.dir}/${EXPORTER_LOGIN.file}`;

/** Seconds between two looks at the TLS files. cert-manager renews weeks before expiry: minutes are plenty. */
export const TLS_RELOAD_CHECK_SECONDS = 300;

/**
 * Shell lines that write `user`'s login (its password from the Vault file `passwordFile`) as a
 * libpq password file for 127.0.0.1:`port` into the exporter's volume, mode 0600, atomically
 * (`:` and `\` escaped as libpq reads them). An empty password, or the agent's `<no value>`
 * for a missing Vault field, stops the container with the field's name.
 */
export function exporterLoginShell(passwordFile: string, user: string, port: number, vaultField: string): string {
  return `# ${user}'s login for the exporter sidecar, which mounts only this folder, never the Vault files.
pw=$(cat "${passwordFile}")
case "$pw" in
  ''|'<no value>') echo "$0: ${passwordFile} is empty: set the field ${vaultField} in its Vault entry" >&2; exit 1 ;;
esac
( umask 077
  printf '127.0.0.1:${port}:*:${user}:%s\\n' "$(printf '%s' "$pw" | sed 's/[\\\\:]/\\\\&/g')" > "${EXPORTER_LOGIN.dir}/.${EXPORTER_LOGIN.file}"
  mv -f "${EXPORTER_LOGIN.dir}/.${EXPORTER_LOGIN.file}" "${EXPORTER_PGPASSFILE}" )
unset pw`;
}

/**
 * Shell lines that start a background loop sending SIGHUP to the process `pid` (a shell word:
 * `"$pid"`, `1`) whenever the content of `files` changes.
 */
export function tlsReloadShell(files: readonly string[], pid: string): string {
  const list = files.map((f) => `"${f}"`).join(' ');
  return `# cert-manager renews the certificate into its Secret; the server reads the files at start and on SIGHUP only.
(
  last=$(cat ${list} 2>/dev/null | cksum)
  while sleep ${TLS_RELOAD_CHECK_SECONDS}; do
    now=$(cat ${list} 2>/dev/null | cksum)
    if [ "$now" != "$last" ] && kill -HUP ${pid}; then
      echo "$0: the TLS certificate changed: reloaded"
      last=$now
    fi
  done
) &`;
}
