/**
 * The `metrics` section of the environment file: where the Prometheus Operator runs and
 * which labels it selects ServiceMonitors and PrometheusRules by, the runbooks' address,
 * SLO overrides, business-alert hours and the Grafana dashboards.
 * Pure: zod and the pure lib/core files only (config/ imports it).
 */
import { z } from 'zod';
import { labelMapSchema } from './schemas';

/**
 * prometheus-flask-exporter's histogram buckets (prometheus_client's defaults, in seconds):
 * a latency objective's threshold must be one of them, because the SLI counts the requests
 * of the bucket `le="<threshold>"` and Prometheus has nothing finer to interpolate from.
 */
export const FLASK_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] as const;

const OBJECTIVE = 'expected an objective in percent above 0 and below 100, such as 99.9 (100 % would leave no error budget)';
// A refinement of any value, not z.number(): a failed type check inside the section's union would surface as the union's own, vaguer error.
const objectivePercent = z.any().refine((v) => typeof v === 'number' && v > 0 && v < 100, { error: OBJECTIVE })
  .transform((v) => v as number).meta({ type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 100 });
const BUCKET = `expected one of prometheus-flask-exporter's histogram buckets in seconds (${FLASK_LATENCY_BUCKETS.join(', ')})`;
const thresholdSeconds = z.any().refine((v) => (FLASK_LATENCY_BUCKETS as readonly unknown[]).includes(v), { error: BUCKET })
  .transform((v) => v as number).meta({ type: 'number', enum: [...FLASK_LATENCY_BUCKETS] });

/** Availability and latency objectives of a service when its catalog entry does not set them. */
export const DEFAULT_SLO = {
  availability: { objectivePercent: 99.5 },
  latency: { thresholdSeconds: 0.5, objectivePercent: 99 },
} as const;

/**
 * A service's SLOs, in its catalog entry (config/schema.ts): the share of requests that
 * must not fail (5xx), and the share that must be answered within a threshold, both over
 * 30 days. Every field has a default.
 */
export const sloSchema = z.strictObject({
  availability: z.strictObject({
    objectivePercent: objectivePercent.default(DEFAULT_SLO.availability.objectivePercent)
      .describe('Share of requests (health probes and /metrics excluded) that must not answer 5xx, in % over 30 days'),
  }).prefault({}).describe('The availability objective: requests answered without a server error'),
  latency: z.strictObject({
    thresholdSeconds: thresholdSeconds.default(DEFAULT_SLO.latency.thresholdSeconds)
      .describe('A request slower than this is an error of the latency SLO; one of prometheus-flask-exporter\'s buckets'),
    objectivePercent: objectivePercent.default(DEFAULT_SLO.latency.objectivePercent)
      .describe('Share of requests that must be answered within thresholdSeconds, in % over 30 days'),
  }).prefault({}).describe('The latency objective: requests answered within a threshold'),
});
export type Slo = z.output<typeof sloSchema>;

/** An environment's override of a service's SLOs (`metrics.slo.<service>`): only the fields it names. */
export const sloOverrideSchema = z.strictObject({
  availability: z.strictObject({
    objectivePercent: objectivePercent.optional().describe('Share of requests that must not answer 5xx, in % over 30 days'),
  }).optional().describe('Over the catalog entry\'s availability objective'),
  latency: z.strictObject({
    thresholdSeconds: thresholdSeconds.optional().describe('A request slower than this is an error of the latency SLO; one of prometheus-flask-exporter\'s buckets'),
    objectivePercent: objectivePercent.optional().describe('Share of requests that must be answered within thresholdSeconds, in % over 30 days'),
  }).optional().describe('Over the catalog entry\'s latency objective'),
});
export type SloOverride = z.output<typeof sloOverrideSchema>;

/** The SLOs a service runs under: its catalog entry's, then the environment's override, field by field. */
export function effectiveSlo(catalog: Slo, override: SloOverride | undefined): Slo {
  return {
    availability: { ...catalog.availability, ...defined(override?.availability) },
    latency: { ...catalog.latency, ...defined(override?.latency) },
  };
}

function defined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = typeof WEEKDAYS[number];
const TIME = 'expected a time of day "HH:MM" in UTC, quoted (such as "10:30")';
const timeOfDay = z.string({ error: TIME }).regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: TIME });

/** Minutes after midnight of "HH:MM". */
export function minuteOfDay(time: string): number {
  const [h, m] = time.split(':').map(Number);
  return h * 60 + m;
}

/**
 * When the restaurants take orders, in UTC: Prometheus has no time zones (hour(),
 * day_of_week() are UTC), so local hours are stated in UTC and move by an hour with
 * daylight saving time. `to` before `from` spans midnight.
 */
export const openingHoursSchema = z.strictObject({
  days: z.array(z.string().refine((d) => (WEEKDAYS as readonly string[]).includes(d), { error: `expected a day of the week (${WEEKDAYS.join(', ')})` })
    .transform((d) => d as Weekday).meta({ enum: [...WEEKDAYS] })).min(1, { error: 'expected at least one day' })
    .default([...WEEKDAYS]).describe('UTC days of the week on which the restaurants are open (the day of the moment evaluated)'),
  from: timeOfDay.default('10:00').describe('Opening time, "HH:MM" UTC'),
  to: timeOfDay.default('22:00').describe('Closing time, "HH:MM" UTC; before `from` when the opening hours span midnight'),
}).refine((h) => h.from !== h.to, { error: 'expected different opening and closing times (for always open, use "00:00" to "23:59")', path: ['to'] });
export type OpeningHours = z.output<typeof openingHoursSchema>;

/** Where the alerts' runbooks are (docs/runbooks/ of this repository) unless an environment says otherwise. */
export const DEFAULT_RUNBOOK_BASE_URL = 'https://git.pronto.example.com/platform/pronto-platform/-/blob/main/docs/runbooks';
const RUNBOOKS_FOLDER = 'expected the http(s) URL of the runbooks folder, such as https://git.example.com/platform/pronto-platform/-/blob/main/docs/runbooks '
  + '(no trailing "/", no file, query or "#": each alert adds /<page>.md#<alert>)';

/** The longest window a rule reads (the SLOs' 30 days) and a day of margin: the least retention Prometheus may keep. */
export const MIN_RETENTION_DAYS = 31;

export const metricsSectionSchema = z.strictObject({
  prometheus: z.strictObject({
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: 'expected a DNS label' }).default('monitoring')
      .describe('Namespace of Prometheus and Grafana (run by another team; never created or guarded)'),
    podLabels: labelMapSchema.default({ 'app.kubernetes.io/name': 'prometheus' })
      .describe('Labels of the Prometheus pods (the flow from them to every metrics port)'),
    selectorLabels: labelMapSchema.default({ release: 'kube-prometheus-stack' })
      .describe('Labels the Prometheus Operator selects ServiceMonitors and PrometheusRules by (serviceMonitorSelector, ruleSelector)'),
    url: z.url({ protocol: /^https?$/, error: 'expected the http(s) URL of Prometheus as Grafana reaches it, such as http://prometheus.monitoring.svc:9090' }).optional()
      .describe('Prometheus as Grafana reaches it, for a Prometheus the cluster already has (gitops.addons.kubePrometheusStack: false); absent: the add-on\'s Service (lib/addons/kube-prometheus-stack.ts)'),
    retentionDays: z.int({ error: 'expected a whole number of days' })
      .refine((d) => d >= MIN_RETENTION_DAYS, { error: `expected at least ${MIN_RETENTION_DAYS} days: the SLO rules read 30 days of samples (slo:sli_error:ratio_rate30d)` })
      .default(MIN_RETENTION_DAYS + 4).meta({ minimum: MIN_RETENTION_DAYS })
      .describe(`How long Prometheus keeps samples, in days: at least ${MIN_RETENTION_DAYS} (the SLOs\' 30-day windows and a day of margin). Pronto sets it on the add-on; for the cluster\'s own Prometheus, state what it keeps`),
    storage: z.strictObject({
      size: z.string().regex(/^[1-9]\d*(Mi|Gi|Ti)$/, { error: 'expected a size in whole Mi, Gi or Ti, such as 50Gi' }).default('50Gi')
        .describe('Size of each Prometheus pod\'s volume (a PersistentVolumeClaim): retentionDays of samples must fit'),
      storageClassName: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { error: 'expected a StorageClass name' }).optional()
        .describe('StorageClass; absent: the cluster default'),
    }).prefault({}).describe('The volume Prometheus keeps its samples on when Pronto installs it (an emptyDir, the chart\'s default, loses them at every restart)'),
  }).prefault({}).describe('The Prometheus (Operator) that scrapes Pronto and evaluates its rules'),
  pushgateway: z.strictObject({
    url: z.string({ error: 'expected the Pushgateway URL such as http://prometheus-pushgateway.monitoring.svc:9091' })
      .regex(/^http:\/\/[a-z0-9-]+\.[a-z0-9-]+\.svc(\.cluster\.local)?:\d+$/, {
        error: 'expected an in-cluster Service URL http://<service>.<namespace>.svc[.cluster.local]:<port> (the egress policy allows exactly its pods on that port)',
      }).describe('The Pushgateway\'s Service URL; its pods must listen on the same port'),
    podLabels: labelMapSchema.default({ 'app.kubernetes.io/name': 'prometheus-pushgateway' })
      .describe('Labels of the Pushgateway pods (the flow from the jobs that push to them)'),
  }).optional().describe('A Pushgateway the cluster already has (gitops.addons.pushgateway: false); absent: the add-on\'s, when Pronto installs it'),
  scrapeInterval: z.string().regex(/^\d+s$/, { error: 'expected seconds such as 30s' }).default('30s').describe('How often Prometheus scrapes every target'),
  runbookBaseUrl: z.url({ protocol: /^https?$/, error: RUNBOOKS_FOLDER })
    .refine((url) => !/\/$|\.md$|[?#]/.test(url), { error: RUNBOOKS_FOLDER })
    .default(DEFAULT_RUNBOOK_BASE_URL)
    .describe('The runbooks folder (docs/runbooks of this repository, as your Git host shows it): each alert\'s runbook_url is <this>/<page>.md#<alert name in lower case>, the heading of its runbook'),
  multiprocessDir: z.strictObject({
    sizeLimit: z.string().regex(/^[1-9]\d*Mi$/, { error: 'expected a size in whole Mi, such as 128Mi' }).default('128Mi')
      .describe('sizeLimit of the emptyDir behind PROMETHEUS_MULTIPROC_DIR (counted against the app container\'s ephemeral storage); each gunicorn worker writes a few MiB'),
  }).prefault({}).describe('The directory where gunicorn\'s workers share their metrics (prometheus_client multiprocess mode)'),
  slo: z.record(z.string().meta({ title: 'service' }), sloOverrideSchema).default({})
    .describe('Per catalog service: SLOs over those of its catalog entry, field by field (config/catalog.ts, slo)'),
  openingHoursUtc: openingHoursSchema.prefault({})
    .describe('When the restaurants take orders, in UTC (Prometheus has no time zones): ProntoNoOrders and ProntoTrafficStopped fire only then'),
  noOrdersMinutes: z.int({ error: 'expected a whole number of minutes' }).min(5).max(1440).default(30)
    .describe('ProntoNoOrders fires when no order was created for this many minutes during opening hours'),
  // The grafana block is the dashboards' (charts/capabilities/metrics/grafana.ts).
  grafana: z.strictObject({
    folder: z.string().min(1).max(100).default('Pronto')
      .describe('Grafana folder of the dashboards (the annotation grafana_folder; the sidecar needs folderAnnotation: grafana_folder)'),
  }).prefault({}).describe('Dashboards (ConfigMaps labelled grafana_dashboard: "1") and datasources (grafana_datasource: "1") for the Grafana sidecar, in the Pronto namespace; ' +
    'the datasources\' URLs and Loki tenant come from the providers (Prometheus, the logs and tracing capabilities)'),
});
export type MetricsSection = z.output<typeof metricsSectionSchema>;
