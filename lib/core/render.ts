/**
 * An object's manifest, exactly as cdk8s's `ApiObject.toJson()` returns it, in a fraction of
 * its time. cdk8s resolves every value of every object through a chain of resolver objects
 * (node_modules/cdk8s/lib/resolve.js: for each value it looks the App up again, allocates a
 * context and a copy of the key path), then copies the result again to sort its keys
 * (lib/_util.js `sanitizeValue`). At a thousand services that was the largest step of a synth
 * after formatting.
 *
 * {@link withFastRender} runs a render with that part done in one pass: the same resolution
 * and the same sanitizing, for an App with cdk8s's built-in resolvers and an object without
 * JSON patches (anything else goes through cdk8s's own code). Each object's own `toJson()`
 * still runs: a class `cdk8s import` generated reaches ApiObject's part through
 * `super.toJson()`, then maps the result to the API's names and order (`toJson_<Props>`) as
 * always. test/lib/core/render.spec.ts compares both over every object of every shipped
 * environment, byte for byte.
 */
import { ApiObject, App, Chart, DependencyGraph, ImplicitTokenResolver, Lazy, LazyResolver, NumberStringUnionResolver } from 'cdk8s';
import { Manifest } from './manifest';

/** What cdk8s's App installs after any resolvers it is given (node_modules/cdk8s/lib/app.js), in order. */
const BUILT_IN_RESOLVERS = [LazyResolver, ImplicitTokenResolver, NumberStringUnionResolver];

const builtInApps = new WeakMap<App, boolean>();

/** Whether `app` resolves with cdk8s's built-in resolvers only. */
function builtInResolvers(app: App): boolean {
  let known = builtInApps.get(app);
  if (known === undefined) {
    // By class, not name: a bundler may rename classes.
    known = app.resolvers.length === BUILT_IN_RESOLVERS.length && app.resolvers.every((r, i) => r.constructor === BUILT_IN_RESOLVERS[i]);
    builtInApps.set(app, known);
  }
  return known;
}

/** Counts, for the tests: ApiObject parts rendered here, and those left to cdk8s. */
export const renderStats = { fast: 0, delegated: 0 };

/** cdk8s's own `ApiObject.prototype.toJson`. */
const CDK8S_TO_JSON = ApiObject.prototype.toJson;

/** `ApiObject.prototype.toJson`, in one pass where it can be reproduced, else cdk8s's. */
function apiObjectToJson(this: ApiObject): unknown {
  const patches = (this as unknown as { patches: unknown[] }).patches;
  // Keys are always sorted: cdk8s's CDK8S_DISABLE_SORT (an environment variable, which lib/ never reads) does not apply to Pronto's output.
  if (patches.length > 0 || !builtInResolvers(App.of(this))) {
    renderStats.delegated++;
    return CDK8S_TO_JSON.call(this);
  }
  renderStats.fast++;
  try {
    const props = (this as unknown as { props: Record<string, unknown> }).props;
    const json = resolveValue({ ...props, metadata: this.metadata.toJson() }) as Record<string, unknown>;
    // apiVersion, kind and metadata first, then the rest (sorted), as cdk8s orders them.
    const result: Record<string, unknown> = {};
    for (const key of ['apiVersion', 'kind', 'metadata', ...Object.keys(json)]) {
      if (key in json && !(key in result)) result[key] = json[key];
    }
    return result;
  } catch (e) {
    throw new Error(`Failed serializing construct at path '${this.node.path}' with name '${this.name}': ${e}`);
  }
}

/**
 * Runs `render` (`chart.toJson()`, `o.toJson()`, …) with ApiObject's part of every object's
 * `toJson` done by {@link apiObjectToJson}: installed on ApiObject's prototype for the call
 * only, where each object's class (its generated `toJson`, or any override) reaches it
 * through `super.toJson()`. What `render` returns is what it returns without.
 */
export function withFastRender<T>(render: () => T): T {
  const before = ApiObject.prototype.toJson;
  ApiObject.prototype.toJson = apiObjectToJson;
  try {
    return render();
  } finally {
    ApiObject.prototype.toJson = before;
  }
}

/**
 * The objects of each of `charts` (charts of one App), exactly as each chart's `toJson()`
 * lists them, through {@link withFastRender}. cdk8s's `chart.toJson()` first resolves the
 * dependencies of the whole App (every construct, every dependency) and validates it, then
 * lists the chart's objects in dependency order (node_modules/cdk8s/lib/app.js `_synthChart`,
 * `chartToKube`): done for each chart, that first step grows with charts × constructs. It
 * runs once here per App, for its first chart; after it every dependency is known (chart to
 * chart too), and the other charts list their objects from the dependency graph directly.
 */
export function renderCharts(charts: readonly Chart[]): Map<Chart, Manifest[]> {
  if (new Set(charts).size !== charts.length) throw new Error('renderCharts: a chart is given twice');
  // The first chart of each App renders with toJson(), which resolves and validates that App.
  const resolved = new Set<App>();
  return withFastRender(() => new Map(charts.map((chart) => {
    const app = App.of(chart);
    const first = !resolved.has(app);
    resolved.add(app);
    return [chart, (first ? chart.toJson() : chartObjects(chart)) as Manifest[]];
  })));
}

/** What `chart.toJson()` returns, once some chart of its App was rendered with `toJson()` (see {@link renderCharts}). */
function chartObjects(chart: Chart): unknown[] {
  return new DependencyGraph(chart.node).topology()
    .filter((c): c is ApiObject => c instanceof ApiObject && Chart.of(c) === chart)
    .map((o) => o.toJson());
}

/** `o.toJson()`, through {@link withFastRender}. */
export function renderApiObject(o: ApiObject): Manifest {
  return withFastRender(() => o.toJson() as Manifest);
}

/**
 * `value` resolved (cdk8s resolve.js: a Lazy's product, an implicit token's `resolve()`, a
 * number-or-string union class as `{ value }`, each resolved again) and sanitized (_util.js:
 * keys sorted, null and undefined left out, anything but plain data refused). Values are
 * resolved in their own order, as cdk8s does, and only then sorted.
 */
function resolveValue(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object') return value;
  if (value instanceof Lazy) return resolveValue(value.produce());
  const v = value as Record<string, unknown> & { resolve?: unknown; value?: unknown };
  if (typeof v.resolve === 'function') return resolveValue((v.resolve as () => unknown)());
  if (v.constructor !== Object && (typeof v.value === 'number' || typeof v.value === 'string')) {
    return { value: v.value };
  }
  if (Array.isArray(value)) return value.map((x) => resolveValue(x));
  if (v.constructor === Object) {
    const resolved: Record<string, unknown> = {};
    for (const key of Object.keys(v)) resolved[key] = resolveValue(v[key]);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(resolved).sort()) {
      if (resolved[key] !== null && resolved[key] !== undefined) out[key] = resolved[key];
    }
    return out;
  }
  // cdk8s leaves any other object unresolved; its sanitizer copies one named Object (another realm's), and refuses the rest.
  return sanitized(value);
}

/** cdk8s's `sanitizeValue` (lib/_util.js) with its defaults: keys sorted, null and undefined left out. */
function sanitized(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sanitized);
  if (value.constructor.name !== 'Object') throw new Error(`can't render non-simple object of type '${value.constructor.name}'`);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = sanitized((value as Record<string, unknown>)[key]);
    if (v !== null && v !== undefined) out[key] = v;
  }
  return out;
}
