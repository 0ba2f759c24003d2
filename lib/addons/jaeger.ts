import { AddonChart, AddonContract, KINDS } from './contract';

/** jaegertracing/helm-charts `jaeger` 4.11.1: Jaeger v2 (2.19.0) all-in-one, in-memory storage. */
export const JAEGER_CHART: AddonChart = { repoURL: 'https://jaegertracing.github.io/helm-charts', name: 'jaeger', version: '4.11.1' };

/**
 * Every object is named after the chart's fullname (no suffix), so `fullnameOverride` names
 * the one Service that serves OTLP and the query API (charts/jaeger/templates/_helpers.tpl).
 */
export const JAEGER_FULLNAME = 'jaeger-collector';

/** Pod labels of the all-in-one pod (charts/jaeger/templates/jaeger/jaeger-deploy.yaml; name is the chart's, not the fullname). */
const POD_LABELS = { 'app.kubernetes.io/name': 'jaeger', 'app.kubernetes.io/component': 'all-in-one' } as const;

/** What the chart renders with {@link jaegerValues} in `namespace`. */
export function jaegerContract(namespace: string, chart: AddonChart = JAEGER_CHART): AddonContract {
  return {
    chart, release: 'jaeger', namespace,
    services: {
      // The built-in all-in-one config's OTLP receiver has no tls block: plaintext.
      otlpGrpc: { name: JAEGER_FULLNAME, port: 4317, targetPort: 4317, protocol: 'grpc', podLabels: POD_LABELS },
      query: { name: JAEGER_FULLNAME, port: 16686, targetPort: 16686, protocol: 'http', podLabels: POD_LABELS },
    },
    writes: {
      namespaces: [namespace],
      clusterScoped: [],
      namespaced: [KINDS.Deployment, KINDS.Service, KINDS.ServiceAccount],
    },
    sources: [
      'jaegertracing/helm-charts@jaeger-4.11.1: charts/jaeger/Chart.yaml (appVersion 2.19.0), values.yaml (jaeger.enabled; no provisionDataStore; storage.type only for spark/es jobs)',
      'jaegertracing/helm-charts@jaeger-4.11.1: charts/jaeger/templates/_helpers.tpl (fullname), templates/jaeger/jaeger-service.yaml (one Service: 4317, 4318, 16686, 16685), jaeger-deploy.yaml (pod labels; --config only with userconfig)',
      'jaegertracing/jaeger@v2.19.0: cmd/jaeger/internal/all-in-one.yaml (OTLP receivers without tls; memory storage, max_traces 100000)',
    ],
  };
}

/** Requests and limits of the all-in-one container: the chart sets none (a BestEffort pod otherwise); memory holds up to 100 000 traces. */
export const JAEGER_RESOURCES = { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } } as const;

/** The values Pronto gives the chart: the fullname its contract relies on, and explicit resources. */
export function jaegerValues(): Record<string, unknown> {
  return { fullnameOverride: JAEGER_FULLNAME, jaeger: { resources: JAEGER_RESOURCES } };
}
