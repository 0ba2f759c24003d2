import { DATA_STORES, GATEWAY } from '../config/catalog';
import { EnvironmentConfig } from '../config/load';
import { ConnectionGraph, Flow, FlowPort, workloadEndpoint } from '../lib/core';

const tcp = (port: number): FlowPort[] => [{ port, protocol: 'TCP' }];

/**
 * The flows the catalog declares: each service's `calls`, `dataStores` and
 * `externalHosts`, and the gateway's route to every service with a public route.
 */
export function catalogFlows(config: EnvironmentConfig): Flow[] {
  const ns = config.namespace.name;
  const byName = new Map(config.services.map((s) => [s.name, s]));
  return config.services.flatMap((svc): Flow[] => {
    const from = workloadEndpoint(svc.name, ns);
    const c = svc.catalog;
    return [
      ...c.calls.map((callee): Flow => ({ from, to: workloadEndpoint(callee, ns), ports: tcp(byName.get(callee)!.catalog.port),
        purpose: `calls ${callee}`, declaredBy: 'catalog' })),
      ...c.dataStores.map((store): Flow => ({ from, to: workloadEndpoint(DATA_STORES[store].host, ns), ports: tcp(DATA_STORES[store].port),
        purpose: `uses ${DATA_STORES[store].description}`, declaredBy: 'catalog' })),
      ...c.externalHosts.map((hostPort): Flow => {
        const [host, port] = hostPort.split(':');
        return { from, to: { kind: 'external', name: host }, ports: tcp(Number(port)), purpose: `calls ${host}`, declaredBy: 'catalog' };
      }),
      ...(c.route ? [{ from: workloadEndpoint(GATEWAY, ns), to: from, ports: tcp(c.port),
        purpose: `routes ${c.route.path}`, declaredBy: 'catalog' }] : []),
    ];
  });
}

/**
 * Every workload resolves names through the cluster DNS, over UDP and TCP (responses
 * larger than 512 bytes fall back to TCP). Added last, so it covers every workload that
 * the catalog and the capabilities declared.
 */
export function addDnsFlows(graph: ConnectionGraph, config: EnvironmentConfig): void {
  const dns = config.cluster.dns;
  const to = { kind: 'foreign', name: 'kube-dns', namespace: dns.namespace, podLabels: dns.podLabels } as const;
  for (const from of graph.workloads) {
    graph.addFlow({ from, to, ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }], purpose: 'resolves names', declaredBy: 'cluster' });
  }
}
