/**
 * The connection graph: every flow the catalog declares is in it, every workload
 * resolves names through the cluster DNS, and nothing else is added by the catalog.
 * Expectations are derived from the catalog, so a new service needs no edit here.
 */
import { Testing } from 'cdk8s';
import { buildApp } from '../../charts/build-app';
import { DATA_STORES, GATEWAY } from '../../config/catalog';
import { EnvironmentConfig } from '../../config/load';
import { ConnectionGraph, Endpoint, workloadEndpoint } from '../../lib/core';
import { ENVIRONMENTS, buildEnvironment, environment } from '../helpers';

const graphOf = (config: EnvironmentConfig): ConnectionGraph => buildApp(Testing.app(), config).graph;
/** The kinds whose objects run pods (a CronJob's through its Jobs). */
const POD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'];

describe.each(ENVIRONMENTS)('connection graph of %s', (env) => {
  const config = environment(env);
  const { charts, manifests } = buildEnvironment(config);
  const graph = charts.graph;
  const ns = config.namespace.name;
  const at = (name: string) => workloadEndpoint(name, ns);

  test('holds every edge of the catalog: calls, data stores, external hosts and public routes', () => {
    const expected: Array<[Endpoint, Endpoint, number]> = config.services.flatMap((svc) => [
      ...svc.catalog.calls.map((callee): [Endpoint, Endpoint, number] => [at(svc.name), at(callee), config.services.find((s) => s.name === callee)!.catalog.port]),
      ...svc.catalog.dataStores.map((store): [Endpoint, Endpoint, number] => [at(svc.name), at(DATA_STORES[store].host), DATA_STORES[store].port]),
      ...svc.catalog.externalHosts.map((h): [Endpoint, Endpoint, number] => [at(svc.name), { kind: 'external', name: h.split(':')[0] }, Number(h.split(':')[1])]),
      ...(svc.catalog.route ? [[at(GATEWAY), at(svc.name), svc.catalog.port] as [Endpoint, Endpoint, number]] : []),
    ]);
    expect(expected.length).toBeGreaterThan(0);
    for (const [from, to, port] of expected) expect([from.name, to.name, port, graph.allows(from, to, port)]).toEqual([from.name, to.name, port, true]);
    expect(graph.flows.filter((f) => f.declaredBy === 'catalog')).toHaveLength(expected.length);
  });

  test('every workload Pronto runs resolves names through the cluster DNS over UDP and TCP, and only DNS is declared by the cluster', () => {
    const dns: Endpoint = { kind: 'foreign', name: 'kube-dns', namespace: config.cluster.dns.namespace, podLabels: config.cluster.dns.podLabels };
    // Exactly the workloads whose pods the environment runs: the catalog services and the capabilities' workloads, scheduled jobs included.
    const running = new Set(manifests.filter((m) => POD_KINDS.includes(m.kind)).map((m) => m.metadata!.labels!['app.kubernetes.io/name']));
    expect(graph.workloads.map((w) => w.name)).toEqual([...running].sort());
    for (const w of graph.workloads) {
      expect([w.name, graph.allows(w, dns, 53, 'UDP'), graph.allows(w, dns, 53, 'TCP')]).toEqual([w.name, true, true]);
    }
    expect(graph.flows.filter((f) => f.declaredBy === 'cluster')).toHaveLength(graph.workloads.length * 2);
  });

  test('selects pods by their stable labels, never the blue-green slot', () => {
    for (const w of graph.workloads) expect(Object.keys(w.selector).sort()).toEqual(['app.kubernetes.io/instance', 'app.kubernetes.io/name']);
  });

  test('is the same on every build, whatever order things were declared in', () => {
    expect(graphOf(config).flows).toEqual(graph.flows);
  });
});

describe('ConnectionGraph', () => {
  const a = workloadEndpoint('a', 'pronto');
  const b = workloadEndpoint('b', 'pronto');

  test('keeps one flow per ends, port and protocol', () => {
    const graph = new ConnectionGraph();
    graph.addFlow({ from: a, to: b, ports: [{ port: 80, protocol: 'TCP' }], purpose: 'x', declaredBy: 'test' });
    graph.addFlow({ from: a, to: b, ports: [{ port: 80, protocol: 'TCP' }, { port: 81, protocol: 'TCP' }], purpose: 'y', declaredBy: 'test' });
    expect(graph.flows.map((f) => f.ports[0].port)).toEqual([80, 81]);
    expect(graph.allows(b, a, 80)).toBe(false);
  });

  test('fails on a flow without ports or with a port out of range', () => {
    const graph = new ConnectionGraph();
    expect(() => graph.addFlow({ from: a, to: b, ports: [], purpose: 'x', declaredBy: 'test' })).toThrow('expected at least one port');
    expect(() => graph.addFlow({ from: a, to: b, ports: [{ port: 70000, protocol: 'TCP' }], purpose: 'x', declaredBy: 'test' }))
      .toThrow('workload:pronto/a -> workload:pronto/b (x, from test): port 70000 is not 1-65535');
  });
});
