/**
 * SLO recording rules and multi-window, multi-burn-rate alerts, as in the Google SRE
 * workbook ("Alerting on SLOs", table 5-8): page when 2 % of the 30-day budget burns in an
 * hour (14.4× over 1h, confirmed over 5m) or 5 % in six hours (6× over 6h and 30m); open a
 * ticket when 10 % burns in a day (3× over 1d and 2h) or the budget burns at exactly its
 * pace over three days (1× over 3d and 6h).
 *
 * Series (docs/capabilities/metrics.md, "SLOs and recording rules"): `slo:sli_error:ratio_rate<W>` for W in {@link SLO_WINDOWS},
 * `slo:objective:ratio` and `slo:error_budget:remaining`, each labelled `namespace`,
 * `service` and `slo` (`availability` or `latency`).
 */
import { formatNumber, leLabel } from './promql';
import { REQUEST_DURATION, ServiceScope, errorRate, requestRate, trafficSelector } from './request-metrics';
import { AlertingRule, RecordingRule, RuleGroup, runbookUrl } from './rules';
import { SERVICES_RUNBOOK_PAGE } from './service-alerts';

/** The windows the SLI error ratio is recorded over; 30d is the SLO period. */
export const SLO_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d'] as const;
export type SloWindow = typeof SLO_WINDOWS[number];

/** A burn-rate condition: the error ratio exceeds `factor` × the error budget over both windows. */
export interface BurnWindowPair {
  readonly long: SloWindow;
  readonly short: SloWindow;
  readonly factor: number;
}

/** The workbook's pairs that page (`critical`). */
export const PAGE_BURN: readonly BurnWindowPair[] = [{ long: '1h', short: '5m', factor: 14.4 }, { long: '6h', short: '30m', factor: 6 }];
/** The workbook's pairs that open a ticket (`warning`). */
export const TICKET_BURN: readonly BurnWindowPair[] = [{ long: '1d', short: '2h', factor: 3 }, { long: '3d', short: '6h', factor: 1 }];

export const ALERT_FAST_BURN = 'ProntoErrorBudgetFastBurn';
export const ALERT_SLOW_BURN = 'ProntoErrorBudgetSlowBurn';

export type SloKind = 'availability' | 'latency';

/** One service's objectives. */
export interface ServiceSloProps extends ServiceScope {
  /** Share of requests that must not fail (5xx), in % over 30 days; above 0 and below 100. */
  readonly availabilityObjectivePercent: number;
  /** A request slower than this (a bucket bound of the duration histogram) is a latency error. */
  readonly latencyThresholdSeconds: number;
  /** Share of requests answered within the threshold, in % over 30 days; above 0 and below 100. */
  readonly latencyObjectivePercent: number;
  /** Base of the runbook URLs ({@link runbookUrl}). */
  readonly runbookBaseUrl: string;
}

/** The error budget of an objective in %: the share of requests allowed to be bad. */
export function errorBudget(objectivePercent: number): number {
  if (!(objectivePercent > 0 && objectivePercent < 100)) throw new Error(`SLO objective ${objectivePercent} %: expected above 0 and below 100`);
  return Number(((100 - objectivePercent) / 100).toPrecision(12));
}

/** The PromQL of one SLI's error ratio over `window`. */
function errorRatio(props: ServiceSloProps, slo: SloKind, window: string): string {
  if (slo === 'availability') return `${errorRate(props, window)}\n/\n${requestRate(props, window)}`;
  return `1 - (\n  ${withinThresholdRate(props, window)}\n  /\n  ${requestRate(props, window)}\n)`;
}

/** Bad requests per second over 5m, the numerator the 30-day ratio sums. */
function badRate5m(props: ServiceSloProps, slo: SloKind): string {
  if (slo === 'availability') return errorRate(props, '5m');
  return `${requestRate(props, '5m')}\n-\n${withinThresholdRate(props, '5m')}`;
}

/** Requests per second over `window` answered within the latency threshold (the bucket `le="<threshold>"`). */
function withinThresholdRate(props: ServiceSloProps, window: string): string {
  return `sum by (namespace, service) (rate(${REQUEST_DURATION}_bucket{${trafficSelector(props, { le: leLabel(props.latencyThresholdSeconds) })}}[${window}]))`;
}

/** The recording rules and burn-rate alerts of one service's availability and latency SLOs. */
export function sloRuleGroup(props: ServiceSloProps): RuleGroup {
  const rules: Array<RecordingRule | AlertingRule> = [];
  for (const slo of ['availability', 'latency'] as const) {
    const objective = slo === 'availability' ? props.availabilityObjectivePercent : props.latencyObjectivePercent;
    const budget = errorBudget(objective);
    // Static labels too: they state what each rule is about, and promtool refuses same-named rules that differ only in expr.
    const labels = { namespace: props.namespace, service: props.service, slo };
    const own = `namespace="${props.namespace}", service="${props.service}", slo="${slo}"`;
    // The 30-day ratio sums 5-minute rates (request-weighted, and cheap: no 30-day range over raw samples).
    rules.push({ record: 'slo:sli_bad_requests:rate5m', expr: badRate5m(props, slo), labels });
    rules.push({ record: 'slo:sli_requests:rate5m', expr: requestRate(props, '5m'), labels });
    for (const window of SLO_WINDOWS.filter((w) => w !== '30d')) {
      rules.push({ record: `slo:sli_error:ratio_rate${window}`, expr: errorRatio(props, slo, window), labels });
    }
    rules.push({
      record: 'slo:sli_error:ratio_rate30d',
      expr: `sum_over_time(slo:sli_bad_requests:rate5m{${own}}[30d])\n/\nsum_over_time(slo:sli_requests:rate5m{${own}}[30d])`,
      labels,
    });
    rules.push({ record: 'slo:objective:ratio', expr: `vector(${formatNumber(objective / 100)})`, labels });
    rules.push({ record: 'slo:error_budget:remaining', expr: `1 - slo:sli_error:ratio_rate30d{${own}} / ${formatNumber(budget)}`, labels });
    const what = slo === 'availability'
      ? `${props.service} answers 5xx to more than its ${formatNumber(100 - objective)} % error budget allows (objective ${objective} % of requests without 5xx over 30 days)`
      : `${props.service} answers slower than ${props.latencyThresholdSeconds} s more often than its objective allows (${objective} % of requests within ${props.latencyThresholdSeconds} s over 30 days)`;
    const firstCheck = slo === 'availability'
      ? 'Check first the error ratio by path and status on the RED dashboard (which endpoint fails), then the pod logs of those requests and the services it calls.'
      : 'Check first p99 latency by path on the RED dashboard (which endpoint is slow), then CPU throttling and the latency of what it calls (database, Redis, other services).';
    rules.push(burnAlert(props, slo, budget, own, PAGE_BURN, ALERT_FAST_BURN, 'critical',
      `${props.service}: ${slo} error budget burning fast`,
      `${what}. It burns at 14.4× (over 1 h) or 6× (over 6 h) the sustainable pace: the 30-day budget is gone in 2 to 5 days. ${firstCheck}`));
    rules.push(burnAlert(props, slo, budget, own, TICKET_BURN, ALERT_SLOW_BURN, 'warning',
      `${props.service}: ${slo} error budget burning steadily`,
      `${what}. It burns at 3× (over 1 d) or 1× (over 3 d) the sustainable pace: the budget runs out before the 30 days are over. ${firstCheck}`));
  }
  return { name: `pronto.slo.${props.service}`, rules };
}

function burnAlert(props: ServiceSloProps, slo: SloKind, budget: number, own: string, pairs: readonly BurnWindowPair[],
  alert: string, severity: 'critical' | 'warning', summary: string, description: string): AlertingRule {
  const over = (w: string, factor: number) => `slo:sli_error:ratio_rate${w}{${own}} > (${factor} * ${formatNumber(budget)})`;
  const expr = pairs.map((p) => `(\n  ${over(p.long, p.factor)}\n  and\n  ${over(p.short, p.factor)}\n)`).join('\nor\n');
  return { alert, expr, severity, summary, description, runbookUrl: runbookUrl(props.runbookBaseUrl, SERVICES_RUNBOOK_PAGE, alert), labels: { namespace: props.namespace, service: props.service, slo } };
}
