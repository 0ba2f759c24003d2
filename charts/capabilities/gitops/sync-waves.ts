/**
 * The order Argo CD applies an environment in, as sync waves: the namespace, its quota
 * and limits, identities and configuration first; the backends the apps use (the data
 * tier: PostgreSQL, PgBouncer, Redis; the trace collector) before the apps; the gateway,
 * which sends them traffic, last. Applied by the composition root (charts/build-app.ts)
 * only when the gitops capability is on, so without it no object carries a wave.
 */
import { ApiObject, Chart } from 'cdk8s';
import { neverPrune, setSyncWave } from '../../../lib/gitops';
import { CapabilityId } from '../../../config/sections';

/** The waves, in the order Argo CD applies them. */
export const SYNC_WAVES = {
  /** The Namespace Pronto owns. */
  namespace: 0,
  /** ResourceQuota, LimitRange, admission policies: in force before any pod is created. */
  guardrails: 1,
  /** ServiceAccounts, ConfigMaps, NetworkPolicies, monitoring objects, DestinationRules: before the pods that need them. */
  config: 2,
  /** What the apps connect to at start: the data tier, the trace collector, backup jobs. */
  backends: 3,
  /** The catalog services. */
  apps: 4,
  /** The gateway: public traffic only once its upstreams are up. */
  edge: 5,
} as const;
export type SyncWaveName = keyof typeof SYNC_WAVES;

/**
 * The wave of every chart, by capability id (and `services`, the catalog's chart). Typed by
 * CapabilityId: a capability added to SECTIONS without a wave here does not compile. The
 * gitops capability's own charts are the Argo CD objects, which are not synced with the
 * workloads (they have waves of their own in the root Application).
 */
export const CHART_WAVES: { readonly [K in Exclude<CapabilityId, 'gitops'> | 'services']: SyncWaveName } = {
  metrics: 'config',
  logs: 'config',
  tracing: 'backends',
  secrets: 'config',
  networkPolicies: 'config',
  gateway: 'edge',
  circuitBreakers: 'config',
  database: 'backends',
  backups: 'backends',
  services: 'apps',
};

/** Waves of the namespace chart's objects, by kind. */
export const NAMESPACE_KIND_WAVES: Readonly<Record<string, SyncWaveName>> = {
  Namespace: 'namespace',
  ResourceQuota: 'guardrails',
  LimitRange: 'guardrails',
  ValidatingAdmissionPolicy: 'guardrails',
  ValidatingAdmissionPolicyBinding: 'guardrails',
};

/**
 * Kinds that go in the config wave whatever chart holds them: identities and configuration
 * before the pods that use them. A cert-manager Certificate too: Argo CD's health check for it
 * (resource_customizations/cert-manager.io/Certificate) waits for Ready, so the server's pods
 * start with their Secret there.
 */
export const CONFIG_KINDS: readonly string[] = ['ServiceAccount', 'ConfigMap', 'Certificate'];

/** The charts of one environment, as the composition root built them. */
export interface WaveInput {
  readonly namespace: Chart;
  readonly services: Chart;
  /** The capability that added each capability chart. */
  readonly capabilityOf: ReadonlyMap<Chart, string>;
}

/**
 * Annotates every object of the workload charts with its sync wave: the namespace chart's
 * by kind, ServiceAccounts and ConfigMaps in the config wave, anything else by its chart.
 * Throws on a kind or a capability without a wave, so none is ever applied out of order.
 * The Namespace is never pruned (its deletion would delete everything in it): it leaves
 * only by a person's `kubectl delete`.
 */
export function assignSyncWaves(charts: WaveInput): void {
  const waveOf = (chart: Chart, object: ApiObject): number => {
    if (chart === charts.namespace) {
      const wave = NAMESPACE_KIND_WAVES[object.kind];
      if (!wave) throw new Error(`no sync wave for ${object.kind} in the namespace chart: add it to NAMESPACE_KIND_WAVES (charts/capabilities/gitops/sync-waves.ts)`);
      return SYNC_WAVES[wave];
    }
    if (CONFIG_KINDS.includes(object.kind)) return SYNC_WAVES.config;
    const id = chart === charts.services ? 'services' : charts.capabilityOf.get(chart);
    const wave = id !== undefined ? (CHART_WAVES as Record<string, SyncWaveName>)[id] : undefined;
    if (!wave) throw new Error(`no sync wave for chart "${chart.node.id}" (capability ${id ?? 'unknown'}): add it to CHART_WAVES (charts/capabilities/gitops/sync-waves.ts)`);
    return SYNC_WAVES[wave];
  };
  for (const chart of [charts.namespace, charts.services, ...charts.capabilityOf.keys()]) {
    if (charts.capabilityOf.get(chart) === 'gitops') continue;
    for (const object of chart.node.findAll().filter(ApiObject.isApiObject)) {
      setSyncWave(object, waveOf(chart, object));
      if (chart === charts.namespace && object.kind === 'Namespace') neverPrune(object);
    }
  }
}
