/**
 * The `circuitBreakers` section of the environment file: breaker settings for every
 * dependency edge of the catalog (`calls`), as defaults plus per-callee overrides, and the
 * mesh that enforces them (Istio, ambient or CNI), or none (the apps' in-process breakers).
 * Pure: zod and the pure lib/core files only (config/ imports it). Which services exist and
 * who calls whom comes from the catalog; the capability checks the overrides against it.
 */
import { z } from 'zod';
import { computeResourcesSchema, labelMapSchema } from './schemas';
import { BreakerLimits } from '../../lib/core/breaker';
import { isDnsLabel } from '../../lib/core/naming';

/** The breaker settings of one callee, as every caller applies them (one type with lib/resilience). */
export type BreakerSettings = BreakerLimits;

/** Every callee unless the section says otherwise. */
export const DEFAULT_BREAKER: BreakerSettings = {
  consecutiveErrors: 5,
  ejectionSeconds: 30,
  maxPendingRequests: 32,
  maxConnections: 64,
  connectTimeoutMs: 1000,
  requestTimeoutMs: 5000,
  intervalSeconds: 10,
  maxEjectionPercent: 100,
};

/**
 * Shipped per-callee overrides, applied over the section's `defaults` and under its own
 * `callees` entries. payment-gateway waits on Stripe: its breaker opens sooner, stays open
 * longer, queues less and times out sooner than any other, so a failing Stripe path fails
 * checkout fast instead of holding order-service's and clients-app's workers.
 */
export const SHIPPED_CALLEE_OVERRIDES: Readonly<Record<string, Partial<BreakerSettings>>> = {
  'payment-gateway': {
    consecutiveErrors: 3,
    ejectionSeconds: 60,
    maxPendingRequests: 8,
    maxConnections: 16,
    connectTimeoutMs: 500,
    requestTimeoutMs: 4000,
    intervalSeconds: 5,
  },
};

/** What the injected istio-proxy requests and may use (CNI data plane), unless the section says otherwise. */
export const DEFAULT_PROXY_RESOURCES = {
  requests: { cpu: '50m', memory: '64Mi', ephemeralStorage: '64Mi' },
  limits: { cpu: '200m', memory: '256Mi', ephemeralStorage: '256Mi' },
} as const;

// Not z.int(): zod reports a failed type check inside the section's union as the union's own, vaguer error.
const positive = (what: string) => z.number({ error: `expected a whole number of ${what}` }).min(1)
  .refine(Number.isInteger, { error: `expected a whole number of ${what}` });

/** One field each, all optional: a `callees` entry, or the `defaults` before defaulting. */
const settingsShape = {
  consecutiveErrors: positive('errors').describe('Consecutive errors (5xx, connect failures, timeouts) that open the breaker / eject a host'),
  ejectionSeconds: positive('seconds').describe('Seconds an ejected host or an open breaker stays out before it is tried again'),
  maxPendingRequests: positive('requests').describe('Requests queued while waiting for a connection; beyond it, calls fail at once. Counted like maxConnections'),
  maxConnections: positive('connections').describe('Connections to the callee: without a mesh per caller pod and callee; with cni per Envoy proxy (caller pod) and destination service, ' +
    'all its hosts together; with ambient in the shared waypoint, so one budget for all callers together'),
  connectTimeoutMs: positive('milliseconds').describe('Milliseconds to establish a connection'),
  requestTimeoutMs: positive('milliseconds').describe('Milliseconds for a whole request; at least connectTimeoutMs'),
  intervalSeconds: positive('seconds').describe('Seconds between two ejection analyses'),
  maxEjectionPercent: z.number({ error: 'expected a whole number of percent' }).min(1).max(100)
    .refine(Number.isInteger, { error: 'expected a whole number of percent' }).describe('Highest share of the callee\'s hosts ejected at once, in %'),
};

const defaults = z.strictObject(Object.fromEntries(
  Object.entries(settingsShape).map(([k, v]) => [k, v.default(DEFAULT_BREAKER[k as keyof BreakerSettings])]),
) as { [K in keyof typeof settingsShape]: z.ZodDefault<typeof settingsShape[K]> });

const override = z.strictObject(Object.fromEntries(
  Object.entries(settingsShape).map(([k, v]) => [k, v.optional()]),
) as { [K in keyof typeof settingsShape]: z.ZodOptional<typeof settingsShape[K]> });

const proxyResources = computeResourcesSchema(DEFAULT_PROXY_RESOURCES);

const podLabels = labelMapSchema.refine((labels) => Object.keys(labels).length > 0, { error: 'expected at least one label that selects the istiod pods' });

/** Why the classic sidecar data plane is refused; part of the error message. */
export const CLASSIC_SIDECAR_REFUSED = 'the classic sidecar\'s istio-init container needs NET_ADMIN and NET_RAW, which Pod Security "restricted" rejects ' +
  '(Pronto never weakens the namespace profile): use "ambient" (ztunnel redirects traffic from the node) or "cni" (the Istio CNI plugin sets up the redirection, and the injected sidecar needs no capability)';

const dataPlane = z.string({ error: 'expected "ambient" or "cni"' }).superRefine((v, ctx) => {
  if (v === 'ambient' || v === 'cni') return;
  const classic = /^(sidecar|classic|init|istio-init)$/.test(v);
  ctx.addIssue({ code: 'custom', input: v, message: classic ? `expected "ambient" or "cni": ${CLASSIC_SIDECAR_REFUSED}` : 'expected "ambient" or "cni"' });
}).transform((v) => v as 'ambient' | 'cni');

const mesh = z.strictObject({
  type: z.string({ error: 'expected "istio" (the only mesh supported)' })
    .refine((v) => v === 'istio', { error: 'expected "istio" (the only mesh supported)' }).transform(() => 'istio' as const)
    .meta({ enum: ['istio'] }).describe('The mesh: istio, the only one supported'),
  dataPlane: dataPlane.describe('ambient: ztunnel and a waypoint, nothing in the pods; cni: injected istio-proxy sidecars, traffic redirected by the Istio CNI plugin. The classic sidecar (istio-init, NET_ADMIN) is refused'),
  waypoint: z.string().refine(isDnsLabel, { error: 'expected the name of the waypoint (a DNS label)' }).default('waypoint')
    .describe('ambient only: the waypoint proxy of the namespace (istio.io/use-waypoint), which applies the DestinationRules; run by the mesh team'),
  controlPlane: z.strictObject({
    namespace: z.string().refine(isDnsLabel, { error: 'expected the namespace of istiod (a DNS label)' }).default('istio-system')
      .describe('Namespace of istiod (run by the mesh team; never created or guarded)'),
    podLabels: podLabels.default({ app: 'istiod' }).describe('Labels of the istiod pods'),
    port: z.int().min(1).max(65535).default(15012).describe('Port of istiod the injected proxies fetch their configuration and certificates from (cni only)'),
  }).prefault({}).describe('istiod, which the injected proxies\' egress policy allows (cni)'),
  proxy: z.strictObject({
    resources: proxyResources.prefault({})
      .describe('cni only: requests and limits of the injected istio-proxy (and its istio-validation init container); set through sidecar.istio.io/proxyCPU etc., counted by the capacity guard'),
  }).prefault({}).describe('The injected istio-proxy sidecars (cni only)'),
});

export const circuitBreakersSectionSchema = z.strictObject({
  defaults: defaults.prefault({}).describe('Breaker settings of every callee'),
  callees: z.record(z.string().meta({ title: 'service' }), override).default({})
    .describe('Per called service: settings over the defaults (payment-gateway ships stricter ones; these replace them field by field)'),
  mesh: mesh.optional().describe('Istio enforces the breakers (DestinationRules); absent: each app enforces them in process, from its env'),
}).superRefine((s, ctx) => {
  // A connect timeout above the request timeout never fires. The shipped overrides set both, so only the defaults and the section's own entries can get it wrong.
  if (s.defaults.connectTimeoutMs > s.defaults.requestTimeoutMs) {
    ctx.addIssue({ code: 'custom', path: ['defaults', 'connectTimeoutMs'], input: s.defaults.connectTimeoutMs,
      message: `expected a connect timeout ≤ the request timeout (defaults.requestTimeoutMs: ${s.defaults.requestTimeoutMs})` });
  }
  for (const [callee, own] of Object.entries(s.callees)) {
    if (own.connectTimeoutMs === undefined && own.requestTimeoutMs === undefined) continue;
    const r = breakerSettings(s, callee);
    if (r.connectTimeoutMs <= r.requestTimeoutMs) continue;
    const field = own.connectTimeoutMs === undefined && own.requestTimeoutMs !== undefined ? 'requestTimeoutMs' : 'connectTimeoutMs';
    ctx.addIssue({ code: 'custom', path: ['callees', callee, field], input: r[field],
      message: `expected a connect timeout (${r.connectTimeoutMs} ms) ≤ the request timeout (${r.requestTimeoutMs} ms) for ${callee}` });
  }
});

export type CircuitBreakersSection = z.output<typeof circuitBreakersSectionSchema>;

/** The settings every caller of `callee` applies: the defaults, then the shipped override, then the section's own. */
export function breakerSettings(section: Pick<CircuitBreakersSection, 'defaults' | 'callees'>, callee: string): BreakerSettings {
  const own = Object.fromEntries(Object.entries(section.callees[callee] ?? {}).filter(([, v]) => v !== undefined));
  return { ...section.defaults, ...SHIPPED_CALLEE_OVERRIDES[callee], ...own };
}

/** The namespaces the section refers to without owning them: istiod's, with a mesh. */
export function circuitBreakersForeignNamespaces(section: CircuitBreakersSection): string[] {
  return section.mesh ? [section.mesh.controlPlane.namespace] : [];
}
