/**
 * Argo CD sync waves: Argo CD applies the objects of an Application wave by wave, lowest
 * first, and waits for each wave to be healthy before the next.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/sync-waves/
 */
import { ApiObject } from 'cdk8s';

/** The annotation Argo CD orders a sync by; its value is an integer, as a string. */
export const SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';

/** Puts `object` in sync wave `wave` (an integer; negative waves go first). */
export function setSyncWave(object: ApiObject, wave: number): void {
  if (!Number.isInteger(wave)) throw new Error(`${object.node.path}: sync wave must be an integer, found ${wave}`);
  object.metadata.addAnnotation(SYNC_WAVE_ANNOTATION, String(wave));
}

/** The annotation of per-object Argo CD sync options (comma-separated). */
export const SYNC_OPTIONS_ANNOTATION = 'argocd.argoproj.io/sync-options';

/**
 * Tells Argo CD never to prune `object` (`Prune=false`): an object whose deletion would take
 * others with it (a Namespace) leaves only by a person's decision, never because it left an
 * Application's folder or moved to another Application.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/sync-options/#no-prune-resources
 */
export function neverPrune(object: ApiObject): void {
  object.metadata.addAnnotation(SYNC_OPTIONS_ANNOTATION, 'Prune=false');
}
