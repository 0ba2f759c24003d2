/**
 * Dashboards as code and Grafana datasources (the metrics capability's `dashboards`
 * chart): ConfigMaps the kube-prometheus-stack sidecar loads, derived from the catalog and
 * the environment. Expectations derive from the config, never from a list of services.
 */
import { readFileSync } from 'fs';
import { Testing } from 'cdk8s';
import { parse } from 'yaml';
import { CapabilityContext, Ports } from '../../../charts/capabilities';
import { environmentPorts } from '../../../charts/build-app';
import { SYNC_WAVES } from '../../../charts/capabilities/gitops/sync-waves';
import { datasourceUids, grafanaCharts } from '../../../charts/capabilities/metrics/grafana';
import { GRAFANA_LOKI_READER } from '../../../lib/addons';
import { CATALOG } from '../../../config/catalog';
import { EnvironmentConfig, parseEnvironment } from '../../../config/load';
import { Catalog } from '../../../config/schema';
import { Manifest } from '../../../lib/core';
import { SYNC_WAVE_ANNOTATION } from '../../../lib/gitops';
import {
  DASHBOARD_VARIABLES, GrafanaDashboard, GrafanaDatasources, MAX_GRAFANA_UID_LENGTH, TRACE_ID_MATCHER, grafanaUid, lokiDatasource, prometheusDatasource, redDashboard,
} from '../../../lib/dashboards';
import { newServiceName } from '../../fixtures/added-service';
import { VALID_ENV, validEnv } from '../../fixtures/environments';
import { CONFIG_DIR, ENVIRONMENTS, buildEnvironment, chartsObjects, configProblems, gateFindingsInNamespace, renderText } from '../../helpers';

const FILE = 'config/test.yaml';
const KEYS = ['red', 'saturation', 'business'];
const lineOfSection = VALID_ENV.split('\n').length;

/** A shipped environment file with the metrics section appended unless it has one. */
const shippedWithMetrics = (env: string): string => {
  const text = readFileSync(`${CONFIG_DIR}/${env}.yaml`, 'utf8');
  return /^metrics:/m.test(text) ? text : `${text.replace(/\n*$/, '\n')}metrics: { prometheus: { url: "http://prometheus.monitoring.svc:9090" } }\n`;
};
const shipped = (env: string): EnvironmentConfig => parseEnvironment(shippedWithMetrics(env), `config/${env}.yaml`);

const configMaps = (manifests: Manifest[], label: string): any[] =>
  manifests.filter((m) => m.kind === 'ConfigMap' && m.metadata.labels?.[label] === '1');
/** The dashboards of an environment, parsed from their ConfigMaps, by ConfigMap name. */
const dashboardsOf = (manifests: Manifest[]): Map<string, { configMap: any; file: string; json: any }> => new Map(
  configMaps(manifests, 'grafana_dashboard').map((cm) => {
    const [file, text] = Object.entries(cm.data as Record<string, string>)[0];
    return [cm.metadata.name, { configMap: cm, file, json: JSON.parse(text) }];
  }));
const variable = (dashboard: any, name: string): any => dashboard.templating.list.find((v: any) => v.name === name);
const panelsOf = (dashboard: any): any[] => dashboard.panels.filter((p: any) => p.type !== 'row');

/** The objects of the `dashboards` chart alone, for `config` with its capabilities replaced by `capabilities`. */
function dashboardsChart(config: EnvironmentConfig, ports: Ports = environmentPorts(config)): Manifest[] {
  const context = { config, ports } as unknown as CapabilityContext;
  return chartsObjects(grafanaCharts(Testing.app(), config.capabilities.metrics!, context));
}

/**
 * The datasources grafanaCharts provisions for `config` with the logs and tracing
 * capabilities forced on or off (their own sections are theirs to define), as Grafana
 * reads the file: `$$` is a literal `$`.
 */
function datasourcesWith(config: EnvironmentConfig, logs: boolean, tracing: boolean, tenant?: string): { raw: string; byType: Record<string, any> } {
  const { loki, traces, ...others } = environmentPorts(config);
  const ports: Ports = { ...others, ...(logs ? { loki: { ...loki!, ...(tenant ? { tenant } : {}) } } : {}), ...(tracing ? { traces } : {}) };
  const cm = dashboardsChart(config, ports).find((m) => m.kind === 'ConfigMap' && m.metadata.labels?.grafana_datasource === '1') as any;
  const raw = Object.values(cm.data as Record<string, string>)[0];
  const file = parse(raw.replace(/\$\$/g, '$'));
  expect(file.apiVersion).toBe(1);
  return { raw, byType: Object.fromEntries(file.datasources.map((d: any) => [d.type, d])) };
}

describe.each(ENVIRONMENTS)('the dashboards of the shipped %s, metrics on', (env) => {
  const config = shipped(env);
  const section = config.capabilities.metrics!;
  // Rendered once: the whole environment, through the gate and the capacity guard.
  const rendered = renderText(shippedWithMetrics(env), `config/${env}.yaml`);
  const manifests = rendered.manifests;
  const dashboards = dashboardsOf(manifests);
  const services = config.services.map((s) => s.name);

  test('one chart "dashboards": a ConfigMap per dashboard, labelled for the sidecar, with the folder annotation, in the Pronto namespace', () => {
    expect(rendered.files.map((f) => f.name)).toContain('dashboards.k8s.yaml');
    expect(manifests.filter((m) => m.kind === 'ConfigMap' && m.metadata.name.startsWith('grafana-')).map((m) => m.metadata.name))
      .toEqual([...KEYS.map((k) => `grafana-dashboard-${k}`), 'grafana-datasources']);
    expect([...dashboards.keys()]).toEqual(KEYS.map((k) => `grafana-dashboard-${k}`));
    for (const { configMap, file, json } of dashboards.values()) {
      expect(configMap.metadata.namespace).toBe(config.namespace.name);
      expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: '1', 'app.kubernetes.io/name': configMap.metadata.name, 'app.kubernetes.io/part-of': 'pronto' });
      // With GitOps on, Argo CD applies them in the config wave, before the pods (charts/capabilities/gitops/sync-waves.ts).
      const wave = config.capabilities.gitops !== undefined ? { [SYNC_WAVE_ANNOTATION]: String(SYNC_WAVES.config) } : {};
      expect(configMap.metadata.annotations).toEqual({ grafana_folder: section.grafana.folder, ...wave });
      expect(file).toBe(`${json.uid}.json`);
      expect(json.id).toBeUndefined();
      expect(json.title).toContain(`(${config.name})`);
      expect(json.tags).toEqual(['pronto', config.name]);
      expect(json.editable).toBe(false);
      expect(json.refresh).toBe(section.scrapeInterval);
    }
  });

  test('stable uids: pronto-<environment>-<dashboard>, unique, within Grafana\'s 40 characters', () => {
    const uids = [...dashboards.values()].map((d) => d.json.uid);
    expect(uids).toEqual(KEYS.map((k) => `pronto-${config.name}-${k}`));
    expect(new Set(uids).size).toBe(uids.length);
    for (const uid of uids) expect(uid.length).toBeLessThanOrEqual(MAX_GRAFANA_UID_LENGTH);
  });

  test('variables: datasource (the provisioned Prometheus), environment, namespace, and service = exactly the catalog services', () => {
    for (const { json } of dashboards.values()) {
      expect(variable(json, 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus', current: { value: datasourceUids(config.name).prometheus, text: `Pronto Prometheus (${config.name})` } });
      expect(variable(json, 'environment')).toMatchObject({ type: 'custom', query: config.name, current: { value: config.name } });
      expect(variable(json, 'namespace')).toMatchObject({ type: 'constant', query: config.namespace.name });
      const service = variable(json, 'service');
      expect(service).toMatchObject({ type: 'custom', multi: true, includeAll: true });
      expect(service.query.split(',')).toEqual(services);
      expect(service.options.map((o: any) => o.value)).toEqual(['$__all', ...services]);
    }
  });

  test('every panel has a query on the dashboard\'s datasource variable, a title, a description, a unique id, and fits the grid', () => {
    for (const { json } of dashboards.values()) {
      const panels = panelsOf(json);
      expect(panels.length).toBeGreaterThan(0);
      const ids = json.panels.map((p: any) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const panel of panels) {
        expect(panel.title).toBeTruthy();
        expect(panel.description).toBeTruthy();
        expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(panel.targets.length).toBeGreaterThan(0);
        expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
        const refIds = panel.targets.map((t: any) => t.refId);
        expect(new Set(refIds).size).toBe(refIds.length);
        for (const target of panel.targets) {
          expect(target.expr.trim()).not.toBe('');
          expect(target.datasource).toEqual(panel.datasource);
          // Every variable a query uses is declared (or one of Grafana's own).
          for (const [, name] of target.expr.matchAll(/\$(\w+)/g)) {
            expect(name.startsWith('__') || variable(json, name) !== undefined).toBe(true);
          }
        }
      }
    }
  });

  test('what the issue asks for is there: RED per service and endpoint, SLO budget and burn rate, saturation, business', () => {
    const exprs = (key: string) => panelsOf(dashboards.get(`grafana-dashboard-${key}`)!.json).flatMap((p) => p.targets.map((t: any) => t.expr)).join('\n');
    const red = exprs('red');
    for (const part of ['flask_http_request_duration_seconds_count{', 'path!~"/health/.*|/metrics"', 'status=~"5.."', 'histogram_quantile(0.95', 'histogram_quantile(0.99', 'sum by (service, path', 'slo:error_budget:remaining', 'slo:objective:ratio']) {
      expect(red).toContain(part);
    }
    for (const window of ['5m', '30m', '1h', '2h', '6h', '1d', '3d']) expect(red).toContain(`slo:sli_error:ratio_rate${window}{`);
    expect(variable(dashboards.get('grafana-dashboard-red')!.json, 'path')).toMatchObject({ type: 'query', multi: true, includeAll: true, allValue: '.*' });
    const saturation = exprs('saturation');
    for (const metric of ['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'container_cpu_cfs_throttled_periods_total',
      'container_cpu_cfs_periods_total', 'kube_pod_container_resource_requests', 'kube_pod_container_resource_limits', 'kube_pod_container_status_restarts_total']) {
      expect(saturation).toContain(metric);
    }
    const business = exprs('business');
    for (const metric of ['pronto_orders_created_total', 'pronto_order_revenue_total', 'pronto_kitchen_ticket_age_seconds_bucket']) expect(business).toContain(metric);
  });

  test('every object passes the whole gate and the capacity guard', () => {
    expect(rendered.findings).toEqual([]);
    expect(gateFindingsInNamespace(configMaps(manifests, 'grafana_dashboard'))).toEqual([]);
  });

  test('the datasources ConfigMap: Prometheus with the scrape interval, never the default, its uid the one the dashboards start on', () => {
    const [cm] = configMaps(manifests, 'grafana_datasource');
    expect(cm.metadata).toMatchObject({ name: 'grafana-datasources', namespace: config.namespace.name });
    const file = parse(Object.values(cm.data as Record<string, string>)[0]);
    const prometheus = file.datasources.find((d: any) => d.type === 'prometheus');
    expect(prometheus).toMatchObject({
      name: `Pronto Prometheus (${config.name})`, uid: datasourceUids(config.name).prometheus, url: environmentPorts(config).prometheus!.url, access: 'proxy', isDefault: false, editable: false,
      jsonData: { timeInterval: section.scrapeInterval },
    });
  });
});

describe('datasources follow the logs and tracing capabilities, linked both ways', () => {
  const config = shipped('prod');
  const uids = datasourceUids(config.name);
  const ports = environmentPorts(config);

  test('neither on: Prometheus only', () => {
    expect(Object.keys(datasourcesWith(config, false, false).byType)).toEqual(['prometheus']);
  });

  test('logs only: Loki, without a trace link (there is no trace datasource to open)', () => {
    const { byType } = datasourcesWith(config, true, false);
    expect(Object.keys(byType)).toEqual(['prometheus', 'loki']);
    expect(byType.loki).toMatchObject({ uid: uids.loki, url: ports.loki!.queryUrl });
    expect(byType.loki.jsonData.derivedFields).toBeUndefined();
  });

  test('tracing only: Jaeger, without trace to logs', () => {
    const { byType } = datasourcesWith(config, false, true);
    expect(Object.keys(byType)).toEqual(['prometheus', 'jaeger']);
    expect(byType.jaeger).toMatchObject({ uid: uids.jaeger, url: ports.traces!.queryUrl });
    expect(byType.jaeger.jsonData.tracesToLogsV2).toBeUndefined();
  });

  test('both: a log line\'s trace_id opens the Jaeger trace, and a trace opens every log line of it in Loki', () => {
    const { raw, byType } = datasourcesWith(config, true, true);
    const [derived] = byType.loki.jsonData.derivedFields;
    expect(derived).toMatchObject({ name: 'trace_id', datasourceUid: uids.jaeger, url: '${__value.raw}' });
    const line = JSON.stringify({ timestamp: '2026-01-01T12:00:00Z', level: 'info', service: 'order-service', message: 'created', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' });
    expect(new RegExp(derived.matcherRegex).exec(line)?.[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(byType.jaeger.jsonData.tracesToLogsV2).toMatchObject({ datasourceUid: uids.loki, customQuery: true });
    expect(byType.jaeger.jsonData.tracesToLogsV2.query).toBe(`{namespace="${config.namespace.name}"} | trace_id="\${__trace.traceId}"`);
    // Grafana expands $VAR in provisioning files: each $ of a Grafana template is written $$.
    expect(raw).toContain('$${__value.raw}');
    expect(raw).toContain('$${__trace.traceId}');
    // The one expansion wanted: the password file of Grafana's Loki login.
    expect(raw.replace(/\$\$/g, '').replace(`$__file{${GRAFANA_LOKI_READER.path}}`, '')).not.toContain('$');
  });

  test('the Loki port\'s tenant is sent as X-Scope-OrgID', () => {
    const { byType } = datasourcesWith(config, true, false, 'pronto');
    expect(byType.loki.jsonData.httpHeaderName1).toBe('X-Scope-OrgID');
    expect(byType.loki.secureJsonData.httpHeaderValue1).toBe('pronto');
  });

  test('Grafana logs in to Loki with the Loki port\'s read login, its password the file Vault renders into Grafana ($__file, read at provisioning)', () => {
    const reader = ports.loki!.logins!.find((l) => l.access === 'read')!;
    const { byType, raw } = datasourcesWith(config, true, false);
    expect(byType.loki).toMatchObject({ basicAuth: true, basicAuthUser: reader.user, secureJsonData: { basicAuthPassword: `$__file{${GRAFANA_LOKI_READER.path}}` } });
    expect(raw).toContain(`basicAuthPassword: $__file{${GRAFANA_LOKI_READER.path}}`);
    // Without logins on the port (a Loki of the cluster's, logs.loki.basicAuth off): no login.
    const plain = lokiDatasource({ name: 'x', uid: 'x', url: 'http://loki.loki.svc' });
    expect([plain.basicAuth, plain.basicAuthUser, plain.secureJsonData]).toEqual([undefined, undefined, undefined]);
  });
});

describe('dashboards derive from the catalog and the config', () => {
  test('a new catalog service is in every service variable, with no code change', () => {
    const catalog: Catalog = { ...CATALOG, [newServiceName(CATALOG)]: { description: 'Loyalty points', component: 'api', port: 8080, calls: [], dataStores: [] } };
    const text = `${validEnv(catalog)}metrics: { prometheus: { url: "http://prometheus.monitoring.svc:9090" } }\n`;
    const config = parseEnvironment(text, FILE, catalog);
    for (const { json } of dashboardsOf(dashboardsChart(config)).values()) {
      expect(variable(json, 'service').query.split(',')).toEqual(Object.keys(catalog));
    }
  });

  test('the folder comes from the section', () => {
    const config = parseEnvironment(`${VALID_ENV}metrics:\n  prometheus: { url: "http://prometheus.monitoring.svc:9090" }\n  grafana: { folder: Pronto staging }\n`, FILE);
    for (const { configMap } of dashboardsOf(dashboardsChart(config)).values()) {
      expect(configMap.metadata.annotations.grafana_folder).toBe('Pronto staging');
    }
  });

  test('output is identical from run to run, uids included', () => {
    const render = () => JSON.stringify(dashboardsChart(shipped('prod')));
    expect(render()).toBe(render());
  });

  test('the uids of prod are pinned: links and bookmarks depend on them', () => {
    const prod = dashboardsOf(dashboardsChart(shipped('prod')));
    expect([...prod.values()].map((d) => d.json.uid)).toEqual(['pronto-prod-red', 'pronto-prod-saturation', 'pronto-prod-business']);
    expect(Object.values(datasourceUids('prod'))).toEqual(['pronto-prod-prometheus', 'pronto-prod-loki', 'pronto-prod-jaeger']);
  });

  test('metrics off: no dashboards, no datasources', () => {
    const { manifests } = buildEnvironment(parseEnvironment(VALID_ENV, FILE));
    expect(configMaps(manifests, 'grafana_dashboard')).toEqual([]);
    expect(configMaps(manifests, 'grafana_datasource')).toEqual([]);
  });
});

describe('the grafana block: config errors name file:line, field, expected and found', () => {
  test.each<[string, string, string[]]>([
    ['a Prometheus URL that is not http(s)', 'metrics:\n  prometheus:\n    url: ftp://prometheus:9090\n',
      [`:${lineOfSection + 2}: metrics.prometheus.url`, 'expected the http(s) URL of Prometheus', 'ftp://prometheus:9090']],
    ['the datasources\' URLs, which come from their providers', 'metrics:\n  grafana:\n    datasources:\n      loki: http://loki-gateway.loki.svc\n',
      ['metrics.grafana: unknown key "datasources"']],
    ['an empty folder', 'metrics:\n  grafana:\n    folder: ""\n', [`:${lineOfSection + 2}: metrics.grafana.folder`]],
    ['an unknown key', 'metrics:\n  grafana:\n    datasource: {}\n', ['metrics.grafana: unknown key "datasource"']],
  ])('%s', (_name, section, expected) => {
    const message = configProblems(() => parseEnvironment(`${VALID_ENV}${section}`, FILE));
    for (const part of [FILE, ...expected]) expect(message).toContain(part);
  });
});

describe('lib/dashboards', () => {
  test('grafanaUid: readable when it fits, else a readable prefix and a hash; stable and distinct', () => {
    expect(grafanaUid('pronto', 'prod', 'red')).toBe('pronto-prod-red');
    const long = grafanaUid('pronto', 'production-europe-west-canary', 'saturation');
    expect(long).toHaveLength(MAX_GRAFANA_UID_LENGTH);
    expect(long).toMatch(/^pronto-production-europe-west-c-[0-9a-f]{8}$/);
    expect(grafanaUid('pronto', 'production-europe-west-canary', 'saturation')).toBe(long);
    expect(grafanaUid('pronto', 'production-europe-west-canary', 'business')).not.toBe(long);
    expect(() => grafanaUid('pronto', 'a b')).toThrow('cannot be a Grafana uid');
  });

  test('the variables the queries use are the ones every dashboard declares', () => {
    const json = redDashboard({ environment: 'x', namespace: 'pronto', services: ['a'], datasource: { uid: 'p', name: 'P' } });
    for (const name of Object.values(DASHBOARD_VARIABLES)) expect(variable(json, name)).toBeDefined();
    expect(json.refresh).toBe('30s');
    expect(() => redDashboard({ environment: 'x', namespace: 'pronto', services: [], datasource: { uid: 'p', name: 'P' } })).toThrow('expected at least one service');
  });

  test('a dashboard without a uid, or too big for kubectl apply, is refused', () => {
    const dashboard = redDashboard({ environment: 'x', namespace: 'pronto', services: ['a'], datasource: { uid: 'p', name: 'P' } });
    expect(() => new GrafanaDashboard(Testing.chart(), 'd', { name: 'd', dashboard: { ...dashboard, uid: undefined } })).toThrow('expected a dashboard uid');
    expect(() => new GrafanaDashboard(Testing.chart(), 'd', { name: 'd', dashboard: { ...dashboard, description: 'x'.repeat(300_000) } })).toThrow('at most 262144');
  });

  test('datasources with the same uid or name are refused', () => {
    const ds = prometheusDatasource({ name: 'P', uid: 'p', url: 'http://p:9090', scrapeInterval: '30s' });
    expect(() => new GrafanaDatasources(Testing.chart(), 'd', { name: 'd', datasources: [ds, { ...ds, name: 'Q' }] })).toThrow('found "p" twice');
    expect(() => new GrafanaDatasources(Testing.chart(), 'd', { name: 'd', datasources: [ds, { ...ds, uid: 'q' }] })).toThrow('found "P" twice');
    expect(() => new GrafanaDatasources(Testing.chart(), 'd', { name: 'd', datasources: [] })).toThrow('at least one datasource');
  });

  test('the trace_id matcher reads the JSON log line, with or without spaces, and nothing else', () => {
    const re = new RegExp(TRACE_ID_MATCHER);
    expect(re.exec('{"trace_id": "00f067aa0ba902b7"}')?.[1]).toBe('00f067aa0ba902b7');
    expect(re.exec('{"session_id":"4bf92f3577b34da6a3ce929d0e0e4736"}')).toBeNull();
  });
});
