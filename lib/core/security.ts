import * as kplus from 'cdk8s-plus-28';
import { MIN_RUN_AS_ID, workloadRunAsId } from './run-as-ids';

export * from './run-as-ids';

/**
 * Security contexts that pass the Pod Security Standard "restricted" and the stricter
 * kube-score/Checkov checks (numeric ids ≥ 10000, seccomp, capabilities dropped).
 *
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */

/** Numeric identity a pod runs as. */
export interface RunAsIds {
  /** UID of every container. Must be ≥ 10000; the image must run under it. @default - the workload's own, {@link workloadRunAsId} */
  readonly user?: number;
  /** Primary GID of every container. @default - the same as the UID */
  readonly group?: number;
  /** GID that owns mounted volumes. @default - the same as the GID */
  readonly fsGroup?: number;
  /**
   * UID of the Vault agent injected into the pods (it runs with the pod's GID).
   * @default - its own, derived from `<workload>/vault-agent` ({@link agentRunAsIds})
   */
  readonly agentUser?: number;
}

/**
 * The ids the Vault agent of `workload`'s pods runs under: a UID of its own (derived like a
 * workload's, from `<workload>/vault-agent`, so no app container ever runs as it) and the
 * pod's GID. The agent owns every file it renders: the app reads its files through the group,
 * and a file rendered `0400` is readable only by containers that run as the agent's UID (a
 * log shipper reading its Loki password), never by the app.
 */
export function agentRunAsIds(workload: string, pod: { readonly group: number; readonly agentUser?: number }): { user: number; group: number } {
  return { user: pod.agentUser ?? workloadRunAsId(`${workload}/vault-agent`), group: pod.group };
}

/**
 * The ids of `workload`: those given, else its own ({@link workloadRunAsId}, the same number
 * for user, group and fsGroup, so nothing of one workload is another's by group either).
 * Checks they are unprivileged.
 */
export function resolveRunAsIds(workload: string, ids: RunAsIds = {}): Required<RunAsIds> {
  const own = workloadRunAsId(workload);
  const user = ids.user ?? own;
  const group = ids.group ?? (ids.user ?? own);
  const resolved = { user, group, fsGroup: ids.fsGroup ?? group, agentUser: agentRunAsIds(workload, { group, agentUser: ids.agentUser }).user };
  for (const [field, value] of Object.entries(resolved)) {
    if (!Number.isInteger(value) || value < MIN_RUN_AS_ID) {
      throw new Error(`${workload}: runAs ${field}: expected an integer ≥ ${MIN_RUN_AS_ID}, found ${value}`);
    }
  }
  return resolved;
}

/** The seccomp profile of every pod and container: the runtime's default filter. */
const RUNTIME_DEFAULT_SECCOMP = { type: 'RuntimeDefault' };

/**
 * Container security context: non-root, read-only root, no privilege, all capabilities
 * dropped. Without `ids` the container runs as its pod does (the pod's runAsUser and
 * runAsGroup): for a container a webhook injects into pods of different workloads.
 */
export function restrictedContainerSecurityContext(ids?: { readonly user: number; readonly group: number }): kplus.k8s.SecurityContext {
  return {
    runAsNonRoot: true,
    ...(ids ? { runAsUser: ids.user, runAsGroup: ids.group } : {}),
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
export function restrictedPodSecurityContext(ids: { readonly user: number; readonly group: number; readonly fsGroup: number }): kplus.k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: ids.user,
    runAsGroup: ids.group,
    fsGroup: ids.fsGroup,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: RUNTIME_DEFAULT_SECCOMP,
  };
}
