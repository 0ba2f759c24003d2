/**
 * The `metrics` section of the environment file: where the Prometheus Operator runs and
 * which labels it selects ServiceMonitors and PrometheusRules by, the runbooks' address,
 * SLO overrides, business-alert hours and the Grafana dashboards.
 * Pure: zod and the pure lib/core files only (config/ imports it).
 */
import { z } from 'zod';
import { labelMapSchema } from '../schemas';

export const metricsSectionSchema = z.strictObject({
  prometheus: z.strictObject({
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: 'expected a DNS label' }).default('monitoring')
      .describe('Namespace of Prometheus and Grafana (run by another team; never created or guarded)'),
    podLabels: labelMapSchema.default({ 'app.kubernetes.io/name': 'prometheus' })
      .describe('Labels of the Prometheus pods (the flow from them to every metrics port)'),
    selectorLabels: labelMapSchema.default({ release: 'kube-prometheus-stack' })
      .describe('Labels the Prometheus Operator selects ServiceMonitors and PrometheusRules by (serviceMonitorSelector, ruleSelector)'),
  }).prefault({}),
  scrapeInterval: z.string().regex(/^\d+s$/, { error: 'expected seconds such as 30s' }).default('30s').describe('How often Prometheus scrapes every target'),
  runbookBaseUrl: z.url({ error: 'expected the URL of the README that holds the runbooks' })
    .default('https://git.pronto.example.com/platform/pronto-platform/-/blob/main/README.md')
    .describe('Each alert\'s runbook_url is this URL and #<alert name in lower case>, a heading of the README\'s runbook section'),
  // The grafana block is the dashboards' (charts/capabilities/metrics/grafana.ts).
  grafana: z.strictObject({
    folder: z.string().min(1).default('Pronto').describe('Grafana folder of the dashboards (the sidecar\'s folder annotation)'),
    datasources: z.strictObject({
      prometheus: z.url().default('http://kube-prometheus-stack-prometheus.monitoring.svc:9090').describe('Prometheus, as Grafana reaches it'),
      loki: z.url().default('http://loki-gateway.loki.svc').describe('Loki, as Grafana reaches it (provisioned when the logs capability is on)'),
      jaeger: z.url().default('http://jaeger-query.tracing.svc:16686').describe('Jaeger query, as Grafana reaches it (provisioned when the tracing capability is on)'),
    }).prefault({}),
  }).prefault({}).describe('Dashboards (ConfigMaps labelled grafana_dashboard: "1") and datasources (grafana_datasource: "1") for the Grafana sidecar'),
});
export type MetricsSection = z.output<typeof metricsSectionSchema>;
