import { App, Chart } from 'cdk8s';
import { EnvironmentConfig, ServiceModel } from '../../config/load';
import { CatalogSecret } from '../../config/schema';
import { ConnectionGraph, InjectedImage } from '../../lib/core';
import { PodExtensionPoint } from '../../lib/workload';
import { AddonContracts } from '../../lib/addons';
import { Ports, ProvidedPort } from './ports';
import { CapabilityId, SectionValue } from '../../config/sections';

/** What a capability's charts may build on: the environment, the finished graph, the base charts. */
export interface CapabilityContext {
  readonly config: EnvironmentConfig;
  /** Every flow of the environment, all capabilities' included. */
  readonly graph: ConnectionGraph;
  /** The chart of the namespace and its guardrails; capability charts depend on it. */
  readonly namespaceChart: Chart;
  /** The chart of the catalog services. */
  readonly servicesChart: Chart;
  /** What the enabled capabilities and the installed add-ons offer each other. */
  readonly ports: Ports;
}

/** A workload that reads Vault secrets: a catalog service, or a capability's own workload or ScheduledJob. */
export interface VaultReader {
  /** Workload name (`app.kubernetes.io/name`); names its Vault role and policy. */
  readonly name: string;
  /** ServiceAccount its pods run as; the Vault role is bound to it. */
  readonly serviceAccount: string;
  /** Container that reads the files. */
  readonly appContainer: string;
  /** Other containers of the pod that read the files too (an add-on's sidecar); they get no env var. @default none */
  readonly otherContainers?: readonly string[];
  /** Where the files appear in those containers. @default '/run/secrets' */
  readonly secretVolumePath?: string;
  /**
   * Namespace of its ServiceAccount when it is not the environment's: an add-on's pod (Grafana
   * in the monitoring namespace). Its Vault role is bound there; the connection graph, which
   * covers Pronto's namespace only, gets no flow for it. @default the environment's namespace
   */
  readonly namespace?: string;
  /**
   * Its secrets, below the environment's KV prefix. A path starts with `<name>/` (its own),
   * or names an entry another workload of the same capability owns and shares with it (the
   * WAL-G key and storage credentials under `postgres/`): each reader's Vault policy lists
   * exactly the paths given here.
   */
  readonly secrets: readonly ReaderSecret[];
}

/**
 * One file a Vault reader's agent renders: a catalog secret, or a file for another container
 * of the pod (no env var of the app container), possibly readable by the agent's UID only.
 */
export interface ReaderSecret extends Omit<CatalogSecret, 'env'> {
  /** Env var of the app container with the file's path. @default - none (the file is another container's) */
  readonly env?: string;
  /** `0400`: only the agent's UID reads it (a sidecar that runs as that UID), never the app. @default '0440' */
  readonly mode?: '0400' | '0440';
  /**
   * One file from the entries of several names: `path` holds `%s` where each goes, and the
   * template is rendered once per name (`{{ $name }}`), see lib/secrets VaultSecretFile.forEach.
   * The reader's policy lists each entry. @default - the one entry at `path`
   */
  readonly forEach?: readonly string[];
}

/**
 * A Vault entry a capability adds to a catalog service's pods, for a container of its own
 * there (a sidecar's credential): the service's agent renders it and the service's Vault
 * role reads it, beside the service's own secrets.
 */
export interface ServiceSecret {
  /** KV path below the environment's prefix; it starts with `<service>/` (the service's own entries). */
  readonly path: string;
  /** File name under the pod's secret folder. */
  readonly file: string;
  /** Template of the file's exact content (`{{ .Data.data.<field> }}`). */
  readonly template: string;
  /** The container that reads it; it gets the secret folder, the app container no env var for it. */
  readonly container: string;
  /**
   * `0400`: readable by the agent's UID only, so the container must run as that UID
   * ({@link VaultPort.agentRunAs}) and the app, which reads its own files through the group, cannot read it.
   */
  readonly mode: '0400' | '0440';
  /** The capability that adds it, named in errors. */
  readonly declaredBy: string;
}

/** What every capability's `flows` and `files` learn of the others. */
export interface CapabilityExtras {
  /** The Vault readers the enabled capabilities declared ({@link Capability.vaultReaders}), in apply order. */
  readonly vaultReaders: readonly VaultReader[];
  /** What the enabled capabilities and the installed add-ons offer each other. */
  readonly ports: Ports;
}

/**
 * One capability as a unit: its section of the environment file (config/sections/<id>.ts),
 * the ports it offers and its one check, what it adds to every service's pod, its flows and charts.
 * The composition root calls these only for capabilities whose section is on, in this
 * order: `addons`, `provides` (the ports, then every capability's `serviceSecrets`), `check` (every capability's problems reported
 * together), `extendPod` for every service, `vaultReaders`, `flows`, then `charts` (with the
 * finished graph) and `files`. A capability reads another only through the ports: one
 * capability folder never imports another (eslint.config.js).
 */
export interface Capability<S = unknown> {
  /** Its key in SECTIONS and in the environment file. */
  readonly id: string;
  /**
   * The add-ons the capability installs, by add-on id, each with the contract of what its
   * pinned chart renders (lib/addons). Asked first: other capabilities' ports may come from them.
   */
  addons?(section: S, config: EnvironmentConfig): AddonContracts;
  /**
   * What the capability offers the others ({@link Ports}), asked once, after every
   * capability's `addons`. Problems found here are config errors (ConfigError).
   */
  provides?(section: S, config: EnvironmentConfig, addons: AddonContracts): Partial<Pick<Ports, ProvidedPort>>;
  /**
   * Every problem of the section that its schema cannot see (the catalog, the other
   * capabilities' ports), each as `file:line: path: expected …, found …`. Called once per
   * environment, after the ports and before anything is built; the problems of every
   * capability are reported together. The other hooks may assume the section passed.
   */
  check?(section: S, config: EnvironmentConfig, ports: Ports): readonly string[];
  /**
   * Vault entries the capability adds to a catalog service's pods, for a container it adds
   * there ({@link ServiceSecret}); asked once per service, with the ports. The secrets
   * capability renders them with the service's own and grants them to the service's Vault role.
   */
  serviceSecrets?(service: ServiceModel, section: S, config: EnvironmentConfig, ports: Ports): readonly ServiceSecret[];
  /** Changes every catalog service's pods, identically for every blue-green slot. */
  extendPod?(pod: PodExtensionPoint, service: ServiceModel, section: S, config: EnvironmentConfig, ports: Ports): void;
  /** Declares the connections the capability needs (scraping, shipping logs, OTLP, Vault). */
  flows?(graph: ConnectionGraph, section: S, config: EnvironmentConfig, extras: CapabilityExtras): void;
  /** Adds the capability's own charts (one file each) to `app`. */
  charts?(app: App, section: S, context: CapabilityContext): Chart[];
  /** Labels the capability needs on the namespace Pronto owns (e.g. an Istio data plane). */
  namespaceLabels?(section: S, config: EnvironmentConfig): Readonly<Record<string, string>>;
  /**
   * Files for people outside the cluster (the Vault administrators' policies), written
   * under `dist/<env>/` at the relative `path` given, and never applied by kustomize.
   */
  files?(section: S, config: EnvironmentConfig, extras: CapabilityExtras): readonly CapabilityFile[];
  /**
   * The capability's own workloads that read Vault secrets (through `addVaultSecrets` of
   * the secrets capability). The secrets capability gives each a Vault role and policy
   * and a flow to Vault; a reader declared while secrets is off is a config error.
   */
  vaultReaders?(section: S, config: EnvironmentConfig, ports: Ports): readonly VaultReader[];
  /**
   * The images admission webhooks add to pods in Pronto's namespace because of this
   * capability (the Vault agent, the Python auto-instrumentation), as the config and the
   * add-on contracts choose them: the image policy holds them to the same rules as the
   * output's own containers, and the admission policies admit their repositories.
   */
  injectedImages?(section: S, config: EnvironmentConfig, ports: Ports): readonly InjectedImage[];
}

/** A file a capability writes beside the manifests. */
export interface CapabilityFile {
  /** Relative path under `dist/<env>/`, e.g. `vault/policies/pronto-order-service.hcl`. */
  readonly path: string;
  readonly text: string;
}

/** The unit of every capability, by id, typed by its section; a capability that is not built yet is just its id. */
export type CapabilityUnits = { readonly [K in CapabilityId]: Capability<SectionValue<K>> & { readonly id: K } };
