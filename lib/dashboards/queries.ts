/**
 * The PromQL of the Pronto dashboards: named functions of the dashboard variables, kept
 * apart from the layout (kubernetes-mixin style), so tests can check every expression.
 *
 * The metric contract (docs/capabilities/metrics.md, "Metric contract"): the apps export, through
 * prometheus-flask-exporter, `flask_http_request_duration_seconds` (histogram; labels
 * method, path, status) and the business series `pronto_orders_created_total`,
 * `pronto_order_revenue_total` (currency) and `pronto_kitchen_ticket_age_seconds`
 * (histogram). The ServiceMonitor adds `service` (the catalog name) and `namespace`.
 * Requests are counted as the SLO rules count them (lib/metrics): from the histogram, whose
 * `path` lets the probes and the scrapes be left out, so the RED panels show the traffic the
 * SLOs judge. The SLO series are the metrics capability's recording rules. Saturation
 * reads cAdvisor and kube-state-metrics.
 */
import { NOT_TRAFFIC_PATHS, ORDERS_CREATED, REQUEST_DURATION, SloWindow } from '../metrics';


/** The variables every Pronto dashboard declares; the expressions below refer to them as `$<name>`. */
export const DASHBOARD_VARIABLES = {
  /** The Prometheus datasource the panels query. */
  datasource: 'datasource',
  /** The environment's name (display and links only: series carry no environment label). */
  environment: 'environment',
  /** The namespace the services run in: every selector names it. */
  namespace: 'namespace',
  /** The catalog services shown (multi-value; All = every catalog service). */
  service: 'service',
  /** The endpoints (`path` label of the duration histogram) shown in the per-endpoint row. */
  path: 'path',
} as const;

/** Grafana's rate window: at least four scrape intervals (the datasource states the scrape interval). */
const RATE = '$__rate_interval';
const APP = 'namespace="$namespace", service=~"$service"';
/** The selected services' traffic: every request but the probes and the scrapes. */
const TRAFFIC = `${APP}, path!~"${NOT_TRAFFIC_PATHS}"`;
const ENDPOINT = `${TRAFFIC}, path=~"$path"`;
const SLO = APP;
/**
 * The pods of the selected services: `<service>-<replicaset hash>-<pod suffix>`, or with
 * the blue-green slot, `<service>-blue-…`. Anchored (Prometheus anchors label regexes), so
 * a service never matches another whose name it prefixes.
 */
const PODS = 'namespace="$namespace", pod=~"($service)(-blue|-green)?-[a-z0-9]+-[a-z0-9]+"';
/** cAdvisor's per-container series, without the pod-level (`container=""`) and pause (`POD`) ones. */
const CONTAINERS = `${PODS}, container!="", container!="POD"`;

const by = (labels: readonly string[]): string => (labels.length > 0 ? `sum by (${labels.join(', ')})` : 'sum');

/** Requests per second, of the selected services or (`perEndpoint`) of the selected paths. */
export function requestRate(labels: readonly string[], perEndpoint = false): string {
  return `${by(labels)} (rate(${REQUEST_DURATION}_count{${perEndpoint ? ENDPOINT : TRAFFIC}}[${RATE}]))`;
}

/** Share of requests answered 5xx (0..1). */
export function errorRatio(labels: readonly string[], perEndpoint = false): string {
  const selector = perEndpoint ? ENDPOINT : TRAFFIC;
  return [
    `${by(labels)} (rate(${REQUEST_DURATION}_count{${selector}, status=~"5.."}[${RATE}]))`,
    '/',
    `${by(labels)} (rate(${REQUEST_DURATION}_count{${selector}}[${RATE}]))`,
  ].join('\n');
}

/** The `quantile` (e.g. 0.99) of request duration, in seconds. */
export function latencyQuantile(quantile: number, labels: readonly string[], perEndpoint = false): string {
  return [
    `histogram_quantile(${quantile},`,
    `  ${by([...labels, 'le'])} (rate(${REQUEST_DURATION}_bucket{${perEndpoint ? ENDPOINT : TRAFFIC}}[${RATE}]))`,
    ')',
  ].join('\n');
}

/** Error budget left over the SLO period (1 = untouched, 0 = spent, below 0 = overspent), per service and SLO. */
export function errorBudgetRemaining(): string {
  return `slo:error_budget:remaining{${SLO}}`;
}

/**
 * How fast the error budget burns over `window`: the error ratio divided by the ratio the
 * objective allows (1 = the budget lasts exactly the SLO period; 14.4 over 1h pages).
 */
export function burnRate(window: SloWindow): string {
  return [
    `slo:sli_error:ratio_rate${window}{${SLO}}`,
    '/ on (namespace, service, slo) group_left ()',
    `(1 - slo:objective:ratio{${SLO}})`,
  ].join('\n');
}

/** CPU cores used, per pod and container. */
export function cpuUsage(): string {
  return `sum by (pod, container) (rate(container_cpu_usage_seconds_total{${CONTAINERS}}[${RATE}]))`;
}

/** Memory working set (what the OOM killer compares with the limit), per pod and container. */
export function memoryWorkingSet(): string {
  return `max by (pod, container) (container_memory_working_set_bytes{${CONTAINERS}})`;
}

/** Requests or limits of `resource` (`cpu` in cores, `memory` in bytes), per container (the same for every pod of a service). */
export function containerResource(kind: 'requests' | 'limits', resource: 'cpu' | 'memory'): string {
  return `max by (container) (kube_pod_container_resource_${kind}{${PODS}, resource="${resource}"})`;
}

/** Memory working set as a share of the memory limit, per pod and container (the OOM kill comes at 1). */
export function memoryOfLimit(): string {
  return [
    memoryWorkingSet(),
    '/ on (pod, container)',
    `max by (pod, container) (kube_pod_container_resource_limits{${PODS}, resource="memory"})`,
  ].join('\n');
}

/** Share of CFS periods in which the container was throttled (0..1), per pod and container. */
export function cpuThrottling(): string {
  return [
    `sum by (pod, container) (rate(container_cpu_cfs_throttled_periods_total{${CONTAINERS}}[${RATE}]))`,
    '/',
    `sum by (pod, container) (rate(container_cpu_cfs_periods_total{${CONTAINERS}}[${RATE}]))`,
  ].join('\n');
}

/** Container restarts over `window` (a duration or `$__range`), per pod and container. */
export function restarts(window: string, labels: readonly string[] = ['pod', 'container']): string {
  return `${by(labels)} (increase(kube_pod_container_status_restarts_total{${PODS}}[${window}]))`;
}

/** Orders created per minute over `window`, summed over `labels`. */
export function ordersPerMinute(window: string = RATE, labels: readonly string[] = []): string {
  return `${by(labels)} (rate(${ORDERS_CREATED}{${APP}}[${window}])) * 60`;
}

/** Orders created over `window` (e.g. `$__range`). */
export function ordersIn(window: string): string {
  return `sum (increase(${ORDERS_CREATED}{${APP}}[${window}]))`;
}

/** Revenue per minute, per currency. */
export function revenuePerMinute(): string {
  return `sum by (currency) (rate(pronto_order_revenue_total{${APP}}[${RATE}])) * 60`;
}

/** Revenue over `window` (e.g. `$__range`), per currency. */
export function revenueIn(window: string): string {
  return `sum by (currency) (increase(pronto_order_revenue_total{${APP}}[${window}]))`;
}

/** The `quantile` of the age of kitchen tickets when they are served, in seconds. */
export function ticketAgeQuantile(quantile: number): string {
  return [
    `histogram_quantile(${quantile},`,
    `  sum by (le) (rate(pronto_kitchen_ticket_age_seconds_bucket{${APP}}[${RATE}]))`,
    ')',
  ].join('\n');
}

/** Mean kitchen ticket age, in seconds. */
export function ticketAgeMean(): string {
  return [
    `sum (rate(pronto_kitchen_ticket_age_seconds_sum{${APP}}[${RATE}]))`,
    '/',
    `sum (rate(pronto_kitchen_ticket_age_seconds_count{${APP}}[${RATE}]))`,
  ].join('\n');
}

/** The `path` values of the selected services (a Grafana `label_values` query, not PromQL). */
export function pathValues(): string {
  return `label_values(${REQUEST_DURATION}_count{${TRAFFIC}}, path)`;
}
