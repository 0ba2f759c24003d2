/**
 * The seed's alerts per service: error ratio above 1 % for 5 minutes, p99 latency above
 * 500 ms for 5 minutes, and traffic stopped while pods are ready (during opening hours:
 * outside them no traffic is normal).
 */
import { UtcWindow, formatNumber, utcWindowExpr } from './promql';
import { REQUEST_DURATION, ServiceScope, errorRate, requestRate, trafficSelector } from './request-metrics';
import { AlertingRule, RuleGroup, runbookUrl } from './rules';

export const ALERT_HIGH_ERROR_RATIO = 'ProntoHighErrorRatio';
export const ALERT_HIGH_LATENCY = 'ProntoHighLatency';
export const ALERT_TRAFFIC_STOPPED = 'ProntoTrafficStopped';

/** The runbook page of the services' alerts (these, the SLO burn rates and the business alert): docs/runbooks/services.md. */
export const SERVICES_RUNBOOK_PAGE = 'services';

/** Share of 5xx answers above which {@link ALERT_HIGH_ERROR_RATIO} fires (the seed's 1 %). */
export const ERROR_RATIO_THRESHOLD = 0.01;
/** p99 latency in seconds above which {@link ALERT_HIGH_LATENCY} fires (the seed's 500 ms). */
export const P99_LATENCY_THRESHOLD_SECONDS = 0.5;

export interface ServiceAlertsProps extends ServiceScope {
  /** When traffic is expected (UTC); {@link ALERT_TRAFFIC_STOPPED} fires only then. */
  readonly openingHours: UtcWindow;
  /** Base of the runbook URLs ({@link runbookUrl}). */
  readonly runbookBaseUrl: string;
}

/**
 * Ready pods of the service: kube-state-metrics' readiness of each pod that Prometheus
 * scrapes as a target of the Service (`up` carries the pod and the `service` label; the
 * idle blue-green slot is a target of `<service>-preview`, so it does not count).
 */
export function readyPods(scope: ServiceScope): string {
  return [
    'sum by (namespace, service) (',
    `  kube_pod_status_ready{namespace="${scope.namespace}", condition="true"}`,
    '  * on (namespace, pod) group_left (service)',
    `  group by (namespace, pod, service) (up{namespace="${scope.namespace}", service="${scope.service}"})`,
    ')',
  ].join('\n');
}

/** The seed's three alerts for one service. */
export function serviceAlertGroup(props: ServiceAlertsProps): RuleGroup {
  const { service } = props;
  // Static labels too: promtool refuses same-named alerts in one file that differ only in expr.
  const rule = (r: Omit<AlertingRule, 'runbookUrl'>): AlertingRule => ({
    ...r, runbookUrl: runbookUrl(props.runbookBaseUrl, SERVICES_RUNBOOK_PAGE, r.alert), labels: { namespace: props.namespace, service },
  });
  const p99 = `histogram_quantile(0.99, sum by (namespace, service, le) (rate(${REQUEST_DURATION}_bucket{${trafficSelector(props)}}[5m])))`;
  return {
    name: `pronto.service.${service}`,
    rules: [
      rule({
        alert: ALERT_HIGH_ERROR_RATIO,
        expr: `${errorRate(props, '5m')}\n/\n${requestRate(props, '5m')}\n> ${formatNumber(ERROR_RATIO_THRESHOLD)}`,
        for: '5m',
        severity: 'warning',
        summary: `${service}: more than ${formatNumber(ERROR_RATIO_THRESHOLD * 100)} % of requests fail (5xx)`,
        description: `More than ${formatNumber(ERROR_RATIO_THRESHOLD * 100)} % of ${service}'s requests answered 5xx over the last 5 minutes, for 5 minutes. `
          + 'Check first which path and status fail (RED dashboard, per endpoint), then the logs of those requests, a rollout in progress, and the services and data stores it calls.',
      }),
      rule({
        alert: ALERT_HIGH_LATENCY,
        expr: `${p99}\n> ${formatNumber(P99_LATENCY_THRESHOLD_SECONDS)}`,
        for: '5m',
        severity: 'warning',
        summary: `${service}: p99 latency above ${formatNumber(P99_LATENCY_THRESHOLD_SECONDS * 1000)} ms`,
        description: `The 99th percentile of ${service}'s request duration was above ${formatNumber(P99_LATENCY_THRESHOLD_SECONDS * 1000)} ms for 5 minutes. `
          + 'Check first which path is slow (RED dashboard, per endpoint), then CPU throttling and memory of its pods, and the latency of what it calls (database, Redis, other services).',
      }),
      rule({
        alert: ALERT_TRAFFIC_STOPPED,
        expr: [
          '(',
          `  ${requestRate(props, '10m')}`,
          '  or on (namespace, service)',
          `  0 * ${readyPods(props).split('\n').join('\n  ')}`,
          ') == 0',
          'and on (namespace, service)',
          `(${readyPods(props)} > 0)`,
          'and on ()',
          `(${utcWindowExpr(props.openingHours)})`,
        ].join('\n'),
        for: '10m',
        severity: 'critical',
        summary: `${service}: no requests while its pods are ready`,
        description: `${service} received no request for 10 minutes during opening hours although Prometheus scrapes ready pods of it. `
          + 'Check first the route to it: its Service\'s endpoints (kubectl get endpoints), the gateway\'s logs and upstream errors, the callers\' logs, and the network policies (a flow missing from the connection graph).',
      }),
    ],
  };
}
