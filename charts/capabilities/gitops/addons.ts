/**
 * The platform add-ons the root Application installs, as Helm charts with the values our
 * integration needs, each with its contract (lib/addons): what the pinned chart renders with
 * those values. The contracts are this capability's `addons`: the other capabilities take
 * Service names, ports, TLS modes and tenancy from them (through their ports), and the
 * platform AppProject allows exactly the namespaces and kinds they write. The values take
 * what they need from the other capabilities' ports, never from their sections.
 */
import { EnvironmentConfig } from '../../../config/load';
import {
  AddonContract, AddonContracts, GRAFANA, GRAFANA_ADMIN, GRAFANA_LOKI_READER, ISTIO_DEFAULT_VALIDATOR, KINDS, LOKI_GATEWAY, LokiGatewayLogin, LokiValuesProps,
  grafanaDatasourcesReloadScript, istioContracts, istioRevisionValidator, istioValues, jaegerContract, jaegerValues, lokiContract, lokiGatewayHtpasswdTemplate,
  lokiValues, kubePrometheusStackContract, kubePrometheusStackValues, opentelemetryOperatorContract, opentelemetryOperatorValues, pushgatewayContract,
  pushgatewayValues, serviceOf, vaultInjectorContract, vaultInjectorValues,
} from '../../../lib/addons';
import { ConnectionGraph } from '../../../lib/core';
import { ServiceCertificate, caBundleFile } from '../../../lib/tls';
import { App, Chart } from 'cdk8s';
import type { ServiceTls } from '../../../config/sections/schemas';
import { DASHBOARD_LABEL, DATASOURCE_LABEL, FOLDER_ANNOTATION } from '../../../lib/dashboards';
import { HelmSource, IgnoredDifference } from '../../../lib/gitops';
import { PodExtensionPoint } from '../../../lib/workload';
import type { VaultReader } from '../capability';
import { Ports, portProblem, requirePort } from '../ports';
import { ADDONS, AddonId, AddonSettings, GitopsSection } from '../../../config/sections/gitops';

/** One Argo CD Application of an add-on. */
export interface AddonApplication {
  readonly addon: AddonId;
  /** Application name suffix, e.g. `kube-prometheus-stack`, `istiod`. */
  readonly name: string;
  readonly namespace: string;
  readonly source: HelmSource;
  /** The chart ships CustomResourceDefinitions too large for client-side apply's annotation. */
  readonly serverSideApply: boolean;
  /** Order among the add-ons (Istio's CRDs before istiod). */
  readonly order: number;
  readonly ignoreDifferences: readonly IgnoredDifference[];
}

/** Deep merge of plain objects; `over` wins, lists are replaced. */
export function mergeValues(base: Readonly<Record<string, unknown>>, over: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const mine = out[key];
    const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    out[key] = isMap(mine) && isMap(value) ? mergeValues(mine, value) : value;
  }
  return out;
}

/** The settings of an add-on that is on, or undefined. */
function on(section: GitopsSection, id: AddonId): AddonSettings | undefined {
  const settings = section.addons[id];
  return settings === false ? undefined : settings;
}

/** Where an add-on goes: its own `namespace` setting, else the add-on's default. */
export function addonNamespace(settings: AddonSettings, id: AddonId): string {
  return settings.namespace ?? ADDONS[id].namespace;
}

const chartOf = (id: AddonId, settings: AddonSettings) => ({ ...ADDONS[id].chart, ...settings.chart });

/**
 * The contracts of the add-ons whose Services other capabilities use, by add-on id. The
 * OpenTelemetry Operator and Istio serve no port: they are installed only for what they
 * serve (the `traces` and `mesh` ports), so {@link addonApplications} makes their contracts.
 */
export function addonContracts(section: GitopsSection): AddonContracts {
  const out: Record<string, AddonContract> = {};
  const kps = on(section, 'kubePrometheusStack');
  if (kps) out.kubePrometheusStack = kubePrometheusStackContract(addonNamespace(kps, 'kubePrometheusStack'), chartOf('kubePrometheusStack', kps));
  const pushgateway = on(section, 'pushgateway');
  if (pushgateway) out.pushgateway = pushgatewayContract(addonNamespace(pushgateway, 'pushgateway'), chartOf('pushgateway', pushgateway));
  const loki = on(section, 'loki');
  if (loki) out.loki = lokiContract(addonNamespace(loki, 'loki'), chartOf('loki', loki));
  const jaeger = on(section, 'jaeger');
  if (jaeger) out.jaeger = jaegerContract(addonNamespace(jaeger, 'jaeger'), chartOf('jaeger', jaeger));
  const vault = on(section, 'vaultAgentInjector');
  if (vault) out.vaultAgentInjector = vaultInjectorContract(addonNamespace(vault, 'vaultAgentInjector'), chartOf('vaultAgentInjector', vault));
  return out;
}

/**
 * The Applications of every add-on that is on (and, for the conditional ones, needed), in
 * install order, each with its contract. `graph` is the environment's finished connection
 * graph: the pods whose flows reach an add-on's Service are the ones its policies admit.
 */
export function addonApplications(section: GitopsSection, config: EnvironmentConfig, ports: Ports, graph: ConnectionGraph): Array<AddonApplication & { contract: AddonContract }> {
  const out: Array<AddonApplication & { contract: AddonContract }> = [];
  const add = (addon: AddonId, contract: AddonContract, values: Record<string, unknown>,
    extra: { name?: string; chart?: string; serverSideApply?: boolean; order?: number; ignoreDifferences?: IgnoredDifference[]; ownValues?: boolean } = {}) => {
    const settings = section.addons[addon] as AddonSettings;
    const chart = extra.chart ?? ADDONS[addon].chart.name;
    const name = extra.name ?? contract.release;
    out.push({
      addon, name, namespace: contract.namespace, contract,
      source: { kind: 'helm', repoURL: settings.chart.repoURL, chart, version: settings.chart.version, releaseName: name, values: extra.ownValues === false ? values : mergeValues(values, settings.values) },
      serverSideApply: extra.serverSideApply ?? false, order: extra.order ?? 0, ignoreDifferences: extra.ignoreDifferences ?? [],
    });
  };
  const { addons } = ports;

  if (addons.kubePrometheusStack) {
    const kps = addons.kubePrometheusStack;
    // Grafana's admin password: from Vault, through the agent the secrets capability injects (the same as every Pronto pod's).
    const vault = requirePort(ports, 'vault', config, GRAFANA_CONSUMER, GRAFANA_NEEDS_VAULT);
    const grafanaPod = new PodExtensionPoint(`${kps.release}/${GRAFANA.container}`);
    vault.inject(grafanaPod, grafanaVaultReader(kps, ports));
    add('kubePrometheusStack', kps, kubePrometheusStackValues({
      prometheus: ports.prometheus, namespace: kps.namespace,
      // Pronto's namespace holds dashboards and datasources only with metrics on (charts/capabilities/metrics/grafana.ts, with the sidecars' Role there).
      dashboardNamespaces: [...new Set([kps.namespace, ...(ports.prometheus ? [config.namespace.name] : [])])],
      // The label and annotation lib/dashboards puts on the dashboards' and datasources' ConfigMaps (value "1").
      grafana: {
        dashboardLabel: DASHBOARD_LABEL, datasourceLabel: DATASOURCE_LABEL, folderAnnotation: FOLDER_ANNOTATION,
        vaultAgent: { podAnnotations: grafanaPod.podAnnotations, volumes: grafanaPod.volumes },
        // The Loki datasource verifies the gateway's certificate (logs.loki.tls) against this bundle, at the path it names.
        ...(ports.loki?.tls ? { caBundles: [{ configMap: ports.loki.tls.caBundle.configMap, key: ports.loki.tls.caBundle.key, file: caBundleFile(ports.loki.tls.caBundle) }] } : {}),
      },
    }), { serverSideApply: true });
  }
  if (addons.pushgateway) add('pushgateway', addons.pushgateway, pushgatewayValues({ selectorLabels: ports.prometheus?.selectorLabels, namespace: addons.pushgateway.namespace }));
  if (addons.loki) {
    const gateway = lokiGatewayValues(addons.loki, config, ports, graph);
    // With TLS the release also writes the gateway's Certificate: the platform project allows that kind too.
    const contract = gateway.tls ? { ...addons.loki, writes: { ...addons.loki.writes, namespaced: [...addons.loki.writes.namespaced, KINDS.Certificate] } } : addons.loki;
    add('loki', contract, lokiValues(addons.loki, { retentionDays: LOKI_RETENTION_DAYS, gateway }));
  }
  if (addons.jaeger) add('jaeger', addons.jaeger, jaegerValues());
  if (addons.vaultAgentInjector && ports.vault) {
    // The injector patches its webhook's caBundle at run time; Argo CD must not undo it.
    const webhook: IgnoredDifference = {
      group: KINDS.MutatingWebhookConfiguration.group, kind: KINDS.MutatingWebhookConfiguration.kind,
      name: `${addons.vaultAgentInjector.release}-agent-injector-cfg`, jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle'],
    };
    add('vaultAgentInjector', addons.vaultAgentInjector, vaultInjectorValues({
      address: ports.vault.address, authPath: ports.vault.authPath, caBundle: ports.vault.injectorCaBundle,
      agentImage: ports.vault.agentImage,
    }), { chart: 'vault', ignoreDifferences: [webhook] });
  }

  const operator = on(section, 'opentelemetryOperator');
  if (operator && ports.traces?.instrumentation) {
    const contract = opentelemetryOperatorContract(addonNamespace(operator, 'opentelemetryOperator'), chartOf('opentelemetryOperator', operator));
    // Its CRDs exceed client-side apply's annotation limit. No ignoreDifferences: the caBundle cert-manager's CA injector
    // writes into the webhooks and the collector CRD is absent from the chart's output, so Argo CD sees no difference.
    add('opentelemetryOperator', contract, opentelemetryOperatorValues(), { serverSideApply: true });
  }

  const istio = on(section, 'istio');
  if (istio && ports.mesh) {
    const namespace = istio.namespace ?? ports.mesh.namespace;
    const contracts = istioContracts(namespace, ports.mesh.dataPlane, chartOf('istio', istio));
    const values = istioValues(namespace, ports.mesh.dataPlane);
    // istiod patches its validating webhooks' failurePolicy (to Fail, once it serves) at run time; Argo CD must not undo it.
    const failurePolicy = (name: string): IgnoredDifference => ({
      group: KINDS.ValidatingWebhookConfiguration.group, kind: KINDS.ValidatingWebhookConfiguration.kind, name, jqPathExpressions: ['.webhooks[]?.failurePolicy'],
    });
    const { base, istiod, cni, ztunnel } = contracts;
    add('istio', base, values.base, { chart: base.chart.name, serverSideApply: true, order: 0, ignoreDifferences: [failurePolicy(ISTIO_DEFAULT_VALIDATOR)], ownValues: false });
    add('istio', istiod, values.istiod, { chart: istiod.chart.name, order: 1, ignoreDifferences: [failurePolicy(istioRevisionValidator(namespace))] });
    add('istio', cni, values.cni, { chart: cni.chart.name, order: 1, ownValues: false });
    if (ztunnel) add('istio', ztunnel, values.ztunnel, { chart: ztunnel.chart.name, order: 1, ownValues: false });
  }
  return out;
}

/** Where a config error about Grafana's admin password points. */
const GRAFANA_CONSUMER = ['gitops', 'addons', 'kubePrometheusStack'] as const;
const GRAFANA_NEEDS_VAULT = 'installs Grafana, whose admin password comes from Vault (never the chart\'s default, never a value in Git), ' +
  'rendered into its pod by the Vault agent; with secrets off, set gitops.addons.kubePrometheusStack to false and bring your own Grafana';

/**
 * Grafana of the kube-prometheus-stack add-on as a Vault reader: its ServiceAccount in the
 * add-on's namespace, the admin password (`password` of `grafana/admin` below the KV prefix)
 * for Grafana, and the script that reloads the datasources as the admin for the datasources
 * sidecar, both under /vault/secrets in those two containers ({@link GRAFANA_ADMIN}); with a
 * read login on the Loki port, that login's password too ({@link GRAFANA_LOKI_READER}).
 */
export function grafanaVaultReader(contract: AddonContract, ports: Pick<Ports, 'loki'> = {}): VaultReader {
  const serviceAccount = contract.serviceAccounts?.grafana;
  if (serviceAccount === undefined) throw new Error(`add-on ${contract.chart.name}: no Grafana ServiceAccount in its contract`);
  // The Loki datasource's password (the read login of the Loki port), for Grafana's provisioning to read ($__file).
  const lokiReader = ports.loki?.logins?.find((l) => l.access === 'read');
  return {
    name: GRAFANA.container, serviceAccount, namespace: contract.namespace,
    appContainer: GRAFANA.container, otherContainers: [GRAFANA.sidecars.datasources], secretVolumePath: GRAFANA_ADMIN.secretVolumePath,
    secrets: [
      { path: GRAFANA_ADMIN.vaultPath, file: GRAFANA_ADMIN.passwordFile, env: GRAFANA_ADMIN.passwordEnv, template: `{{ .Data.data.${GRAFANA_ADMIN.field} }}` },
      { path: GRAFANA_ADMIN.vaultPath, file: GRAFANA_ADMIN.reloadScriptFile, env: GRAFANA_ADMIN.reloadScriptEnv, template: grafanaDatasourcesReloadScript() },
      ...(lokiReader ? [{ path: lokiReader.password.path, file: GRAFANA_LOKI_READER.file, template: `{{ .Data.data.${lokiReader.password.field} }}` }] : []),
    ],
  };
}

/** The Vault readers of the add-ons that are on: Grafana, with kube-prometheus-stack; Loki's gateway, when it has logins. */
export function addonVaultReaders(ports: Ports): VaultReader[] {
  const { kubePrometheusStack: kps, loki } = ports.addons;
  const logins = lokiGatewayLogins(ports);
  return [
    ...(kps ? [grafanaVaultReader(kps, ports)] : []),
    ...(loki && logins.length > 0 ? [lokiGatewayVaultReader(loki, logins)] : []),
  ];
}

/**
 * The logins of the Loki add-on's gateway: those of the Loki port (each catalog service's
 * shipper, Grafana), in the port's tenant. None when the logs capability is off, or its Loki
 * is another (then nothing of Pronto's reaches this one).
 */
export function lokiGatewayLogins(ports: Ports): LokiGatewayLogin[] {
  const { loki } = ports;
  if (!ports.addons.loki || !loki?.logins || loki.tenant === undefined) return [];
  return loki.logins.map((l) => ({ user: l.user, tenant: loki.tenant!, access: l.access }));
}

/**
 * Loki's gateway as a Vault reader: the chart's ServiceAccount in the add-on's namespace, and
 * the htpasswd file of `logins` (a crypt hash per user, the fields of one KV entry) for its
 * nginx ({@link LOKI_GATEWAY}).
 */
export function lokiGatewayVaultReader(contract: AddonContract, logins: readonly LokiGatewayLogin[]): VaultReader {
  const serviceAccount = contract.serviceAccounts?.gateway;
  if (serviceAccount === undefined) throw new Error(`add-on ${contract.chart.name}: no gateway ServiceAccount in its contract`);
  return {
    name: LOKI_GATEWAY.vaultReader, serviceAccount, namespace: contract.namespace,
    appContainer: LOKI_GATEWAY.container, secretVolumePath: LOKI_GATEWAY.secretVolumePath,
    secrets: [{ path: LOKI_GATEWAY.vaultPath, file: LOKI_GATEWAY.htpasswdFile, template: lokiGatewayHtpasswdTemplate(logins) }],
  };
}

/**
 * What the Loki add-on's values need of the gateway: its logins, the Vault agent that renders
 * their hashes, and the pods that may reach it: every pod of the graph with a flow to the
 * gateway's pods on their port (the services' shippers), and Grafana when it reads Loki.
 */
function lokiGatewayValues(contract: AddonContract, config: EnvironmentConfig, ports: Ports, graph: ConnectionGraph): LokiValuesProps['gateway'] {
  const logins = lokiGatewayLogins(ports);
  const gateway = serviceOf(contract, 'gateway');
  const selectsGateway = (labels: Readonly<Record<string, string>>) => Object.entries(labels).every(([k, v]) => gateway.podLabels[k] === v);
  const shippers = graph.flows.filter((f) => f.to.kind === 'foreign' && f.to.namespace === contract.namespace && selectsGateway(f.to.podLabels)
    && f.ports.some((p) => p.port === gateway.targetPort) && f.from.kind === 'workload');
  const clients = [...new Map(shippers.map((f) => {
    const from = f.from as Extract<typeof f.from, { kind: 'workload' }>;
    return [`${from.namespace}/${JSON.stringify(from.selector)}`, { namespace: from.namespace, podLabels: from.selector }];
  })).values()];
  const kps = ports.addons.kubePrometheusStack;
  if (kps && logins.some((l) => l.access === 'read')) clients.push({ namespace: kps.namespace, podLabels: serviceOf(kps, 'grafana').podLabels });
  const tls = ports.loki?.tls ? lokiGatewayCertificate(contract, ports.loki.tls) : undefined;
  if (logins.length === 0) return { nginx: { logins }, clients, ...(tls ? { tls } : {}) };
  const vault = requirePort(ports, 'vault', config, LOKI_CONSUMER, LOKI_NEEDS_VAULT);
  const pod = new PodExtensionPoint(`${contract.release}/${LOKI_GATEWAY.container}`);
  vault.inject(pod, lokiGatewayVaultReader(contract, logins));
  return { nginx: { logins }, vaultAgent: { podAnnotations: pod.podAnnotations, volumes: pod.volumes }, clients, ...(tls ? { tls } : {}) };
}

/**
 * The Loki gateway's certificate, as objects of the add-on: lib/tls's ServiceCertificate for
 * its Service (`gatewayTls`) in the add-on's namespace, rendered in a chart of its own that
 * no output file holds (the Certificate goes to the chart's `extraObjects`, so the add-on's
 * Application applies it where the gateway runs), and the volume of its Secret.
 */
export function lokiGatewayCertificate(contract: AddonContract, tls: ServiceTls): NonNullable<LokiValuesProps['gateway']['tls']> {
  const chart = new Chart(new App({ outdir: '.', recordConstructMetadata: false }), 'loki-gateway-tls', { namespace: contract.namespace, disableResourceNameHashes: true });
  const certificate = new ServiceCertificate(chart, 'Certificate', { service: { name: serviceOf(contract, 'gatewayTls').name }, issuer: tls.issuer, component: 'gateway' });
  const [object] = chart.toJson();
  const v = certificate.volume(LOKI_GATEWAY.tlsVolume);
  return { certificate: object, volume: { name: v.name, secret: { secretName: v.certificate!.secretName, items: v.certificate!.items.map((i) => ({ ...i })), defaultMode: v.certificate!.defaultMode } } };
}

/** Where a config error about the Loki gateway's logins points. */
const LOKI_CONSUMER = ['gitops', 'addons', 'loki'] as const;
const LOKI_NEEDS_VAULT = 'installs Loki, whose gateway checks every login against hashes Vault renders into its pod';

/** The add-ons' config problems that need the other capabilities' ports: Grafana's admin password needs Vault. */
export function addonProblems(config: EnvironmentConfig, ports: Ports): string[] {
  if (!ports.addons.kubePrometheusStack) return [];
  const vault = portProblem(ports, 'vault', config, GRAFANA_CONSUMER, GRAFANA_NEEDS_VAULT);
  return vault === undefined ? [] : [vault];
}

/** Days Loki keeps logs (the compactor deletes older chunks): a month and a day, like the SLO windows. */
export const LOKI_RETENTION_DAYS = 31;
