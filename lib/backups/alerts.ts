/**
 * The backups' alerts as typed rule groups, from kube-state-metrics' CronJob series (which
 * need no Pushgateway) and, when the restore test pushes its result, from its own metric.
 * Failed Jobs are deleted by the history limit and `kube_job_failed` disappears with them,
 * so the alerts read how stale the last success is (`kube_cronjob_status_last_successful_time`)
 * and whether the last run after it failed, plus `absent()` for a CronJob nobody sees.
 */
import { AlertingRule, RuleGroup, lastRunFailedExpr, runbookUrl, staleCronJobExpr } from '../metrics';
import { RESTORE_TEST_METRICS } from './restore-test-script';

/** The CronJob expressions the alerts are built from (lib/metrics, shared with the database's). */
export { lastRunFailedExpr, staleCronJobExpr } from '../metrics';

export interface BackupAlertsOptions {
  /** Namespace of the CronJobs (kube-state-metrics' `namespace` label). */
  readonly namespace: string;
  /** CronJob names. */
  readonly cronJobs: { readonly baseBackup: string; readonly walIntegrity: string; readonly restoreTest: string };
  /** Labels of the restore test's pushed series (Pushgateway grouping key), when it pushes. @default - no pushed series */
  readonly pushedLabels?: Readonly<Record<string, string>>;
  /** The runbooks folder ({@link runbookUrl}). */
  readonly runbookBaseUrl: string;
}

/** The runbook page of the backups' alerts: docs/runbooks/backups.md. */
export const BACKUPS_RUNBOOK_PAGE = 'backups';

/** Names of the alerts, also the headings of their runbooks. */
export const BACKUP_ALERTS = {
  baseBackupTooOld: 'PostgresBaseBackupTooOld',
  restoreTestTooOld: 'PostgresRestoreTestTooOld',
  restoreTestFailed: 'PostgresRestoreTestFailed',
  walIntegrityFailed: 'PostgresWalIntegrityFailed',
} as const;

/** A base backup older than this (26 h: a daily schedule plus slack) alerts. */
export const BASE_BACKUP_MAX_AGE_SECONDS = 26 * 3600;
/** A restore test older than this (33 days: a monthly schedule plus slack) alerts. */
export const RESTORE_TEST_MAX_AGE_SECONDS = 33 * 86_400;

const labels = (l: Readonly<Record<string, string>>) => Object.entries(l).map(([k, v]) => `${k}="${v}"`).join(', ');

/** The rule groups of the backups. */
export function backupRuleGroups(o: BackupAlertsOptions): RuleGroup[] {
  const alert = (a: Omit<AlertingRule, 'runbookUrl'>): AlertingRule => ({ ...a, runbookUrl: runbookUrl(o.runbookBaseUrl, BACKUPS_RUNBOOK_PAGE, a.alert) });
  const { baseBackup, walIntegrity, restoreTest } = o.cronJobs;
  const pushedFailure = o.pushedLabels ? `\nor\nmin by (namespace) (${RESTORE_TEST_METRICS.success}{${labels(o.pushedLabels)}}) == 0` : '';
  return [
    {
      name: 'pronto.backups',
      rules: [
        alert({
          alert: BACKUP_ALERTS.baseBackupTooOld,
          expr: staleCronJobExpr(o.namespace, baseBackup, BASE_BACKUP_MAX_AGE_SECONDS),
          for: '15m',
          severity: 'critical',
          summary: `No successful base backup for more than 26 hours (CronJob ${baseBackup})`,
          description: `The daily base backup (${baseBackup}: remote wal-g backup-push) has not succeeded for over 26 hours, or never did, or kube-state-metrics does not see its CronJob: ` +
            'a restore would have to replay ever more WAL, and retention may leave too few backups. Check first the last Job\'s pod log ' +
            `(kubectl -n ${o.namespace} logs job/<latest ${baseBackup} job>) and its events (deadline exceeded, Vault agent init, image pull).`,
        }),
        alert({
          alert: BACKUP_ALERTS.restoreTestTooOld,
          expr: staleCronJobExpr(o.namespace, restoreTest, RESTORE_TEST_MAX_AGE_SECONDS),
          for: '1h',
          severity: 'warning',
          summary: `No successful restore test for more than 33 days (CronJob ${restoreTest})`,
          description: `The monthly restore test (${restoreTest}) has not succeeded for over 33 days, or never did: nobody knows whether the backups can be restored. ` +
            `Check first whether its last run failed (PostgresRestoreTestFailed) or never started (suspended CronJob, missed schedule: kubectl -n ${o.namespace} get cronjob ${restoreTest}).`,
        }),
        alert({
          alert: BACKUP_ALERTS.restoreTestFailed,
          expr: `${lastRunFailedExpr(o.namespace, restoreTest)}${pushedFailure}`,
          severity: 'critical',
          summary: 'The last restore test failed: the latest backup could not be restored and verified',
          description: 'The restore test fetched the latest base backup, replayed the WAL archive and checked the copy, and something failed: a missing or unreadable WAL segment, ' +
            'a damaged backup, a copy older than the RPO, a table under its row floor, or amcheck corruption. Check first the last line of the failed Job\'s log: it names the failed check.',
        }),
        alert({
          alert: BACKUP_ALERTS.walIntegrityFailed,
          expr: lastRunFailedExpr(o.namespace, walIntegrity),
          severity: 'critical',
          summary: 'The WAL archive failed its integrity check (wal-g wal-verify)',
          description: `The last ${walIntegrity} run failed: wal-g wal-verify reported FAILURE (a segment lost between the oldest backup and now, or a timeline split), or could not run. ` +
            'Point-in-time recovery past the gap is impossible. Check first the Job\'s log: it prints the JSON report and the failed check.',
        }),
      ],
    },
  ];
}
