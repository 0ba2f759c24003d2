/**
 * Circuit-breaker settings of one dependency (a called service), as plain data, and the
 * env vars that hand them to the calling app's in-process breaker when no mesh enforces them.
 */
import { BreakerLimits } from '../core';
import { EnvEntry } from '../workload';

/** One dependency edge seen from the caller: the service it calls and the limits it applies. */
export interface Dependency {
  /** The called service (its Service name). */
  readonly callee: string;
  readonly limits: BreakerLimits;
}

/**
 * Who enforces the breakers: `in-process` (the app, from its env) or `mesh` (Istio; the app
 * keeps only its client timeouts). The app reads it from {@link ENV_BREAKER_MODE}.
 */
export type BreakerMode = 'in-process' | 'mesh';

/** Env var naming who enforces the breakers. */
export const ENV_BREAKER_MODE = 'BREAKER_MODE';
/** Env var listing the callees that have settings, comma-separated, in catalog order. */
export const ENV_BREAKER_CALLEES = 'BREAKER_CALLEES';

/** The per-callee env vars: suffix → the setting it carries. */
export const BREAKER_ENV_SUFFIXES = {
  CONSECUTIVE_ERRORS: 'consecutiveErrors',
  EJECTION_SECONDS: 'ejectionSeconds',
  MAX_PENDING: 'maxPendingRequests',
  MAX_CONNECTIONS: 'maxConnections',
  CONNECT_TIMEOUT_MS: 'connectTimeoutMs',
  REQUEST_TIMEOUT_MS: 'requestTimeoutMs',
  INTERVAL_SECONDS: 'intervalSeconds',
  MAX_EJECTION_PERCENT: 'maxEjectionPercent',
} as const satisfies Record<string, keyof BreakerLimits>;

/** The suffixes a mesh leaves to the app: its client timeouts. */
const MESH_SUFFIXES = ['CONNECT_TIMEOUT_MS', 'REQUEST_TIMEOUT_MS'] as const;

/** `payment-gateway` → `PAYMENT_GATEWAY`. */
export function envKey(callee: string): string {
  return callee.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** The env var of one setting of one callee: `BREAKER_<CALLEE>_<SUFFIX>`, e.g. `BREAKER_PAYMENT_GATEWAY_MAX_PENDING`. */
export function breakerEnvName(callee: string, suffix: keyof typeof BREAKER_ENV_SUFFIXES): string {
  return `BREAKER_${envKey(callee)}_${suffix}`;
}

/**
 * The app container's env for its dependencies: `BREAKER_MODE`, `BREAKER_CALLEES`, then per
 * callee (in the order given) every setting in `in-process` mode, or only the client
 * timeouts in `mesh` mode (a DestinationRule carries no request timeout, and the app must
 * not wait forever on a proxy). Nothing for a service that calls nobody.
 */
export function breakerEnv(dependencies: readonly Dependency[], mode: BreakerMode): EnvEntry[] {
  if (dependencies.length === 0) return [];
  const keys = new Map<string, string>();
  for (const d of dependencies) {
    const key = envKey(d.callee);
    const clash = keys.get(key);
    if (clash !== undefined) throw new Error(`breaker env: callees "${clash}" and "${d.callee}" share the env key ${key}`);
    keys.set(key, d.callee);
    assertLimits(d);
  }
  const suffixes = mode === 'mesh' ? MESH_SUFFIXES : (Object.keys(BREAKER_ENV_SUFFIXES) as Array<keyof typeof BREAKER_ENV_SUFFIXES>);
  return [
    { name: ENV_BREAKER_MODE, value: mode },
    { name: ENV_BREAKER_CALLEES, value: dependencies.map((d) => d.callee).join(',') },
    ...dependencies.flatMap((d) => suffixes.map((suffix) => ({ name: breakerEnvName(d.callee, suffix), value: String(d.limits[BREAKER_ENV_SUFFIXES[suffix]]) }))),
  ];
}

/** Throws unless every limit is a positive integer and the connect timeout fits in the request timeout. */
export function assertLimits(d: Dependency): void {
  for (const [field, value] of Object.entries(d.limits)) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`breaker of ${d.callee}: ${field}: expected a whole number ≥ 1, found ${value}`);
  }
  if (d.limits.maxEjectionPercent > 100) throw new Error(`breaker of ${d.callee}: maxEjectionPercent: expected at most 100, found ${d.limits.maxEjectionPercent}`);
  if (d.limits.connectTimeoutMs > d.limits.requestTimeoutMs) {
    throw new Error(`breaker of ${d.callee}: connectTimeoutMs (${d.limits.connectTimeoutMs}) exceeds requestTimeoutMs (${d.limits.requestTimeoutMs})`);
  }
}
