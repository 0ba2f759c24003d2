/**
 * The `gateway` section of the environment file: nginx with ModSecurity and the OWASP CRS
 * in front of the services that declare a public route. Pure: zod and the pure lib/core
 * files only (config/ imports it). The routes themselves come from the catalog; this
 * section holds what varies per environment.
 */
import { z } from 'zod';
import { bytes, cpuMillis, isByteQuantity, isCpuQuantity } from '../../lib/core/quantity';
import { requestExceedsLimit } from '../../lib/core/resources';
import { cidrBlockSchema, upstreamImageSchema } from './schemas';

/** A header value written into nginx.conf between double quotes. */
const headerValue = (what: string) => z.string({ error: `expected ${what}` })
  // Not aborting: zod reports an aborted branch of the section's union as the union's own, vaguer error.
  .refine((v) => v.trim() !== '', { error: `expected ${what}, found an empty value` })
  // eslint-disable-next-line no-control-regex
  .refine((v) => !/["\\$\x00-\x1f\x7f]/.test(v), { error: `expected ${what} without double quotes, backslashes, $ or control characters` });

/** A strict Content-Security-Policy: non-empty, with frame-ancestors, and no unsafe-inline/unsafe-eval scripts. */
export const cspSchema = headerValue('a Content-Security-Policy such as "default-src \'self\'; frame-ancestors \'none\'"')
  .refine((v) => v.trim() === '' || /(^|;)\s*frame-ancestors\s/.test(v), { error: 'expected a Content-Security-Policy with a frame-ancestors directive (clickjacking)' })
  .refine((v) => !/'unsafe-(inline|eval)'/.test(v), { error: 'expected a strict Content-Security-Policy: no \'unsafe-inline\' or \'unsafe-eval\'' });

const PATH = /^\/([-a-z0-9]+(\/[-a-z0-9]+)*)?$/;
const SERVICE = /^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const cpu = z.union([z.string(), z.number()], { error: 'expected a CPU quantity such as 250m or 1.5' }).transform((v) => String(v))
  .refine(isCpuQuantity, { error: 'expected a CPU quantity such as 250m or 1.5', abort: true })
  .refine((v) => cpuMillis(v) > 0, { error: 'expected a CPU quantity greater than 0' });
const memory = z.string({ error: 'expected a memory quantity in whole Mi or Gi' }).regex(/^[1-9]\d*(Mi|Gi)$/, { error: 'expected a memory quantity in whole Mi or Gi, such as 256Mi' });
const storage = z.string({ error: 'expected a quantity in whole Mi or Gi' }).regex(/^[1-9]\d*(Mi|Gi)$/, { error: 'expected a quantity in whole Mi or Gi, such as 1Gi' })
  .refine(isByteQuantity);
const compute = (c: string, m: string, s: string) => z.strictObject({
  cpu: cpu.default(c).describe('CPU, above zero: millicores such as 200m, or cores such as 1'),
  memory: memory.default(m).describe('Memory, in whole Mi or Gi'),
  ephemeralStorage: storage.default(s)
    .describe('Ephemeral storage, in whole Mi or Gi: holds /tmp (request bodies spooled by nginx, ModSecurity\'s files) and the logs; see WRITABLE_BASE_MI'),
});

/**
 * The writable emptyDir at /tmp holds nginx's client_body_temp (every request body over
 * client_body_buffer_size, 16k, is spooled there until it has been sent upstream),
 * ModSecurity's tmp and data, and the pid file; responses are streamed, never spooled
 * (`proxy_max_temp_file_size 0`). An emptyDir over its sizeLimit gets the pod evicted, and
 * so does the pod's disk use (emptyDirs, logs, writable layer) over the containers'
 * ephemeral-storage limits. So:
 *
 *   size = {@link WRITABLE_BASE_MI} + body limit × connectionsPerClient
 *          (one client at its connection limit, every connection uploading a body at the
 *          limit, cannot evict a pod), capped at the ephemeral-storage limit minus
 *          {@link LOG_HEADROOM_MI} (the container's logs and writable layer count too).
 *
 * The section refuses an ephemeral-storage limit below base + one full body + headroom.
 */
export const WRITABLE_BASE_MI = 64;
/** Room left in the ephemeral-storage limit for the container's logs (kubelet rotation) and its writable layer. */
export const LOG_HEADROOM_MI = 128;

/** MiB of an ephemeral-storage quantity (whole Mi or Gi, as the section accepts). */
const mebibytes = (quantity: string) => Math.floor(bytes(quantity) / (1024 * 1024));

/** The size of the writable emptyDir, in MiB: see {@link WRITABLE_BASE_MI}. */
export function writableSizeMi(requestBodyLimitMi: number, connectionsPerClient: number, ephemeralStorageLimit: string): number {
  return Math.min(WRITABLE_BASE_MI + requestBodyLimitMi * connectionsPerClient, mebibytes(ephemeralStorageLimit) - LOG_HEADROOM_MI);
}

/**
 * Service annotations that give a cloud load balancer a TLS listener (so TLS may end there):
 * AWS's certificate annotation of the in-tree and AWS Load Balancer Controller Services.
 */
export const LOAD_BALANCER_TLS_ANNOTATIONS = ['service.beta.kubernetes.io/aws-load-balancer-ssl-cert'] as const;

/** Gateway pods: at least 2 everywhere, so a drain or a rollout never leaves the site without an entry point. */
export const GATEWAY_MIN_PODS = 2;

const autoscaling = z.strictObject({
  minReplicas: z.int().min(GATEWAY_MIN_PODS, { error: `expected at least ${GATEWAY_MIN_PODS} gateway pods` })
    .describe(`Fewest gateway pods the HorizontalPodAutoscaler keeps (at least ${GATEWAY_MIN_PODS})`),
  maxReplicas: z.int().min(GATEWAY_MIN_PODS + 1).describe('Most gateway pods it scales to, above minReplicas'),
  targetCPUUtilizationPercentage: z.int().min(10).max(100).default(70).describe('Average CPU use, in % of the CPU request, the HPA keeps'),
}).refine((a) => a.maxReplicas > a.minReplicas, {
  error: (iss) => `expected maxReplicas greater than minReplicas (${(iss.input as { minReplicas: number }).minReplicas})`, path: ['maxReplicas'],
});

const tls = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('loadBalancer').describe('TLS ends at the load balancer; X-Forwarded-Proto is believed from trustedProxies only') }),
  z.strictObject({
    mode: z.literal('gateway').describe('TLS ends at the gateway (HTTPS on the Service\'s port 443, HTTP redirected)'),
    certificateSecret: z.string().regex(DNS_SUBDOMAIN, { error: 'expected the name of a kubernetes.io/tls Secret managed outside Git' })
      .describe('Secret with tls.crt and tls.key, managed outside Git (cert-manager or the SREs)'),
  }),
], { error: 'expected mode "loadBalancer" or "gateway"' });

/** The gateway section. */
export const gatewaySectionSchema = z.strictObject({
  image: upstreamImageSchema.describe('nginx with ModSecurity v3 and the OWASP CRS, e.g. docker.io/owasp/modsecurity-crs tag 4.18.0-nginx-202509051009'),
  replicas: z.int().min(GATEWAY_MIN_PODS, { error: `expected at least ${GATEWAY_MIN_PODS} gateway pods` }).optional()
    .describe(`Fixed pod count (at least ${GATEWAY_MIN_PODS}). Default: ${GATEWAY_MIN_PODS} unless autoscaling is set`),
  autoscaling: autoscaling.optional().describe('A HorizontalPodAutoscaler on CPU instead of a fixed count'),
  resources: z.strictObject({
    requests: compute('200m', '256Mi', '1Gi').prefault({}).describe('What the scheduler reserves for the nginx container'),
    limits: compute('1', '512Mi', '2Gi').prefault({}).describe('The most the nginx container may use; each at least its request'),
  }).prefault({}).describe('Requests and limits of the nginx container').superRefine((r, ctx) => {
    for (const field of ['cpu', 'memory', 'ephemeralStorage'] as const) {
      if (requestExceedsLimit(field, r.requests[field], r.limits[field])) {
        ctx.addIssue({ code: 'custom', path: ['limits', field], input: r.limits[field], message: `expected a limit ≥ the request (${r.requests[field]})` });
      }
    }
  }),
  tls: tls.prefault({ mode: 'loadBalancer' })
    .describe('Where HTTPS ends: at the cloud load balancer (which then needs its TLS annotations and trustedProxies), or at the gateway with a certificate Secret'),
  hosts: z.array(z.string().regex(DNS_SUBDOMAIN, { error: 'expected a host name such as shop.pronto.example.com' })).default([])
    .describe('Host names the gateway answers; any other Host gets 421 and reaches no service (the Host and X-Forwarded-Host the apps see are one of these). Empty: any Host (development only)'),
  blockedPaths: z.array(z.string().regex(PATH, { error: 'expected a path such as /metrics (no trailing slash)' })).default(['/metrics', '/health'])
    .describe('Paths under every route that never leave the gateway (404), each with everything below it: the apps\' /metrics (Prometheus scrapes it in the cluster) and /health probes (the kubelet\'s)'),
  routeAccess: z.record(z.string().regex(SERVICE, { error: 'expected a catalog service name' }).meta({ title: 'service' }), z.strictObject({
    sourceRanges: z.array(cidrBlockSchema).min(1, { error: 'expected at least one CIDR block (an empty list would lock everyone out)' })
      .describe('Client addresses (after the trusted proxies\' header) allowed on the route; everyone else gets 403'),
  })).default({}).describe('Per routed service (catalog name): restrict its route to some client addresses, such as the staff\'s network or VPN'),
  trustedProxies: z.array(cidrBlockSchema).default([])
    .describe('CIDRs of the load balancers/proxies whose client-IP header and X-Forwarded-Proto are believed'),
  realIpHeader: z.enum(['X-Forwarded-For', 'X-Real-IP']).default('X-Forwarded-For').describe('Header the trusted proxies put the client IP in'),
  service: z.strictObject({
    externalTrafficPolicy: z.enum(['Local', 'Cluster']).default('Local').describe('Local keeps the client address'),
    annotations: z.record(z.string().meta({ title: 'annotation' }), z.string()).default({}).describe('For the cloud\'s load-balancer controller'),
    loadBalancerSourceRanges: z.array(cidrBlockSchema).default([]).describe('Clients admitted by the load balancer; empty: all'),
  }).prefault({}).describe('The gateway\'s Service of type LoadBalancer (ports 80 and 443)'),
  rateLimit: z.strictObject({
    requestsPerSecond: z.int().min(1, { error: 'expected at least 1 request per second (0 would refuse every client)' }).default(20)
      .describe('Requests per second one client address may make on every route (nginx limit_req); above rate and burst: 429'),
    burst: z.int().min(0).default(40).describe('Requests above the rate accepted at once before 429'),
    loginAndPayment: z.strictObject({
      requestsPerMinute: z.int().min(1, { error: 'expected at least 1 request per minute (0 would refuse every login)' }).default(10)
        .describe('Requests per minute one client address may make on these paths, on top of the general limit'),
      burst: z.int().min(0).default(5).describe('Requests above that rate accepted at once before 429'),
      paths: z.array(z.string().regex(PATH, { error: 'expected a path such as /login (no trailing slash)' })).min(1).default(['/checkout', '/login', '/payment', '/staff/login'])
        .describe('Path prefixes of login and payment endpoints: stricter per-client limit'),
    }).prefault({}).describe('A stricter limit on login and payment paths (credential stuffing, card testing)'),
    connectionsPerClient: z.int().min(1, { error: 'expected at least 1 connection per client' }).default(50)
      .describe('Open connections one client address may hold (nginx limit_conn); more: 429'),
    zoneSizeMi: z.int().min(1).max(256).default(10).describe('Shared memory per zone (1Mi ≈ 16 000 clients)'),
  }).prefault({}).describe('Per-client limits, keyed by the client address (after the trusted proxies\' header)'),
  modsecurity: z.strictObject({
    paranoiaLevel: z.int().min(1).max(4).default(2)
      .describe('OWASP CRS paranoia level (blocking and detection): higher catches more attacks and blocks more legitimate requests'),
    inboundAnomalyThreshold: z.int().min(1).default(5)
      .describe('Anomaly score at which a request is blocked (403); the CRS default is 5, one critical rule match'),
    outboundAnomalyThreshold: z.int().min(1).default(4).describe('Anomaly score at which a response is blocked; the CRS default is 4'),
    requestBodyLimitMi: z.int().min(1).max(1024).default(10).describe('Largest request body (nginx client_max_body_size and SecRequestBodyLimit)'),
    requestBodyNoFilesLimitKi: z.int().min(1).default(1024)
      .describe('Largest request body without files (JSON, forms: SecRequestBodyNoFilesLimit), at most the body limit; over it: 413'),
  }).prefault({}).describe('The web application firewall: ModSecurity v3 with the OWASP Core Rule Set, blocking').superRefine((m, ctx) => {
    if (m.requestBodyNoFilesLimitKi > m.requestBodyLimitMi * 1024) {
      ctx.addIssue({ code: 'custom', path: ['requestBodyNoFilesLimitKi'], input: m.requestBodyNoFilesLimitKi,
        message: `expected at most the body limit (requestBodyLimitMi ${m.requestBodyLimitMi} = ${m.requestBodyLimitMi * 1024} KiB)` });
    }
  }),
  headers: z.strictObject({
    hstsMaxAgeSeconds: z.int().min(31536000, { error: 'expected an HSTS max-age of at least one year (31536000)' }).default(31536000)
      .describe('Strict-Transport-Security max-age, at least one year'),
    hstsPreload: z.boolean().default(false)
      .describe('Add preload to Strict-Transport-Security (only once every subdomain serves HTTPS: browsers keep the preload list for months)'),
    contentSecurityPolicy: cspSchema.default("default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'")
      .describe('Default Content-Security-Policy'),
    routeContentSecurityPolicy: z.record(z.string().regex(SERVICE, { error: 'expected a catalog service name' }).meta({ title: 'service' }), cspSchema).default({})
      .describe('Per routed service (catalog name), replacing the default'),
    frameOptions: z.enum(['DENY', 'SAMEORIGIN']).default('DENY').describe('X-Frame-Options (for browsers that ignore frame-ancestors)'),
    referrerPolicy: z.enum(['no-referrer', 'same-origin', 'strict-origin', 'strict-origin-when-cross-origin']).default('strict-origin-when-cross-origin')
      .describe('Referrer-Policy'),
    permissionsPolicy: headerValue('a Permissions-Policy').default('camera=(), microphone=(), geolocation=(), usb=()')
      .describe('Permissions-Policy: the browser features the pages may use'),
  }).prefault({}).describe('Security headers on every response (the services\' own are replaced)'),
  timeouts: z.strictObject({
    connectSeconds: z.int().min(1).max(75).default(5).describe('Seconds to connect to a service (proxy_connect_timeout)'),
    readSeconds: z.int().min(1).default(60).describe('Seconds a service may stay silent while answering (proxy_read_timeout and proxy_send_timeout) on ordinary routes'),
    longLivedSeconds: z.int().min(60).default(3600).describe('Idle time on long-lived routes (WebSocket, SSE)'),
    clientHeaderSeconds: z.int().min(1).max(60).default(10)
      .describe('A client\'s request line and headers must arrive within this, else 408: a slow-header client cannot hold connection slots'),
    clientBodySeconds: z.int().min(1).max(120).default(10).describe('Longest pause between two reads of a request body, else 408'),
    keepaliveSeconds: z.int().min(1).max(300).default(15).describe('How long an idle keep-alive connection stays open'),
  }).prefault({}).describe('Timeouts toward the services and toward clients'),
}).superRefine((s, ctx) => {
  if (s.replicas !== undefined && s.autoscaling) {
    ctx.addIssue({ code: 'custom', path: ['replicas'], input: s.replicas, message: 'expected either replicas or autoscaling, not both (an HPA owns the replica count)' });
  }
  if (s.tls.mode === 'loadBalancer' && !LOAD_BALANCER_TLS_ANNOTATIONS.some((a) => s.service.annotations[a] !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['tls', 'mode'], input: s.tls.mode,
      message: `expected mode "gateway" (nginx serves HTTPS with certificateSecret), or service.annotations that give the load balancer its TLS listener (${LOAD_BALANCER_TLS_ANNOTATIONS.join(', ')}): ` +
        'a plain L4 load balancer terminates nothing, so no HTTPS and no HSTS would reach a browser' });
  }
  if (s.tls.mode === 'loadBalancer' && s.trustedProxies.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['trustedProxies'], input: s.trustedProxies,
      message: 'expected the CIDRs of the load balancer when TLS ends there (X-Forwarded-Proto and the client IP are believed from them only)' });
  }
  const storage = s.resources.limits.ephemeralStorage;
  const needed = WRITABLE_BASE_MI + s.modsecurity.requestBodyLimitMi + LOG_HEADROOM_MI;
  if (mebibytes(storage) < needed) {
    ctx.addIssue({ code: 'custom', path: ['resources', 'limits', 'ephemeralStorage'], input: storage,
      message: `expected at least ${needed}Mi: /tmp needs ${WRITABLE_BASE_MI}Mi plus one request body at the limit (${s.modsecurity.requestBodyLimitMi}Mi), and the logs ${LOG_HEADROOM_MI}Mi` });
  }
});
