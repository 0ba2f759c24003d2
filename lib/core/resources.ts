/**
 * Container compute resources as plain data. Every container Pronto emits states all
 * six values: a missing request lets the scheduler overcommit the node, a missing limit
 * lets the LimitRange (or a library) pick one silently.
 */
import { bytes, cpuMillis, isByteQuantity, isCpuQuantity } from './quantity';

/** CPU, memory and ephemeral storage, as Kubernetes quantities (`250m`, `256Mi`, `1Gi`). */
export interface ComputeAmounts {
  /** CPU, e.g. `250m` or `1`. */
  readonly cpu: string;
  /** Memory, e.g. `256Mi`. */
  readonly memory: string;
  /** Scratch disk (logs, `emptyDir` without `medium: Memory`), e.g. `1Gi`. */
  readonly ephemeralStorage: string;
}

/** Requests and limits of one container; every field is required. */
export interface ComputeResources {
  readonly requests: ComputeAmounts;
  readonly limits: ComputeAmounts;
}

const FIELDS = ['cpu', 'memory', 'ephemeralStorage'] as const;
/** A compute resource: `cpu`, `memory` or `ephemeralStorage`. */
export type ComputeField = typeof FIELDS[number];

/**
 * True when a request is above its limit (the API server rejects that container).
 * The one implementation: config validation, constructs and the gate all call it.
 */
export function requestExceedsLimit(field: ComputeField, request: string, limit: string): boolean {
  return parse(field, request) > parse(field, limit);
}

/**
 * Why `resources` cannot be used, or undefined: every value present, well-formed,
 * above zero, and no request above its limit. `where` prefixes each message.
 */
export function resourcesProblems(resources: ComputeResources | undefined, where: string): string[] {
  if (!resources || !resources.requests || !resources.limits) {
    return [`${where}: resources are required (requests and limits of cpu, memory and ephemeralStorage), found none`];
  }
  const problems: string[] = [];
  for (const group of ['requests', 'limits'] as const) {
    for (const field of FIELDS) {
      const value = resources[group][field];
      const valid = field === 'cpu' ? isCpuQuantity(String(value)) : isByteQuantity(String(value));
      if (value === undefined || !valid || parse(field, value) === 0) {
        problems.push(`${where}: resources.${group}.${field}: expected a quantity above zero, found ${JSON.stringify(value)}`);
      }
    }
  }
  if (problems.length > 0) return problems;
  for (const field of FIELDS) {
    if (requestExceedsLimit(field, resources.requests[field], resources.limits[field])) {
      problems.push(`${where}: resources.requests.${field} (${resources.requests[field]}) exceeds the limit (${resources.limits[field]})`);
    }
  }
  return problems;
}

function parse(field: ComputeField, value: string): number {
  return field === 'cpu' ? cpuMillis(value) : bytes(value);
}

/**
 * The `resources` block of a container: CPU in millicores, memory in `Mi` and ephemeral
 * storage in `Gi` where they divide evenly, so equal amounts always read the same.
 */
export function renderResources(resources: ComputeResources): { requests: Record<string, string>; limits: Record<string, string> } {
  const amounts = (a: ComputeAmounts) => ({
    'cpu': `${cpuMillis(a.cpu)}m`,
    'memory': inUnit(a.memory, ['Mi']),
    'ephemeral-storage': inUnit(a.ephemeralStorage, ['Gi', 'Mi']),
  });
  return { requests: amounts(resources.requests), limits: amounts(resources.limits) };
}

const UNITS: Record<string, number> = { Mi: 2 ** 20, Gi: 2 ** 30 };

function inUnit(quantity: string, units: string[]): string {
  const n = bytes(quantity);
  for (const unit of units) if (n % UNITS[unit] === 0) return `${n / UNITS[unit]}${unit}`;
  return quantity;
}
