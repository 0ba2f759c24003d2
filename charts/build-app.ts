import { App, Chart } from 'cdk8s';
import { ConfigError, EnvironmentConfig } from '../config/load';
import { ConnectionGraph, InjectedImage, workloadEndpoint } from '../lib/core';
import { PodExtensionPoint } from '../lib/workload';
import { CAPABILITIES, Capability, CapabilityContext, CapabilityExtras, CapabilityFile, CapabilityId, CapabilityUnits, Ports } from './capabilities';
import { assignSyncWaves } from './capabilities/gitops/sync-waves';
import { addDnsFlows, catalogFlows } from './connections';
import { NamespaceChart } from './namespace-chart';
import { ServicesChart } from './services-chart';

/** The charts of one environment, and the connection graph they were built from. */
export interface ProntoCharts {
  readonly namespace: NamespaceChart;
  readonly services: ServicesChart;
  /** The charts of the enabled capabilities, in apply order. */
  readonly capabilities: Chart[];
  /** The capability that added each of {@link capabilities}. */
  readonly capabilityOf: ReadonlyMap<Chart, string>;
  /** Every flow the catalog, the cluster and the enabled capabilities declared. */
  readonly graph: ConnectionGraph;
  /** Files the enabled capabilities write beside the manifests (not applied). */
  readonly files: readonly CapabilityFile[];
  /** Images admission webhooks add to the pods of the namespace (not in the output), by the capabilities that cause them. */
  readonly injectedImages: readonly InjectedImage[];
}

/**
 * Composition root: adds every chart of one environment to `app`. Used by `main.ts` and
 * by the tests, so both build exactly the same thing. The only place that decides which
 * capabilities run: those whose section of the environment file is on.
 *
 * @param units the capability units; tests pass fixtures, everything else the default
 */
export function buildApp(app: App, config: EnvironmentConfig, units: CapabilityUnits = CAPABILITIES): ProntoCharts {
  const enabled = enabledCapabilities(config, units);
  const ports = checkedPorts(enabled, config);

  const extensions = new Map(config.services.map((svc) => [svc.name, new PodExtensionPoint(svc.name, svc.catalog.runAs)]));
  for (const [cap, section] of enabled) {
    for (const svc of config.services) cap.extendPod?.(extensions.get(svc.name)!, svc, section, config, ports);
  }

  const extras: CapabilityExtras = { vaultReaders: enabled.flatMap(([cap, section]) => cap.vaultReaders?.(section, config, ports) ?? []), ports };

  const graph = new ConnectionGraph();
  for (const svc of config.services) graph.addWorkload(workloadEndpoint(svc.name, config.namespace.name));
  for (const flow of catalogFlows(config)) graph.addFlow(flow);
  for (const [cap, section] of enabled) cap.flows?.(graph, section, config, extras);
  addDnsFlows(graph, config);

  const namespaceLabels = Object.assign({}, ...enabled.map(([cap, section]) => cap.namespaceLabels?.(section, config) ?? {}));
  const injectedImages = enabled.flatMap(([cap, section]) => cap.injectedImages?.(section, config, ports) ?? []);
  const namespace = new NamespaceChart(app, 'namespace', config, namespaceLabels, injectedImages);
  const services = new ServicesChart(app, 'services', config, extensions);
  services.addDependency(namespace);
  const context: CapabilityContext = { config, graph, namespaceChart: namespace, servicesChart: services, ports };
  const capabilityOf = new Map<Chart, string>();
  for (const [cap, section] of enabled) {
    for (const chart of cap.charts?.(app, section, context) ?? []) {
      chart.addDependency(namespace);
      capabilityOf.set(chart, cap.id);
    }
  }
  // Argo CD applies the objects wave by wave; without GitOps no object carries a wave.
  if (config.capabilities.gitops !== undefined) assignSyncWaves({ namespace, services, capabilityOf });
  const files = enabled.flatMap(([cap, section]) => cap.files?.(section, config, extras) ?? []);
  return { namespace, services, capabilities: [...capabilityOf.keys()], capabilityOf, graph, files, injectedImages };
}

/** The ports of `config`'s enabled capabilities (what {@link buildApp} gives every capability). */
export function environmentPorts(config: EnvironmentConfig, units: CapabilityUnits = CAPABILITIES): Ports {
  return buildPorts(enabledCapabilities(config, units), config);
}

/**
 * Every config problem of the enabled capabilities that their schemas cannot see: the
 * ports' (add-on contracts, providers) and each capability's `check`, all in one error.
 */
export function checkEnvironment(config: EnvironmentConfig, units: CapabilityUnits = CAPABILITIES): void {
  checkedPorts(enabledCapabilities(config, units), config);
}

/** The ports, once every capability's `check` passed; one ConfigError with every problem otherwise. */
function checkedPorts(enabled: ReadonlyArray<[Capability, unknown]>, config: EnvironmentConfig): Ports {
  const ports = buildPorts(enabled, config);
  const problems = enabled.flatMap(([cap, section]) => cap.check?.(section, config, ports) ?? []);
  if (problems.length > 0) throw new ConfigError(problems);
  return ports;
}

/**
 * The ports of the enabled capabilities: first the add-ons they install (with their
 * contracts), then what each provides, then the Vault entries each adds to the services' pods. Every capability's problems are collected, so one
 * run reports all of them.
 */
export function buildPorts(enabled: ReadonlyArray<[Capability, unknown]>, config: EnvironmentConfig): Ports {
  const problems: string[] = [];
  const collect = <T>(work: () => T, fallback: T): T => {
    try {
      return work();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems);
      return fallback;
    }
  };
  const addons = Object.assign({}, ...enabled.map(([cap, section]) => collect(() => cap.addons?.(section, config) ?? {}, {})));
  const provided = enabled.map(([cap, section]) => collect(() => cap.provides?.(section, config, addons) ?? {}, {}));
  if (problems.length > 0) throw new ConfigError(problems);
  const ports = Object.assign({ addons, serviceSecrets: {} }, ...provided) as Ports;
  // What each capability adds to a service's Vault agent, asked with the finished ports.
  const serviceSecrets = Object.fromEntries(config.services.map((svc) => [svc.name,
    enabled.flatMap(([cap, section]) => collect(() => cap.serviceSecrets?.(svc, section, config, ports) ?? [], []))]));
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...ports, serviceSecrets };
}

/** The units whose section is on, with their sections, in registry order. */
function enabledCapabilities(config: EnvironmentConfig, units: CapabilityUnits): Array<[Capability, unknown]> {
  return (Object.keys(units) as CapabilityId[])
    .filter((id) => config.capabilities[id] !== undefined)
    .map((id) => [units[id] as Capability<unknown>, config.capabilities[id]]);
}
