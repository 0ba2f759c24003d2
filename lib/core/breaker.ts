/**
 * Circuit-breaker limits of one called service, as plain data: the section of the
 * `circuitBreakers` capability resolves into it, and lib/resilience renders it (env vars
 * for an in-process breaker, or an Istio DestinationRule). Pure, so config can share it.
 */
/** The breaker settings every caller of one service applies. All values are required; units are in the names. */
export interface BreakerLimits {
  /** Consecutive errors (5xx, connect failures, timeouts) that open the breaker / eject a host. */
  readonly consecutiveErrors: number;
  /** Seconds an ejected host (an open breaker) stays out before it is tried again. */
  readonly ejectionSeconds: number;
  /**
   * Requests queued while waiting for a connection; beyond it, calls fail at once. Where it
   * counts: see {@link BreakerLimits.maxConnections}.
   */
  readonly maxPendingRequests: number;
  /**
   * Connections to the callee. Where the limit is counted depends on who enforces it:
   * without a mesh, per caller pod and per callee (the app's in-process breaker); with Istio's
   * CNI data plane, per Envoy proxy (so per caller pod) and per destination service, all its
   * hosts together; with ambient, in the namespace's shared waypoint, so all callers
   * together share one budget per destination service (per waypoint replica).
   */
  readonly maxConnections: number;
  /** Milliseconds to establish a connection. */
  readonly connectTimeoutMs: number;
  /** Milliseconds for a whole request, connection included. */
  readonly requestTimeoutMs: number;
  /** Seconds between two ejection analyses. */
  readonly intervalSeconds: number;
  /** Highest share of the callee's hosts ejected at once, in %. */
  readonly maxEjectionPercent: number;
}
