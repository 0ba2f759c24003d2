/**
 * The platform add-ons the root Application installs, as Helm charts with the values our
 * integration needs and nothing more: which labels Prometheus and Grafana's sidecars
 * select, Loki's structured metadata, Jaeger's Service name, the Vault injector without a
 * server. Other capabilities' sections are read defensively (as `unknown`, field by
 * field): they only refine the defaults, and their shape may change.
 */
import { EnvironmentConfig } from '../../../config/load';
import { DASHBOARD_LABEL, DATASOURCE_LABEL, FOLDER_ANNOTATION } from '../../../lib/dashboards';
import { HelmSource, IgnoredDifference } from '../../../lib/gitops';
import { ADDONS, AddonId, AddonSettings, GitopsSection } from './config';

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

/** `at` inside `value`, when every step is an object and the end is of type `type`. */
function read<T extends 'string' | 'object'>(value: unknown, at: readonly string[], type: T): (T extends 'string' ? string : Record<string, unknown>) | undefined {
  let node = value;
  for (const key of at) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === type && node !== null ? node as never : undefined;
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

/** The Applications of every add-on that is on (and, for the conditional ones, needed), in install order. */
export function addonApplications(section: GitopsSection, config: EnvironmentConfig): AddonApplication[] {
  const caps = config.capabilities as Readonly<Record<string, unknown>>;
  const pronto = config.namespace.name;
  const out: AddonApplication[] = [];
  const add = (addon: AddonId, settings: AddonSettings, namespace: string, values: Record<string, unknown>,
    extra: { name?: string; chart?: string; serverSideApply?: boolean; order?: number; ignoreDifferences?: IgnoredDifference[]; ownValues?: boolean } = {}) => {
    const chart = extra.chart ?? ADDONS[addon].chart.name;
    const name = extra.name ?? chart;
    out.push({
      addon, name, namespace,
      source: { kind: 'helm', repoURL: settings.chart.repoURL, chart, version: settings.chart.version, releaseName: name, values: extra.ownValues === false ? values : mergeValues(values, settings.values) },
      serverSideApply: extra.serverSideApply ?? false, order: extra.order ?? 0, ignoreDifferences: extra.ignoreDifferences ?? [],
    });
  };
  const { addons } = section;

  if (addons.kubePrometheusStack) {
    const ns = addons.kubePrometheusStack.namespace ?? read(caps.metrics, ['prometheus', 'namespace'], 'string') ?? ADDONS.kubePrometheusStack.namespace;
    // Only with metrics on: Prometheus then selects exactly the ServiceMonitors and rules Pronto labels.
    const selector = read(caps.metrics, ['prometheus', 'selectorLabels'], 'object');
    const searchNamespace = [...new Set([ns, pronto])];
    add('kubePrometheusStack', addons.kubePrometheusStack, ns, {
      ...(selector ? {
        prometheus: {
          prometheusSpec: {
            serviceMonitorSelectorNilUsesHelmValues: false,
            serviceMonitorSelector: { matchLabels: selector },
            ruleSelectorNilUsesHelmValues: false,
            ruleSelector: { matchLabels: selector },
          },
        },
      } : {}),
      grafana: {
        sidecar: {
          dashboards: {
            // The label and annotation lib/dashboards puts on the dashboards' ConfigMaps (value "1").
            enabled: true, label: DASHBOARD_LABEL, labelValue: '1', searchNamespace,
            folderAnnotation: FOLDER_ANNOTATION, provider: { foldersFromFilesStructure: true },
          },
          datasources: { enabled: true, label: DATASOURCE_LABEL, labelValue: '1', searchNamespace },
        },
      },
    }, { serverSideApply: true });
  }

  if (addons.loki) {
    add('loki', addons.loki, addons.loki.namespace ?? ADDONS.loki.namespace, {
      deploymentMode: 'SingleBinary',
      loki: {
        commonConfig: { replication_factor: 1 },
        storage: { type: 'filesystem' },
        // Structured metadata needs the v13 schema on the TSDB index.
        schemaConfig: { configs: [{ from: '2024-04-01', store: 'tsdb', object_store: 'filesystem', schema: 'v13', index: { prefix: 'loki_index_', period: '24h' } }] },
        limits_config: { allow_structured_metadata: true },
      },
      singleBinary: { replicas: 1 },
      read: { replicas: 0 }, write: { replicas: 0 }, backend: { replicas: 0 },
    });
  }

  if (addons.jaeger) {
    const endpoint = read(caps.tracing, ['jaeger', 'endpoint'], 'string');
    const ns = addons.jaeger.namespace ?? read(caps.tracing, ['jaeger', 'namespace'], 'string') ?? ADDONS.jaeger.namespace;
    // The Service the collector exports to is named after the release: the endpoint's host.
    add('jaeger', addons.jaeger, ns, {
      fullnameOverride: endpoint ? endpoint.split('.')[0] : 'jaeger',
      jaeger: { enabled: true },
      provisionDataStore: { cassandra: false },
      storage: { type: 'memory' },
    });
  }

  if (addons.vaultAgentInjector) {
    const ns = addons.vaultAgentInjector.namespace ?? read(caps.secrets, ['server', 'namespace'], 'string') ?? ADDONS.vaultAgentInjector.namespace;
    const address = read(caps.secrets, ['address'], 'string');
    const authPath = read(caps.secrets, ['kubernetesAuth', 'path'], 'string');
    add('vaultAgentInjector', addons.vaultAgentInjector, ns, {
      server: { enabled: false },
      injector: { enabled: true, ...(authPath ? { authPath } : {}) },
      ...(address ? { global: { externalVaultAddr: address } } : {}),
    }, { name: 'vault-agent-injector', chart: 'vault' });
  }

  if (addons.opentelemetryOperator && read(caps.tracing, ['instrumentation'], 'object')) {
    add('opentelemetryOperator', addons.opentelemetryOperator, addons.opentelemetryOperator.namespace ?? ADDONS.opentelemetryOperator.namespace, {
      manager: { collectorImage: { repository: 'otel/opentelemetry-collector-k8s' } },
      // Webhook certificates generated by the chart: no cert-manager needed.
      admissionWebhooks: { certManager: { enabled: false }, autoGenerateCert: { enabled: true } },
    }, { serverSideApply: true });
  }

  const mesh = read(caps.circuitBreakers, ['mesh'], 'object');
  if (addons.istio && mesh) {
    const settings = addons.istio;
    const ns = settings.namespace ?? read(mesh, ['controlPlane', 'namespace'], 'string') ?? ADDONS.istio.namespace;
    const ambient = read(mesh, ['dataPlane'], 'string') === 'ambient';
    const profile = ambient ? { profile: 'ambient' } : {};
    // istiod patches its webhook's failurePolicy at run time; Argo CD must not undo it.
    const validator: IgnoredDifference = {
      group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration', name: 'istiod-default-validator', jqPathExpressions: ['.webhooks[]?.failurePolicy'],
    };
    add('istio', settings, ns, {}, { name: 'istio-base', chart: 'base', serverSideApply: true, order: 0, ignoreDifferences: [validator], ownValues: false });
    add('istio', settings, ns, { ...profile, ...(ambient ? {} : { pilot: { cni: { enabled: true } } }) }, { name: 'istiod', chart: 'istiod', order: 1 });
    add('istio', settings, ns, { ...profile }, { name: 'istio-cni', chart: 'cni', order: 1, ownValues: false });
    if (ambient) add('istio', settings, ns, {}, { name: 'ztunnel', chart: 'ztunnel', order: 1, ownValues: false });
  }
  return out;
}
