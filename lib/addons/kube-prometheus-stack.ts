import { AddonChart, AddonContract, AddonKind, KINDS } from './contract';

/** prometheus-community/helm-charts kube-prometheus-stack 77.0.0 (Prometheus Operator, Prometheus, Alertmanager, Grafana). */
export const KUBE_PROMETHEUS_STACK_CHART: AddonChart = {
  repoURL: 'https://prometheus-community.github.io/helm-charts', name: 'kube-prometheus-stack', version: '77.0.0',
};

/** The release; the chart's fullname is the release when it contains the chart name. */
export const KUBE_PROMETHEUS_STACK_RELEASE = 'kube-prometheus-stack';

/**
 * The exporters the chart's defaults point at control-plane components through Services and
 * Endpoints it writes into `kube-system`. Pronto turns them off: the platform project then
 * needs no destination there (and managed clusters do not expose most of them anyway).
 */
export const KUBE_SYSTEM_EXPORTERS = ['kubeControllerManager', 'coreDns', 'kubeEtcd', 'kubeScheduler', 'kubeProxy'] as const;

/** The namespaced kinds the chart and its subcharts render (the admission Jobs are hooks; Grafana's test Pod is off). */
const MONITORING_KINDS: readonly AddonKind[] = [
  KINDS.ServiceAccount, KINDS.Service, KINDS.ConfigMap, KINDS.Secret, KINDS.Deployment, KINDS.DaemonSet, KINDS.Job,
  KINDS.Role, KINDS.RoleBinding, KINDS.ServiceMonitor, KINDS.PrometheusRule, KINDS.Prometheus, KINDS.Alertmanager,
];

/** What the chart renders with {@link kubePrometheusStackValues} in `namespace`. */
export function kubePrometheusStackContract(namespace: string, chart: AddonChart = KUBE_PROMETHEUS_STACK_CHART): AddonContract {
  const r = KUBE_PROMETHEUS_STACK_RELEASE;
  return {
    chart, release: r, namespace,
    services: {
      prometheus: { name: `${r}-prometheus`, port: 9090, targetPort: 9090, protocol: 'http',
        podLabels: { 'app.kubernetes.io/name': 'prometheus', 'operator.prometheus.io/name': `${r}-prometheus` } },
      grafana: { name: `${r}-grafana`, port: 80, targetPort: 3000, protocol: 'http', podLabels: { 'app.kubernetes.io/name': 'grafana' } },
    },
    writes: {
      namespaces: [namespace],
      clusterScoped: [KINDS.CustomResourceDefinition, KINDS.ClusterRole, KINDS.ClusterRoleBinding, KINDS.MutatingWebhookConfiguration, KINDS.ValidatingWebhookConfiguration],
      namespaced: MONITORING_KINDS,
    },
    sources: [
      'prometheus-community/helm-charts@kube-prometheus-stack-77.0.0: charts/kube-prometheus-stack/Chart.yaml (grafana 9.3.4, kube-state-metrics 6.1.4, prometheus-node-exporter 4.47.3; operator v0.85.0)',
      'prometheus-community/helm-charts@kube-prometheus-stack-77.0.0: charts/kube-prometheus-stack/values.yaml (coreDns, kubeControllerManager, kubeEtcd, kubeScheduler, kubeProxy enabled; prometheusSpec.retention 10d, storageSpec {} = emptyDir)',
      'prometheus-community/helm-charts@kube-prometheus-stack-77.0.0: charts/kube-prometheus-stack/templates/exporters/{core-dns,kube-controller-manager,kube-etcd,kube-scheduler,kube-proxy}/service.yaml (namespace kube-system)',
      'prometheus-community/helm-charts@kube-prometheus-stack-77.0.0: charts/kube-prometheus-stack/templates/_helpers.tpl (fullname), templates/prometheus/service.yaml (<fullname>-prometheus:9090)',
      'prometheus-operator/prometheus-operator@v0.85.0: pkg/prometheus/server/statefulset.go (pod labels app.kubernetes.io/name, operator.prometheus.io/name), pkg/kubelet/controller.go (the kubelet Service in kube-system is the operator\'s, not Helm\'s)',
      'grafana/helm-charts@grafana-9.3.4: charts/grafana/values.yaml (service 80 -> 3000, testFramework), templates/clusterrole.yaml',
    ],
  };
}

export interface KubePrometheusStackValuesProps {
  /** What Prometheus must keep and select; absent when metrics is off (the chart's defaults then). */
  readonly prometheus?: {
    readonly retentionDays: number;
    readonly storage: { readonly size: string; readonly storageClassName?: string };
    readonly selectorLabels: Readonly<Record<string, string>>;
  };
  /** Namespaces Grafana's sidecars read dashboards and datasources from. */
  readonly dashboardNamespaces: readonly string[];
  /** Grafana sidecar labels and annotation (lib/dashboards). */
  readonly grafana: { readonly dashboardLabel: string; readonly datasourceLabel: string; readonly folderAnnotation: string };
}

/** The values Pronto gives the chart. */
export function kubePrometheusStackValues(props: KubePrometheusStackValuesProps): Record<string, unknown> {
  const p = props.prometheus;
  return {
    ...Object.fromEntries(KUBE_SYSTEM_EXPORTERS.map((e) => [e, { enabled: false }])),
    ...(p ? {
      prometheus: {
        prometheusSpec: {
          serviceMonitorSelectorNilUsesHelmValues: false,
          serviceMonitorSelector: { matchLabels: { ...p.selectorLabels } },
          ruleSelectorNilUsesHelmValues: false,
          ruleSelector: { matchLabels: { ...p.selectorLabels } },
          retention: `${p.retentionDays}d`,
          storageSpec: {
            volumeClaimTemplate: {
              spec: {
                accessModes: ['ReadWriteOnce'],
                ...(p.storage.storageClassName ? { storageClassName: p.storage.storageClassName } : {}),
                resources: { requests: { storage: p.storage.size } },
              },
            },
          },
        },
      },
    } : {}),
    grafana: {
      // The chart's helm-test Pod: nothing runs it under Argo CD.
      testFramework: { enabled: false },
      sidecar: {
        dashboards: {
          enabled: true, label: props.grafana.dashboardLabel, labelValue: '1', searchNamespace: [...props.dashboardNamespaces],
          folderAnnotation: props.grafana.folderAnnotation, provider: { foldersFromFilesStructure: true },
        },
        datasources: { enabled: true, label: props.grafana.datasourceLabel, labelValue: '1', searchNamespace: [...props.dashboardNamespaces] },
      },
    },
  };
}
