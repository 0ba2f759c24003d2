/**
 * Containers that admission webhooks add to a pod at run time (the Vault agent and its
 * init container, an operator's init container, a mesh proxy). They are not in the
 * manifest, yet the ResourceQuota counts them once injected, so a pod declares them in
 * one annotation on its template and the capacity guard counts them at peak scale.
 */
import { ComputeResources } from './resources';

/** Pod-template annotation listing the injected containers and their resources (JSON). */
export const ANNOTATION_INJECTED = 'pronto.io/injected-containers';

/** One container a webhook injects. */
export interface InjectedContainer {
  /** Container name the webhook uses, e.g. `vault-agent`. */
  readonly name: string;
  /**
   * `sidecar` runs beside the app for the pod's life (counted with the app containers);
   * `init` runs to completion before them (counted like a plain init container).
   */
  readonly kind: 'sidecar' | 'init';
  /** What the webhook is configured to request and limit. */
  readonly resources: ComputeResources;
}

/** The annotation value: a JSON object keyed by container name, keys sorted, so output is stable. */
export function formatInjected(containers: readonly InjectedContainer[]): string {
  const sorted = [...containers].sort((a, b) => a.name.localeCompare(b.name));
  return JSON.stringify(Object.fromEntries(sorted.map((c) => [c.name, { kind: c.kind, ...c.resources }])));
}

/** Parses the annotation value; throws with the reason when it is malformed. */
export function parseInjected(value: string): InjectedContainer[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error(`${ANNOTATION_INJECTED}: expected JSON, found ${JSON.stringify(value.slice(0, 40))}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${ANNOTATION_INJECTED}: expected a JSON object keyed by container name`);
  }
  return Object.entries(parsed as Record<string, any>).map(([name, c]) => {
    if (c?.kind !== 'sidecar' && c?.kind !== 'init') {
      throw new Error(`${ANNOTATION_INJECTED}: ${name}.kind: expected "sidecar" or "init", found ${JSON.stringify(c?.kind)}`);
    }
    return { name, kind: c.kind, resources: { requests: c.requests, limits: c.limits } };
  });
}
