/**
 * renderApiObject returns exactly what cdk8s's toJson returns (the same keys, in the same
 * order, the same values), for every object of every shipped environment and for the cases
 * its shortcuts must get right: Lazy values, implicit tokens, number-or-string unions, null
 * and undefined, patches, and classes of their own. renderCharts lists the objects each
 * chart's toJson lists, in its order, and validates each App as toJson does.
 */
import { ApiObject, App, Chart, JsonPatch, Lazy, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { buildApp } from '../../../charts/build-app';
import { renderApiObject, renderCharts, renderStats } from '../../../lib/core';
import { ENVIRONMENTS, environment } from '../../helpers';

/** cdk8s's own, before any render. */
const CDK8S_TO_JSON = ApiObject.prototype.toJson;

const same = (o: ApiObject) => expect([o.node.path, JSON.stringify(renderApiObject(o))]).toEqual([o.node.path, JSON.stringify(o.toJson())]);

describe.each(ENVIRONMENTS)('every object of %s', (env) => {
  const app = Testing.app();
  buildApp(app, environment(env));
  const objects = app.node.findAll().filter(ApiObject.isApiObject);

  test('renders byte for byte as cdk8s renders it, and none is handed back to cdk8s', () => {
    const before = { ...renderStats };
    for (const o of objects) same(o);
    expect(renderStats.fast - before.fast).toBe(objects.length);
    expect(renderStats.delegated - before.delegated).toBe(0);
  });

  test('renderCharts lists each chart\'s objects as its toJson() does: the same objects, in the same order', () => {
    const charts = app.node.findAll().filter((c): c is Chart => Chart.isChart(c));
    const rendered = renderCharts(charts);
    expect([...rendered.keys()]).toEqual(charts);
    for (const chart of charts) expect([chart.node.path, JSON.stringify(rendered.get(chart))]).toEqual([chart.node.path, JSON.stringify(chart.toJson())]);
  });
});

describe('renderCharts', () => {
  const chartWith = (app: App, id: string, names: string[]) => {
    const chart = new Chart(app, id, { disableResourceNameHashes: true });
    for (const name of names) new k8s.KubeConfigMap(chart, name, { metadata: { name } });
    return chart;
  };

  test('a later chart of the same App lists its objects in dependency order, as toJson() does', () => {
    const app = Testing.app();
    const a = chartWith(app, 'a', ['x']);
    const b = chartWith(app, 'b', ['first', 'second']);
    // `second` must come first: it is a dependency of `first`.
    b.node.findChild('first').node.addDependency(b.node.findChild('second'));
    const names = (objects: unknown[]) => (objects as Array<{ metadata: { name: string } }>).map((o) => o.metadata.name);
    expect(names(renderCharts([a, b]).get(b)!)).toEqual(['second', 'first']);
    expect(names(b.toJson())).toEqual(['second', 'first']);
  });

  test('charts of two Apps are each validated as toJson() validates them; a chart given twice is refused', () => {
    const one = chartWith(Testing.app(), 'one', ['x']);
    const other = Testing.app();
    const broken = chartWith(other, 'two', ['y']);
    broken.node.addValidation({ validate: () => ['not valid'] });
    expect(() => broken.toJson()).toThrow(/not valid/);
    expect(() => renderCharts([one, broken])).toThrow(/not valid/);
    expect(() => renderCharts([one, one])).toThrow('renderCharts: a chart is given twice');
  });
});

describe('the cases its shortcuts must get right', () => {
  const chart = () => new Chart(Testing.app(), 'test', { namespace: 'pronto', disableResourceNameHashes: true });

  test('a plain ApiObject: Lazy values, implicit tokens, unions, null and undefined, nested and in arrays; apiVersion, kind and metadata first', () => {
    const c = chart();
    const o = new ApiObject(c, 'plain', {
      apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'thing', annotations: { b: '2', a: '1' } },
      spec: {
        zeta: Lazy.any({ produce: () => ({ y: 1, x: [null, undefined, Lazy.any({ produce: () => 'late' })] }) }),
        alpha: { resolve: () => ({ inner: 'token' }) },
        union: k8s.IntOrString.fromString('25%'),
        gone: null, none: undefined, empty: {}, list: [],
      },
      data: { key: 'value' },
    });
    same(o);
    expect(Object.keys(renderApiObject(o))).toEqual(['apiVersion', 'kind', 'metadata', 'data', 'spec']);
  });

  test('a generated class: its own toJson after ours (the GVK, metadata, then its properties in order, renamed; unions as their value)', () => {
    const c = chart();
    const cm = new k8s.KubeConfigMap(c, 'cm', { metadata: { name: 'cm' }, data: { b: 'x', a: 'y' }, immutable: true });
    same(cm);
    expect(Object.keys(renderApiObject(cm))).toEqual(['apiVersion', 'kind', 'metadata', 'data', 'immutable']);
    const d = new k8s.KubeDeployment(c, 'd', {
      metadata: { name: 'd' },
      spec: {
        selector: { matchLabels: { app: 'd' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: k8s.IntOrString.fromString('25%'), maxUnavailable: k8s.IntOrString.fromNumber(0) } },
        template: {
          metadata: { labels: { app: 'd' } },
          spec: { containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('1Gi') } } }] },
        },
      },
    });
    same(d);
    expect((renderApiObject(d) as any).spec.strategy.rollingUpdate).toEqual({ maxSurge: '25%', maxUnavailable: 0 });
  });

  test('a class rendering itself gets the same part from super.toJson(); an object with JSON patches, or of an App with resolvers of its own, is rendered by cdk8s', () => {
    const c = chart();
    const patched = new k8s.KubeConfigMap(c, 'patched', { metadata: { name: 'patched' }, data: { a: 'b' } });
    patched.addJsonPatch(JsonPatch.add('/data/c', 'd'));
    class Own extends ApiObject {
      public override toJson(): any {
        return { ...super.toJson(), extra: true };
      }
    }
    const own = new Own(c, 'own', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'own' } });
    const custom = new App({ resolvers: [{ resolve: () => undefined }] });
    const customObject = new k8s.KubeConfigMap(new Chart(custom, 'c'), 'cm', { metadata: { name: 'cm' }, data: { a: 'b' } });
    const before = { ...renderStats };
    for (const o of [patched, own, customObject]) same(o);
    expect(renderStats.delegated - before.delegated).toBe(2);
    expect(renderStats.fast - before.fast).toBe(1);
    expect(renderApiObject(own)).toMatchObject({ extra: true });
  });

  test('refuses what cdk8s refuses: a value that is not plain data, naming the construct', () => {
    const o = new ApiObject(chart(), 'bad', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bad' }, data: { when: new Date(0) } });
    expect(() => o.toJson()).toThrow("can't render non-simple object of type 'Date'");
    expect(() => renderApiObject(o)).toThrow("Failed serializing construct at path 'test/bad' with name 'bad': Error: can't render non-simple object of type 'Date'");
    // cdk8s's own toJson is back on ApiObject after the render, thrown or not.
    expect(() => o.toJson()).toThrow(/^Failed serializing construct at path 'test\/bad' with name 'bad': Error: can't render/);
    expect(renderApiObject(new ApiObject(chart(), 'ok', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ok' } }))).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ok', namespace: 'pronto' } });
    expect(ApiObject.prototype.toJson).toBe(CDK8S_TO_JSON);
  });
});
