/**
 * The folders of an environment's output (`dist/<env>/`, and its copy in the GitOps
 * repository) that hold manifests applied apart from the environment's own kustomization,
 * each with a kustomization of its own, so that each can be applied, synced and reviewed
 * by itself.
 */

/**
 * The namespace Pronto owns with its Pod Security labels, its ResourceQuota and LimitRange
 * (and its admission policies): applied before the environment's folder, by its own Argo CD
 * Application in a project of its own, so that a change to the application folder cannot
 * touch them.
 */
export const GUARDRAILS_FOLDER = 'guardrails';

/** The Argo CD objects of the environment. */
export const ARGOCD_FOLDER = 'argocd';

/** The AppProjects: applied by an Argo CD administrator (`kubectl apply -k`), never by an Application. */
export const ARGOCD_PROJECTS_FOLDER = `${ARGOCD_FOLDER}/projects`;

/** The Applications: applied once to bootstrap; then the root Application syncs this folder. */
export const ARGOCD_APPLICATIONS_FOLDER = `${ARGOCD_FOLDER}/applications`;

/** Every folder of manifests inside an environment's folder, longest first. */
export const NESTED_MANIFEST_FOLDERS: readonly string[] = [ARGOCD_APPLICATIONS_FOLDER, ARGOCD_PROJECTS_FOLDER, GUARDRAILS_FOLDER];

/**
 * The environment folder a folder of manifests belongs to: `dist/prod/argocd/projects` and
 * `dist/prod/guardrails` belong to `dist/prod`, which belongs to itself. `/`-separated.
 */
export function environmentFolderOf(dir: string): string {
  const nested = NESTED_MANIFEST_FOLDERS.find((folder) => dir.endsWith(`/${folder}`));
  return nested ? dir.slice(0, -(nested.length + 1)) : dir;
}
