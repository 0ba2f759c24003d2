import { AddonChart, AddonContract, KINDS } from './contract';

/** open-telemetry/opentelemetry-helm-charts `opentelemetry-operator` 0.122.0 (operator v0.158.0, collector 0.158.0). */
export const OPENTELEMETRY_OPERATOR_CHART: AddonChart = {
  repoURL: 'https://open-telemetry.github.io/opentelemetry-helm-charts', name: 'opentelemetry-operator', version: '0.122.0',
};

/**
 * The operator release the pinned chart installs (Chart.yaml `appVersion`; the manager's image
 * tag defaults to it). imports/crds/opentelemetry.io.yaml, which the Instrumentation Pronto
 * renders is typed and validated against, is this release's CRD (cdk8s.yaml names it): an
 * older operator's CRD lacks fields Pronto sets (`initContainerSecurityContext`, from v0.150.0),
 * and the API server would prune them.
 */
export const OPENTELEMETRY_OPERATOR_APP_VERSION = '0.158.0';

/** The release; the chart's fullname is the release when it contains the chart name (templates/_helpers.tpl). */
export const OPENTELEMETRY_OPERATOR_RELEASE = 'opentelemetry-operator';

/** Pod labels of the manager (templates/deployment.yaml: the selector labels, name is the chart's, and the component). */
const POD_LABELS = { 'app.kubernetes.io/name': 'opentelemetry-operator', 'app.kubernetes.io/component': 'controller-manager' } as const;

const SOURCE = `open-telemetry/opentelemetry-helm-charts@opentelemetry-operator-${OPENTELEMETRY_OPERATOR_CHART.version}: charts/opentelemetry-operator`;

/**
 * What the chart renders with {@link opentelemetryOperatorValues} in `namespace`. Every
 * namespaced object goes into the release namespace (`namespaceOverride` is empty).
 *
 * The webhooks' certificate comes from cert-manager, a prerequisite of this add-on: the chart
 * renders a Certificate and its self-signed Issuer, cert-manager writes the Secret the manager
 * mounts, and its CA injector fills the `caBundle` of the two webhook configurations and of the
 * OpenTelemetryCollector CRD's conversion webhook (`cert-manager.io/inject-ca-from`). The chart
 * renders no `caBundle` there, so what the injector writes is no difference to Argo CD (a field
 * the desired object lacks is kept from the live one). The chart's other way, a CA generated at
 * render time (`genCA`), is refused: Argo CD renders with `helm template`, where `lookup` finds
 * nothing, so each render makes a new CA and the Secret, a pre-install/pre-upgrade hook, is
 * recreated on every sync (open-telemetry/opentelemetry-helm-charts#2168).
 *
 * The three helm-test Pods (templates/tests/, `helm.sh/hook: test`) are rendered too, but Argo
 * CD never applies a Helm hook it has no phase for, so no Pod is listed: the chart has no value
 * that turns them off.
 */
export function opentelemetryOperatorContract(namespace: string, chart: AddonChart = OPENTELEMETRY_OPERATOR_CHART): AddonContract {
  const r = OPENTELEMETRY_OPERATOR_RELEASE;
  return {
    chart, release: r, namespace, appVersion: OPENTELEMETRY_OPERATOR_APP_VERSION,
    services: {
      // The API server calls the admission and conversion webhooks here (the pods serve 9443 with cert-manager's certificate).
      webhook: { name: `${r}-webhook`, port: 443, targetPort: 9443, protocol: 'https', podLabels: POD_LABELS },
      // The manager's metrics (--metrics-addr=0.0.0.0:8443 --metrics-secure=true): HTTPS, a scraper's token must be allowed GET /metrics
      // (the ClusterRole <release>-metrics, which the chart renders but binds to no one). kube-rbac-proxy is gone from the chart.
      metrics: { name: r, port: 8443, targetPort: 8443, protocol: 'https', podLabels: POD_LABELS },
    },
    writes: {
      namespaces: [namespace],
      // The four CRDs (crds.create; ClusterObservability only with its feature gate, off), the manager's ClusterRole and binding,
      // the metrics reader ClusterRole (manager.metrics.secure), and the webhooks (admissionWebhooks.create, with cert-manager:
      // templates/admission-webhooks/operator-webhook-with-cert-manager.yaml).
      clusterScoped: [KINDS.CustomResourceDefinition, KINDS.ClusterRole, KINDS.ClusterRoleBinding, KINDS.MutatingWebhookConfiguration, KINDS.ValidatingWebhookConfiguration],
      // The two Services, the leader-election Role and binding, the webhooks' Certificate and its self-signed Issuer (no
      // certManager.issuerRef). No Secret: cert-manager writes it. No ConfigMap (manager.config {}), PodDisruptionBudget (pdb.create
      // false), ServiceMonitor, PrometheusRule, VerticalPodAutoscaler (all off) or extra objects (extraObjects []).
      namespaced: [KINDS.ServiceAccount, KINDS.Service, KINDS.Deployment, KINDS.Role, KINDS.RoleBinding, KINDS.Certificate, KINDS.Issuer],
    },
    sources: [
      `${SOURCE}/Chart.yaml (appVersion ${OPENTELEMETRY_OPERATOR_APP_VERSION}), values.yaml (namespaceOverride ""; manager.collectorImage tag 0.158.0; manager.ports.metricsPort 8443, webhookPort 9443; manager.metrics.secure true; manager.config {}; manager.featureGatesMap operator.networkpolicy false; admissionWebhooks.create true, certManager.enabled true, issuerRef {}; crds.create, role.create, clusterRole.create true; pdb.create, serviceMonitor, prometheusRule, verticalPodAutoscaler off; extraObjects [])`,
      `${SOURCE}/templates/_helpers.tpl (fullname, namespace, webhookCertName <fullname>-serving-cert, webhookCertAnnotation <namespace>/<fullname>-serving-cert; WebhookCert: genCA unless the previous Secret is found by lookup and recreate is false), templates/admission-webhooks/operator-webhook-with-cert-manager.yaml (MutatingWebhookConfiguration, ValidatingWebhookConfiguration: inject-ca-from, no caBundle), templates/admission-webhooks/operator-webhook.yaml (without cert-manager: the Secret and the caBundle, and the CRDs either way), templates/certmanager.yaml (Certificate with secretName <fullname>-controller-manager-service-cert, self-signed Issuer without issuerRef)`,
      `${SOURCE}/templates/clusterrole.yaml (<fullname>-manager, <fullname>-metrics), clusterrolebinding.yaml, role.yaml, rolebinding.yaml (leaderElection), serviceaccount.yaml, service.yaml (<fullname>:8443 and <fullname>-webhook:443 -> webhook-server), deployment.yaml (pod labels; webhook-server 9443; volume cert from the Secret), configmap.yaml, pdb.yaml, servicemonitor.yaml, prometheusrule.yaml, verticalpodautoscaler.yaml, extramanifests.yaml, tests/test-service-connection.yaml and tests/test-certmanager-connection.yaml (helm.sh/hook: test Pods)`,
      `${SOURCE}/conf/crds/ (opampbridges, targetallocators, opentelemetrycollectors with the conversion webhook and cert-manager.io/inject-ca-from, instrumentations.opentelemetry.io; clusterobservabilities only with operator.clusterobservability)`,
      'argoproj/gitops-engine@v0.7.3: pkg/sync/hook/helm/hook.go (any helm.sh/hook but crd-install is a hook), pkg/sync/hook/helm/type.go (only pre/post-install/upgrade map to PreSync/PostSync), pkg/sync/sync_phase.go (a hook without a phase is never synced), pkg/diff/diff.go (TwoWayDiff and ThreeWayDiff patch the live object: a field only it has is no difference)',
    ],
  };
}

/**
 * The Python auto-instrumentation image the pinned operator injects when an Instrumentation
 * names none (open-telemetry/opentelemetry-operator@v0.158.0: versions.txt
 * autoinstrumentation-python=0.64b0; internal/config/config.go
 * ghcr.io/open-telemetry/opentelemetry-operator/autoinstrumentation-python:<version>;
 * internal/webhook/instrumentation_webhook.go fills spec.python.image with it). Pronto writes
 * it into its Instrumentation, so what is injected is what the output states, whichever
 * operator runs.
 */
export const OPERATOR_PYTHON_IMAGE = { repository: 'ghcr.io/open-telemetry/opentelemetry-operator/autoinstrumentation-python', tag: '0.64b0' } as const;

/** Repository of the collector image the operator deploys (the chart's default is ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s, published with the same tags; the tag stays the chart's, 0.158.0). */
export const OPERATOR_COLLECTOR_IMAGE_REPOSITORY = 'otel/opentelemetry-collector-k8s';

/** The values Pronto gives the chart: the collector image, and the webhooks' certificate from cert-manager (stated, though the chart's default). */
export function opentelemetryOperatorValues(): Record<string, unknown> {
  return {
    manager: { collectorImage: { repository: OPERATOR_COLLECTOR_IMAGE_REPOSITORY } },
    admissionWebhooks: { certManager: { enabled: true } },
  };
}
