/**
 * Prometheus rules as typed data: alerting and recording rules grouped as Prometheus
 * reads them. Every capability that alerts (metrics, database, backups) builds its groups
 * with these types, so every alert carries the same labels and annotations, and the same
 * groups render into the PrometheusRule objects and into the rule files `promtool` checks.
 */

/** `critical` pages someone now; `warning` opens a ticket for working hours. */
export type Severity = 'critical' | 'warning';

/** An alert: fires when `expr` returns series for `for`. */
export interface AlertingRule {
  /** Alert name, UpperCamelCase, e.g. `ProntoHighErrorRatio`; also the heading of its runbook (docs/runbooks/<page>.md). */
  readonly alert: string;
  /** PromQL. */
  readonly expr: string;
  /** How long `expr` must hold before the alert fires, e.g. `5m`. @default - at once */
  readonly for?: string;
  readonly severity: Severity;
  /** One line: what is wrong, may use `{{ $labels.x }}`. */
  readonly summary: string;
  /** What it means and what to check first. */
  readonly description: string;
  /** Where the runbook is: {@link runbookUrl}. */
  readonly runbookUrl: string;
  /** More labels, e.g. `slo`, `window`. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A recording rule: stores `expr` as the series `record`. */
export interface RecordingRule {
  /** `level:metric:operations`, e.g. `service:pronto_slo_errors:ratio_rate5m`. */
  readonly record: string;
  readonly expr: string;
  /** @default - none */
  readonly labels?: Readonly<Record<string, string>>;
}

export type Rule = AlertingRule | RecordingRule;

/** A rule group: evaluated together, every `interval`. */
export interface RuleGroup {
  /** Unique in its file, e.g. `pronto.slo.order-service`. */
  readonly name: string;
  /** Evaluation interval. @default - Prometheus's global evaluation interval */
  readonly interval?: string;
  readonly rules: readonly Rule[];
}

export function isAlertingRule(rule: Rule): rule is AlertingRule {
  return (rule as AlertingRule).alert !== undefined;
}

/**
 * The URL of `alert`'s runbook: `<base>/<page>.md#<alert in lower case>`, where `base` is the
 * runbooks folder (docs/runbooks/ of this repository, the metrics section's runbookBaseUrl) and
 * the anchor is the one GitHub and GitLab give the page's heading `## <alert>`. Each capability
 * that alerts names its page; test/runbooks.spec.ts holds pages and alerts one-to-one.
 */
export function runbookUrl(base: string, page: string, alert: string): string {
  return `${base}/${page}.md#${alert.toLowerCase()}`;
}

/** A rule as Prometheus reads it: alerts get `severity` and the summary, description and runbook_url annotations. */
export function renderRule(rule: Rule): Record<string, unknown> {
  if (!isAlertingRule(rule)) return { record: rule.record, expr: rule.expr, ...(rule.labels ? { labels: { ...rule.labels } } : {}) };
  return {
    alert: rule.alert,
    expr: rule.expr,
    ...(rule.for ? { for: rule.for } : {}),
    labels: { ...rule.labels, severity: rule.severity },
    annotations: { summary: rule.summary, description: rule.description, runbook_url: rule.runbookUrl },
  };
}

/** Groups as Prometheus reads them, in a rule file (`groups:`) or a PrometheusRule's `spec.groups`. */
export function renderGroups(groups: readonly RuleGroup[]): Array<Record<string, unknown>> {
  const seen = new Set<string>();
  return groups.map((g) => {
    if (seen.has(g.name)) throw new Error(`rule group "${g.name}" is defined twice`);
    seen.add(g.name);
    if (g.rules.length === 0) throw new Error(`rule group "${g.name}" has no rules`);
    return { name: g.name, ...(g.interval ? { interval: g.interval } : {}), rules: g.rules.map(renderRule) };
  });
}
