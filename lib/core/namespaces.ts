/**
 * Namespaces Kubernetes itself runs. Pronto may refer to them (DNS lives in kube-system)
 * but never creates or guards them: owning one would put Pronto's quota and Pod Security
 * labels on the cluster's own components.
 */
export const RESERVED_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** True for a namespace Pronto must never own: `default` and every `kube-*` one Kubernetes keeps for itself. */
export function isReservedNamespace(name: string): boolean {
  return RESERVED_NAMESPACES.includes(name) || name.startsWith('kube-');
}

/** Pod Security Standards version pinned in the admission labels unless config says otherwise. */
export const DEFAULT_POD_SECURITY_VERSION = 'v1.28';
