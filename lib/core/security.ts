import * as kplus from 'cdk8s-plus-28';

/**
 * Security contexts that pass the Pod Security Standard "restricted" and the stricter
 * kube-score/Checkov checks (numeric ids ≥ 10000, seccomp, capabilities dropped).
 *
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */

/** Numeric identity a pod runs as. */
export interface RunAsIds {
  /** UID of every container. Must be ≥ 10000 and match the image's USER. @default 10001 */
  readonly user?: number;
  /** Primary GID of every container. @default 10001 */
  readonly group?: number;
  /** GID that owns mounted volumes. @default 10001 */
  readonly fsGroup?: number;
}

/** The UID, GID and fsGroup Pronto images are built with. */
export const DEFAULT_RUN_AS_ID = 10001;
/** Lowest UID/GID accepted: below it ids may collide with host users. */
export const MIN_RUN_AS_ID = 10000;

/** Resolves defaults and checks the ids are unprivileged. */
export function resolveRunAsIds(ids: RunAsIds = {}): Required<RunAsIds> {
  const resolved = {
    user: ids.user ?? DEFAULT_RUN_AS_ID,
    group: ids.group ?? DEFAULT_RUN_AS_ID,
    fsGroup: ids.fsGroup ?? DEFAULT_RUN_AS_ID,
  };
  for (const [field, value] of Object.entries(resolved)) {
    if (!Number.isInteger(value) || value < MIN_RUN_AS_ID) {
      throw new Error(`runAs ${field}: expected an integer ≥ ${MIN_RUN_AS_ID}, found ${value}`);
    }
  }
  return resolved;
}

/** The seccomp profile of every pod and container: the runtime's default filter. */
const RUNTIME_DEFAULT_SECCOMP = { type: 'RuntimeDefault' };

/** Container security context: non-root, read-only root, no privilege, all capabilities dropped. */
export function restrictedContainerSecurityContext(ids: { readonly user: number; readonly group: number }): kplus.k8s.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: ids.user,
    runAsGroup: ids.group,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: RUNTIME_DEFAULT_SECCOMP,
  };
}

/**
 * Pod security context. `OnRootMismatch` avoids a recursive chown of every volume on
 * each start; the pod-level seccomp profile covers containers that webhooks inject.
 */
export function restrictedPodSecurityContext(ids: Required<RunAsIds>): kplus.k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: ids.user,
    runAsGroup: ids.group,
    fsGroup: ids.fsGroup,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: RUNTIME_DEFAULT_SECCOMP,
  };
}
