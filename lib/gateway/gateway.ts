import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  ComputeResources, PinnedImage, RollingUpdateSpec, RunAsIds, Scaling, bytes, recommendedLabels, resourceName, ANNOTATION_CONFIG_CHECKSUM, configChecksum,
} from '../core';
import { ContainerPortSpec, PodExtensionPoint, PodVolumeSpec, Workload, renderServicePorts } from '../workload';
import { GatewayModel, MODSECURITY_CONF, NGINX_CONF } from './model';
import { renderModSecurityConf, renderNginxConf } from './render';

const k8s = kplus.k8s;

/** Pod annotation holding the checksum of the configuration: a change rolls the pods. */

/** Where the TLS certificate Secret (`tls.crt`, `tls.key`) is mounted when TLS ends at the gateway. */
export const GATEWAY_TLS_DIR = '/etc/pronto/gateway-tls';

/** The public Service in front of the gateway. */
export interface GatewayServiceProps {
  /** `Local` keeps the client's address (and sends traffic only to nodes running a gateway pod); `Cluster` spreads evenly but hides it. */
  readonly externalTrafficPolicy: 'Local' | 'Cluster';
  /** Port the load balancer serves HTTP on. */
  readonly httpPort: number;
  /** Port the load balancer serves HTTPS on (TLS at the gateway only). */
  readonly httpsPort: number;
  /** Annotations for the cloud's load-balancer controller. @default - none */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Client CIDRs the load balancer admits. @default - every client (field not emitted) */
  readonly loadBalancerSourceRanges?: readonly string[];
}

export interface GatewayProps {
  /** Name of every object: Deployment, PDB, HPA, ServiceAccount, ConfigMap and the LoadBalancer Service. */
  readonly name: string;
  /** nginx with the ModSecurity connector and the CRS (e.g. owasp/modsecurity-crs:<crs>-nginx). */
  readonly image: PinnedImage;
  /** Requests and limits of the nginx container. */
  readonly resources: ComputeResources;
  /** Pod count, fixed or autoscaled on CPU. */
  readonly scaling: Scaling;
  /** What nginx.conf and modsecurity.conf are rendered from. */
  readonly model: GatewayModel;
  readonly service: GatewayServiceProps;
  /**
   * Size of the writable emptyDir at `model.paths.writableDir` (pid, request-body temp files, ModSecurity), e.g. `564Mi`;
   * below the container's ephemeral-storage limit, which the emptyDir counts against (over it, the pod is evicted).
   */
  readonly writableSize: string;
  /** Name of the TLS Secret (managed outside Git), required when `model.tls.mode` is `gateway`. @default - none */
  readonly tlsSecretName?: string;
  /** Seconds `preStop` sleeps so the load balancer stops sending before nginx drains (SIGQUIT, the image's stop signal). */
  readonly preStopSleepSeconds: number;
  /** Seconds from SIGTERM to SIGKILL: long enough for long-lived connections to close. */
  readonly terminationGracePeriodSeconds: number;
  /** Rollout settings. @default - see {@link RollingUpdateSpec} */
  readonly rollingUpdate?: RollingUpdateSpec;
  /** Numeric identity: the image's own user (nginx, 101) is below 10000, so the pod runs as another. @default - see {@link RunAsIds} */
  readonly runAs?: RunAsIds;
}

/**
 * The public entry point: nginx with ModSecurity and the OWASP CRS as a {@link Workload}
 * (restricted, PDB, HPA, spread), its configuration rendered into a ConfigMap (a checksum
 * annotation rolls the pods when it changes), and a LoadBalancer Service.
 */
export class Gateway extends Construct {
  public readonly workload: Workload;
  public readonly configMap: kplus.k8s.KubeConfigMap;
  public readonly service: kplus.k8s.KubeService;
  /** nginx.conf and modsecurity.conf, as in the ConfigMap. */
  public readonly files: Readonly<Record<string, string>>;

  public constructor(scope: Construct, id: string, props: GatewayProps) {
    super(scope, id);
    const name = resourceName(props.name);
    const model = props.model;
    const tls = model.tls.mode === 'gateway';
    if (tls && !props.tlsSecretName) throw new Error(`${name}: TLS at the gateway needs tlsSecretName (the certificate Secret)`);
    if (!tls && props.tlsSecretName) throw new Error(`${name}: tlsSecretName is given but TLS ends at the load balancer`);
    if (tls && model.tls.mode === 'gateway' && (!model.tls.certificateFile.startsWith(`${GATEWAY_TLS_DIR}/`) || !model.tls.keyFile.startsWith(`${GATEWAY_TLS_DIR}/`))) {
      throw new Error(`${name}: the certificate and key must be files of ${GATEWAY_TLS_DIR}, where the Secret is mounted`);
    }
    const storageLimit = props.resources.limits.ephemeralStorage;
    if (bytes(props.writableSize) >= bytes(storageLimit)) {
      throw new Error(`${name}: the writable emptyDir (${props.writableSize}) must fit under the container's ephemeral-storage limit (${storageLimit}), with room for the logs`);
    }
    this.files = { [NGINX_CONF]: renderNginxConf(model), [MODSECURITY_CONF]: renderModSecurityConf(model) };

    const extension = new PodExtensionPoint(name, props.runAs);
    extension.addPodAnnotation(ANNOTATION_CONFIG_CHECKSUM, configChecksum(this.files));

    const ports: ContainerPortSpec[] = [
      ...(tls ? [{ name: 'https', number: model.ports.https }] : []),
      { name: 'http', number: model.ports.http },
      { name: 'health', number: model.ports.health },
    ];
    const volumes: PodVolumeSpec[] = [
      { name: 'config', configMap: { name, defaultMode: 0o444 } },
      { name: 'writable', emptyDir: { sizeLimit: props.writableSize } },
      // The certificate Secret is managed outside Git (cert-manager or the SREs); it is never in the output.
      ...(tls ? [{ name: 'tls', projected: { defaultMode: 0o440, sources: [{ secret: { name: props.tlsSecretName!, items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }] } }] } }] : []),
    ];

    this.configMap = new k8s.KubeConfigMap(this, 'Config', {
      metadata: { name, labels: recommendedLabels({ name, component: 'gateway', version: props.image.version }) },
      data: { ...this.files },
    });
    this.workload = new Workload(this, 'Workload', {
      name,
      component: 'gateway',
      scaling: props.scaling,
      rollingUpdate: props.rollingUpdate,
      runAs: props.runAs,
      terminationGracePeriodSeconds: props.terminationGracePeriodSeconds,
      extension,
      volumes,
      containers: [{
        name: 'nginx',
        image: props.image,
        resources: props.resources,
        command: ['nginx', '-c', `${model.paths.configDir}/${NGINX_CONF}`, '-e', 'stderr'],
        ports,
        mounts: [
          { volume: 'config', path: model.paths.configDir, readOnly: true },
          { volume: 'writable', path: model.paths.writableDir },
          ...(tls ? [{ volume: 'tls', path: GATEWAY_TLS_DIR, readOnly: true }] : []),
        ],
        probes: {
          liveness: { httpGet: { path: '/livez', port: 'health' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
          readiness: { httpGet: { path: '/readyz', port: 'health' }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
        },
        preStopSleepSeconds: props.preStopSleepSeconds,
      }],
    });

    const s = props.service;
    this.service = new k8s.KubeService(this, 'Service', {
      metadata: { name, labels: this.workload.labels, annotations: s.annotations && Object.keys(s.annotations).length ? { ...s.annotations } : undefined },
      spec: {
        type: 'LoadBalancer',
        externalTrafficPolicy: s.externalTrafficPolicy,
        loadBalancerSourceRanges: s.loadBalancerSourceRanges?.length ? [...s.loadBalancerSourceRanges] : undefined,
        selector: this.workload.selector,
        ports: renderServicePorts(name, [
          { name: 'http', port: s.httpPort, protocol: 'TCP' },
          ...(tls ? [{ name: 'https', port: s.httpsPort, protocol: 'TCP' as const }] : []),
        ]),
      },
    });
  }
}
