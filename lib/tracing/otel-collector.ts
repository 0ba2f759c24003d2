import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  ComputeResources, PinnedImage, RollingUpdateSpec, Scaling, bytes, recommendedLabels, resourceName, ANNOTATION_CONFIG_CHECKSUM, configChecksum,
} from '../core';
import { PodExtensionPoint, PodVolumeSpec, Workload } from '../workload';
import { CollectorRbac } from './collector-rbac';
import { COLLECTOR_CONFIG_FILE, CollectorConfigModel, POD_IP_ENV, RECEIVER_TLS_RELOAD, memoryLimiterFor, renderCollectorConfig } from './collector-config';

const k8s = kplus.k8s;

/** Pod annotation holding the checksum of the configuration: a change rolls the pods. */
export const ANNOTATION_COLLECTOR_CONFIG_CHECKSUM = ANNOTATION_CONFIG_CHECKSUM;

/** Where the collector finds its ServiceAccount token, the cluster CA and its namespace: client-go's in-cluster path. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The projected volume holding them. */
export const API_ACCESS_VOLUME = 'kube-api-access';
/** The CA bundle Kubernetes publishes in every namespace (root-ca-cert-publisher, GA since 1.21). */
export const ROOT_CA_CONFIG_MAP = 'kube-root-ca.crt';

/** The gate's waiver annotation prefix (lib/validation WAIVER_PREFIX; lib/tracing does not depend on the gate). */
const WAIVE = 'pronto.io/waive-';

/** Why the collector's pods hold a token, per waived gate rule: the reasons listed in every synth summary. */
export function collectorWaivers(role: string): Readonly<Record<string, string>> {
  return {
    'no-service-account-token': `k8sattributes reads pods and replicasets of its namespace from the API server (Role ${role}): `
      + `a projected token that expires, mounted read-only into the collector container only, at ${SERVICE_ACCOUNT_DIR}`,
  };
}

export interface OtelCollectorProps {
  /** Name of the Deployment, its ServiceAccount, ConfigMap, Service, PDB and HPA, e.g. `otel-collector`. */
  readonly name: string;
  /** Namespace the collector runs in (its ServiceAccount's and its Role's). */
  readonly namespace: string;
  /** The contrib distribution (k8sattributes is not in the core one). */
  readonly image: PinnedImage;
  /** Requests and limits; memory_limiter is derived from limits.memory. */
  readonly resources: ComputeResources;
  /** Pod count, fixed or autoscaled on CPU. */
  readonly scaling: Scaling;
  /** Everything the configuration states but memory_limiter (derived from the resources) and TLS (from {@link tls}). */
  readonly config: Omit<CollectorConfigModel, 'memoryLimiter' | 'tls'>;
  /** Lifetime of the projected ServiceAccount token; the kubelet refreshes it at 80 %. @default 3600 */
  readonly tokenExpirationSeconds?: number;
  /** Rollout settings. @default - see {@link RollingUpdateSpec} */
  readonly rollingUpdate?: RollingUpdateSpec;
  /**
   * TLS on the OTLP receivers: the pod volume holding the certificate and key (lib/tls's
   * ServiceCertificate `volume()`, files `tls.crt` and `tls.key`), mounted read-only at
   * {@link COLLECTOR_TLS_DIR}. @default - plaintext receivers
   */
  readonly tls?: { readonly volume: PodVolumeSpec };
}

/** Where the receivers' certificate and key are, in the collector container. */
export const COLLECTOR_TLS_DIR = '/etc/otelcol-tls';

/**
 * The OpenTelemetry collector as a {@link Workload} (restricted, PDB, HPA, spread): its
 * configuration in a ConfigMap (a checksum annotation rolls the pods when it changes), a
 * ClusterIP Service on both OTLP ports, and the RBAC k8sattributes needs. Its pods read the
 * API server with a projected, expiring ServiceAccount token mounted into the collector
 * container only (the ServiceAccount itself still mounts none); the gate's rules that
 * forbid it are waived on the Deployment, with the reasons of {@link collectorWaivers}.
 */
export class OtelCollector extends Construct {
  public readonly workload: Workload;
  public readonly configMap: kplus.k8s.KubeConfigMap;
  public readonly service: kplus.k8s.KubeService;
  public readonly rbac: CollectorRbac;
  /** The configuration file, as in the ConfigMap. */
  public readonly configText: string;
  /** The model it was rendered from, memory_limiter included. */
  public readonly model: CollectorConfigModel;
  public readonly tokenExpirationSeconds: number;

  public constructor(scope: Construct, id: string, props: OtelCollectorProps) {
    super(scope, id);
    const name = resourceName(props.name);
    this.tokenExpirationSeconds = props.tokenExpirationSeconds ?? 3600;
    if (!Number.isInteger(this.tokenExpirationSeconds) || this.tokenExpirationSeconds < 600) {
      throw new Error(`${name}: tokenExpirationSeconds: expected an integer ≥ 600 (the API server's minimum), found ${this.tokenExpirationSeconds}`);
    }
    const limitMi = Math.floor(bytes(props.resources.limits.memory) / 2 ** 20);
    this.model = {
      ...props.config, memoryLimiter: memoryLimiterFor(limitMi),
      ...(props.tls ? { tls: { certFile: `${COLLECTOR_TLS_DIR}/tls.crt`, keyFile: `${COLLECTOR_TLS_DIR}/tls.key`, reloadInterval: RECEIVER_TLS_RELOAD } } : {}),
    };
    this.configText = renderCollectorConfig(this.model);
    const ports = this.model.ports;

    const extension = new PodExtensionPoint(name);
    extension.addPodAnnotation(ANNOTATION_COLLECTOR_CONFIG_CHECKSUM, configChecksum({ [COLLECTOR_CONFIG_FILE]: this.configText }));

    const volumes: PodVolumeSpec[] = [
      { name: 'config', configMap: { name, defaultMode: 0o444 } },
      {
        name: API_ACCESS_VOLUME,
        projected: {
          // The collector's user and group (fsGroup) only.
          defaultMode: 0o440,
          sources: [
            // No audience: the API server's own (its --api-audiences), whatever the cluster calls it.
            { serviceAccountToken: { path: 'token', expirationSeconds: this.tokenExpirationSeconds } },
            { configMap: { name: ROOT_CA_CONFIG_MAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardApi: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      },
      ...(props.tls ? [props.tls.volume] : []),
    ];

    this.configMap = new k8s.KubeConfigMap(this, 'Config', {
      metadata: { name, labels: recommendedLabels({ name, component: 'tracing', version: props.image.version }) },
      data: { [COLLECTOR_CONFIG_FILE]: this.configText },
    });
    this.workload = new Workload(this, 'Workload', {
      name,
      component: 'tracing',
      scaling: props.scaling,
      rollingUpdate: props.rollingUpdate,
      extension,
      volumes,
      containers: [{
        name: 'otel-collector',
        image: props.image,
        resources: props.resources,
        args: [`--config=/etc/otelcol/${COLLECTOR_CONFIG_FILE}`],
        ports: [
          { name: 'otlp-grpc', number: ports.otlpGrpc },
          { name: 'otlp-http', number: ports.otlpHttp },
          { name: 'health', number: ports.health },
        ],
        env: [{ name: POD_IP_ENV, fieldRef: 'status.podIP' }],
        mounts: [
          { volume: 'config', path: '/etc/otelcol', readOnly: true },
          { volume: API_ACCESS_VOLUME, path: SERVICE_ACCOUNT_DIR, readOnly: true },
          ...(props.tls ? [{ volume: props.tls.volume.name, path: COLLECTOR_TLS_DIR, readOnly: true }] : []),
        ],
        probes: {
          // health_check answers 200 once every pipeline has started, 503 while starting or shutting down.
          readiness: { httpGet: { path: '/', port: 'health' }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
          // The process: its health endpoint accepts connections (the gate wants liveness to differ from readiness).
          liveness: { tcpSocket: { port: 'health' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
        },
      }],
    });
    for (const [rule, reason] of Object.entries(collectorWaivers(name))) this.workload.resource.metadata.addAnnotation(`${WAIVE}${rule}`, reason);
    this.service = this.workload.addService('Service', { ports: [{ targetPort: 'otlp-grpc' }, { targetPort: 'otlp-http' }] });
    this.rbac = new CollectorRbac(this, 'Rbac', {
      name,
      serviceAccountName: this.workload.serviceAccountName,
      namespace: props.namespace,
      labels: this.workload.labels,
    });
  }
}
