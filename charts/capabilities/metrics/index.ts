/**
 * The `metrics` capability: every catalog service's pods share their gunicorn workers'
 * metrics through `PROMETHEUS_MULTIPROC_DIR` (its own bounded emptyDir) and serve
 * `/metrics` on their HTTP port; one ServiceMonitor per service; Prometheus may reach each
 * service's port (a flow); PrometheusRules with the seed's alerts, the SLOs' recording
 * rules and burn-rate alerts, saturation and business alerts (lib/metrics); the Grafana
 * dashboards and datasources (./grafana).
 */
import { Chart } from 'cdk8s';
import { ConfigError, EnvironmentConfig, ServiceModel } from '../../../config/load';
import { ForeignEndpoint, workloadEndpoint } from '../../../lib/core';
import {
  AlertRules, RuleGroup, ScrapeTarget, UtcWindow, businessAlertGroup, saturationAlertGroup, serviceAlertGroup, sloRuleGroup,
} from '../../../lib/metrics';
import { AddonContracts, podLabelsProblem, serviceOf, serviceUrl } from '../../../lib/addons';
import { Capability } from '../capability';
import { PrometheusPort, PushgatewayPort } from '../ports';
import { SectionValue } from '../../../config/sections';
import { OpeningHours, Slo, WEEKDAYS, effectiveSlo, minuteOfDay } from '../../../config/sections/metrics';
import { grafanaCharts } from './grafana';

type Section = SectionValue<'metrics'>;

/** The volume behind PROMETHEUS_MULTIPROC_DIR, and where the app container sees it. */
export const MULTIPROC_VOLUME = 'prometheus-multiproc';
export const MULTIPROC_PATH = '/run/prometheus-multiproc';
export const MULTIPROC_ENV = 'PROMETHEUS_MULTIPROC_DIR';
/** The app container's port (services-chart.ts) that serves /metrics, and the Service port of the same name. */
export const METRICS_PORT_NAME = 'http';

/** Prometheus's pods, in the monitoring namespace. */
function prometheus(section: Section): ForeignEndpoint {
  return { kind: 'foreign', name: 'prometheus', namespace: section.prometheus.namespace, podLabels: section.prometheus.podLabels };
}

/** The SLOs `service` runs under in this environment: its catalog entry's, then `metrics.slo.<service>`. */
export function sloOf(section: Section, service: ServiceModel): Slo {
  return effectiveSlo(service.catalog.slo, section.slo[service.name]);
}

/** The opening hours as the window the rules evaluate. */
export function openingWindow(hours: OpeningHours): UtcWindow {
  return { days: hours.days.map((d) => WEEKDAYS.indexOf(d)), fromMinute: minuteOfDay(hours.from), toMinute: minuteOfDay(hours.to) };
}

/** Config problems only the catalog reveals: an SLO override for a service that is not in it. */
export function sectionProblems(section: Section, config: EnvironmentConfig): string[] {
  const known = config.services.map((s) => s.name);
  return Object.keys(section.slo).filter((svc) => !known.includes(svc)).map((svc) => {
    const at = ['metrics', 'slo', svc];
    return `${config.file}:${config.lineOf(at)}: ${at.join('.')}: expected a catalog service (${known.join(', ')}), found "${svc}"`;
  });
}

/** The PrometheusRule of one service's rule groups: named after it, so each object's size is one service's. */
export function serviceRulesName(service: string): string {
  return `${service}-rules`;
}

/**
 * Every rule group of the environment, by PrometheusRule name: what the capability emits and
 * promtool checks. A service's groups (its alerts, its SLO) are a PrometheusRule of their own
 * ({@link serviceRulesName}): one object of every service's would grow with the catalog past
 * what the API server stores (a service's SLO rules are several KiB); the namespace's groups
 * follow.
 */
export function ruleGroups(section: Section, config: EnvironmentConfig): Record<string, RuleGroup[]> {
  const namespace = config.namespace.name;
  const runbookBaseUrl = section.runbookBaseUrl;
  const openingHours = openingWindow(section.openingHoursUtc);
  const serviceGroups = (s: ServiceModel): RuleGroup[] => {
    const slo = sloOf(section, s);
    return [
      serviceAlertGroup({ service: s.name, namespace, openingHours, runbookBaseUrl }),
      sloRuleGroup({
        service: s.name, namespace, runbookBaseUrl,
        availabilityObjectivePercent: slo.availability.objectivePercent,
        latencyThresholdSeconds: slo.latency.thresholdSeconds,
        latencyObjectivePercent: slo.latency.objectivePercent,
      }),
    ];
  };
  return {
    ...Object.fromEntries(config.services.map((s) => [serviceRulesName(s.name), serviceGroups(s)])),
    'pronto-saturation': [saturationAlertGroup({ namespace, runbookBaseUrl })],
    'pronto-business': [businessAlertGroup({ namespace, openingHours, noOrdersMinutes: section.noOrdersMinutes, runbookBaseUrl })],
  };
}

/** The Prometheus Grafana queries: the add-on's Service when Pronto installs it, else `metrics.prometheus.url`. */
function prometheusPort(section: Section, config: EnvironmentConfig, addons: AddonContracts): PrometheusPort {
  const kps = addons.kubePrometheusStack;
  const at = (field: string) => `${config.file}:${config.lineOf(['metrics', 'prometheus', field])}: metrics.prometheus.${field}`;
  const problems: string[] = [];
  if (kps && kps.namespace !== section.prometheus.namespace) {
    problems.push(`${at('namespace')}: expected ${kps.namespace}, the namespace gitops.addons.kubePrometheusStack installs Prometheus into, found "${section.prometheus.namespace}"`);
  }
  const labels = kps && podLabelsProblem(kps, 'prometheus', section.prometheus.podLabels);
  if (labels) problems.push(`${at('podLabels')}: ${labels} (the Prometheus of gitops.addons.kubePrometheusStack)`);
  if (kps && section.prometheus.url !== undefined) {
    problems.push(`${at('url')}: expected no url: Pronto installs Prometheus (gitops.addons.kubePrometheusStack), whose Service is ${serviceUrl(kps, 'prometheus')}`);
  }
  const url = kps ? serviceUrl(kps, 'prometheus') : section.prometheus.url;
  if (url === undefined) {
    problems.push(`${at('url')}: expected the URL of the cluster's Prometheus (gitops.addons.kubePrometheusStack is off or gitops is off, so no add-on provides it)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    url: url!, retentionDays: section.prometheus.retentionDays, storage: section.prometheus.storage, selectorLabels: section.prometheus.selectorLabels,
    server: prometheus(section), scrapeInterval: section.scrapeInterval, runbookBaseUrl: section.runbookBaseUrl,
  };
}

/** The Pushgateway Pronto installs (gitops.addons.pushgateway), else the cluster's own (`metrics.pushgateway`), else none. */
function pushgatewayPort(section: Section, config: EnvironmentConfig, addons: AddonContracts): PushgatewayPort | undefined {
  const contract = addons.pushgateway;
  const own = section.pushgateway;
  if (contract && own) {
    throw new ConfigError([`${config.file}:${config.lineOf(['metrics', 'pushgateway'])}: metrics.pushgateway: expected nothing: Pronto installs the Pushgateway (gitops.addons.pushgateway), at ${serviceUrl(contract, 'push')}`]);
  }
  if (own) {
    const url = new URL(own.url);
    return { url: own.url, namespace: url.hostname.split('.')[1], podLabels: own.podLabels, podPort: Number(url.port) };
  }
  if (!contract) return undefined;
  const push = serviceOf(contract, 'push');
  return { url: serviceUrl(contract, 'push'), namespace: contract.namespace, podLabels: push.podLabels, podPort: push.targetPort };
}

export const metrics: Capability<Section> & { readonly id: 'metrics' } = {
  id: 'metrics',
  provides(section, config, addons) {
    const pushgateway = pushgatewayPort(section, config, addons);
    return { prometheus: prometheusPort(section, config, addons), ...(pushgateway ? { pushgateway } : {}) };
  },
  check: sectionProblems,
  extendPod(pod, _service, section) {
    // prometheus_client's multiprocess mode: every gunicorn worker writes its samples here, and /metrics sums them.
    pod.addVolume({ name: MULTIPROC_VOLUME, emptyDir: { sizeLimit: section.multiprocessDir.sizeLimit } });
    pod.addAppMount({ volume: MULTIPROC_VOLUME, path: MULTIPROC_PATH });
    pod.addAppEnv({ name: MULTIPROC_ENV, value: MULTIPROC_PATH });
  },
  flows(graph, section, config) {
    const from = prometheus(section);
    for (const svc of config.services) {
      graph.addFlow({
        from, to: workloadEndpoint(svc.name, config.namespace.name), ports: [{ port: svc.catalog.port, protocol: 'TCP' }],
        purpose: 'Prometheus scrapes /metrics', declaredBy: 'metrics',
      });
    }
  },
  charts(app, section, context) {
    const { config } = context;
    const chart = new Chart(app, 'metrics', { namespace: config.namespace.name, disableResourceNameHashes: true });
    const operatorLabels = section.prometheus.selectorLabels;
    for (const svc of config.services) {
      // Selects `<svc>` and, for a blue-green service, `<svc>-preview` (same app.kubernetes.io/name): each pod is an
      // endpoint of exactly one of them, so none is scraped twice; the idle slot's series carry service="<svc>-preview",
      // which the per-service alerts and SLOs (service="<svc>") leave out.
      new ScrapeTarget(chart, `${svc.name}-scrape`, {
        name: svc.name,
        port: METRICS_PORT_NAME,
        interval: section.scrapeInterval,
        // A scrape may not outlast its interval.
        scrapeTimeout: `${Math.min(10, parseInt(section.scrapeInterval, 10))}s`,
        selectorLabels: operatorLabels,
      });
    }
    for (const [name, groups] of Object.entries(ruleGroups(section, config))) {
      new AlertRules(chart, name, { name, groups, selectorLabels: operatorLabels });
    }
    return [chart, ...grafanaCharts(app, section, context)];
  },
};
