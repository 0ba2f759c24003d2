import { AddonChart, AddonContract, KINDS } from './contract';

/** grafana/loki's Helm chart 6.30.0 (Loki 3.5), single binary on its filesystem. */
export const LOKI_CHART: AddonChart = { repoURL: 'https://grafana.github.io/helm-charts', name: 'loki', version: '6.30.0' };

/** The header a multi-tenant Loki (auth_enabled, the chart's default) requires of every writer and reader. */
export const LOKI_TENANT_HEADER = 'X-Scope-OrgID';

/** Push and query paths, through the gateway. */
export const LOKI_PATHS = { push: '/loki/api/v1/push', api: '/loki/api/v1/' } as const;

/** What the chart renders with {@link lokiValues} in `namespace` (release `loki`). */
export function lokiContract(namespace: string, chart: AddonChart = LOKI_CHART): AddonContract {
  return {
    chart, release: 'loki', namespace,
    services: {
      // nginx in plaintext on 8080, Service port 80; it passes X-Scope-OrgID through unchanged.
      gateway: { name: 'loki-gateway', port: 80, targetPort: 8080, protocol: 'http',
        podLabels: { 'app.kubernetes.io/name': 'loki', 'app.kubernetes.io/component': 'gateway' } },
    },
    tenantHeader: LOKI_TENANT_HEADER,
    writes: {
      namespaces: [namespace],
      // rbac.namespaced with the rules sidecar off: no ClusterRole, no binding.
      clusterScoped: [],
      namespaced: [KINDS.ServiceAccount, KINDS.ConfigMap, KINDS.Service, KINDS.StatefulSet, KINDS.Deployment],
    },
    sources: [
      'grafana/loki@helm-loki-6.30.0: production/helm/loki/values.yaml (loki.auth_enabled: true; gateway.enabled; chunksCache allocatedMemory 8192, resultsCache 1024; lokiCanary, test, sidecar.rules on; rbac.namespaced false)',
      'grafana/loki@helm-loki-6.30.0: production/helm/loki/templates/_helpers.tpl (loki.nginxFile: listen 8080, no X-Scope-OrgID set without loki.tenants), templates/gateway/service-gateway.yaml (port 80), templates/gateway/deployment-gateway-nginx.yaml',
      'grafana/loki@helm-loki-6.30.0: production/helm/loki/templates/validate.yaml (canary off needs test off; SingleBinary with read/write/backend replicas 0), templates/single-binary/statefulset.yaml (10Gi PVC at /var/loki)',
      'grafana/loki@v3.5.0: vendor/github.com/grafana/dskit/middleware/http_auth.go (401 "no org id" without X-Scope-OrgID), pkg/compactor/compactor.go (retention needs delete_request_store)',
    ],
  };
}

export interface LokiValuesProps {
  /** How long logs are kept, in days (the compactor deletes older chunks). */
  readonly retentionDays: number;
}

/**
 * A single-binary Loki 3 on its filesystem: multi-tenant (the chart's default), structured
 * metadata on the v13 TSDB schema, retention by the compactor; no memcached caches (9.6 GiB
 * for a single binary), no canary, no helm test pod, and namespaced RBAC.
 */
export function lokiValues(props: LokiValuesProps): Record<string, unknown> {
  return {
    deploymentMode: 'SingleBinary',
    loki: {
      auth_enabled: true,
      commonConfig: { replication_factor: 1 },
      storage: { type: 'filesystem' },
      // Structured metadata needs the v13 schema on the TSDB index.
      schemaConfig: { configs: [{ from: '2024-04-01', store: 'tsdb', object_store: 'filesystem', schema: 'v13', index: { prefix: 'loki_index_', period: '24h' } }] },
      limits_config: { allow_structured_metadata: true, retention_period: `${props.retentionDays * 24}h` },
      compactor: { retention_enabled: true, delete_request_store: 'filesystem' },
    },
    singleBinary: { replicas: 1, resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } } },
    gateway: { resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } } },
    read: { replicas: 0 }, write: { replicas: 0 }, backend: { replicas: 0 },
    chunksCache: { enabled: false },
    resultsCache: { enabled: false },
    lokiCanary: { enabled: false },
    test: { enabled: false },
    sidecar: { rules: { enabled: false } },
    rbac: { namespaced: true },
  };
}
