/**
 * Every step that relates objects to other objects grows linearly: the prod environment with
 * 10 and with 80 catalog services (the shipped five plus copies of order-service, as
 * `npm run bench` scales it), and for each step the work it does, counted, never timed. Work
 * is read where it happens: property reads of the data a step walks (a counting proxy over
 * the manifests, the flows' endpoints or the services), or the step's own counters. Per unit
 * (flows, objects or services), the work at 80 services must stay within 1.2 times the work
 * at 10; a step that compares all pairs does about 8 times more per unit at 80, and a test
 * beside each bound shows that it catches the quadratic way of doing the same step.
 */
import { App, Chart } from 'cdk8s';
import { environmentPorts } from '../../charts/build-app';
import { calledServices, circuitBreakers, dependenciesOf, sectionProblems } from '../../charts/capabilities/circuit-breakers';
import { RENDERED_KINDS, emittedObjects } from '../../charts/capabilities/gitops';
import { renderEnvironment } from '../../charts/synthesize';
import { EnvironmentConfig, parseEnvironment } from '../../config/load';
import { ConnectionGraph, Manifest, endpointKey, formatYaml, renderStats, yamlStats } from '../../lib/core';
import { checkCapacity } from '../../lib/namespace';
import { IpBlockSpec, policyRulesFromGraph } from '../../lib/network';
import { ManifestIndex, runGate } from '../../lib/validation';
import { CATALOG } from '../../config/catalog';
import { scaledCatalog, scaledEnvironmentText, shippedProdText } from '../bench/scaled';
import { buildEnvironment } from '../helpers';

const SIZES = [10, 80] as const;
/** Most work per unit at 80 services, against the work per unit at 10. */
const BOUND = 1.2;

/** Counts every property read of the values it wraps, and of every object reached through them. */
class ReadCounter {
  public reads = 0;
  private readonly proxies = new WeakMap<object, object>();

  public wrap<T>(value: T): T {
    if (typeof value !== 'object' || value === null) return value;
    const known = this.proxies.get(value);
    if (known) return known as T;
    const proxy = new Proxy(value, {
      get: (target, key, receiver) => {
        this.reads++;
        return this.wrap(Reflect.get(target, key, receiver));
      },
    });
    this.proxies.set(value, proxy);
    return proxy as T;
  }

  /** The reads `run` makes. */
  public during(run: () => unknown): number {
    const before = this.reads;
    run();
    return this.reads - before;
  }
}

interface Size {
  readonly services: number;
  readonly config: EnvironmentConfig;
  readonly graph: ConnectionGraph;
  readonly manifests: Manifest[];
  /** Objects rendered with `toJson()` while the charts were built (the gitops projects' derivation reads some). */
  readonly buildRenders: number;
}

/** prod with `services` catalog services in all. */
function sized(services: number): Size {
  const extra = services - Object.keys(CATALOG).length;
  const config = parseEnvironment(scaledEnvironmentText(extra, shippedProdText()), 'config/prod.yaml', scaledCatalog(extra));
  // Renders go through lib/core's renderer (withFastRender), which counts them.
  const rendered = () => renderStats.fast + renderStats.delegated;
  const before = rendered();
  const built = buildEnvironment(config);
  // buildEnvironment renders every object once after the build: what the build itself rendered is the rest.
  return { services, config, graph: built.charts.graph, manifests: built.manifests, buildRenders: rendered() - before - built.manifests.length };
}

let sizes: Size[];
beforeAll(() => {
  sizes = SIZES.map(sized);
});

/** The values (objects, arrays and scalars) of `value`, itself included. */
function fieldCount(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 1;
  return 1 + Object.values(value).reduce((n: number, v) => n + fieldCount(v), 0);
}

/** Work per unit at each size, and whether the larger stays within {@link BOUND} of the smaller. */
function growth(measure: (size: Size) => { work: number; units: number }) {
  const [small, large] = sizes.map(measure).map(({ work, units }) => ({ work, units, perUnit: work / units }));
  return { small, large, linear: small.work > 0 && large.perUnit <= BOUND * small.perUnit };
}

/** `graph` again, with every endpoint behind `counter`; reading the copy's flows counts. */
function countedGraph(graph: ConnectionGraph, counter: ReadCounter): ConnectionGraph {
  const copy = new ConnectionGraph();
  for (const w of graph.workloads) copy.addWorkload(counter.wrap(w));
  for (const f of graph.flows) copy.addFlow({ ...f, from: counter.wrap(f.from), to: counter.wrap(f.to) });
  return copy;
}

function externalBlocks(config: EnvironmentConfig): Record<string, readonly IpBlockSpec[]> {
  return config.capabilities.networkPolicies!.externalHosts;
}

/** The rules of each workload the way they were derived before the graph had an index: every flow, for every workload. */
function everyFlowForEveryWorkload(graph: ConnectionGraph): number {
  let matched = 0;
  for (const w of graph.workloads) {
    for (const f of graph.flows) {
      const self = endpointKey(w);
      if (endpointKey(f.from) === self || endpointKey(f.to) === self) matched++;
    }
  }
  return matched;
}

describe('each cross-object step does work in proportion to what it relates, from 10 to 80 services', () => {
  test('the scaled environments grow: more services, flows and objects at 80', () => {
    const [small, large] = sizes;
    expect(large.config.services.length).toBe(80);
    expect(small.config.services.length).toBe(10);
    expect(large.graph.flows.length).toBeGreaterThan(4 * small.graph.flows.length);
    expect(large.manifests.length).toBeGreaterThan(3 * small.manifests.length);
  });

  test('network policies: the endpoints read per flow stay flat (each workload reads its own flows)', () => {
    const result = growth(({ graph, config }) => {
      const counter = new ReadCounter();
      const counted = countedGraph(graph, counter);
      const work = counter.during(() => policyRulesFromGraph(counted, externalBlocks(config)));
      return { work, units: graph.flows.length };
    });
    expect(result).toEqual({ ...result, linear: true });
  });

  test('network policies: the bound catches reading every flow for every workload', () => {
    const result = growth(({ graph }) => {
      const counter = new ReadCounter();
      const counted = countedGraph(graph, counter);
      const work = counter.during(() => everyFlowForEveryWorkload(counted));
      return { work, units: graph.flows.length };
    });
    expect(result).toEqual({ ...result, linear: false });
  });

  test('connection graph: the flows its readers were handed during the build stay flat per flow, the indexes are built as often', () => {
    const result = growth(({ graph }) => ({ work: graph.stats.flowsExamined, units: graph.flows.length }));
    expect(result).toEqual({ ...result, linear: true });
    const [small, large] = sizes;
    expect(large.graph.stats.indexBuilds).toBe(small.graph.stats.indexBuilds);
    expect(large.graph.stats.lookups - small.graph.stats.lookups).toBeLessThanOrEqual(2 * (large.graph.workloads.length - small.graph.workloads.length));
  });

  test('circuit breakers: the called services, the section\'s check, the DestinationRules and each service\'s dependencies read the services in proportion to them', () => {
    const result = growth(({ config }) => {
      const counter = new ReadCounter();
      const section = config.capabilities.circuitBreakers!;
      const ports = environmentPorts(config);
      const counted = { ...config, services: config.services.map((s) => counter.wrap(s)) };
      const work = counter.during(() => {
        calledServices(counted);
        sectionProblems(section, counted, ports);
        circuitBreakers.charts!(new App(), section, { config: counted } as never);
        for (const s of counted.services) dependenciesOf(s, section);
      });
      return { work, units: config.services.length };
    });
    expect(result).toEqual({ ...result, linear: true });
  });

  test('validation gate: the reads of the objects (per field), and the pod templates its selector lookups examine, stay flat per object', () => {
    const examined: number[] = [];
    const result = growth(({ manifests }) => {
      const counter = new ReadCounter();
      const counted = counter.wrap(manifests);
      const work = counter.during(() => {
        const index = new ManifestIndex(counted);
        expect(runGate(index).findings).toEqual([]);
        examined.push(index.stats.podsExamined);
      });
      // Per field, not per object: the gate reads each field a bounded number of times, and a service's objects have more
      // fields than the fixed ones (the namespace, projects, add-ons), so per object the work of a linear gate still rises with their share.
      return { work, units: fieldCount(manifests) };
    });
    expect(result).toEqual({ ...result, linear: true });
    const [small, large] = sizes.map((s, i) => examined[i] / s.manifests.length);
    expect(large).toBeLessThanOrEqual(BOUND * small);
  });

  test('capacity guard: the reads of the objects stay flat per object', () => {
    const result = growth(({ manifests, config }) => {
      const counter = new ReadCounter();
      const counted = counter.wrap(manifests);
      const work = counter.during(() => expect(checkCapacity(counted, config.namespace.name)).toEqual([]));
      return { work, units: manifests.length };
    });
    expect(result).toEqual({ ...result, linear: true });
  });

  test('gitops projects: their derivation renders the objects of the kinds it reads whole, once each, and reads the objects in proportion to them', () => {
    const renders = growth(({ buildRenders, manifests }) => ({ work: buildRenders, units: manifests.filter((m) => RENDERED_KINDS.has(m.kind)).length }));
    expect(renders.large.perUnit).toBeLessThanOrEqual(1);
    expect(renders).toEqual({ ...renders, linear: true });
    const reads = growth(({ manifests }) => {
      const counter = new ReadCounter();
      const counted = counter.wrap(manifests);
      return { work: counter.during(() => emittedObjects(counted)), units: manifests.length };
    });
    expect(reads).toEqual({ ...reads, linear: true });
  });

  test('render: the dependencies of the whole app are resolved once per environment, not once per chart', () => {
    const { config } = sizes[0];
    const synthChart = jest.spyOn(App as unknown as { _synthChart: (c: Chart) => unknown }, '_synthChart');
    try {
      const rendered = renderEnvironment(config, { gate: false });
      expect(synthChart).toHaveBeenCalledTimes(1);
      expect(new Set(rendered.manifests.map((m) => `${m.kind}/${m.metadata?.namespace}/${m.metadata?.name}`)).size).toBe(rendered.manifests.length);
    } finally {
      synthChart.mockRestore();
    }
  });

  test('YAML: every object of the output is printed by the port, one document each, none handed to the library', () => {
    for (const { manifests } of sizes) {
      const before = { ...yamlStats };
      formatYaml(manifests);
      expect({ documents: yamlStats.documents - before.documents, delegated: yamlStats.delegated - before.delegated })
        .toEqual({ documents: manifests.length, delegated: 0 });
    }
  });

  test('no object holds a part per service in its annotations: each object of both sizes has as many (its own and its pods\'), so none nears the API server\'s 256 KiB as services are added', () => {
    /** Annotations of an object and of its pod template, by object. */
    const annotations = (manifests: Manifest[]) => new Map(manifests.map((m) => {
      const template = m.kind === 'CronJob' ? m.spec?.jobTemplate?.spec?.template : m.spec?.template;
      return [`${m.kind}/${m.metadata?.namespace}/${m.metadata?.name}`, Object.keys(m.metadata?.annotations ?? {}).length + Object.keys(template?.metadata?.annotations ?? {}).length];
    }));
    const [small, large] = sizes.map((size) => annotations(size.manifests));
    const grown = [...small].filter(([key, count]) => large.has(key) && large.get(key) !== count).map(([key, count]) => `${key}: ${count} → ${large.get(key)}`);
    expect(grown).toEqual([]);
    expect([...small.keys()].filter((key) => large.has(key)).length).toBeGreaterThan(small.size / 2);
  });
});
