/**
 * The request metrics every Pronto service exposes (prometheus-flask-exporter, docs/capabilities/metrics.md,
 * "Metric contract"), as the selectors the rules read. Requests are counted from the
 * duration histogram, whose `path` label lets the probes and the scrape itself be left out
 * (`flask_http_request_total` has no `path`).
 */
import { selector } from './promql';

/** Request duration histogram (seconds), labels `method`, `path` (the Flask URL rule), `status`. */
export const REQUEST_DURATION = 'flask_http_request_duration_seconds';
/** Requests that are not traffic: the kubelet's probes and Prometheus's scrapes. */
export const NOT_TRAFFIC_PATHS = '/health/.*|/metrics';

/** One catalog service as Prometheus sees it. */
export interface ServiceScope {
  /** The catalog service: the Service name, which the ServiceMonitor puts in the `service` label. */
  readonly service: string;
  /** Namespace of its pods (the `namespace` label). */
  readonly namespace: string;
}

/** The labels selecting `scope`'s traffic, plus `extra`. */
export function trafficSelector(scope: ServiceScope, extra: Readonly<Record<string, string>> = {}): string {
  return selector({ namespace: scope.namespace, service: scope.service, path: `!~${NOT_TRAFFIC_PATHS}`, ...extra });
}

/** `flask_http_request_duration_seconds_count{…}` of `scope`'s traffic. */
export function requestsSeries(scope: ServiceScope, extra: Readonly<Record<string, string>> = {}): string {
  return `${REQUEST_DURATION}_count{${trafficSelector(scope, extra)}}`;
}

/** Requests per second of `scope` over `window`, one series per namespace and service. */
export function requestRate(scope: ServiceScope, window: string, extra: Readonly<Record<string, string>> = {}): string {
  return `sum by (namespace, service) (rate(${requestsSeries(scope, extra)}[${window}]))`;
}

/** Failed (5xx) requests per second of `scope` over `window`; 0, not nothing, while no request has failed yet. */
export function errorRate(scope: ServiceScope, window: string): string {
  return `(\n  ${requestRate(scope, window, { status: '=~5..' })}\n  or\n  0 * ${requestRate(scope, window)}\n)`;
}
