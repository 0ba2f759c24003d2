/**
 * The backups' alerts in real promtool (Debian package prometheus; .ci/run installs it;
 * skipped loudly without it): `promtool check rules` on the synthesized PrometheusRule, and
 * `promtool test rules` with input series written here: every alert fires at least once and
 * stays silent at least once. promtool runs twice in all.
 */
import { writeFileSync } from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { BACKUP_JOBS } from '../../charts/capabilities/backups';
import { VALID_ENV } from '../fixtures/environments';
import { BACKUP_ALERTS, BASE_BACKUP_MAX_AGE_SECONDS, RESTORE_TEST_MAX_AGE_SECONDS } from '../../lib/backups';
import { buildEnvironment } from '../helpers';
import { DATABASE_SECTIONS, load } from '../lib/backups/fixture';
import { checkRules, promtoolOrSkip, scratch, testRules, writeRawRuleFile } from './promtool';

const NS = 'pronto';
const SECTION = `metrics: { prometheus: { url: "http://prometheus.monitoring.svc:9090" }, pushgateway: { url: "http://prometheus-pushgateway.monitoring.svc:9091" } }\nbackups:\n  restoreTest:\n    pushResults: true\n`;

type Rule = { alert?: string; labels?: Record<string, string>; annotations?: Record<string, string> };

promtoolOrSkip('the backups\' alerts in promtool')('the backups\' alerts in promtool', () => {
  const { manifests } = buildEnvironment(load(`${VALID_ENV}${DATABASE_SECTIONS}${SECTION}`));
  const rule = manifests.find((m) => m.kind === 'PrometheusRule' && m.metadata?.name === 'pronto-backups') as any;
  const groups = rule.spec.groups as Array<{ name: string; rules: Rule[] }>;
  const alerts = new Map(groups.flatMap((g) => g.rules).filter((r) => r.alert).map((r) => [r.alert!, r]));
  const { dir, remove } = scratch('pronto-promtool-backups-');
  afterAll(remove);
  const ruleFile = writeRawRuleFile(dir, 'backups.rules.yaml', groups);

  /** The alert as promtool reports it: its labels (with `extra`) and its annotations. */
  const expected = (name: string, extra: Record<string, string>) => [{ exp_labels: { ...alerts.get(name)!.labels, ...extra }, exp_annotations: alerts.get(name)!.annotations }];
  const cron = (job: string) => `namespace="${NS}", cronjob="${job}"`;
  const hours = (h: number) => `${h}h`;
  /** `count` samples (at the test's interval) all holding `value`, e.g. an epoch-seconds time. */
  const flat = (value: number, count: number) => `${value}x${count}`;

  const tests = [
    // A failed last run: scheduled after the last success, nothing active; the pushed result says 0.
    {
      name: 'restore test and WAL check failed',
      interval: '1m',
      input_series: [
        { series: `kube_cronjob_status_last_successful_time{${cron(BACKUP_JOBS.restoreTest)}}`, values: flat(600, 120) },
        { series: `kube_cronjob_status_last_schedule_time{${cron(BACKUP_JOBS.restoreTest)}}`, values: `${flat(60, 60)} ${flat(3600, 60)}` },
        { series: `kube_cronjob_status_active{${cron(BACKUP_JOBS.restoreTest)}}`, values: `${flat(0, 60)} ${flat(1, 30)} ${flat(0, 30)}` },
        { series: `kube_cronjob_status_last_schedule_time{${cron(BACKUP_JOBS.walIntegrity)}}`, values: flat(60, 120) },
        { series: `kube_cronjob_status_active{${cron(BACKUP_JOBS.walIntegrity)}}`, values: `${flat(1, 30)} ${flat(0, 90)}` },
      ],
      alert_rule_test: [
        // Before the second run: the last run succeeded. During it: it is still running.
        { eval_time: '50m', alertname: BACKUP_ALERTS.restoreTestFailed, exp_alerts: [] },
        { eval_time: '80m', alertname: BACKUP_ALERTS.restoreTestFailed, exp_alerts: [] },
        { eval_time: '110m', alertname: BACKUP_ALERTS.restoreTestFailed, exp_alerts: expected(BACKUP_ALERTS.restoreTestFailed, { namespace: NS, cronjob: BACKUP_JOBS.restoreTest }) },
        // The WAL check never succeeded: silent while it runs, firing once it has stopped.
        { eval_time: '20m', alertname: BACKUP_ALERTS.walIntegrityFailed, exp_alerts: [] },
        { eval_time: '60m', alertname: BACKUP_ALERTS.walIntegrityFailed, exp_alerts: expected(BACKUP_ALERTS.walIntegrityFailed, { namespace: NS, cronjob: BACKUP_JOBS.walIntegrity }) },
      ],
    },
    {
      name: 'restore test failure pushed to the Pushgateway',
      interval: '1m',
      input_series: [
        { series: `pg_restore_test_success{job="${BACKUP_JOBS.restoreTest}", namespace="${NS}", instance="pushgateway:9091"}`, values: `${flat(1, 30)} ${flat(0, 30)}` },
      ],
      alert_rule_test: [
        { eval_time: '20m', alertname: BACKUP_ALERTS.restoreTestFailed, exp_alerts: [] },
        { eval_time: '50m', alertname: BACKUP_ALERTS.restoreTestFailed, exp_alerts: expected(BACKUP_ALERTS.restoreTestFailed, { namespace: NS }) },
      ],
    },
    {
      name: 'the WAL check succeeded last',
      interval: '1m',
      input_series: [
        { series: `kube_cronjob_status_last_successful_time{${cron(BACKUP_JOBS.walIntegrity)}}`, values: flat(900, 60) },
        { series: `kube_cronjob_status_last_schedule_time{${cron(BACKUP_JOBS.walIntegrity)}}`, values: flat(60, 60) },
        { series: `kube_cronjob_status_active{${cron(BACKUP_JOBS.walIntegrity)}}`, values: flat(0, 60) },
      ],
      alert_rule_test: [{ eval_time: '50m', alertname: BACKUP_ALERTS.walIntegrityFailed, exp_alerts: [] }],
    },
  ];

  // Base backup: over 26 h; in a file evaluated every 15 minutes (samples every 15 minutes too).
  const steps = (h: number) => h * 4;
  const daily = [
    // Base backup: last success 27 h ago fires; a success 3 h ago is silent.
    {
      name: 'base backup too old',
      interval: '15m',
      input_series: [
        { series: `kube_cronjob_created{${cron(BACKUP_JOBS.baseBackup)}}`, values: flat(0, steps(28)) },
        { series: `kube_cronjob_status_last_successful_time{${cron(BACKUP_JOBS.baseBackup)}}`, values: flat(60, steps(28)) },
      ],
      alert_rule_test: [
        { eval_time: hours(20), alertname: BACKUP_ALERTS.baseBackupTooOld, exp_alerts: [] },
        { eval_time: hours(27), alertname: BACKUP_ALERTS.baseBackupTooOld, exp_alerts: expected(BACKUP_ALERTS.baseBackupTooOld, { namespace: NS, cronjob: BACKUP_JOBS.baseBackup }) },
      ],
    },
    {
      name: 'base backup recent',
      interval: '15m',
      input_series: [
        { series: `kube_cronjob_created{${cron(BACKUP_JOBS.baseBackup)}}`, values: flat(0, steps(28)) },
        // Succeeded at 0 h, then at 24 h.
        { series: `kube_cronjob_status_last_successful_time{${cron(BACKUP_JOBS.baseBackup)}}`, values: `${flat(60, steps(24))} ${flat(24 * 3600, steps(4))}` },
      ],
      alert_rule_test: [{ eval_time: hours(27), alertname: BACKUP_ALERTS.baseBackupTooOld, exp_alerts: [] }],
    },
    {
      name: 'base backup never succeeded, or its CronJob is not seen',
      interval: '15m',
      input_series: [
        { series: `kube_cronjob_created{${cron(BACKUP_JOBS.baseBackup)}}`, values: flat(0, steps(28)) },
        { series: `kube_cronjob_created{${cron(BACKUP_JOBS.restoreTest)}}`, values: flat(0, steps(28)) },
      ],
      alert_rule_test: [
        { eval_time: hours(2), alertname: BACKUP_ALERTS.baseBackupTooOld, exp_alerts: [] },
        { eval_time: hours(27), alertname: BACKUP_ALERTS.baseBackupTooOld, exp_alerts: expected(BACKUP_ALERTS.baseBackupTooOld, { namespace: NS, cronjob: BACKUP_JOBS.baseBackup }) },
      ],
    },
    {
      name: 'no base-backup CronJob at all (absent)',
      interval: '15m',
      input_series: [{ series: `kube_cronjob_created{${cron(BACKUP_JOBS.restoreTest)}}`, values: flat(0, 4) }],
      alert_rule_test: [
        { eval_time: '10m', alertname: BACKUP_ALERTS.baseBackupTooOld, exp_alerts: [] },
        { eval_time: '30m', alertname: BACKUP_ALERTS.baseBackupTooOld, exp_alerts: expected(BACKUP_ALERTS.baseBackupTooOld, { namespace: NS, cronjob: BACKUP_JOBS.baseBackup }) },
      ],
    },
  ];

  // Restore test: 34 days without success fires, 20 days is silent; in a file of its own,
  // evaluated every 6 hours (a minute's evaluation over 35 days would take promtool a minute).
  const monthly = [
    {
      name: 'restore test too old',
      interval: '6h',
      input_series: [
        { series: `kube_cronjob_created{${cron(BACKUP_JOBS.restoreTest)}}`, values: flat(0, 35 * 4) },
        { series: `kube_cronjob_status_last_successful_time{${cron(BACKUP_JOBS.restoreTest)}}`, values: flat(3600, 35 * 4) },
      ],
      alert_rule_test: [
        { eval_time: `${20 * 24}h`, alertname: BACKUP_ALERTS.restoreTestTooOld, exp_alerts: [] },
        { eval_time: `${34 * 24 + 6}h`, alertname: BACKUP_ALERTS.restoreTestTooOld, exp_alerts: expected(BACKUP_ALERTS.restoreTestTooOld, { namespace: NS, cronjob: BACKUP_JOBS.restoreTest }) },
      ],
    },
  ];

  test('the PrometheusRule holds the four alerts, each with severity, summary, description and its runbook', () => {
    expect([...alerts.keys()].sort()).toEqual(Object.values(BACKUP_ALERTS).sort());
    for (const [name, r] of alerts) {
      expect(r.labels?.severity).toMatch(/^(critical|warning)$/);
      expect(r.annotations?.runbook_url).toMatch(new RegExp(`#${name.toLowerCase()}$`));
      expect(r.annotations?.description).toMatch(/Check first/);
    }
    expect(BASE_BACKUP_MAX_AGE_SECONDS).toBe(26 * 3600);
    expect(RESTORE_TEST_MAX_AGE_SECONDS).toBe(33 * 86400);
  });

  test('every alert has a firing and a silent case', () => {
    for (const name of Object.values(BACKUP_ALERTS)) {
      const all: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }> = [...daily, ...tests, ...monthly];
      const cases = all.flatMap((t) => t.alert_rule_test).filter((c) => c.alertname === name);
      expect({ name, fires: cases.some((c) => c.exp_alerts.length > 0), silent: cases.some((c) => c.exp_alerts.length === 0) })
        .toEqual({ name, fires: true, silent: true });
    }
  });

  test('promtool check rules accepts the rules', () => {
    const r = checkRules([ruleFile]);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  test('promtool test rules: each case fires or stays silent as written', () => {
    const file = path.join(dir, 'backups.test.yaml');
    writeFileSync(file, stringify({ rule_files: [path.basename(ruleFile)], evaluation_interval: '1m', tests }, { lineWidth: 0 }));
    const monthlyFile = path.join(dir, 'backups-monthly.test.yaml');
    writeFileSync(monthlyFile, stringify({ rule_files: [path.basename(ruleFile)], evaluation_interval: '6h', tests: monthly }, { lineWidth: 0 }));
    const dailyFile = path.join(dir, 'backups-daily.test.yaml');
    writeFileSync(dailyFile, stringify({ rule_files: [path.basename(ruleFile)], evaluation_interval: '15m', tests: daily }, { lineWidth: 0 }));
    const r = testRules([file, dailyFile, monthlyFile]);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});
