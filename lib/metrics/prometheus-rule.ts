import { Construct } from 'constructs';
import { PrometheusRule, PrometheusRuleSpecGroups, PrometheusRuleSpecGroupsRulesExpr } from '../../imports/monitoring.coreos.com';
import { recommendedLabels, resourceName } from '../core';
import { RuleGroup, renderGroups } from './rules';

export interface AlertRulesProps {
  /** Object name, e.g. `order-service-rules` or `pronto-saturation`. */
  readonly name: string;
  /** `app.kubernetes.io/component` of the object. @default 'monitoring' */
  readonly component?: string;
  /** The rule groups. */
  readonly groups: readonly RuleGroup[];
  /**
   * Labels the Prometheus Operator selects rules by (its `ruleSelector`), e.g.
   * `{ release: kube-prometheus-stack }`. @default - none
   */
  readonly selectorLabels?: Readonly<Record<string, string>>;
}

/**
 * A `PrometheusRule` (monitoring.coreos.com/v1) holding `groups`, labelled so that the
 * Prometheus Operator picks it up. The same groups render into the rule files that
 * `promtool` checks and unit-tests (see {@link renderGroups}).
 */
export class AlertRules extends Construct {
  public readonly resource: PrometheusRule;

  public constructor(scope: Construct, id: string, props: AlertRulesProps) {
    super(scope, id);
    const name = resourceName(props.name);
    const groups = renderGroups(props.groups).map((g) => ({
      ...g,
      rules: (g.rules as Array<Record<string, unknown>>).map((r) => ({ ...r, expr: PrometheusRuleSpecGroupsRulesExpr.fromString(String(r.expr)) })),
    })) as unknown as PrometheusRuleSpecGroups[];
    this.resource = new PrometheusRule(this, 'Resource', {
      metadata: { name, labels: { ...recommendedLabels({ name, component: props.component ?? 'monitoring' }), ...props.selectorLabels } },
      spec: { groups },
    });
  }
}
