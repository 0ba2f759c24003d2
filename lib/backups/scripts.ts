/**
 * The backup jobs' scripts, as the ConfigMap `pg-backup-scripts` holds them (POSIX sh,
 * run by `sh <file>` in the PostgreSQL image, which contains WAL-G; no jq, no python).
 * Credentials come from Vault files named by `*_FILE` env vars, never from env literals.
 */
import { RESTORE_TEST_SCRIPT } from './restore-test-script';

/** Env vars the scripts read besides WAL-G's own. */
export const BACKUP_SCRIPT_ENV = {
  /** File holding the backup role's password (rendered by Vault). */
  backupRoleFile: 'WALG_BACKUP_ROLE_FILE',
  /** Full backups kept by the retention job. */
  retainFull: 'WALG_RETAIN_FULL',
  /** The wal-verify command (words; the test replaces it). */
  walVerifyCommand: 'WAL_VERIFY_COMMAND',
  /**
   * File with the heartbeat role's login, rendered by Vault: the user name on the first line,
   * the password on the second, each exactly as stored (never shell syntax: the script reads
   * the lines as data, so no character of a password can run a command).
   */
  heartbeatLoginFile: 'HEARTBEAT_LOGIN_FILE',
  /** Schema and table of the heartbeat. */
  heartbeatSchema: 'HEARTBEAT_SCHEMA',
  heartbeatTable: 'HEARTBEAT_TABLE',
  /** Days of heartbeat rows kept. */
  heartbeatRetentionDays: 'HEARTBEAT_RETENTION_DAYS',
} as const;

const E = BACKUP_SCRIPT_ENV;

/** Base backup: WAL-G's remote (streaming) backup-push against the primary, never through PgBouncer. */
export const BASE_BACKUP_SCRIPT = `#!/bin/sh
# Base backup: remote-mode "wal-g backup-push" (no data directory argument) over the
# replication protocol to PGHOST:PGPORT, the primary's Service. Never PgBouncer: the
# backup needs one session for pg_backup_start/pg_backup_stop. WAL-G >= 3.0.9 on PostgreSQL 15+.
set -eu
PGPASSWORD=$(cat "$${E.backupRoleFile}")
export PGPASSWORD
echo "base-backup: wal-g backup-push from $PGHOST:$PGPORT as $PGUSER into $WALG_S3_PREFIX"
exec wal-g backup-push
`;

/** Retention: keep the newest n full backups (and the WAL they need), by the sentinels' times. */
export const RETENTION_SCRIPT = `#!/bin/sh
# Retention: keep the newest $${E.retainFull} full backups and the WAL they need.
# --use-sentinel-time orders backups by their finish time, not by name (names sort wrongly
# after a pg_upgrade); without --confirm wal-g delete is only a dry run.
set -eu
echo "retention: wal-g delete retain FULL $${E.retainFull} in $WALG_S3_PREFIX"
exec wal-g delete retain FULL "$${E.retainFull}" --use-sentinel-time --confirm
`;

/**
 * WAL integrity: `wal-g wal-verify integrity timeline --json` exits 0 even when it reports
 * FAILURE, so the script reads the two statuses from the JSON (sh, tr and sed only) and
 * fails itself: FAILURE (or no status) fails the job; WARNING (segments not uploaded yet)
 * is printed and passes.
 */
export const WAL_VERIFY_SCRIPT = `#!/bin/sh
# WAL integrity: wal-g wal-verify exits 0 even when it reports FAILURE; read its JSON.
set -u
if [ -n "\${${E.backupRoleFile}:-}" ]; then
  PGPASSWORD=$(cat "$${E.backupRoleFile}") || exit 1
  export PGPASSWORD
fi
: "\${${E.walVerifyCommand}:=wal-g wal-verify integrity timeline --json}"
# shellcheck disable=SC2086 # the command is words
out=$($${E.walVerifyCommand}) || { rc=$?; echo "wal-verify: FAILED: '$${E.walVerifyCommand}' exited with $rc" >&2; exit 1; }
printf '%s\\n' "$out"
# The JSON is {"integrity":{"status":"OK","details":[…]},"timeline":{"status":"OK","details":{…}}};
# WAL-G writes status before details. Strip white space, then take each check's status.
flat=$(printf '%s' "$out" | tr -d ' \\t\\r\\n')
status() { printf '%s' "$flat" | sed -n "s/.*\\"$1\\":{\\"status\\":\\"\\([A-Z]*\\)\\".*/\\1/p"; }
integrity=$(status integrity)
timeline=$(status timeline)
if [ -z "$integrity" ] || [ -z "$timeline" ]; then
  echo "wal-verify: FAILED: no integrity.status and timeline.status in the output above" >&2
  exit 1
fi
echo "wal-verify: integrity $integrity, timeline $timeline"
rc=0
for check in "integrity:$integrity" "timeline:$timeline"; do
  case "\${check#*:}" in
    OK) ;;
    WARNING) echo "wal-verify: WARNING: \${check%%:*} check: segments may still be uploading; see the details above" ;;
    *) echo "wal-verify: FAILED: \${check%%:*} check reports \${check#*:}: the archive cannot restore to the present; see the details above" >&2; rc=1 ;;
  esac
done
exit "$rc"
`;

/** The heartbeat's SQL (psql variables: schema, table, retention_days); each statement is its own transaction, as PgBouncer's transaction pooling wants. */
export const HEARTBEAT_SQL = `-- One heartbeat row: the restore test measures the recovery point by the newest one.
-- Schema and table are created only when missing (no NOTICE every minute).
SELECT format('CREATE SCHEMA %I', :'schema')
  WHERE NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = :'schema') \\gexec
SELECT format('CREATE TABLE %I.%I (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, beat_at timestamptz NOT NULL DEFAULT now())', :'schema', :'table')
  WHERE to_regclass(format('%I.%I', :'schema', :'table')) IS NULL \\gexec
INSERT INTO :"schema".:"table" DEFAULT VALUES;
DELETE FROM :"schema".:"table" WHERE beat_at < now() - make_interval(days => :retention_days);
`;

/**
 * Heartbeat: one row through PgBouncer (PGHOST/PGPORT/PGDATABASE from env, the login from
 * Vault). The login file is read as two lines of data (`IFS= read -r`), never sourced: a
 * password is whatever Vault holds, and `$(…)`, backticks or a quote in it must stay
 * characters of the password, not shell code run by the job.
 */
export const HEARTBEAT_SCRIPT = `#!/bin/sh
# Heartbeat: one row in $${E.heartbeatSchema}.$${E.heartbeatTable}, through PgBouncer.
set -eu
# The login file (Vault): the user name, then the password, one per line. Read as data,
# never sourced: no character of a password is ever shell syntax here.
{ IFS= read -r PGUSER && IFS= read -r PGPASSWORD; } < "$${E.heartbeatLoginFile}" || {
  echo "heartbeat: $${E.heartbeatLoginFile}: expected the user name and the password on two lines" >&2
  exit 1
}
export PGUSER PGPASSWORD
exec psql -X -q -v ON_ERROR_STOP=1 -v schema="$${E.heartbeatSchema}" -v table="$${E.heartbeatTable}" \\
  -v retention_days="$${E.heartbeatRetentionDays}" -f "$(dirname "$0")/heartbeat.sql"
`;

/** File names in the ConfigMap. */
export const BACKUP_SCRIPT_FILES = {
  baseBackup: 'base-backup.sh',
  retention: 'retention.sh',
  walVerify: 'wal-verify.sh',
  restoreTest: 'restore-test.sh',
  heartbeat: 'heartbeat.sh',
  heartbeatSql: 'heartbeat.sql',
} as const;

export type BackupScriptFile = typeof BACKUP_SCRIPT_FILES[keyof typeof BACKUP_SCRIPT_FILES];

/** The ConfigMap's data: every script, by file name. */
export function backupScriptFiles(): Record<BackupScriptFile, string> {
  const F = BACKUP_SCRIPT_FILES;
  return {
    [F.baseBackup]: BASE_BACKUP_SCRIPT,
    [F.retention]: RETENTION_SCRIPT,
    [F.walVerify]: WAL_VERIFY_SCRIPT,
    [F.restoreTest]: RESTORE_TEST_SCRIPT,
    [F.heartbeat]: HEARTBEAT_SCRIPT,
    [F.heartbeatSql]: HEARTBEAT_SQL,
  };
}
