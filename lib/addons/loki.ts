import { AddonChart, AddonContract, KINDS, serviceOf } from './contract';
import { LokiGatewayConfig, renderLokiGatewayNginx } from './loki-gateway';

/** grafana/loki's Helm chart 6.30.0 (Loki 3.5), single binary on its filesystem. */
export const LOKI_CHART: AddonChart = { repoURL: 'https://grafana.github.io/helm-charts', name: 'loki', version: '6.30.0' };

/** The header a multi-tenant Loki (auth_enabled, the chart's default) requires of every writer and reader. */
export const LOKI_TENANT_HEADER = 'X-Scope-OrgID';

/** Push and query paths, through the gateway. */
export const LOKI_PATHS = { push: '/loki/api/v1/push', api: '/loki/api/v1/' } as const;

/** The release: it names the objects (`loki.fullname` is the release when it contains "loki"). */
export const LOKI_RELEASE = 'loki';

/** Labels of every pod of the release (`loki.selectorLabels`), and of the gateway's (`loki.gatewaySelectorLabels`). */
export const LOKI_POD_LABELS = { 'app.kubernetes.io/name': 'loki', 'app.kubernetes.io/instance': LOKI_RELEASE } as const;
export const LOKI_GATEWAY_POD_LABELS = { ...LOKI_POD_LABELS, 'app.kubernetes.io/component': 'gateway' } as const;

/**
 * The gateway's logins: the Vault agent (injected through `gateway.podAnnotations`) renders
 * the htpasswd file from the KV entry `vaultPath` below the environment's prefix (one field
 * per user, its crypt hash) into `secretVolumePath` (in memory) of the `nginx` container. The
 * pod runs as the chart's ServiceAccount `loki` (`loki.serviceAccountName`), shared with the
 * single binary; the Vault role is bound to it and to the agents' token audience, which only
 * the injected agent's projected token carries.
 */
export const LOKI_GATEWAY = {
  container: 'nginx',
  serviceAccount: 'loki',
  vaultReader: 'loki-gateway',
  vaultPath: 'loki-gateway/htpasswd',
  secretVolumePath: '/vault/secrets',
  htpasswdFile: 'loki-htpasswd',
  port: 8080,
  /** The chart's `gateway.nginxConfig.clientMaxBodySize`. */
  clientMaxBodySize: '4M',
  /** With TLS: the pod volume of its certificate (cert-manager's Secret) and where nginx reads it (off /etc/nginx, the ConfigMap's mount). */
  tlsVolume: 'tls',
  tlsDir: '/etc/loki-gateway-tls',
} as const;

/** What the chart renders with {@link lokiValues} in `namespace` (release `loki`). */
export function lokiContract(namespace: string, chart: AddonChart = LOKI_CHART): AddonContract {
  return {
    chart, release: 'loki', namespace,
    services: {
      // nginx in plaintext on 8080, Service port 80, with Pronto's nginx.conf (lokiGatewayNginx): every client logs in,
      // and the login sets X-Scope-OrgID.
      gateway: { name: `${LOKI_RELEASE}-gateway`, port: 80, targetPort: LOKI_GATEWAY.port, protocol: 'http',
        podLabels: { 'app.kubernetes.io/name': 'loki', 'app.kubernetes.io/component': 'gateway' }, login: 'basic' },
      // The same Service when the Loki port asks for TLS (logs.loki.tls): nginx serves HTTPS on 8080, the Service on 443.
      gatewayTls: { name: `${LOKI_RELEASE}-gateway`, port: 443, targetPort: LOKI_GATEWAY.port, protocol: 'https',
        podLabels: { 'app.kubernetes.io/name': 'loki', 'app.kubernetes.io/component': 'gateway' }, login: 'basic' },
      // The single binary's HTTP API (loki.server.http_listen_port): the gateway's upstream, reached by Loki's pods only.
      api: { name: LOKI_RELEASE, port: 3100, targetPort: 3100, protocol: 'http', podLabels: { ...LOKI_POD_LABELS, 'app.kubernetes.io/component': 'single-binary' } },
    },
    serviceAccounts: { gateway: LOKI_GATEWAY.serviceAccount },
    tenantHeader: LOKI_TENANT_HEADER,
    writes: {
      namespaces: [namespace],
      // rbac.namespaced with the rules sidecar off: no ClusterRole, no binding. NetworkPolicy: Pronto's, through extraObjects.
      clusterScoped: [],
      namespaced: [KINDS.ServiceAccount, KINDS.ConfigMap, KINDS.Service, KINDS.StatefulSet, KINDS.Deployment, KINDS.NetworkPolicy],
    },
    sources: [
      'grafana/loki@helm-loki-6.30.0: production/helm/loki/values.yaml (loki.auth_enabled: true; gateway.enabled; chunksCache allocatedMemory 8192, resultsCache 1024; lokiCanary, test, sidecar.rules on; rbac.namespaced false)',
      'grafana/loki@helm-loki-6.30.0: production/helm/loki/templates/_helpers.tpl (loki.nginxFile: listen 8080, no X-Scope-OrgID set without loki.tenants, and with them only from the http block, which the query locations\' own proxy_set_header lines keep from being inherited; every component API proxied; loki.fullname, loki.singleBinaryFullname, loki.selectorLabels, loki.serviceAccountName), templates/gateway/service-gateway.yaml (port 80), templates/gateway/_helpers-gateway.tpl (loki.gatewaySelectorLabels)',
      'grafana/loki@helm-loki-6.30.0: production/helm/loki/values.yaml (gateway.nginxConfig.file passed through tpl; gateway.nginxConfig.httpSnippet sets X-Scope-OrgID from $remote_user only with loki.tenants; gateway.basicAuth htpasswd from a Secret; gateway.podAnnotations, extraVolumes, extraVolumeMounts; gateway.image nginxinc/nginx-unprivileged 1.28-alpine, podSecurityContext fsGroup 101; serviceAccount.automountServiceAccountToken true; global.dnsService kube-dns, dnsNamespace kube-system; loki.server.http_listen_port 3100; networkPolicy: one namespaceSelector per rule, and an http-metrics rule open to all without cidrs, so Pronto writes its own through extraObjects)',
      'grafana/loki@helm-loki-6.30.0: production/helm/loki/templates/gateway/deployment-gateway-nginx.yaml (container nginx, the ConfigMap at /etc/nginx, podAnnotations, extraVolumes), templates/gateway/configmap-gateway.yaml (nginx.conf: tpl of gateway.nginxConfig.file), templates/single-binary/service.yaml (loki:3100), templates/extra-manifests.yaml (extraObjects)',
      'grafana/loki@v3.5.0: pkg/loki/modules.go, pkg/loki/loki.go (the push, query, delete, rules and admin routes the gateway allows or refuses)',
      'grafana/loki@helm-loki-6.30.0: production/helm/loki/templates/validate.yaml (canary off needs test off; SingleBinary with read/write/backend replicas 0), templates/single-binary/statefulset.yaml (10Gi PVC at /var/loki)',
      'grafana/loki@v3.5.0: vendor/github.com/grafana/dskit/middleware/http_auth.go (401 "no org id" without X-Scope-OrgID), pkg/compactor/compactor.go (retention needs delete_request_store)',
    ],
  };
}

export interface LokiValuesProps {
  /** How long logs are kept, in days (the compactor deletes older chunks). */
  readonly retentionDays: number;
  /** The gateway: its nginx.conf's logins and settings, the Vault agent that renders its htpasswd, and who may reach it. */
  readonly gateway: {
    /** The gateway's nginx.conf (lib/addons/loki-gateway.ts), without `upstream`, `port`, `htpasswdFile` and the body limit, which the chart fixes. */
    readonly nginx: Pick<LokiGatewayConfig, 'logins'>;
    /**
     * The Vault agent that renders the htpasswd file into the gateway pod: its pod annotations
     * and the pod volumes its containers mount (the audience-bound token). Absent: no login
     * exists, and the gateway refuses every API.
     */
    readonly vaultAgent?: { readonly podAnnotations: Readonly<Record<string, string>>; readonly volumes: readonly object[] };
    /** The pods that may reach the gateway (besides Loki's own): each a namespace and pod labels. */
    readonly clients: ReadonlyArray<{ readonly namespace: string; readonly podLabels: Readonly<Record<string, string>> }>;
    /**
     * HTTPS: the cert-manager Certificate of the gateway's Service (an object of the add-on's
     * namespace, rendered by lib/tls's ServiceCertificate) and its Secret's pod volume (a
     * Kubernetes volume). nginx serves it on 8080, the Service on 443 (the contract's
     * `gatewayTls`), the readiness probe over HTTPS. @default - plain HTTP
     */
    readonly tls?: { readonly certificate: object; readonly volume: Readonly<Record<string, unknown>> };
  };
}

/**
 * The gateway's nginx.conf for the add-on of `contract`: the logins of {@link LokiValuesProps.gateway}
 * with the chart's fixed parts, and HTTPS from the certificate's files when `tls`.
 */
export function lokiGatewayConfig(contract: AddonContract, nginx: LokiValuesProps['gateway']['nginx'], tls = false): LokiGatewayConfig {
  const api = serviceOf(contract, 'api');
  return {
    ...nginx,
    htpasswdFile: `${LOKI_GATEWAY.secretVolumePath}/${LOKI_GATEWAY.htpasswdFile}`,
    upstream: `${api.name}.${contract.namespace}.svc.cluster.local:${api.port}`,
    port: LOKI_GATEWAY.port,
    clientMaxBodySize: LOKI_GATEWAY.clientMaxBodySize,
    ...(tls ? { tls: { dir: LOKI_GATEWAY.tlsDir, certFile: 'tls.crt', keyFile: 'tls.key' } } : {}),
  };
}

/**
 * The NetworkPolicies Pronto puts in Loki's namespace (through the chart's `extraObjects`):
 * Loki's pods accept connections from Loki's own pods only, and the gateway, besides, from
 * `clients` on its port. Egress stays open (DNS, Vault for the gateway's agent).
 */
export function lokiNetworkPolicies(namespace: string, clients: LokiValuesProps['gateway']['clients']): object[] {
  const labels = { 'app.kubernetes.io/name': 'loki', 'app.kubernetes.io/component': 'network-policy', 'app.kubernetes.io/managed-by': 'pronto' };
  return [
    {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy',
      metadata: { name: `${LOKI_RELEASE}-from-loki-only`, namespace, labels },
      spec: {
        podSelector: { matchLabels: { ...LOKI_POD_LABELS } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { ...LOKI_POD_LABELS } } }] }],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy',
      metadata: { name: `${LOKI_RELEASE}-gateway-clients`, namespace, labels },
      spec: {
        podSelector: { matchLabels: { ...LOKI_GATEWAY_POD_LABELS } },
        policyTypes: ['Ingress'],
        ingress: clients.length === 0 ? [] : [{
          from: clients.map((c) => ({
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': c.namespace } },
            podSelector: { matchLabels: { ...c.podLabels } },
          })),
          ports: [{ port: LOKI_GATEWAY.port, protocol: 'TCP' }],
        }],
      },
    },
  ];
}

/**
 * A single-binary Loki 3 on its filesystem: multi-tenant (the chart's default), structured
 * metadata on the v13 TSDB schema, retention by the compactor; no memcached caches (9.6 GiB
 * for a single binary), no canary, no helm test pod, and namespaced RBAC. The gateway runs
 * Pronto's nginx.conf (logins, tenant from the login), its htpasswd rendered by the Vault
 * agent, and NetworkPolicies admit only the gateway's clients.
 */
export function lokiValues(contract: AddonContract, props: LokiValuesProps): Record<string, unknown> {
  const agent = props.gateway.vaultAgent;
  const tls = props.gateway.tls;
  const namespace = contract.namespace;
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
    gateway: {
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
      nginxConfig: { file: renderLokiGatewayNginx(lokiGatewayConfig(contract, props.gateway.nginx, tls !== undefined)) },
      ...(agent ? { podAnnotations: { ...agent.podAnnotations } } : {}),
      // The agent's token (mounted into no gateway container), and with TLS the certificate, which nginx mounts.
      ...(agent || tls ? { extraVolumes: [...(agent?.volumes ?? []).map((v) => ({ ...v })), ...(tls ? [{ ...tls.volume }] : [])] } : {}),
      ...(tls ? {
        extraVolumeMounts: [{ name: LOKI_GATEWAY.tlsVolume, mountPath: LOKI_GATEWAY.tlsDir, readOnly: true }],
        service: { port: serviceOf(contract, 'gatewayTls').port },
        // The chart's probe (GET / on http-metrics after 15 s, 1 s timeout), over HTTPS.
        readinessProbe: { httpGet: { path: '/', port: 'http-metrics', scheme: 'HTTPS' }, initialDelaySeconds: 15, timeoutSeconds: 1 },
      } : {}),
    },
    read: { replicas: 0 }, write: { replicas: 0 }, backend: { replicas: 0 },
    chunksCache: { enabled: false },
    resultsCache: { enabled: false },
    lokiCanary: { enabled: false },
    test: { enabled: false },
    sidecar: { rules: { enabled: false } },
    rbac: { namespaced: true },
    extraObjects: [...lokiNetworkPolicies(namespace, props.gateway.clients), ...(tls ? [tls.certificate] : [])],
  };
}
