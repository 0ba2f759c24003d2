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

/** The Vault Agent Injector's switch, and the annotation naming the projected token volume its agent authenticates with. */
const VAULT_INJECT_ANNOTATION = 'vault.hashicorp.com/agent-inject';
const VAULT_TOKEN_VOLUME_ANNOTATION = 'vault.hashicorp.com/agent-service-account-token-volume-name';

/**
 * Sysctls the Pod Security Standard "baseline" calls safe in policy v1.28, the version our
 * namespaces pin. The tcp_keepalive_* and tcp_fin_timeout ones became safe only in v1.29:
 * a pod using them would pass here and be rejected at admission.
 */
const SAFE_SYSCTLS = new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports']);

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

  podRule('no-service-account-token',
    'Pods mount no ServiceAccount token, except an audience-bound projected token that only the injected Vault agent reads.',
    'Set automountServiceAccountToken: false. A pod whose Vault agent needs a token gets it in a projected volume with an audience, named in '
    + `${VAULT_TOKEN_VOLUME_ANNOTATION} (with ${VAULT_INJECT_ANNOTATION}: "true") and mounted into no container of the manifest.`,
    (pod) => {
      const problems: Array<[string, string]> = [];
      if (pod.spec.automountServiceAccountToken !== false) {
        problems.push(['automountServiceAccountToken', `expected false, found ${pod.spec.automountServiceAccountToken}`]);
      }
      const annotations = pod.metadata.annotations ?? {};
      // The one token a pod may hold: the Vault agent's, recognizable from the injector's annotations.
      const vaultVolume = annotations[VAULT_INJECT_ANNOTATION] === 'true' ? annotations[VAULT_TOKEN_VOLUME_ANNOTATION] : undefined;
      (pod.spec.volumes ?? []).forEach((v: any, i: number) => {
        const sources: any[] = v.projected?.sources ?? [];
        const tokens = sources.filter((s) => s.serviceAccountToken !== undefined);
        if (tokens.length === 0) return;
        if (v.name !== vaultVolume) {
          problems.push([`volumes[${i}]`, `volume "${v.name}" projects a ServiceAccount token that no Vault agent claims (${VAULT_TOKEN_VOLUME_ANNOTATION} with ${VAULT_INJECT_ANNOTATION}: "true")`]);
          return;
        }
        if (sources.length !== 1) problems.push([`volumes[${i}].projected.sources`, `expected the Vault agent's token as the volume's only source, found ${sources.length} sources`]);
        if (!tokens[0].serviceAccountToken.audience) {
          problems.push([`volumes[${i}].projected.sources[${sources.indexOf(tokens[0])}].serviceAccountToken.audience`, 'expected an audience (the Vault role accepts only it), found none']);
        }
        for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
          (pod.spec[list] ?? []).forEach((c: any, j: number) => (c.volumeMounts ?? []).forEach((m: any, k: number) => {
            if (m.name === v.name) problems.push([`${list}[${j}].volumeMounts[${k}]`, `container "${c.name}" mounts the Vault agent's token volume "${v.name}": only the injected agent may read it`]);
          }));
        }
      });
      return problems;
    }),
];
