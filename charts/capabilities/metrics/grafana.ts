/**
 * The metrics capability's Grafana objects: dashboards as code and datasources, as
 * ConfigMaps the Grafana sidecar of kube-prometheus-stack loads (labels
 * `grafana_dashboard: "1"` and `grafana_datasource: "1"`).
 *
 * They live in the Pronto namespace, beside what they describe: Pronto's Argo CD
 * application needs no rights in the monitoring namespace, and removing an environment
 * removes its dashboards. The sidecar must therefore watch this namespace
 * (`sidecar.dashboards.searchNamespace` and `sidecar.datasources.searchNamespace`:
 * a list naming it; docs/capabilities/metrics.md, "Dashboards and datasources"). With the kube-prometheus-stack
 * add-on, Grafana's sidecars read them through a Role here (get, list, watch on ConfigMaps)
 * bound to Grafana's ServiceAccount: the add-on renders no ClusterRole for them.
 */
import { App, Chart } from 'cdk8s';
import { GRAFANA, GRAFANA_LOKI_READER } from '../../../lib/addons';
import { caBundleFile } from '../../../lib/tls';
import {
  BUSINESS_DASHBOARD, GrafanaDashboard, GrafanaDatasource, GrafanaDatasources, GrafanaSidecarRbac, ProntoDashboardProps, RED_DASHBOARD, SATURATION_DASHBOARD,
  businessDashboard, grafanaUid, jaegerDatasource, lokiDatasource, prometheusDatasource, redDashboard, saturationDashboard,
} from '../../../lib/dashboards';
import { CapabilityContext } from '../capability';
import { MetricsSection } from '../../../config/sections/metrics';

/** The dashboards, by key (ConfigMap `grafana-dashboard-<key>`, uid `pronto-<env>-<key>`). */
const DASHBOARDS = {
  [RED_DASHBOARD]: redDashboard,
  [SATURATION_DASHBOARD]: saturationDashboard,
  [BUSINESS_DASHBOARD]: businessDashboard,
} as const;

/** The Role (and RoleBinding) that lets Grafana's sidecars read this namespace's ConfigMaps. */
export const GRAFANA_SIDECAR_ROLE = 'grafana-sidecar';

/** The uids of an environment's datasources: stable, and distinct per environment should one Grafana show several. */
export function datasourceUids(environment: string): { prometheus: string; loki: string; jaeger: string } {
  return {
    prometheus: grafanaUid('pronto', environment, 'prometheus'),
    loki: grafanaUid('pronto', environment, 'loki'),
    jaeger: grafanaUid('pronto', environment, 'jaeger'),
  };
}

/**
 * The chart `dashboards`: one ConfigMap per dashboard and one of datasources: Prometheus
 * always, Loki when the logs capability provides it (with its tenant and Grafana's read login), Jaeger when tracing
 * provides it, linked both ways when both are.
 */
export function grafanaCharts(app: App, section: MetricsSection, context: CapabilityContext): Chart[] {
  const { config } = context;
  const chart = new Chart(app, 'dashboards', { namespace: config.namespace.name, disableResourceNameHashes: true });
  const uids = datasourceUids(config.name);
  const name = (what: string) => `Pronto ${what} (${config.name})`;
  const props: ProntoDashboardProps = {
    environment: config.name,
    namespace: config.namespace.name,
    services: config.services.map((s) => s.name),
    datasource: { uid: uids.prometheus, name: name('Prometheus') },
    refresh: section.scrapeInterval,
  };
  for (const [key, build] of Object.entries(DASHBOARDS)) {
    new GrafanaDashboard(chart, key, { name: `grafana-dashboard-${key}`, dashboard: build(props), folder: section.grafana.folder });
  }

  // Every URL and the tenant come from their providers' ports: the datasource reads what the shippers write.
  const { prometheus, loki, traces } = context.ports;
  const lokiReader = loki?.logins?.find((l) => l.access === 'read');
  const datasources: GrafanaDatasource[] = [
    prometheusDatasource({ name: name('Prometheus'), uid: uids.prometheus, url: prometheus!.url, scrapeInterval: section.scrapeInterval }),
    ...(loki ? [lokiDatasource({
      name: name('Loki'), uid: uids.loki, url: loki.queryUrl, tenant: loki.tenant,
      tracesDatasourceUid: traces ? uids.jaeger : undefined,
      // Grafana's read login: its password is the file the Vault agent renders into the Grafana Pronto installs.
      ...(lokiReader ? { login: { user: lokiReader.user, passwordFile: GRAFANA_LOKI_READER.path } } : {}),
      // The CA bundle the Grafana Pronto installs mounts (lib/tls's path); a cluster's own Grafana must mount it there too.
      ...(loki.tls ? { caFile: caBundleFile(loki.tls.caBundle) } : {}),
    })] : []),
    ...(traces ? [jaegerDatasource({
      name: name('Jaeger'), uid: uids.jaeger, url: traces.queryUrl,
      logs: loki ? { datasourceUid: uids.loki, namespace: config.namespace.name } : undefined,
    })] : []),
  ];
  new GrafanaDatasources(chart, 'datasources', { name: 'grafana-datasources', datasources });

  // The Grafana Pronto installs reads them through a Role of this namespace; a cluster's own Grafana brings its own access.
  const kps = context.ports.addons.kubePrometheusStack;
  const grafanaAccount = kps?.serviceAccounts?.grafana;
  if (kps && grafanaAccount) {
    new GrafanaSidecarRbac(chart, 'grafana-sidecar', {
      name: GRAFANA_SIDECAR_ROLE, serviceAccount: { name: grafanaAccount, namespace: kps.namespace }, rules: GRAFANA.sidecarRules,
    });
  }
  return [chart];
}
