/**
 * The metrics capability (all but the Grafana objects, tested with the dashboards): the
 * multiprocess directory every catalog pod gets, one ServiceMonitor per service that selects
 * its Service(s) by stable labels and scrapes the named port, the flows from Prometheus, the
 * PrometheusRules (every alert with its severity, summary, description and runbook; the SLO
 * series the dashboards read), the SLOs from the catalog and their overrides, the config
 * errors, and the shipped environments through the gate and the capacity guard, on and off.
 * Expectations derive from the catalog and the config, never from a list of services.
 * The rules' behaviour is tested in real promtool: test/tools/promtool-rules.spec.ts.
 */
import { Testing } from 'cdk8s';
import { buildApp } from '../../../charts/build-app';
import { MULTIPROC_ENV, MULTIPROC_PATH, MULTIPROC_VOLUME, METRICS_PORT_NAME, ruleGroups, serviceRulesName, sloOf } from '../../../charts/capabilities/metrics';
import { DEFAULT_RUNBOOK_BASE_URL, DEFAULT_SLO, FLASK_LATENCY_BUCKETS } from '../../../config/sections/metrics';
import { renderEnvironment } from '../../../charts/synthesize';
import { CATALOG } from '../../../config/catalog';
import { Catalog } from '../../../config/schema';
import { parseEnvironment } from '../../../config/load';
import { Manifest } from '../../../lib/core';
import { CONTAINERS_RUNBOOK_PAGE, SERVICES_RUNBOOK_PAGE, SLO_WINDOWS, errorBudget, formatNumber, runbookUrl } from '../../../lib/metrics';
import { checkCapacity } from '../../../lib/namespace';
import { VALID_ENV } from '../../fixtures/environments';
import { ENVIRONMENTS, buildEnvironment, cached, chartsObjects, configProblems, selects, renderText } from '../../helpers';
import { withMetrics } from '../../lib/metrics/fixture';

const FILE = 'config/test.yaml';
const SECTION = 'metrics: { prometheus: { url: "http://prometheus.monitoring.svc:9090" } }\n';
const load = (text: string, catalog?: Catalog) => parseEnvironment(text, FILE, catalog);
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
const deploymentsOf = (manifests: Manifest[], service: string): any[] =>
  manifests.filter((m) => m.kind === 'Deployment' && m.metadata?.labels?.['app.kubernetes.io/name'] === service);
const servicesOf = (manifests: Manifest[], service: string): any[] =>
  manifests.filter((m) => m.kind === 'Service' && m.metadata?.labels?.['app.kubernetes.io/name'] === service);

describe('the metrics section and the SLOs', () => {
  test('defaults every value', () => {
    const section = load(`${VALID_ENV}${SECTION}`).capabilities.metrics!;
    expect(section.multiprocessDir).toEqual({ sizeLimit: '128Mi' });
    expect(section.slo).toEqual({});
    expect(section.openingHoursUtc).toEqual({ days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '10:00', to: '22:00' });
    expect(section.noOrdersMinutes).toBe(30);
    expect(section.scrapeInterval).toBe('30s');
    expect(section.runbookBaseUrl).toBe(DEFAULT_RUNBOOK_BASE_URL);
  });

  test('every catalog service has complete SLOs; those the catalog leaves out are the defaults', () => {
    const config = load(VALID_ENV);
    expect(config.services.length).toBeGreaterThan(0);
    for (const svc of config.services) {
      const slo = svc.catalog.slo;
      expect(slo.availability.objectivePercent).toBe(CATALOG[svc.name].slo?.availability?.objectivePercent ?? DEFAULT_SLO.availability.objectivePercent);
      expect(slo.latency).toEqual({ ...DEFAULT_SLO.latency, ...CATALOG[svc.name].slo?.latency });
      expect(FLASK_LATENCY_BUCKETS).toContain(slo.latency.thresholdSeconds);
    }
  });

  test('payment-gateway has the strictest availability objective', () => {
    const config = load(VALID_ENV);
    const pg = config.services.find((s) => s.name === 'payment-gateway')!.catalog.slo.availability.objectivePercent;
    for (const svc of config.services.filter((s) => s.name !== 'payment-gateway')) expect(pg).toBeGreaterThan(svc.catalog.slo.availability.objectivePercent);
  });

  test('an environment overrides a service\'s SLO field by field', () => {
    const config = load(`${VALID_ENV}metrics:\n  slo:\n    payment-gateway: { latency: { thresholdSeconds: 5 } }\n`);
    const pg = config.services.find((s) => s.name === 'payment-gateway')!;
    expect(sloOf(config.capabilities.metrics!, pg)).toEqual({ availability: pg.catalog.slo.availability, latency: { ...pg.catalog.slo.latency, thresholdSeconds: 5 } });
    const other = config.services.find((s) => s.name !== 'payment-gateway')!;
    expect(sloOf(config.capabilities.metrics!, other)).toEqual(other.catalog.slo);
  });
});

describe('the metrics capability, on', () => {
  const config = load(`${VALID_ENV}${SECTION}`);
  const section = config.capabilities.metrics!;
  const rendered = renderEnvironment(config);
  /** Only its pods are read: built, not rendered. */
  const off = buildEnvironment(load(VALID_ENV));
  const monitors = rendered.manifests.filter((m) => m.kind === 'ServiceMonitor') as any[];

  test('every pod of every service shares its workers\' metrics through its own bounded emptyDir, and gets no container', () => {
    for (const svc of config.services) {
      const deployments = deploymentsOf(rendered.manifests, svc.name);
      expect(deployments.length).toBeGreaterThan(0);
      for (const d of deployments) {
        const pod = d.spec.template.spec;
        const before = deploymentsOf(off.manifests, svc.name).find((o) => o.metadata.name === d.metadata.name).spec.template.spec;
        expect(pod.containers.map((c: any) => c.name)).toEqual(before.containers.map((c: any) => c.name));
        expect(pod.initContainers).toEqual(before.initContainers);
        expect(pod.volumes).toContainEqual({ name: MULTIPROC_VOLUME, emptyDir: { sizeLimit: section.multiprocessDir.sizeLimit } });
        const app = pod.containers.find((c: any) => c.name === svc.name);
        expect(app.volumeMounts).toContainEqual({ name: MULTIPROC_VOLUME, mountPath: MULTIPROC_PATH });
        expect(app.env).toContainEqual({ name: MULTIPROC_ENV, value: MULTIPROC_PATH });
        // Only the app container sees it.
        for (const other of pod.containers.filter((c: any) => c !== app)) expect(other.volumeMounts ?? []).not.toContainEqual(expect.objectContaining({ name: MULTIPROC_VOLUME }));
      }
    }
  });

  test('one ServiceMonitor per service, labelled for the Prometheus Operator, scraping the Service\'s named port', () => {
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(config.services.map((s) => s.name).sort());
    for (const svc of config.services) {
      const monitor = monitors.find((m) => m.metadata.name === svc.name);
      expect(monitor.metadata.namespace).toBe(config.namespace.name);
      expect(monitor.metadata.labels).toMatchObject(section.prometheus.selectorLabels);
      expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: METRICS_PORT_NAME, path: '/metrics', interval: section.scrapeInterval })]);
      const services = servicesOf(rendered.manifests, svc.name);
      const selected = rendered.manifests.filter((m) => m.kind === 'Service' && selects(monitor.spec.selector.matchLabels, m.metadata?.labels ?? {})) as any[];
      expect(selected.map((s) => s.metadata.name).sort()).toEqual(services.map((s) => s.metadata.name).sort());
      for (const s of selected) {
        const port = s.spec.ports.find((p: any) => p.name === METRICS_PORT_NAME);
        expect(port).toBeDefined();
        // The named port reaches the app container's port that serves /metrics.
        for (const d of deploymentsOf(rendered.manifests, svc.name)) {
          const app = d.spec.template.spec.containers.find((c: any) => c.name === svc.name);
          expect(app.ports).toContainEqual(expect.objectContaining({ name: port.targetPort, containerPort: svc.catalog.port }));
        }
      }
    }
  });

  test('no pod is scraped twice: each is selected by exactly one of the Services a ServiceMonitor matches', () => {
    const blueGreen = config.services.filter((s) => s.release.strategy === 'blueGreen');
    expect(blueGreen.length).toBeGreaterThan(0);
    for (const monitor of monitors) {
      const selected = rendered.manifests.filter((m) => m.kind === 'Service' && selects(monitor.spec.selector.matchLabels, m.metadata?.labels ?? {})) as any[];
      for (const d of deploymentsOf(rendered.manifests, monitor.metadata.name)) {
        const labels = d.spec.template.metadata.labels;
        expect(selected.filter((s) => selects(s.spec.selector, labels)).length).toBe(1);
      }
    }
  });

  test('flows: Prometheus reaches every service\'s metrics port from the monitoring namespace', () => {
    const flows = buildFlows(config);
    expect(flows.map((f) => f.to.name).sort()).toEqual(config.services.map((s) => s.name).sort());
    for (const f of flows) {
      expect(f.from).toEqual({ kind: 'foreign', name: 'prometheus', namespace: section.prometheus.namespace, podLabels: section.prometheus.podLabels });
      expect(f.ports).toEqual([{ port: config.services.find((s) => s.name === f.to.name)!.catalog.port, protocol: 'TCP' }]);
    }
    expect(config.namespaces.foreign).toContain(section.prometheus.namespace);
  });

  test('PrometheusRules: labelled for the Prometheus Operator; every alert has a severity, a summary, a description and its runbook', () => {
    const rules = rendered.manifests.filter((m) => m.kind === 'PrometheusRule') as any[];
    expect(rules.map((r) => r.metadata.name).sort()).toEqual(Object.keys(ruleGroups(section, config)).sort());
    const alerts = rules.flatMap((r) => r.spec.groups.flatMap((g: any) => g.rules)).filter((r: any) => r.alert);
    expect(alerts.length).toBeGreaterThan(0);
    for (const r of rules) expect(r.metadata.labels).toMatchObject(section.prometheus.selectorLabels);
    for (const a of alerts) {
      expect(a.alert).toMatch(/^Pronto[A-Z][A-Za-z]+$/);
      expect(['critical', 'warning']).toContain(a.labels.severity);
      expect(a.annotations.summary.length).toBeGreaterThan(10);
      expect(a.annotations.description).toMatch(/Check first/);
      // Which page holds which alert is test/runbooks.spec.ts's to check, against the pages themselves.
      expect([SERVICES_RUNBOOK_PAGE, CONTAINERS_RUNBOOK_PAGE].map((page) => runbookUrl(section.runbookBaseUrl, page, a.alert))).toContain(a.annotations.runbook_url);
    }
  });

  test('the SLO series the dashboards read, per service and SLO, with the objective from the catalog', () => {
    const prometheusRules = rendered.manifests.filter((m) => m.kind === 'PrometheusRule') as any[];
    for (const svc of config.services) {
      // Each service's rules are in its own PrometheusRule.
      const own = prometheusRules.find((m) => m.metadata.name === serviceRulesName(svc.name));
      const records = own.spec.groups.flatMap((g: any) => g.rules).filter((r: any) => r.record);
      expect(new Set(records.map((r: any) => r.labels.service))).toEqual(new Set([svc.name]));
      for (const kind of ['availability', 'latency'] as const) {
        const mine = records.filter((r: any) => r.labels.service === svc.name && r.labels.slo === kind);
        for (const w of SLO_WINDOWS) expect(mine.map((r: any) => r.record)).toContain(`slo:sli_error:ratio_rate${w}`);
        for (const r of mine) expect(r.labels.namespace).toBe(config.namespace.name);
        const objective = sloOf(section, svc)[kind].objectivePercent;
        expect(mine.find((r: any) => r.record === 'slo:objective:ratio').expr).toBe(`vector(${formatNumber(objective / 100)})`);
        expect(mine.find((r: any) => r.record === 'slo:error_budget:remaining').expr).toContain(`/ ${errorBudget(objective)}`);
      }
      const latency = records.find((r: any) => r.record === 'slo:sli_error:ratio_rate5m' && r.labels.service === svc.name && r.labels.slo === 'latency');
      const threshold = sloOf(section, svc).latency.thresholdSeconds;
      expect(latency.expr).toContain(`le="${Number.isInteger(threshold) ? threshold.toFixed(1) : threshold}"`);
    }
  });

  test('every object passes the whole gate and the capacity guard', () => {
    expect(rendered.findings).toEqual([]);
    expect(checkCapacity(rendered.manifests, config.namespace.name)).toEqual([]);
  });
});

function buildFlows(config: ReturnType<typeof load>) {
  const app = Testing.app();
  return buildApp(app, config).graph.flows.filter((f) => f.declaredBy === 'metrics');
}

/** A shipped environment (with its metrics section, or `section` in its place) rendered through the gate, once per suite. */
const renderShipped = (env: string, section?: string) => renderText(withMetrics(env, section), `config/${env}.yaml`);

/** The container port a Service's port reaches on the pods of `template` (a number, or a named port resolved). */
const containerPort = (servicePort: any, template: any): number | undefined => (typeof servicePort.targetPort === 'number'
  ? servicePort.targetPort
  : [...template.spec.containers, ...(template.spec.initContainers ?? [])].flatMap((c: any) => c.ports ?? [])
    .find((p: any) => p.name === (servicePort.targetPort ?? servicePort.name))?.containerPort);

describe('the shipped environments with the section on', () => {
  test.each(ENVIRONMENTS)('%s: every object passes the gate and the capacity guard, every service is scraped', (env) => {
    const config = parseEnvironment(withMetrics(env), `config/${env}.yaml`);
    const rendered = renderShipped(env);
    expect(rendered.findings).toEqual([]);
    expect(checkCapacity(rendered.manifests, config.namespace.name)).toEqual([]);
    const monitors = rendered.manifests.filter((m) => m.kind === 'ServiceMonitor') as any[];
    // Every catalog service by the monitor named after it; other capabilities (the data tier) may add their own.
    expect(monitors.map((m) => m.metadata.name)).toEqual(expect.arrayContaining(config.services.map((s) => s.name)));
    const policies = rendered.manifests.filter((m) => m.kind === 'NetworkPolicy') as any[];
    const prometheusNs = config.capabilities.metrics!.prometheus.namespace;
    const workloads = rendered.manifests.filter((m) => ['Deployment', 'StatefulSet'].includes(m.kind)) as any[];
    // Every monitor, whoever renders it, scrapes a port that exists, each pod once, and the network policies (when on) let Prometheus in on it.
    for (const monitor of monitors) {
      const selected = rendered.manifests.filter((m) => m.kind === 'Service' && selects(monitor.spec.selector.matchLabels, m.metadata?.labels ?? {})) as any[];
      for (const endpoint of monitor.spec.endpoints) {
        // The Prometheus Operator scrapes the selected Services that have the named port.
        const scraped = selected.filter((s) => s.spec.ports.some((p: any) => p.name === endpoint.port));
        expect([monitor.metadata.name, endpoint.port, scraped.length > 0]).toEqual([monitor.metadata.name, endpoint.port, true]);
        const pods = workloads.filter((w) => scraped.some((s) => selects(s.spec.selector, w.spec.template.metadata.labels)));
        expect(pods.length).toBeGreaterThan(0);
        for (const w of pods) {
          const labels = w.spec.template.metadata.labels;
          const via = scraped.filter((s) => selects(s.spec.selector, labels));
          expect([w.metadata.name, via.length]).toEqual([w.metadata.name, 1]);
          const number = containerPort(via[0].spec.ports.find((p: any) => p.name === endpoint.port), w.spec.template);
          expect([w.metadata.name, endpoint.port, number]).toEqual([w.metadata.name, endpoint.port, expect.any(Number)]);
          if (!config.capabilities.networkPolicies) continue;
          const admitted = policies.filter((p) => selects(p.spec.podSelector.matchLabels ?? {}, labels))
            .flatMap((p) => p.spec.ingress)
            .filter((i: any) => i.from?.some((f: any) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === prometheusNs))
            .flatMap((i: any) => i.ports.map((p: any) => p.port));
          expect([w.metadata.name, admitted]).toEqual([w.metadata.name, expect.arrayContaining([number])]);
        }
      }
    }
  });
});

describe('the metrics capability, off', () => {
  /** Every object (and the whole output as text: objects and extra files) of an environment text. */
  const build = cached((text: string, file: string) => {
    const app = Testing.app();
    const built = buildApp(app, parseEnvironment(text, file));
    const manifests = chartsObjects(app.charts);
    // Objects as JSON: equal text for equal objects, key order included, at a fraction of YAML's cost.
    return { manifests, text: [...manifests.map((m) => JSON.stringify(m)), ...built.files.map((f) => `${f.path}\n${f.text}`)].join('---\n') };
  });
  const renderWith = (text: string, file: string) => build(text, file).text;

  test.each(ENVIRONMENTS)('%s: without the section, or with `metrics: false`, the output is byte-identical, and no capability renders anything for metrics', (env) => {
    const file = `config/${env}.yaml`;
    const config = parseEnvironment(withMetrics(env), file);
    const stripped = withMetrics(env, '');
    expect(stripped).not.toMatch(/^metrics:/m);
    expect(parseEnvironment(stripped, file).capabilities.metrics).toBeFalsy();
    const expected = renderWith(stripped, file);
    // The section does change the output, so the comparisons below can fail.
    expect(renderWith(withMetrics(env), file)).not.toBe(expected);
    expect(renderWith(`${stripped}metrics: false\n`, file)).toBe(expected);
    // Nothing of metrics is left, whichever capability would render it (the data tier's exporters' monitors and alerts, the backups' alerts).
    const manifests = build(stripped, file).manifests as any[];
    expect(manifests.filter((m) => ['ServiceMonitor', 'PodMonitor', 'PrometheusRule'].includes(m.kind))).toEqual([]);
    expect(manifests.filter((m) => m.kind === 'ConfigMap' && (m.metadata.labels?.grafana_dashboard || m.metadata.labels?.grafana_datasource))).toEqual([]);
    expect(expected).not.toContain(MULTIPROC_ENV);
    const prometheus = config.capabilities.metrics!.prometheus;
    const fromPrometheus = manifests.filter((m) => m.kind === 'NetworkPolicy').flatMap((p) => p.spec.ingress ?? []).flatMap((i: any) => i.from ?? [])
      .filter((f: any) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === prometheus.namespace && selects(f.podSelector?.matchLabels ?? {}, prometheus.podLabels));
    expect(fromPrometheus).toEqual([]);
  });
});

describe('metrics config errors name file:line, field, expected and found', () => {
  test.each<[string, string, string, string[]]>([
    ['an objective of 100 %', 'metrics:\n  slo:\n    order-service:\n      availability: { objectivePercent: 100 }\n', 'availability:',
      ['metrics.slo.order-service.availability.objectivePercent: expected an objective in percent above 0 and below 100', 'found 100']],
    ['an objective above 100 %', 'metrics:\n  slo:\n    order-service:\n      latency: { objectivePercent: 100.5 }\n', 'latency:',
      ['metrics.slo.order-service.latency.objectivePercent: expected an objective in percent above 0 and below 100', 'found 100.5']],
    ['an objective of 0 %', 'metrics:\n  slo:\n    order-service:\n      availability: { objectivePercent: 0 }\n', 'availability:',
      ['metrics.slo.order-service.availability.objectivePercent: expected an objective in percent', 'found 0']],
    ['an objective given as text', 'metrics:\n  slo:\n    order-service:\n      availability: { objectivePercent: "99.9" }\n', 'availability:',
      ['metrics.slo.order-service.availability.objectivePercent: expected an objective in percent', 'found "99.9"']],
    ['a latency threshold that is not a bucket', 'metrics:\n  slo:\n    payment-gateway:\n      latency: { thresholdSeconds: 0.3 }\n', 'latency:',
      ['metrics.slo.payment-gateway.latency.thresholdSeconds: expected one of prometheus-flask-exporter\'s histogram buckets in seconds (0.005, 0.01', 'found 0.3']],
    ['an unknown SLO kind', 'metrics:\n  slo:\n    order-service:\n      throughput: { objectivePercent: 99 }\n', 'throughput', ['metrics.slo.order-service: unknown key "throughput"']],
    ['an unquoted or malformed time', 'metrics:\n  openingHoursUtc: { from: "9h" }\n', 'openingHoursUtc', ['metrics.openingHoursUtc.from: expected a time of day "HH:MM" in UTC', 'found "9h"']],
    ['the same opening and closing time', 'metrics:\n  openingHoursUtc: { from: "10:00", to: "10:00" }\n', 'openingHoursUtc', ['metrics.openingHoursUtc.to: expected different opening and closing times']],
    ['an unknown day', 'metrics:\n  openingHoursUtc: { days: [mon, funday] }\n', 'openingHoursUtc', ['metrics.openingHoursUtc.days.1: expected a day of the week', 'found "funday"']],
    ['too few minutes without orders', 'metrics:\n  noOrdersMinutes: 2\n', 'noOrdersMinutes', ['metrics.noOrdersMinutes: expected a value ≥ 5', 'found 2']],
    ['a multiprocess directory size in Gi', 'metrics:\n  multiprocessDir: { sizeLimit: 1Gi }\n', 'multiprocessDir', ['metrics.multiprocessDir.sizeLimit: expected a size in whole Mi', 'found "1Gi"']],
    // The runbooks moved from the README to docs/runbooks/: the README's old address is refused, not silently linked with a broken anchor.
    ['a runbook URL of a file (the README that held them)', 'metrics:\n  runbookBaseUrl: https://git.example.com/p/-/blob/main/README.md\n', 'runbookBaseUrl',
      ['metrics.runbookBaseUrl: expected the http(s) URL of the runbooks folder', 'each alert adds /<page>.md#<alert>', 'found "https://git.example.com/p/-/blob/main/README.md"']],
    ['a runbook URL with a trailing slash', 'metrics:\n  runbookBaseUrl: https://git.example.com/p/-/blob/main/docs/runbooks/\n', 'runbookBaseUrl',
      ['metrics.runbookBaseUrl: expected the http(s) URL of the runbooks folder', 'no trailing "/"', 'found "https://git.example.com/p/-/blob/main/docs/runbooks/"']],
    ['a runbook URL with an anchor', 'metrics:\n  runbookBaseUrl: "https://git.example.com/p/-/blob/main/docs/runbooks#top"\n', 'runbookBaseUrl',
      ['metrics.runbookBaseUrl: expected the http(s) URL of the runbooks folder', 'found "https://git.example.com/p/-/blob/main/docs/runbooks#top"']],
  ])('%s', (_name, section, needle, expected) => {
    const text = `${VALID_ENV}${section}`;
    const got = configProblems(() => load(text));
    expect(got).toContain(`${FILE}:${lineOf(text.slice(VALID_ENV.length), needle) + VALID_ENV.split('\n').length - 1}: `);
    for (const part of expected) expect(got).toContain(part);
  });

  test('an SLO override for a service that is not in the catalog', () => {
    const text = `${VALID_ENV}metrics:\n  slo:\n    menu-app: { availability: { objectivePercent: 99 } }\n  prometheus: { url: "http://prometheus.monitoring.svc:9090" }\n`;
    const got = configProblems(() => renderEnvironment(load(text)));
    expect(got).toContain(`${FILE}:${lineOf(text, '    menu-app:')}: metrics.slo.menu-app: expected a catalog service (${Object.keys(CATALOG).join(', ')}), found "menu-app"`);
  });

  test.each<[string, object, string]>([
    ['an objective of 100 %', { availability: { objectivePercent: 100 } }, 'order-service.slo.availability.objectivePercent: expected an objective in percent above 0 and below 100'],
    ['a latency threshold that is not a bucket', { latency: { thresholdSeconds: 0.2 } }, 'order-service.slo.latency.thresholdSeconds: expected one of prometheus-flask-exporter\'s histogram buckets'],
  ])('in the catalog: %s', (_name, slo, expected) => {
    const catalog = { ...CATALOG, 'order-service': { ...CATALOG['order-service'], slo } } as Catalog;
    const got = configProblems(() => load(VALID_ENV, catalog));
    expect(got).toContain('config/catalog.ts');
    expect(got).toContain(expected);
  });
});
