/**
 * Business alerts: no order created for a while during opening hours. Prometheus has no
 * time zones, so the opening hours are a UTC window ({@link UtcWindow}).
 */
import { UtcWindow, utcWindowExpr } from './promql';
import { AlertingRule, RuleGroup, runbookUrl } from './rules';
import { SERVICES_RUNBOOK_PAGE } from './service-alerts';

export const ALERT_NO_ORDERS = 'ProntoNoOrders';
/** The counter of created orders (docs/capabilities/metrics.md, "Metric contract"). */
export const ORDERS_CREATED = 'pronto_orders_created_total';

export interface BusinessAlertsProps {
  /** Namespace of the services that count orders. */
  readonly namespace: string;
  /** When the restaurants take orders (UTC). */
  readonly openingHours: UtcWindow;
  /** Minutes without a created order that make {@link ALERT_NO_ORDERS} fire. */
  readonly noOrdersMinutes: number;
  /** Base of the runbook URLs ({@link runbookUrl}). */
  readonly runbookBaseUrl: string;
}

export function businessAlertGroup(props: BusinessAlertsProps): RuleGroup {
  const n = props.noOrdersMinutes;
  const alert: AlertingRule = {
    alert: ALERT_NO_ORDERS,
    // No series at all (nothing exports the counter, or its scrapes fail) counts as no orders.
    expr: [
      '(',
      `  sum(increase(${ORDERS_CREATED}{namespace="${props.namespace}"}[${n}m]))`,
      '  or',
      '  vector(0)',
      ') == 0',
      'and on ()',
      `(${utcWindowExpr(props.openingHours)})`,
    ].join('\n'),
    severity: 'critical',
    summary: `No order created for ${n} minutes during opening hours`,
    description: `No order was created in ${props.namespace} during the last ${n} minutes, while the restaurants are open. `
      + 'Check first whether customers reach the checkout at all (gateway and clients-app request rates and errors), then order-service and payment-gateway errors, '
      + 'and whether order-service still exports pronto_orders_created_total (its ServiceMonitor target is up).',
    runbookUrl: runbookUrl(props.runbookBaseUrl, SERVICES_RUNBOOK_PAGE, ALERT_NO_ORDERS),
    labels: { namespace: props.namespace },
  };
  return { name: 'pronto.business', rules: [alert] };
}
