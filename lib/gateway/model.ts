/**
 * What the gateway's nginx and ModSecurity configuration is rendered from: plain data,
 * built by the gateway capability from the catalog's public routes and the environment's
 * `gateway` section. Every value the configuration states is here; nothing comes from an
 * nginx or ModSecurity default that the output does not write.
 */

/** One public route: a path prefix sent to a service's Service. */
export interface GatewayRoute {
  /** Path prefix, `/` or `/staff` (without a trailing slash); `/staff` also matches `/staff/...`. */
  readonly path: string;
  /** The catalog service behind it; names its nginx upstream. */
  readonly service: string;
  /** DNS name of the service's Service, e.g. `employees-app.pronto.svc.cluster.local`. */
  readonly host: string;
  /** Port of the Service (a catalog Service's is the Microservice default), which forwards to the container port by name. */
  readonly port: number;
  /** WebSocket/SSE upgrade headers, no response buffering and {@link GatewayTimeouts.longLivedSeconds}. */
  readonly longLivedConnections: boolean;
  /** The Content-Security-Policy of every response of this route. */
  readonly contentSecurityPolicy: string;
  /**
   * Client addresses (CIDRs, after the trusted proxies' header is applied) that may use the
   * route; everyone else gets 403. @default - every client
   */
  readonly sourceRanges?: readonly string[];
}

/** Request rates per client IP (the real client IP, see {@link GatewayModel.trustedProxies}). */
export interface GatewayRateLimits {
  /** Steady requests per second of one client on every route. */
  readonly requestsPerSecond: number;
  /** Requests above the rate one client may send at once before getting 429. */
  readonly burst: number;
  /** Steady requests per minute of one client on the {@link strictPaths}. */
  readonly strictRequestsPerMinute: number;
  /** Burst on the {@link strictPaths}. */
  readonly strictBurst: number;
  /** Path prefixes of login and payment endpoints, limited by both the general and the strict zone. */
  readonly strictPaths: readonly string[];
  /** Open connections per client IP. */
  readonly connectionsPerClient: number;
  /** Size of each shared-memory zone, in MiB (1 MiB holds about 16 000 client states). */
  readonly zoneSizeMi: number;
}

/** Response headers added to every response of the public server, errors included. */
export interface GatewaySecurityHeaders {
  /** HSTS max-age in seconds (sent only over HTTPS). */
  readonly hstsMaxAgeSeconds: number;
  readonly hstsIncludeSubDomains: boolean;
  readonly hstsPreload: boolean;
  /** Content-Security-Policy of responses that belong to no route (errors nginx itself answers). */
  readonly defaultContentSecurityPolicy: string;
  /** `DENY` or `SAMEORIGIN`. */
  readonly frameOptions: 'DENY' | 'SAMEORIGIN';
  /** Referrer-Policy value, e.g. `strict-origin-when-cross-origin`. */
  readonly referrerPolicy: string;
  /** Permissions-Policy value, e.g. `camera=(), microphone=(), geolocation=()`. */
  readonly permissionsPolicy: string;
}

/** ModSecurity and the OWASP Core Rule Set. */
export interface GatewayWaf {
  /** CRS paranoia level, 1-4 (blocking and detection). */
  readonly paranoiaLevel: number;
  /** Inbound anomaly score at which a request is blocked (CRS default 5). */
  readonly inboundAnomalyThreshold: number;
  /** Outbound anomaly score at which a response is blocked (CRS default 4). */
  readonly outboundAnomalyThreshold: number;
  /** HTTP methods the CRS allows (`tx.allowed_methods`); the CRS default has no PUT, PATCH or DELETE. */
  readonly allowedMethods: readonly string[];
  /** Largest request body ModSecurity accepts, in bytes (also nginx's `client_max_body_size`). */
  readonly requestBodyLimitBytes: number;
  /** Largest request body without files (JSON, forms) ModSecurity accepts, in bytes (`SecRequestBodyNoFilesLimit`); at most {@link requestBodyLimitBytes}. */
  readonly requestBodyNoFilesLimitBytes: number;
  /** `tx.crs_setup_version`: the CRS release of the image as an integer, e.g. 4180 for 4.18. */
  readonly crsSetupVersion: number;
}

/** Proxy timeouts, in seconds. */
export interface GatewayTimeouts {
  /** Connecting to a Service. */
  readonly connectSeconds: number;
  /** Waiting for (and sending to) a service on ordinary routes. */
  readonly readSeconds: number;
  /** Idle time allowed on long-lived routes (WebSocket, SSE). */
  readonly longLivedSeconds: number;
  /** A client's request line and headers must arrive within this (then 408): slow-header clients cannot hold connection slots. */
  readonly clientHeaderSeconds: number;
  /** Longest pause between two reads of a request body (then 408). */
  readonly clientBodySeconds: number;
  /** How long an idle keep-alive connection stays open. */
  readonly keepaliveSeconds: number;
}

/** Where TLS ends. */
export type GatewayTls =
  /** At the load balancer: the gateway serves HTTP and trusts X-Forwarded-Proto from the trusted proxies only. */
  | { readonly mode: 'loadBalancer' }
  /** At the gateway: HTTPS on {@link GatewayPorts.https}, HTTP redirected to HTTPS. */
  | { readonly mode: 'gateway'; readonly certificateFile: string; readonly keyFile: string };

/** Container ports nginx listens on (unprivileged: the pod runs as a non-root user). */
export interface GatewayPorts {
  /** Public HTTP. */
  readonly http: number;
  /** Public HTTPS, used when TLS ends at the gateway. */
  readonly https: number;
  /** Probes only: no ModSecurity, no rate limits, no access log. */
  readonly health: number;
}

/**
 * Files of the image and of the pod. The defaults describe the owasp/modsecurity-crs nginx
 * image with the ConfigMap mounted at `configDir` and an emptyDir at `writableDir`; the
 * real-nginx test rewrites exactly these to the Debian layout and a temporary folder.
 */
export interface GatewayPaths {
  /** The ModSecurity-nginx connector module. */
  readonly modsecurityModule: string;
  /** The CRS rule files (`*.conf`). */
  readonly crsRules: string;
  /** nginx's MIME types. */
  readonly mimeTypes: string;
  /** Where the ConfigMap (nginx.conf, modsecurity.conf) is mounted. */
  readonly configDir: string;
  /** A writable emptyDir: pid file, nginx's request-body temp files, ModSecurity temp and data (responses are never spooled to disk). */
  readonly writableDir: string;
}

/** The paths of the owasp/modsecurity-crs:<crs>-nginx image (see its Dockerfile). */
export const IMAGE_PATHS: GatewayPaths = {
  modsecurityModule: '/etc/nginx/modules/ngx_http_modsecurity_module.so',
  crsRules: '/opt/owasp-crs/rules',
  mimeTypes: '/etc/nginx/mime.types',
  configDir: '/etc/pronto/gateway',
  writableDir: '/tmp',
};

/** File names inside the ConfigMap. */
export const NGINX_CONF = 'nginx.conf';
export const MODSECURITY_CONF = 'modsecurity.conf';

/** Everything the configuration is rendered from. */
export interface GatewayModel {
  /** Routes; order does not matter (nginx picks the longest matching prefix). */
  readonly routes: readonly GatewayRoute[];
  /**
   * Host names the public servers answer; a request for any other Host gets 421 and never
   * reaches a service (the Host and X-Forwarded-Host the services see are one of these).
   * Empty: any Host (development).
   */
  readonly hosts: readonly string[];
  /**
   * Paths under every route that never leave the gateway (404): the apps' `/metrics` (scraped
   * in the cluster) and `/health` probes. Each matches itself and everything below it.
   */
  readonly blockedPaths: readonly string[];
  readonly ports: GatewayPorts;
  readonly tls: GatewayTls;
  /** CIDRs of the load balancers and proxies whose client-IP header (and X-Forwarded-Proto) is believed. */
  readonly trustedProxies: readonly string[];
  /** Header the trusted proxies put the client IP in, e.g. `X-Forwarded-For`. */
  readonly realIpHeader: string;
  readonly rateLimits: GatewayRateLimits;
  readonly headers: GatewaySecurityHeaders;
  readonly waf: GatewayWaf;
  readonly timeouts: GatewayTimeouts;
  /** Seconds a graceful quit waits for open connections (`worker_shutdown_timeout`). */
  readonly drainSeconds: number;
  /** nginx worker processes (match the CPU limit). */
  readonly workerProcesses: number;
  /** Connections per worker. */
  readonly workerConnections: number;
  readonly paths: GatewayPaths;
}
