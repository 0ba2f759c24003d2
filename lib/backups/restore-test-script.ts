/**
 * The restore test as a POSIX shell script (run by `sh` in the PostgreSQL image, which
 * contains WAL-G): fetch the latest base backup into an empty PGDATA, recover it from the
 * WAL archive with archiving off and no network listener, wait until the copy is promoted
 * and writable, then check it. Every setting comes from the environment (names in
 * {@link RESTORE_TEST_ENV}), so the same text runs in the CronJob (WAL-G) and in the real
 * test (test/tools/restore-test.test.ts: pg_basebackup and a `cp` archive).
 */
import { RESTORE_COMMAND_WRAPPER } from '../database';

/** The environment variables the script reads. */
export const RESTORE_TEST_ENV = {
  /** Where the backup is restored; must be empty or absent. Required. */
  pgdata: 'PGDATA',
  /** Scratch folder: socket, log, restore_command wrapper. Required. */
  workDir: 'RESTORE_TEST_WORK_DIR',
  /** Shell command that fills "$PGDATA" with the latest base backup. */
  fetchCommand: 'RESTORE_TEST_FETCH_COMMAND',
  /**
   * Command (words, no shell syntax) the restore_command wrapper ({@link RESTORE_COMMAND_WRAPPER},
   * the one PostgreSQL itself uses) runs as `<command> %f %p`; exit 74 = not in the archive.
   */
  walFetchCommand: 'WALG_FETCH',
  /** Recovery-point objective in seconds. Required. */
  rpoSeconds: 'RESTORE_TEST_RPO_SECONDS',
  /** Database holding the checked tables. */
  database: 'RESTORE_TEST_DATABASE',
  /** Superuser of the restored cluster (connected through the private socket). */
  superuser: 'RESTORE_TEST_SUPERUSER',
  /** `schema.table` whose newest row must be within the RPO. */
  recencyTable: 'RESTORE_TEST_RECENCY_TABLE',
  /** Its timestamp column. */
  recencyColumn: 'RESTORE_TEST_RECENCY_COLUMN',
  /** Row-count floors: `schema.table=min` separated by spaces. */
  rowFloors: 'RESTORE_TEST_ROW_FLOORS',
  /** pg_amcheck (tables and B-tree indexes, every tuple in its indexes): `database` (the checked one), `all` (every database) or `off`. */
  amcheck: 'RESTORE_TEST_AMCHECK',
  /** Seconds to wait for recovery to end. */
  recoveryTimeoutSeconds: 'RESTORE_TEST_RECOVERY_TIMEOUT_SECONDS',
  /** Seconds between two looks at the recovering server. */
  pollSeconds: 'RESTORE_TEST_POLL_SECONDS',
  /** shared_buffers of the restored copy (the production value may not fit the job's memory). */
  sharedBuffers: 'RESTORE_TEST_SHARED_BUFFERS',
  /** Pushgateway base URL; empty: no push. */
  pushgatewayUrl: 'RESTORE_TEST_PUSHGATEWAY_URL',
  /** Grouping key of the pushed metrics, as a Pushgateway path: `job/<job>/namespace/<ns>`. */
  pushGroup: 'RESTORE_TEST_PUSH_GROUP',
} as const;

/** Default fetch: WAL-G's latest base backup into PGDATA. */
export const WALG_BACKUP_FETCH = 'wal-g backup-fetch "$PGDATA" LATEST';
/** Default WAL fetch: WAL-G's wal-fetch, which exits 74 when the segment is not in the archive. */
export const WALG_WAL_FETCH = 'wal-g wal-fetch';

/** Metric names the script pushes (gauges). */
export const RESTORE_TEST_METRICS = {
  lastRun: 'pg_restore_test_last_run_timestamp_seconds',
  lastSuccess: 'pg_restore_test_last_success_timestamp_seconds',
  success: 'pg_restore_test_success',
  duration: 'pg_restore_test_duration_seconds',
  lag: 'pg_restore_test_recovered_lag_seconds',
} as const;

const E = RESTORE_TEST_ENV;
const M = RESTORE_TEST_METRICS;

/** The script. */
export const RESTORE_TEST_SCRIPT = `#!/bin/sh
# Pronto restore test: a backup is only real if a restore was tested.
#
# 1. fetch the latest base backup into an empty PGDATA ($${E.fetchCommand});
# 2. write recovery.signal and the restore command (PostgreSQL's own restore-wal.sh
#    wrapper around $${E.walFetchCommand}: it stops recovery on any error but exit 74,
#    "not in the archive", instead of ending recovery early);
# 3. start PostgreSQL with archiving OFF (a restored copy must never write into the
#    production archive) and no network listener (Unix socket in a private folder only);
# 4. wait until recovery has finished and the copy is writable (pg_is_in_recovery() = false);
# 5. check: the newest row of $${E.recencyTable} is within the recovery-point objective
#    of the start of this test, the row-count floors hold, and (optionally) pg_amcheck
#    finds no corruption;
# 6. push the result to the Pushgateway when $${E.pushgatewayUrl} is set.
# Exits non-zero, with the reason on the last line, when anything fails.
set -u

: "\${PGDATA:?PGDATA (where the backup is restored) is required}"
: "\${${E.workDir}:?${E.workDir} (scratch folder) is required}"
: "\${${E.rpoSeconds}:?${E.rpoSeconds} (recovery-point objective) is required}"
: "\${${E.fetchCommand}:=${WALG_BACKUP_FETCH}}"
: "\${${E.walFetchCommand}:=${WALG_WAL_FETCH}}"
: "\${${E.database}:=postgres}"
: "\${${E.superuser}:=postgres}"
: "\${${E.recencyTable}:=}"
: "\${${E.recencyColumn}:=}"
: "\${${E.rowFloors}:=}"
: "\${${E.amcheck}:=off}"
: "\${${E.recoveryTimeoutSeconds}:=21600}"
: "\${${E.pollSeconds}:=5}"
: "\${${E.sharedBuffers}:=128MB}"
: "\${${E.pushgatewayUrl}:=}"
: "\${${E.pushGroup}:=job/pg-restore-test}"
PGPORT=5432
export PGDATA PGPORT ${E.fetchCommand} ${E.walFetchCommand}

work=$${E.workDir}
socket_dir=$work/run
log_file=$work/postgres.log
started=$(date +%s)
result=1
lag=
pg_pid=
problems=

log() { printf '%s restore-test: %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
fail() { log "FAILED: $*"; exit 1; }
problem() { log "check failed: $*"; problems="$problems
  - $*"; }
is_uint() { case "$1" in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }
is_table() { printf '%s' "$1" | grep -Eq '^[a-z_][a-z0-9_]*[.][a-z_][a-z0-9_]*$'; }
sql() { psql -X -A -t -q -v ON_ERROR_STOP=1 -h "$socket_dir" -U "$${E.superuser}" -d "$${E.database}" -c "$1"; }
log_tail() { [ -f "$log_file" ] && { echo "--- last lines of the PostgreSQL log ($log_file) ---"; tail -n 25 "$log_file"; echo "---"; }; }

stop_postgres() {
  [ -n "$pg_pid" ] || return 0
  if kill -0 "$pg_pid" 2>/dev/null; then
    kill -INT "$pg_pid" 2>/dev/null
    i=0
    while kill -0 "$pg_pid" 2>/dev/null && [ "$i" -lt 60 ]; do sleep 1; i=$((i + 1)); done
    kill -QUIT "$pg_pid" 2>/dev/null
  fi
  pg_pid=
}

push_metrics() {
  [ -n "$${E.pushgatewayUrl}" ] || return 0
  now=$(date +%s)
  body="# TYPE ${M.lastRun} gauge
${M.lastRun} $started
# TYPE ${M.success} gauge
${M.success} $([ "$result" -eq 0 ] && echo 1 || echo 0)
# TYPE ${M.duration} gauge
${M.duration} $((now - started))"
  [ -n "$lag" ] && body="$body
# TYPE ${M.lag} gauge
${M.lag} $lag"
  # Only a success moves the last-success time; POST replaces just the metrics it names.
  [ "$result" -eq 0 ] && body="$body
# TYPE ${M.lastSuccess} gauge
${M.lastSuccess} $now"
  printf '%s\\n' "$body" | curl -fsS --max-time 30 --retry 3 --data-binary @- "\${${E.pushgatewayUrl}%/}/metrics/$${E.pushGroup}"
}

finish() {
  rc=$?
  trap - EXIT
  stop_postgres
  [ "$rc" -eq 0 ] || result=1
  # The restore's own result decides the exit code: a Pushgateway that is down must not fail a
  # restore that worked (and fire the failure alert); the missing push shows as a stale result.
  if ! push_metrics; then
    log "WARNING: could not push the result to $${E.pushgatewayUrl}; the restore itself $([ "$rc" -eq 0 ] && echo passed || echo failed)"
  fi
  exit "$rc"
}
trap finish EXIT
trap 'log "stopped by a signal (the Job deadline?)"; exit 143' TERM INT HUP

is_uint "$${E.rpoSeconds}" || fail "${E.rpoSeconds}: expected whole seconds, found \\"$${E.rpoSeconds}\\""
is_uint "$${E.recoveryTimeoutSeconds}" || fail "${E.recoveryTimeoutSeconds}: expected whole seconds, found \\"$${E.recoveryTimeoutSeconds}\\""
if [ -n "$${E.recencyTable}" ]; then
  is_table "$${E.recencyTable}" || fail "${E.recencyTable}: expected schema.table, found \\"$${E.recencyTable}\\""
  printf '%s' "$${E.recencyColumn}" | grep -Eq '^[a-z_][a-z0-9_]*$' || fail "${E.recencyColumn}: expected a column name, found \\"$${E.recencyColumn}\\""
fi
case "$${E.amcheck}" in database | all | off) ;; *) fail "${E.amcheck}: expected database, all or off, found \\"$${E.amcheck}\\"" ;; esac
for floor in $${E.rowFloors}; do
  { is_table "\${floor%%=*}" && is_uint "\${floor#*=}"; } || fail "${E.rowFloors}: expected schema.table=rows, found \\"$floor\\""
done
if [ -n "$${E.pushgatewayUrl}" ] && ! command -v curl >/dev/null 2>&1; then
  fail "${E.pushgatewayUrl} is set but curl is not in the image: the result could not be pushed"
fi
if [ -d "$PGDATA" ] && [ -n "$(ls -A "$PGDATA")" ]; then
  fail "PGDATA $PGDATA is not empty: the restore test only restores into an empty folder"
fi
mkdir -p "$socket_dir" || fail "cannot create $socket_dir"
chmod 0700 "$socket_dir"

# 1. The latest base backup.
log "fetching the latest base backup into $PGDATA"
sh -c "$${E.fetchCommand}" || fail "fetching the latest base backup failed (exit code $?): check the object store, the read-only credentials and the encryption key (without the key no backup is readable)"
[ -f "$PGDATA/PG_VERSION" ] || fail "the fetched backup has no PG_VERSION: $PGDATA is not a PostgreSQL data directory"
chmod 0700 "$PGDATA"
rm -f "$PGDATA/postmaster.pid" "$PGDATA/standby.signal"
log "fetched a PostgreSQL $(cat "$PGDATA/PG_VERSION") data directory"

# 2. Recovery settings. postgresql.auto.conf is read last, so these win over the
# restored postgresql.conf; the command line below repeats the two that protect production.
cat >"$work/restore-wal.sh" <<'WRAPPER'
${RESTORE_COMMAND_WRAPPER.trimEnd()}
WRAPPER
chmod 0500 "$work/restore-wal.sh"
echo 'local all all trust' >"$work/pg_hba.conf"
: >"$work/pg_ident.conf"
cat >>"$PGDATA/postgresql.auto.conf" <<SETTINGS
# Added by the restore test: never archive, never listen on the network.
archive_mode = 'off'
archive_command = ''
archive_library = ''
listen_addresses = ''
unix_socket_directories = '$socket_dir'
unix_socket_permissions = 0700
port = 5432
hba_file = '$work/pg_hba.conf'
ident_file = '$work/pg_ident.conf'
ssl = 'off'
restore_command = '$work/restore-wal.sh "%f" "%p"'
recovery_target_timeline = 'latest'
recovery_target_action = 'promote'
hot_standby = 'off'
primary_conninfo = ''
primary_slot_name = ''
shared_buffers = '$${E.sharedBuffers}'
logging_collector = 'off'
log_destination = 'stderr'
SETTINGS
touch "$PGDATA/recovery.signal"

# 3. Start it: archiving off, no TCP listener.
log "starting PostgreSQL in recovery (archive_mode=off, listen_addresses='')"
postgres -D "$PGDATA" -c archive_mode=off -c listen_addresses= >"$log_file" 2>&1 &
pg_pid=$!

# 4. Wait until recovery has ended and the copy is writable.
deadline=$((started + ${E.recoveryTimeoutSeconds}))
while :; do
  if ! kill -0 "$pg_pid" 2>/dev/null; then
    pg_pid=
    log_tail
    fail "PostgreSQL stopped before recovery finished: a WAL segment the backup needs is missing or unreadable, or the backup is damaged (see the log above)"
  fi
  state=$(sql 'SELECT pg_is_in_recovery()' 2>/dev/null) || state=
  [ "$state" = f ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    log_tail
    fail "recovery did not finish within $${E.recoveryTimeoutSeconds} s"
  fi
  sleep "$${E.pollSeconds}"
done
log "recovery finished: the copy is promoted and writable"
sql 'CREATE TEMPORARY TABLE restore_test_write_probe (id int); DROP TABLE restore_test_write_probe' >/dev/null \\
  || fail "the restored copy does not accept writes"

# 5. Checks. Each failure is reported; the test fails if any did.
if [ -n "$${E.recencyTable}" ]; then
  if ! newest=$(sql "SELECT coalesce(floor(extract(epoch FROM max($${E.recencyColumn})))::bigint::text, 'none') FROM $${E.recencyTable}" 2>&1); then
    problem "recency: reading $${E.recencyTable}.$${E.recencyColumn} failed: $newest"
  elif [ "$newest" = none ]; then
    problem "recency: $${E.recencyTable} has no rows (is the heartbeat job running?)"
  else
    lag=$((started - newest))
    [ "$lag" -lt 0 ] && lag=0
    if [ "$lag" -gt "$${E.rpoSeconds}" ]; then
      problem "recovery-point objective violated: the newest row of $${E.recencyTable} ($(date -u -d "@$newest" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo "epoch $newest")) is $lag s older than the start of this test; the RPO is $${E.rpoSeconds} s"
    else
      log "recency: the newest row of $${E.recencyTable} is $lag s old (RPO $${E.rpoSeconds} s)"
    fi
  fi
fi
for floor in $${E.rowFloors}; do
  table=\${floor%%=*}
  min=\${floor#*=}
  if ! rows=$(sql "SELECT count(*) FROM $table" 2>&1) || ! is_uint "$rows"; then
    problem "row count: reading $table failed: $rows"
  elif [ "$rows" -lt "$min" ]; then
    problem "row count: $table has $rows rows, fewer than its floor of $min"
  else
    log "row count: $table has $rows rows (floor $min)"
  fi
done
case "$${E.amcheck}" in
  database) amcheck_scope="-d $${E.database}" ;;
  all) amcheck_scope=--all ;;
  *) amcheck_scope= ;;
esac
if [ -n "$amcheck_scope" ]; then
  # shellcheck disable=SC2086 # the scope is one or two words
  if out=$(pg_amcheck $amcheck_scope --install-missing --heapallindexed -h "$socket_dir" -U "$${E.superuser}" 2>&1); then
    log "amcheck ($${E.amcheck}): no corruption found in tables and B-tree indexes"
  else
    problem "amcheck found corruption:
$out"
  fi
fi

# 6. The verdict.
if [ -n "$problems" ]; then
  fail "the restored copy failed its checks:$problems"
fi
result=0
log "PASSED: the latest base backup restored, recovered and verified in $(( $(date +%s) - started )) s"
`;
