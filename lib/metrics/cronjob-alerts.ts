/**
 * PromQL of scheduled work, from kube-state-metrics' CronJob series (no Pushgateway needed).
 * Failed Jobs are deleted by the history limit and `kube_job_failed` disappears with them,
 * so these read how stale a CronJob's last success is
 * (`kube_cronjob_status_last_successful_time`) and whether its last run after that failed.
 * Shared by the backups' and the database's alerts.
 */

/**
 * Fires when the last success of `cronJob` is older than `maxAge`, when it has never
 * succeeded though it exists for longer than that, or when kube-state-metrics reports no
 * such CronJob at all.
 */
export function staleCronJobExpr(namespace: string, cronJob: string, maxAgeSeconds: number): string {
  const sel = `namespace="${namespace}", cronjob="${cronJob}"`;
  return `(
  time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{${sel}}) > ${maxAgeSeconds}
)
or
(
  # never succeeded, though it exists for longer than that
  time() - max by (namespace, cronjob) (kube_cronjob_created{${sel}}) > ${maxAgeSeconds}
  unless on (namespace, cronjob) kube_cronjob_status_last_successful_time{${sel}}
)
or
absent(kube_cronjob_created{${sel}})`;
}

/** Fires when the last run of `cronJob` started after its last success (or it never succeeded) and nothing runs now: the last run failed. */
export function lastRunFailedExpr(namespace: string, cronJob: string): string {
  const sel = `namespace="${namespace}", cronjob="${cronJob}"`;
  return `(
  max by (namespace, cronjob) (kube_cronjob_status_last_schedule_time{${sel}})
    > on (namespace, cronjob) max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{${sel}})
  or
  max by (namespace, cronjob) (kube_cronjob_status_last_schedule_time{${sel}})
    unless on (namespace, cronjob) kube_cronjob_status_last_successful_time{${sel}}
)
and on (namespace, cronjob) max by (namespace, cronjob) (kube_cronjob_status_active{${sel}}) == 0`;
}
