/**
 * Every panel query of every shipped environment's dashboards is valid PromQL: the
 * expressions are taken from the synthesized ConfigMaps, the Grafana variables replaced by
 * values Grafana could give them, and the result written as recording rules that
 * `promtool check rules` parses. One promtool run checks them all, beside a file holding
 * one broken expression that must be the only failure (so a check that passes everything
 * would be caught).
 */
import { environmentPorts } from '../../charts/build-app';
import { readFileSync } from 'fs';
import { Testing } from 'cdk8s';
import { CapabilityContext } from '../../charts/capabilities/capability';
import { grafanaCharts } from '../../charts/capabilities/metrics/grafana';
import { parseEnvironment } from '../../config/load';
import { Manifest } from '../../lib/core';
import { CONFIG_DIR, ENVIRONMENTS, chartsObjects } from '../helpers';
import { QueryCheck, checkQueriesWithBroken, promtoolOrSkip, scratch } from './promtool';

/** One panel query, where it comes from. */
interface PanelQuery {
  readonly environment: string;
  readonly dashboard: string;
  readonly panel: number;
  readonly refId: string;
  readonly title: string;
  readonly expr: string;
}

/** The values Grafana gives its own variables and ours; a multi-value variable becomes a regex `(a|b)`, as Grafana formats it for `=~`. */
function substitute(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_match, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    if (!(name in values)) throw new Error(`no value for the Grafana variable $${name} in: ${expr}`);
    return values[name];
  });
}

/** Every panel query of `manifests`' dashboards, their variables substituted. */
function panelQueries(environment: string, manifests: Manifest[], values: Readonly<Record<string, string>>): PanelQuery[] {
  return manifests
    .filter((m) => m.kind === 'ConfigMap' && m.metadata.labels?.grafana_dashboard === '1')
    .flatMap((cm: any) => Object.values(cm.data as Record<string, string>).map((text) => JSON.parse(text)))
    .flatMap((dashboard: any) => dashboard.panels
      .filter((p: any) => p.type !== 'row')
      .flatMap((p: any) => p.targets.map((t: any) => ({
        environment, dashboard: dashboard.uid, panel: p.id, refId: t.refId, title: p.title, expr: substitute(t.expr, values),
      }))));
}

/** A recording-rule name for a query: a valid metric name that says where the query comes from. */
const recordName = (q: PanelQuery): string => `dashboard:${q.dashboard.replace(/-/g, '_')}:panel${q.panel}_${q.refId.toLowerCase()}`;

describe('substituting the Grafana variables', () => {
  test('replaces ours and Grafana\'s, and refuses a variable it has no value for', () => {
    expect(substitute('rate(x{a="$namespace"}[$__rate_interval]) * ${scale}', { namespace: 'pronto', __rate_interval: '2m', scale: '60' }))
      .toBe('rate(x{a="pronto"}[2m]) * 60');
    expect(() => substitute('x{service=~"$servce"}', { service: '(a|b)' })).toThrow('no value for the Grafana variable $servce');
  });
});

promtoolOrSkip('every dashboard query parses as PromQL (promtool check rules)')('dashboard queries in promtool', () => {
  const broken: PanelQuery = { environment: 'test', dashboard: 'broken', panel: 1, refId: 'A', title: 'broken', expr: 'sum by (service) (rate(flask_http_request_total[2m])' };
  const groups = (qs: PanelQuery[]) => [...new Set(qs.map((q) => `${q.environment}/${q.dashboard}`))].map((name) => ({
    name: `dashboard/${name}`,
    rules: qs.filter((q) => `${q.environment}/${q.dashboard}` === name).map((q) => ({ record: recordName(q), expr: q.expr })),
  }));
  let queries: PanelQuery[];
  let check: QueryCheck;
  let remove = () => {};
  afterAll(() => remove());

  // In beforeAll, not at collection: a skipped suite builds nothing and runs nothing.
  beforeAll(() => {
    const tmp = scratch('pronto-promtool-dashboards-');
    remove = tmp.remove;
    queries = ENVIRONMENTS.flatMap((env) => {
      const raw = readFileSync(`${CONFIG_DIR}/${env}.yaml`, 'utf8');
      const config = parseEnvironment(/^metrics:/m.test(raw) ? raw : `${raw.replace(/\n*$/, '\n')}metrics: { prometheus: { url: "http://prometheus.monitoring.svc:9090" } }\n`, `config/${env}.yaml`);
      // The metrics capability's dashboards chart alone: it reads nothing but the config.
      const charts = grafanaCharts(Testing.app(), config.capabilities.metrics!, { config, ports: environmentPorts(config) } as unknown as CapabilityContext);
      return panelQueries(env, chartsObjects(charts), {
        namespace: config.namespace.name,
        environment: config.name,
        // "All": Grafana joins every value into one regex.
        service: `(${config.services.map((s) => s.name).join('|')})`,
        path: '.*',
        datasource: 'pronto-prometheus',
        __rate_interval: '2m',
        __interval: '30s',
        __range: '6h',
      });
    });
    check = checkQueriesWithBroken(tmp.dir, 'dashboards.yaml', groups(queries), groups([broken]));
  });

  test('the queries of every environment\'s dashboards are there, one recording rule each', () => {
    expect(new Set(queries.map((q) => q.environment))).toEqual(new Set(ENVIRONMENTS));
    expect(new Set(queries.map(recordName)).size).toBe(queries.length);
    for (const q of queries) expect(q.expr).not.toContain('$');
  });

  test('every one parses', () => {
    expect(check.goodOutput).toContain(`SUCCESS: ${queries.length} rules found`);
  });

  test('a broken expression fails, named by its rule: the check can fail', () => {
    expect(check.result.status).toBe(1);
    expect(check.result.output).toContain(`${check.bad}:`);
    expect(check.result.output).toContain(`"${recordName(broken)}": could not parse expression`);
    expect(check.result.output).not.toContain(`${check.good}:`);
  });
});
