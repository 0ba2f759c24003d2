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

/**
 * Grafana in the release (the grafana 9.3.4 subchart): its fullname is `<release>-grafana` (the
 * release does not contain "grafana"), which also names its ServiceAccount; its containers are
 * `grafana` and the sidecars `grafana-sc-dashboard` and `grafana-sc-datasources`.
 */
export const GRAFANA = {
  fullname: `${KUBE_PROMETHEUS_STACK_RELEASE}-grafana`,
  container: 'grafana',
  sidecars: { dashboards: 'grafana-sc-dashboard', datasources: 'grafana-sc-datasources' },
  /** The Role in the release's namespace the sidecars' RoleBinding names (`rbac.useExistingRole`), rendered through `extraObjects`. */
  sidecarRole: `${KUBE_PROMETHEUS_STACK_RELEASE}-grafana-sidecar`,
  /** What the sidecars read, and nothing else: the dashboards and datasources are ConfigMaps (Pronto's and the chart's own). */
  sidecarRules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
  /** The sidecar's reload endpoint for datasources (the chart's `sidecar.datasources.reloadURL`). */
  datasourcesReloadUrl: 'http://localhost:3000/api/admin/provisioning/datasources/reload',
} as const;

/**
 * Grafana's admin login: the user `admin`, its password in Vault (`password` of the entry
 * `grafana/admin` below the environment's KV prefix), rendered by the Vault agent into an
 * in-memory file that Grafana reads through `GF_SECURITY_ADMIN_PASSWORD__FILE`. The files go
 * to the injector's own default, /vault/secrets: the pod mounts its ServiceAccount token (the
 * sidecars read the Kubernetes API) under /var/run/secrets, which is /run/secrets where /var/run
 * links to /run, as in Alpine images.
 */
export const GRAFANA_ADMIN = {
  user: 'admin',
  vaultPath: 'grafana/admin',
  field: 'password',
  secretVolumePath: '/vault/secrets',
  passwordFile: 'grafana-admin',
  passwordEnv: 'GF_SECURITY_ADMIN_PASSWORD__FILE',
  reloadScriptFile: 'grafana-reload-datasources',
  /** Every rendered file names an env var of the app container; Grafana's values leave this one out (the sidecar gets the path as its script). */
  reloadScriptEnv: 'PRONTO_DATASOURCES_RELOAD_FILE',
} as const;

/**
 * The password of Grafana's Loki login (the Loki port's read login), rendered by the same
 * agent beside the admin's, for the Loki datasource to read at provisioning time
 * (`$__file{<path>}` in `secureJsonData.basicAuthPassword`: grafana/grafana
 * pkg/services/provisioning/values/values.go expands Grafana's `$__file{}` in provisioning
 * files, and pkg/setting/expanders.go reads the file, trimmed).
 */
export const GRAFANA_LOKI_READER = {
  /** The login's user at Loki's gateway. */
  user: 'grafana',
  /** Its password: the field `password` of this KV entry below the environment's prefix (Grafana's own, `grafana/`). */
  vaultPath: 'grafana/loki',
  field: 'password',
  file: 'loki-reader',
  path: `${GRAFANA_ADMIN.secretVolumePath}/loki-reader`,
} as const;

/**
 * The script the datasources sidecar runs (`sidecar.datasources.script`, run with `sh` after
 * every change it writes): it reloads Grafana's provisioned datasources as the admin, reading
 * the password from the file the Vault agent renders, retrying while Grafana starts. The chart
 * would hand the sidecar the password only through a Secret (REQ_PASSWORD), and k8s-sidecar
 * 1.30.3 reads a password file only through a command-line flag the chart cannot set. The
 * sidecar image is python:alpine: `sh` and `python` are there. Holds no credential; the Python
 * holds no single quote (it is one single-quoted argument of `python -c`).
 */
export function grafanaDatasourcesReloadScript(): string {
  const passwordPath = `${GRAFANA_ADMIN.secretVolumePath}/${GRAFANA_ADMIN.passwordFile}`;
  // One single-quoted argument (the Python has no single quote): the file needs no final newline, which the agent's
  // {{- end }} trims away.
  return [
    '# Pronto: reloads the provisioned datasources as the Grafana admin; the datasources sidecar runs it after every change.',
    'exec python -c \'',
    'import base64, time, urllib.error, urllib.request',
    `with open("${passwordPath}") as f:`,
    `    auth = base64.b64encode(("${GRAFANA_ADMIN.user}:" + f.read()).encode()).decode()`,
    `request = urllib.request.Request("${GRAFANA.datasourcesReloadUrl}", data=b"", method="POST", headers={"Authorization": "Basic " + auth})`,
    'for attempt in range(60):',
    '    try:',
    '        urllib.request.urlopen(request, timeout=10)',
    '        raise SystemExit(0)',
    '    except urllib.error.HTTPError:',
    '        raise',
    '    except OSError:',
    '        time.sleep(5)',
    'raise SystemExit("Grafana did not answer on localhost:3000 for 5 minutes")',
    '\'',
  ].join('\n');
}

/**
 * The ClusterRoles the chart renders with {@link kubePrometheusStackValues}: the operator's,
 * Prometheus's, kube-state-metrics's, and the admission webhook patch Jobs' (a hook). Grafana's
 * (`<fullname>-clusterrole`, get/list/watch on every ConfigMap and Secret of the cluster) is not
 * among them: `grafana.rbac.namespaced`. prometheus-node-exporter renders one only with
 * kubeRBACProxy, which is off; the aggregated CRD roles are off (createAggregateClusterRoles).
 */
export const KUBE_PROMETHEUS_STACK_CLUSTER_ROLES = [
  `${KUBE_PROMETHEUS_STACK_RELEASE}-operator`, `${KUBE_PROMETHEUS_STACK_RELEASE}-prometheus`,
  `${KUBE_PROMETHEUS_STACK_RELEASE}-kube-state-metrics`, `${KUBE_PROMETHEUS_STACK_RELEASE}-admission`,
] as const;

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
      grafana: { name: GRAFANA.fullname, port: 80, targetPort: 3000, protocol: 'http', podLabels: { 'app.kubernetes.io/name': 'grafana' } },
    },
    // Grafana's: bound to its Vault role (the admin password) and to its sidecars' Role in Pronto's namespace.
    serviceAccounts: { grafana: GRAFANA.fullname },
    writes: {
      namespaces: [namespace],
      clusterScoped: [KINDS.CustomResourceDefinition, KINDS.ClusterRole, KINDS.ClusterRoleBinding, KINDS.MutatingWebhookConfiguration, KINDS.ValidatingWebhookConfiguration],
      clusterRoles: KUBE_PROMETHEUS_STACK_CLUSTER_ROLES,
      // Role and RoleBinding: Grafana's sidecars among others; Secret: Alertmanager's configuration (Grafana's admin Secret is not rendered).
      namespaced: MONITORING_KINDS,
    },
    sources: [
      'prometheus-community/helm-charts@kube-prometheus-stack-77.0.0: charts/kube-prometheus-stack/Chart.yaml (grafana 9.3.4, kube-state-metrics 6.1.4, prometheus-node-exporter 4.47.3; operator v0.85.0)',
      'prometheus-community/helm-charts@kube-prometheus-stack-77.0.0: charts/kube-prometheus-stack/values.yaml (coreDns, kubeControllerManager, kubeEtcd, kubeScheduler, kubeProxy enabled; prometheusSpec.retention 10d, storageSpec {} = emptyDir)',
      'prometheus-community/helm-charts@kube-prometheus-stack-77.0.0: charts/kube-prometheus-stack/templates/exporters/{core-dns,kube-controller-manager,kube-etcd,kube-scheduler,kube-proxy}/service.yaml (namespace kube-system)',
      'prometheus-community/helm-charts@kube-prometheus-stack-77.0.0: charts/kube-prometheus-stack/templates/_helpers.tpl (fullname), templates/prometheus/service.yaml (<fullname>-prometheus:9090)',
      'prometheus-operator/prometheus-operator@v0.85.0: pkg/prometheus/server/statefulset.go (pod labels app.kubernetes.io/name, operator.prometheus.io/name), pkg/kubelet/controller.go (the kubelet Service in kube-system is the operator\'s, not Helm\'s)',
      'prometheus-community/helm-charts@kube-prometheus-stack-77.0.0: charts/kube-prometheus-stack/values.yaml (grafana.adminUser admin, grafana.adminPassword prom-operator, grafana.rbac.pspEnabled false, grafana.serviceAccount.autoMount true, grafana.sidecar.*.searchNamespace ALL; global.rbac.createAggregateClusterRoles false), templates/grafana/ (ConfigMaps only: GrafanaDashboards only with grafana.operator.dashboardsConfigMapRefEnabled)',
      'prometheus-community/helm-charts@kube-prometheus-stack-77.0.0: charts/kube-prometheus-stack/templates/prometheus-operator/clusterrole.yaml, templates/prometheus/clusterrole.yaml, templates/prometheus-operator/admission-webhooks/job-patch/clusterrole.yaml, templates/prometheus-operator/aggregate-clusterroles.yaml (the ClusterRoles; fullname truncated to 26 characters)',
      'prometheus-community/helm-charts@kube-state-metrics-6.1.4: charts/kube-state-metrics/templates/role.yaml (a ClusterRole: rbac.useClusterRole true); prometheus-community/helm-charts@prometheus-node-exporter-4.47.3: charts/prometheus-node-exporter/templates/clusterrole.yaml (only with kubeRBACProxy.enabled, false)',
      'grafana/helm-charts@grafana-9.3.4: charts/grafana/values.yaml (service 80 -> 3000, testFramework; rbac.namespaced false, sidecar.*.resource both, sidecar.*.skipReload, sidecar.*.script, sidecar image kiwigrid/k8s-sidecar 1.30.3; securityContext runAsUser/fsGroup 472, automountServiceAccountToken true)',
      'grafana/helm-charts@grafana-9.3.4: charts/grafana/templates/clusterrole.yaml, clusterrolebinding.yaml (without rbac.namespaced: get/watch/list on configmaps and secrets in every namespace), role.yaml, rolebinding.yaml (with rbac.namespaced the same rule in the release namespace only; rbac.useExistingRole: no Role rendered, the RoleBinding names that one), extra-manifests.yaml (extraObjects)',
      'grafana/helm-charts@grafana-9.3.4: charts/grafana/templates/secret.yaml, _config.tpl (grafana.secretsData), _helpers.tpl (grafana.password: randAlphaNum 40 when lookup finds no Secret, as under helm template), deployment.yaml (checksum/secret, podAnnotations): no admin Secret once env.GF_SECURITY_ADMIN_PASSWORD__FILE is set',
      'grafana/helm-charts@grafana-9.3.4: charts/grafana/templates/_pod.tpl (GF_SECURITY_ADMIN_USER and _PASSWORD, and the sidecars\' REQ_USERNAME and REQ_PASSWORD, only from a Secret, and left out when env.GF_SECURITY_ADMIN_USER and env.GF_SECURITY_ADMIN_PASSWORD__FILE are set; NAMESPACE, RESOURCE, SCRIPT; REQ_URL unless skipReload; extraContainerVolumes; containers grafana, grafana-sc-dashboard, grafana-sc-datasources)',
      'kiwigrid/k8s-sidecar@1.30.3: src/helpers.py (basic auth from REQ_USERNAME and REQ_PASSWORD, files only through --req-username-file and --req-password-file; the script run with sh when not executable), src/resources.py (one list/watch per namespace of NAMESPACE; the script after every change), src/sidecar.py, Dockerfile (python:alpine3.21)',
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
  /** The release's namespace: the sidecars' Role goes there. */
  readonly namespace: string;
  /** Namespaces Grafana's sidecars read dashboards and datasources from (the release's own, and Pronto's when it has dashboards). */
  readonly dashboardNamespaces: readonly string[];
  /** Grafana sidecar labels and annotation (lib/dashboards). */
  readonly grafana: {
    readonly dashboardLabel: string;
    readonly datasourceLabel: string;
    readonly folderAnnotation: string;
    /**
     * The Vault agent that renders {@link GRAFANA_ADMIN}'s files into the Grafana pod: the pod
     * annotations the injector reads, and the pod volumes its containers mount (the
     * audience-bound ServiceAccount token), which no Grafana container mounts.
     */
    readonly vaultAgent: { readonly podAnnotations: Readonly<Record<string, string>>; readonly volumes: readonly object[] };
    /**
     * CA bundles Grafana's datasources verify servers with: ConfigMaps of the release's
     * namespace (kept there by the platform), each mounted read-only so that `file` is the
     * bundle's PEM. @default - none
     */
    readonly caBundles?: ReadonlyArray<{ readonly configMap: string; readonly key: string; readonly file: string }>;
  };
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
      // The admin: its password from Vault (GRAFANA_ADMIN), so the chart renders no admin Secret and kube-prometheus-stack's
      // adminPassword (prom-operator) is never read; the user is no secret.
      env: {
        GF_SECURITY_ADMIN_USER: GRAFANA_ADMIN.user,
        [GRAFANA_ADMIN.passwordEnv]: `${GRAFANA_ADMIN.secretVolumePath}/${GRAFANA_ADMIN.passwordFile}`,
      },
      podAnnotations: { ...props.grafana.vaultAgent.podAnnotations },
      // grafana 9.3.4 templates/_pod.tpl: a configMap volume and a read-only mount per entry; the whole ConfigMap at the file's
      // folder (no subPath, which would never see an update of the bundle).
      ...(props.grafana.caBundles?.length ? {
        extraConfigmapMounts: props.grafana.caBundles.map((b) => ({
          name: `ca-${b.configMap}`.slice(0, 63), mountPath: b.file.slice(0, b.file.lastIndexOf('/')), configMap: b.configMap, readOnly: true,
        })),
      } : {}),
      // Pod volumes mounted into no Grafana container: the agent's token.
      extraContainerVolumes: props.grafana.vaultAgent.volumes.map((v) => ({ ...v })),
      // No ClusterRole: the sidecars read ConfigMaps in the namespaces they search, through a Role in each (this one here,
      // Pronto's in its namespace), and no Secret anywhere.
      rbac: { namespaced: true, useExistingRole: GRAFANA.sidecarRole },
      extraObjects: [{
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role',
        metadata: { name: GRAFANA.sidecarRole, namespace: props.namespace, labels: { 'app.kubernetes.io/name': 'grafana', 'app.kubernetes.io/component': 'sidecar-rbac' } },
        rules: GRAFANA.sidecarRules.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] })),
      }],
      sidecar: {
        dashboards: {
          enabled: true, label: props.grafana.dashboardLabel, labelValue: '1', searchNamespace: [...props.dashboardNamespaces], resource: 'configmap',
          folderAnnotation: props.grafana.folderAnnotation, provider: { foldersFromFilesStructure: true },
          // Grafana rescans the dashboards' folder on its own (the provider's updateIntervalSeconds, 30): no reload call, which needs the admin.
          skipReload: true,
        },
        datasources: {
          enabled: true, label: props.grafana.datasourceLabel, labelValue: '1', searchNamespace: [...props.dashboardNamespaces], resource: 'configmap',
          // Datasources load only at start or through the reload API: the script calls it as the admin (grafanaDatasourcesReloadScript).
          skipReload: true, script: `${GRAFANA_ADMIN.secretVolumePath}/${GRAFANA_ADMIN.reloadScriptFile}`,
        },
      },
    },
  };
}
