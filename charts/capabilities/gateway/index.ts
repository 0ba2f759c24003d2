/**
 * The gateway capability: nginx with ModSecurity and the OWASP CRS in front of every
 * catalog service that declares a public route. Wires the catalog's routes and the
 * environment's `gateway` section into the model lib/gateway renders.
 */
import { Chart } from 'cdk8s';
import { GATEWAY } from '../../../config/catalog';
import { EnvironmentConfig } from '../../../config/load';
import { Scaling, UpstreamImage, cpuMillis, serviceHost, workloadEndpoint } from '../../../lib/core';
import { GATEWAY_TLS_DIR, Gateway, GatewayModel, GatewayProps, IMAGE_PATHS } from '../../../lib/gateway';
import { DEFAULT_SERVICE_PORT } from '../../../lib/workload';
import { Capability } from '../capability';
import { SectionValue } from '../../../config/sections';
import { writableSizeMi } from '../../../config/sections/gateway';

type GatewaySection = SectionValue<'gateway'>;

/** Container ports (unprivileged) and the Service ports of the load balancer. */
export const GATEWAY_PORTS = { http: 8080, https: 8443, health: 8081 } as const;
const SERVICE_PORTS = { http: 80, https: 443 } as const;
/** The ExternalEndpoint public traffic comes from, in the connection graph. */
export const CLIENTS = 'clients';
const PRE_STOP_SECONDS = 5;
/** Methods the CRS lets through: its default lacks PUT, PATCH and DELETE, which the APIs use. */
const ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'OPTIONS', 'PUT', 'PATCH', 'DELETE'];

/** `tx.crs_setup_version` of a CRS release tag: 4.18.0-nginx-… → 4180, 3.3.4 → 334. */
export function crsSetupVersion(tag: string): number {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(tag);
  if (!m) throw new Error(`gateway image tag "${tag}": expected it to start with the CRS release, such as 4.18.0-nginx-202509051009`);
  return Number(`${m[1]}${m[2]}${m[3] ?? '0'}`);
}

/** The routed services: catalog services with a public route, in catalog order. */
function routed(config: EnvironmentConfig) {
  return config.services.filter((s) => s.catalog.route);
}

/** Config problems only the catalog can reveal: a per-route CSP or access list for a service that is unknown or not routed. */
function sectionProblems(section: GatewaySection, config: EnvironmentConfig): string[] {
  const names = routed(config).map((s) => s.name);
  const notRouted = (field: string[]) => (svc: string) => {
    const at = [...field, svc];
    const known = config.services.some((s) => s.name === svc);
    return `${config.file}:${config.lineOf(at)}: ${at.join('.')}: expected a catalog service with a public route (${names.join(', ')}), ` +
      `found "${svc}"${known ? ' (an internal service: it has no route through the gateway)' : ''}`;
  };
  return [
    ...Object.keys(section.headers.routeContentSecurityPolicy).filter((svc) => !names.includes(svc)).map(notRouted(['gateway', 'headers', 'routeContentSecurityPolicy'])),
    ...Object.keys(section.routeAccess).filter((svc) => !names.includes(svc)).map(notRouted(['gateway', 'routeAccess'])),
  ];
}

/** The model nginx.conf and modsecurity.conf are rendered from. */
export function gatewayModel(section: GatewaySection, config: EnvironmentConfig): GatewayModel {
  const ns = config.namespace.name;
  const h = section.headers;
  const r = section.rateLimit;
  return {
    routes: routed(config).map((svc) => ({
      path: svc.catalog.route!.path,
      service: svc.name,
      host: serviceHost(svc.name, ns),
      // Catalog services are Microservices with the default Service port.
      port: DEFAULT_SERVICE_PORT,
      longLivedConnections: svc.catalog.route!.longLivedConnections,
      contentSecurityPolicy: h.routeContentSecurityPolicy[svc.name] ?? h.contentSecurityPolicy,
      ...(section.routeAccess[svc.name] ? { sourceRanges: section.routeAccess[svc.name].sourceRanges } : {}),
    })),
    hosts: section.hosts,
    blockedPaths: section.blockedPaths,
    ports: GATEWAY_PORTS,
    tls: section.tls.mode === 'gateway'
      ? { mode: 'gateway', certificateFile: `${GATEWAY_TLS_DIR}/tls.crt`, keyFile: `${GATEWAY_TLS_DIR}/tls.key` }
      : { mode: 'loadBalancer' },
    trustedProxies: section.trustedProxies,
    realIpHeader: section.realIpHeader,
    rateLimits: {
      requestsPerSecond: r.requestsPerSecond, burst: r.burst,
      strictRequestsPerMinute: r.loginAndPayment.requestsPerMinute, strictBurst: r.loginAndPayment.burst, strictPaths: r.loginAndPayment.paths,
      connectionsPerClient: r.connectionsPerClient, zoneSizeMi: r.zoneSizeMi,
    },
    headers: {
      hstsMaxAgeSeconds: h.hstsMaxAgeSeconds, hstsIncludeSubDomains: true, hstsPreload: h.hstsPreload,
      defaultContentSecurityPolicy: h.contentSecurityPolicy, frameOptions: h.frameOptions, referrerPolicy: h.referrerPolicy, permissionsPolicy: h.permissionsPolicy,
    },
    waf: {
      paranoiaLevel: section.modsecurity.paranoiaLevel,
      inboundAnomalyThreshold: section.modsecurity.inboundAnomalyThreshold,
      outboundAnomalyThreshold: section.modsecurity.outboundAnomalyThreshold,
      allowedMethods: ALLOWED_METHODS,
      requestBodyLimitBytes: section.modsecurity.requestBodyLimitMi * 1024 * 1024,
      requestBodyNoFilesLimitBytes: section.modsecurity.requestBodyNoFilesLimitKi * 1024,
      crsSetupVersion: crsSetupVersion(section.image.tag),
    },
    timeouts: section.timeouts,
    drainSeconds: Math.max(...routed(config).map((s) => s.catalog.drainSeconds)),
    workerProcesses: Math.max(1, Math.ceil(cpuMillis(section.resources.limits.cpu) / 1000)),
    workerConnections: 1024,
    paths: IMAGE_PATHS,
  };
}

/** Everything the Gateway construct is built from. */
export function gatewayProps(section: GatewaySection, config: EnvironmentConfig): GatewayProps {
  const model = gatewayModel(section, config);
  const scaling: Scaling = section.autoscaling
    ? { kind: 'autoscaling', minReplicas: section.autoscaling.minReplicas, maxReplicas: section.autoscaling.maxReplicas,
      targetCpuUtilizationPercent: section.autoscaling.targetCPUUtilizationPercentage }
    : { kind: 'fixed', replicas: section.replicas ?? 2 };
  return {
    name: GATEWAY,
    image: new UpstreamImage(section.image),
    resources: section.resources,
    scaling,
    model,
    service: { externalTrafficPolicy: section.service.externalTrafficPolicy, httpPort: SERVICE_PORTS.http, httpsPort: SERVICE_PORTS.https,
      annotations: section.service.annotations, loadBalancerSourceRanges: section.service.loadBalancerSourceRanges },
    // Sized from the body limit and the connections per client, within the ephemeral-storage limit: see WRITABLE_BASE_MI.
    writableSize: `${writableSizeMi(section.modsecurity.requestBodyLimitMi, section.rateLimit.connectionsPerClient, section.resources.limits.ephemeralStorage)}Mi`,
    tlsSecretName: section.tls.mode === 'gateway' ? section.tls.certificateSecret : undefined,
    preStopSleepSeconds: PRE_STOP_SECONDS,
    // preStop, then nginx's graceful quit, bounded by worker_shutdown_timeout (the longest drain of a routed service).
    terminationGracePeriodSeconds: PRE_STOP_SECONDS + model.drainSeconds + 5,
  };
}

export const gateway: Capability<GatewaySection> & { readonly id: 'gateway' } = {
  id: 'gateway',
  check: sectionProblems,
  flows(graph, section, config) {
    const to = workloadEndpoint(GATEWAY, config.namespace.name);
    graph.addWorkload(to);
    const ports = section.tls.mode === 'gateway' ? [GATEWAY_PORTS.https, GATEWAY_PORTS.http] : [GATEWAY_PORTS.http];
    graph.addFlow({ from: { kind: 'external', name: CLIENTS }, to, ports: ports.map((port) => ({ port, protocol: 'TCP' })),
      purpose: 'public traffic through the load balancer', declaredBy: 'gateway' });
  },
  charts(app, section, context) {
    const chart = new Chart(app, 'gateway', { namespace: context.config.namespace.name, disableResourceNameHashes: true });
    new Gateway(chart, 'Gateway', gatewayProps(section, context.config));
    return [chart];
  },
};
