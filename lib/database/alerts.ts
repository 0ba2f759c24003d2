/**
 * The data tier's alerts as typed rule groups: WAL archiving (postgres_exporter's
 * pg_stat_archiver), PgBouncer's waiting clients (pgbouncer_exporter), and the pg-roles
 * job's staleness (kube-state-metrics). The same groups
 * render into the PrometheusRule and into the files `promtool` checks and unit-tests.
 */
import { AlertingRule, RuleGroup, runbookUrl, staleCronJobExpr } from '../metrics';

export interface DatabaseAlertsOptions {
  /** Namespace the exporters' series carry (`namespace` label). */
  readonly namespace: string;
  /** `job` of postgres_exporter's series (the scraped Service's name). */
  readonly postgresJob: string;
  /** `job` of pgbouncer_exporter's series. */
  readonly pgbouncerJob: string;
  /** PostgreSQL's archive_timeout, in seconds: archiving lags once the last archive is older than 3 × this (at least 10 minutes). */
  readonly archiveTimeoutSeconds: number;
  /** The pg-roles CronJob, and how old its last success may be, in seconds. */
  readonly roles: { readonly cronJob: string; readonly maxAgeSeconds: number };
  /** The runbooks folder ({@link runbookUrl}). */
  readonly runbookBaseUrl: string;
}

/** The runbook page of the data tier's alerts: docs/runbooks/database.md. */
export const DATABASE_RUNBOOK_PAGE = 'database';

/** Names of the alerts, also the headings of their runbooks. */
export const DATABASE_ALERTS = {
  archivingFailing: 'PostgresWalArchivingFailing',
  archivingLagging: 'PostgresWalArchivingLagging',
  exporterDown: 'PostgresExporterDown',
  clientsWaiting: 'PgBouncerClientsWaiting',
  maxWait: 'PgBouncerMaxWaitHigh',
  pgbouncerDown: 'PgBouncerDown',
  rolesNotApplied: 'PostgresRolesNotApplied',
} as const;

/** Seconds after which archiving counts as lagging: 3 × archive_timeout, at least 600. */
export function archiveLagThresholdSeconds(archiveTimeoutSeconds: number): number {
  return Math.max(3 * archiveTimeoutSeconds, 600);
}

/** The rule groups of the data tier. */
export function databaseRuleGroups(o: DatabaseAlertsOptions): RuleGroup[] {
  const pg = `namespace="${o.namespace}", job="${o.postgresJob}"`;
  const pb = `namespace="${o.namespace}", job="${o.pgbouncerJob}"`;
  const alert = (a: Omit<AlertingRule, 'runbookUrl'>): AlertingRule => ({ ...a, runbookUrl: runbookUrl(o.runbookBaseUrl, DATABASE_RUNBOOK_PAGE, a.alert) });
  const lag = archiveLagThresholdSeconds(o.archiveTimeoutSeconds);
  return [
    {
      name: 'pronto.database.wal-archiving',
      rules: [
        alert({
          alert: DATABASE_ALERTS.archivingFailing,
          expr: `increase(pg_stat_archiver_failed_count{${pg}}[15m]) > 0`,
          for: '5m',
          severity: 'critical',
          summary: 'PostgreSQL fails to archive WAL segments ({{ $value }} failures in 15 minutes)',
          description: 'archive_command (wal-g wal-push) keeps failing: nothing new reaches the backup bucket, point-in-time recovery stops at the last archived segment, ' +
            'and pg_wal grows until the disk is full. Check first the postgres container\'s log for "archive command failed" and WAL-G\'s error (credentials, bucket, network policy to the object store).',
        }),
        alert({
          alert: DATABASE_ALERTS.archivingLagging,
          expr: `pg_stat_archiver_last_archive_age{${pg}} > ${lag}`,
          for: '5m',
          severity: 'warning',
          summary: 'The last archived WAL segment is {{ $value | humanizeDuration }} old',
          description: `No WAL segment was archived for more than ${lag} s, although archive_timeout is ${o.archiveTimeoutSeconds} s. ` +
            'Either the server writes no WAL at all (an idle database: a heartbeat job avoids this) or archiving is stuck. Check first pg_stat_archiver (last_failed_wal) and the postgres log.',
        }),
        alert({
          alert: DATABASE_ALERTS.exporterDown,
          expr: `(pg_up{${pg}} == 0) or absent(pg_up{${pg}})`,
          for: '10m',
          severity: 'warning',
          summary: 'postgres_exporter cannot reach PostgreSQL, or is not scraped',
          description: 'Without postgres_exporter the WAL archiving alerts cannot fire. Check first that the postgres pod is running and its postgres-exporter container is ready, then the ServiceMonitor.',
        }),
      ],
    },
    {
      name: 'pronto.database.pgbouncer',
      rules: [
        alert({
          alert: DATABASE_ALERTS.clientsWaiting,
          expr: `sum by (pod) (pgbouncer_pools_client_waiting_connections{${pb}}) > 0`,
          for: '5m',
          severity: 'warning',
          summary: '{{ $value }} clients of {{ $labels.pod }} have waited for a server connection for 5 minutes',
          description: 'The pools are exhausted: clients queue for a PostgreSQL connection. Check first for long transactions in pg_stat_activity (idle in transaction), then the pool sizes against max_connections.',
        }),
        alert({
          alert: DATABASE_ALERTS.maxWait,
          expr: `max by (pod) (pgbouncer_pools_client_maxwait_seconds{${pb}}) > 1`,
          for: '2m',
          severity: 'warning',
          summary: 'A client of {{ $labels.pod }} has waited {{ $value }} s for a server connection',
          description: 'Queries wait in PgBouncer before they run: latency the apps see. Check first slow or blocked queries on PostgreSQL, then whether the pools are too small.',
        }),
        alert({
          alert: DATABASE_ALERTS.pgbouncerDown,
          expr: `(pgbouncer_up{${pb}} == 0) or absent(pgbouncer_up{${pb}})`,
          for: '5m',
          severity: 'critical',
          summary: 'pgbouncer_exporter cannot reach PgBouncer, or no PgBouncer is scraped',
          description: 'The apps reach PostgreSQL only through PgBouncer. Check first the pgbouncer pods (kubectl get pods -l app.kubernetes.io/name=pgbouncer) and their logs.',
        }),
      ],
    },
    {
      name: 'pronto.database.roles',
      rules: [
        alert({
          alert: DATABASE_ALERTS.rolesNotApplied,
          expr: staleCronJobExpr(o.namespace, o.roles.cronJob, o.roles.maxAgeSeconds),
          for: '5m',
          severity: 'warning',
          summary: `The apps' roles and databases were not applied for more than ${Math.round(o.roles.maxAgeSeconds / 60)} minutes (CronJob ${o.roles.cronJob})`,
          description: `${o.roles.cronJob} has not succeeded for over ${Math.round(o.roles.maxAgeSeconds / 60)} minutes, or never did, or kube-state-metrics does not see its CronJob: ` +
            'a service added since has no role or database yet, and a rotated app password is not applied. Check first the last Job\'s log ' +
            `(kubectl -n ${o.namespace} logs job/<latest ${o.roles.cronJob} job>): "left unchanged" lines name what it refused; a failed login of pronto_roles ` +
            'means its password (Vault postgres/roles) changed since PostgreSQL last started.',
        }),
      ],
    },
  ];
}
