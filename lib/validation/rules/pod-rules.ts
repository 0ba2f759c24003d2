import { Finding, Rule, finding } from '../finding';
import { ManifestIndex, PodTemplate } from '../manifest-index';

/** A rule checked pod template by pod template; fields are relative to the pod spec. */
function podRule(id: string, requires: string, fix: string, check: (pod: PodTemplate, index: ManifestIndex) => Array<[string, string]>): Rule {
  return {
    id, requires, fix,
    check: (index): Finding[] => index.pods.flatMap((pod) =>
      check(pod, index).map(([field, message]) => finding(id, pod.owner, `${pod.specPath}.${field}`, message))),
  };
}

/** Volume types the Pod Security Standard "restricted" allows. */
const RESTRICTED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral',
  'persistentVolumeClaim', 'projected', 'secret', 'image']);

/** Sysctls the Pod Security Standard "baseline" calls safe (policy v1.28). */
const SAFE_SYSCTLS = new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']);

export const POD_RULES: Rule[] = [
  podRule('no-host-namespaces', 'Pods share no host namespace (network, PID, IPC).',
    'Remove hostNetwork, hostPID and hostIPC.',
    (pod) => ['hostNetwork', 'hostPID', 'hostIPC'].filter((f) => pod.spec[f] === true).map((f) => [f, 'expected false, found true'])),

  podRule('restricted-volume-types', 'Pods use only the volume types Pod Security "restricted" allows.',
    'Use emptyDir, configMap, projected, persistentVolumeClaim, csi, ephemeral, downwardAPI or secret volumes.',
    (pod) => (pod.spec.volumes ?? []).flatMap((v: any, i: number) => {
      const type = Object.keys(v).find((k) => k !== 'name');
      return type && RESTRICTED_VOLUME_TYPES.has(type) ? [] : [[`volumes[${i}]`, `volume "${v.name}" is of type ${type}`] as [string, string]];
    })),

  podRule('safe-sysctls', 'Pods set only safe sysctls.', 'Remove the sysctl, or run the workload outside this namespace.',
    (pod) => (pod.spec.securityContext?.sysctls ?? []).flatMap((s: any, i: number) =>
      (SAFE_SYSCTLS.has(s.name) ? [] : [[`securityContext.sysctls[${i}].name`, `"${s.name}" is not a safe sysctl`] as [string, string]]))),

  podRule('dedicated-service-account', 'Pods run under their own ServiceAccount, never "default".',
    'Set serviceAccountName to the workload\'s own ServiceAccount.',
    (pod) => {
      if (pod.spec.serviceAccount !== undefined) return [['serviceAccount', 'deprecated field: use serviceAccountName']];
      const sa = pod.spec.serviceAccountName;
      return sa && sa !== 'default' ? [] : [['serviceAccountName', `expected a dedicated ServiceAccount, found ${sa ?? 'none (default)'}`]];
    }),

  podRule('no-service-account-token', 'Pods do not mount a ServiceAccount token unless they need one.',
    'Set automountServiceAccountToken: false; a pod that needs a token (the Vault agent) waives this rule with its reason.',
    (pod) => (pod.spec.automountServiceAccountToken === false ? []
      : [['automountServiceAccountToken', `expected false, found ${pod.spec.automountServiceAccountToken}`]])),
];
