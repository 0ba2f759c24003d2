import { Rule, finding, rule } from '../finding';

/** An AppProject's whitelist entry (`group` "" for the core group; both may be glob patterns). */
interface WhitelistEntry {
  readonly group?: unknown;
  readonly kind?: unknown;
}

/** RBAC: whoever may create these may grant themselves anything the binding reaches. */
const RBAC_GROUP = 'rbac.authorization.k8s.io';
const RBAC_KINDS = ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'];
/** Argo CD's own kinds that widen a project: a project that may write projects widens itself. */
const PROJECT_KIND = { group: 'argoproj.io', kind: 'AppProject' };
/** The characters that make a whitelist entry a pattern (Argo CD matches entries with Go's filepath.Match). */
const PATTERN = /[*?[\\]/;

/** A whitelist entry as `group/kind` (`core/` for the core group). */
const groupKind = (e: WhitelistEntry) => `${e.group === '' ? 'core' : String(e.group)}/${String(e.kind)}`;

/**
 * What an AppProject's spec allows beyond least privilege, as `[path, message]`: any
 * cluster-scoped kind (Argo CD cannot restrict cluster-scoped objects by name or
 * destination), an absent namespaced whitelist (Argo CD reads it as every kind), a pattern
 * (`*`), RBAC kinds, or AppProject itself in the namespaced whitelist.
 */
export function appProjectPrivileges(spec: Readonly<Record<string, unknown>> | undefined): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  const cluster = spec?.clusterResourceWhitelist;
  if (Array.isArray(cluster)) {
    cluster.forEach((e: WhitelistEntry, i) => problems.push([`spec.clusterResourceWhitelist[${i}]`,
      `allows the cluster-scoped kind ${groupKind(e)}: every object of it, whatever its name, reaches past the project's destinations`]));
  }
  const namespaced = spec?.namespaceResourceWhitelist;
  if (!Array.isArray(namespaced)) {
    problems.push(['spec.namespaceResourceWhitelist', 'is absent: Argo CD then allows every namespaced kind (Role, RoleBinding, AppProject, Application included)']);
    return problems;
  }
  namespaced.forEach((e: WhitelistEntry, i) => {
    const at = `spec.namespaceResourceWhitelist[${i}]`;
    if (PATTERN.test(String(e.group)) || PATTERN.test(String(e.kind))) {
      problems.push([at, `allows the pattern ${groupKind(e)}: list the kinds, one by one`]);
    } else if (e.group === RBAC_GROUP && RBAC_KINDS.includes(String(e.kind))) {
      problems.push([at, `allows ${groupKind(e)}: RBAC lets a commit grant permissions`]);
    } else if (e.group === PROJECT_KIND.group && e.kind === PROJECT_KIND.kind) {
      problems.push([at, `allows ${groupKind(e)}: a project that may write projects can widen itself and every other`]);
    }
  });
  return problems;
}

export const ARGOCD_RULES: Rule[] = [
  rule('appproject-least-privilege', 'Argo CD AppProjects allow no cluster-scoped kind, and list their namespaced kinds (never absent, no pattern, no RBAC kind, no AppProject).',
    'Allow only the namespaced kinds the project\'s folder renders; move cluster-scoped objects to a project of their own, and waive the rule there with the reason (pronto.io/waive-appproject-least-privilege: "<why>").',
    (index) => index.ofKind('AppProject').flatMap((p) => appProjectPrivileges(p.spec)
      .map(([path, message]) => finding('appproject-least-privilege', p, path, message)))),
];
