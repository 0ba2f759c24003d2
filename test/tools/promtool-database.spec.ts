/**
 * The data tier's alerts (lib/database/alerts.ts) as synthesized into the PrometheusRule,
 * in real promtool: `check rules`, and unit tests with at least one firing and one silent
 * case per alert.
 */
import { writeFileSync } from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { PGBOUNCER_WORKLOAD, POSTGRES_WORKLOAD, ROLES_JOB } from '../../charts/capabilities/database';
import { rolesMaxAgeSeconds } from '../../config/sections/database';
import { parseEnvironment } from '../../config/load';
import { DATABASE_ALERTS, archiveLagThresholdSeconds } from '../../lib/database';
import { VALID_ENV, dataTierSections } from '../fixtures/environments';
import { buildEnvironment } from '../helpers';
import { checkRules, promtoolOrSkip, scratch, testRules, writeRawRuleFile } from './promtool';

const SECTION = `metrics: { prometheus: { url: "http://prometheus.monitoring.svc:9090" } }\n${dataTierSections()}`;

promtoolOrSkip('the database alerts in promtool')('the database alerts in promtool', () => {
  const config = parseEnvironment(`${VALID_ENV}${SECTION}`, 'config/test.yaml');
  const { manifests } = buildEnvironment(config);
  const rule = manifests.find((m) => m.kind === 'PrometheusRule' && m.metadata?.name === 'pronto-database') as any;
  const ns = config.namespace.name;
  const pg = `{namespace="${ns}", job="${POSTGRES_WORKLOAD}", pod="postgres-0"}`;
  const pb = (pod: string, db: string) => `{namespace="${ns}", job="${PGBOUNCER_WORKLOAD}", pod="${pod}", database="${db}"}`;
  const up = (pod: string) => `{namespace="${ns}", job="${PGBOUNCER_WORKLOAD}", pod="${pod}"}`;
  const lag = archiveLagThresholdSeconds(config.capabilities.database!.postgres.archiveTimeoutSeconds);
  const roles = { namespace: ns, cronjob: ROLES_JOB };
  const rolesSel = `{namespace="${ns}", cronjob="${ROLES_JOB}"}`;
  const rolesMaxAge = rolesMaxAgeSeconds(config.capabilities.database!.roles.schedule);
  const rolesSummary = `The apps' roles and databases were not applied for more than ${rolesMaxAge / 60} minutes (CronJob ${ROLES_JOB})`;
  const { dir, remove } = scratch('pronto-promtool-db-');
  afterAll(remove);

  const annotations = (alertname: string) => rule.spec.groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === alertname).annotations;
  /** The alert fires with `labels`, its own description and runbook, and `summary` as promtool renders the template. */
  const fires = (alertname: string, at: string, labels: Record<string, string>, summary: string) => ({
    eval_time: at, alertname, exp_alerts: [{ exp_labels: labels, exp_annotations: { ...annotations(alertname), summary } }],
  });
  const silent = (alertname: string, at: string) => ({ eval_time: at, alertname, exp_alerts: [] });

  test('every alert carries severity, summary, description and its runbook', () => {
    const alerts = rule.spec.groups.flatMap((g: any) => g.rules);
    expect(alerts.map((a: any) => a.alert).sort()).toEqual(Object.values(DATABASE_ALERTS).sort());
    for (const a of alerts) {
      expect(a.labels.severity).toMatch(/^(critical|warning)$/);
      expect(a.annotations.summary).toBeTruthy();
      expect(a.annotations.description).toMatch(/Check first/);
      expect(a.annotations.runbook_url).toMatch(new RegExp(`#${a.alert.toLowerCase()}$`));
    }
  });

  test('promtool check rules accepts them, and each alert fires and stays silent as its unit tests expect', () => {
    const rules = writeRawRuleFile(dir, 'database.rules.yaml', rule.spec.groups);
    const check = checkRules([rules]);
    expect(check.output).toContain('SUCCESS');
    expect(check.status).toBe(0);
    const tests = {
      rule_files: [path.basename(rules)],
      evaluation_interval: '1m',
      tests: [
        {
          // Archiving fails at minute 10 and keeps failing; a healthy, recent archiver stays silent.
          interval: '1m',
          input_series: [
            { series: `pg_stat_archiver_failed_count${pg}`, values: '0x10 1+1x30' },
            { series: `pg_stat_archiver_last_archive_age${pg}`, values: `30x10 ${lag + 60}+60x30` },
            { series: `pg_up${pg}`, values: '1x40' },
          ],
          alert_rule_test: [
            silent(DATABASE_ALERTS.archivingFailing, '8m'),
            fires(DATABASE_ALERTS.archivingFailing, '20m', { alertname: DATABASE_ALERTS.archivingFailing, severity: 'critical', namespace: ns, job: POSTGRES_WORKLOAD, pod: 'postgres-0' }, 'PostgreSQL fails to archive WAL segments (10 failures in 15 minutes)'),
            silent(DATABASE_ALERTS.archivingLagging, '8m'),
            fires(DATABASE_ALERTS.archivingLagging, '20m', { alertname: DATABASE_ALERTS.archivingLagging, severity: 'warning', namespace: ns, job: POSTGRES_WORKLOAD, pod: 'postgres-0' }, 'The last archived WAL segment is 20m 0s old'),
            silent(DATABASE_ALERTS.exporterDown, '30m'),
          ],
        },
        {
          // The exporter loses PostgreSQL; and, in the same namespace, no exporter at all.
          interval: '1m',
          input_series: [{ series: `pg_up${pg}`, values: '1x5 0x20' }],
          alert_rule_test: [
            silent(DATABASE_ALERTS.exporterDown, '10m'),
            fires(DATABASE_ALERTS.exporterDown, '20m', { alertname: DATABASE_ALERTS.exporterDown, severity: 'warning', namespace: ns, job: POSTGRES_WORKLOAD, pod: 'postgres-0' }, 'postgres_exporter cannot reach PostgreSQL, or is not scraped'),
          ],
        },
        {
          interval: '1m',
          input_series: [],
          alert_rule_test: [
            fires(DATABASE_ALERTS.exporterDown, '15m', { alertname: DATABASE_ALERTS.exporterDown, severity: 'warning', namespace: ns, job: POSTGRES_WORKLOAD }, 'postgres_exporter cannot reach PostgreSQL, or is not scraped'),
            fires(DATABASE_ALERTS.pgbouncerDown, '15m', { alertname: DATABASE_ALERTS.pgbouncerDown, severity: 'critical', namespace: ns, job: PGBOUNCER_WORKLOAD }, 'pgbouncer_exporter cannot reach PgBouncer, or no PgBouncer is scraped'),
            // No pg-roles CronJob seen at all.
            fires(DATABASE_ALERTS.rolesNotApplied, '15m', { alertname: DATABASE_ALERTS.rolesNotApplied, severity: 'warning', ...roles }, rolesSummary),
          ],
        },
        {
          // pg-roles succeeds every 5 minutes until minute 10, then never again: silent while its last success is recent, firing once it is stale.
          interval: '1m',
          input_series: [
            { series: `kube_cronjob_created${rolesSel}`, values: '0x60' },
            { series: `kube_cronjob_status_last_successful_time${rolesSel}`, values: '0 0 0 0 0 300 300 300 300 300 600x50' },
          ],
          alert_rule_test: [
            silent(DATABASE_ALERTS.rolesNotApplied, '20m'),
            silent(DATABASE_ALERTS.rolesNotApplied, `${(600 + rolesMaxAge) / 60}m`),
            fires(DATABASE_ALERTS.rolesNotApplied, `${(600 + rolesMaxAge) / 60 + 7}m`, { alertname: DATABASE_ALERTS.rolesNotApplied, severity: 'warning', ...roles }, rolesSummary),
          ],
        },
        {
          // pgbouncer-a: clients wait from minute 10 on and wait long; pgbouncer-b: a blip, never 5 minutes.
          interval: '1m',
          input_series: [
            { series: `pgbouncer_pools_client_waiting_connections${pb('pgbouncer-a', 'orders')}`, values: '0x10 4x20' },
            { series: `pgbouncer_pools_client_waiting_connections${pb('pgbouncer-b', 'orders')}`, values: '0x10 3x2 0x20' },
            { series: `pgbouncer_pools_client_maxwait_seconds${pb('pgbouncer-a', 'orders')}`, values: '0x10 5x20' },
            { series: `pgbouncer_pools_client_maxwait_seconds${pb('pgbouncer-b', 'orders')}`, values: '0.2x30' },
            { series: `pgbouncer_up${up('pgbouncer-a')}`, values: '1x10 0x20' },
            { series: `pgbouncer_up${up('pgbouncer-b')}`, values: '1x30' },
          ],
          alert_rule_test: [
            silent(DATABASE_ALERTS.clientsWaiting, '9m'),
            fires(DATABASE_ALERTS.clientsWaiting, '20m', { alertname: DATABASE_ALERTS.clientsWaiting, severity: 'warning', pod: 'pgbouncer-a' }, '4 clients of pgbouncer-a have waited for a server connection for 5 minutes'),
            silent(DATABASE_ALERTS.maxWait, '9m'),
            fires(DATABASE_ALERTS.maxWait, '20m', { alertname: DATABASE_ALERTS.maxWait, severity: 'warning', pod: 'pgbouncer-a' }, 'A client of pgbouncer-a has waited 5 s for a server connection'),
            silent(DATABASE_ALERTS.pgbouncerDown, '9m'),
            fires(DATABASE_ALERTS.pgbouncerDown, '20m', { alertname: DATABASE_ALERTS.pgbouncerDown, severity: 'critical', namespace: ns, job: PGBOUNCER_WORKLOAD, pod: 'pgbouncer-a' }, 'pgbouncer_exporter cannot reach PgBouncer, or no PgBouncer is scraped'),
          ],
        },
      ],
    };
    const file = path.join(dir, 'database.test.yaml');
    writeFileSync(file, stringify(tests, { lineWidth: 0 }));
    const result = testRules([file]);
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });
});
