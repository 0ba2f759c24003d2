import { CLUSTER_CONFIG_MAP_ANNOTATION_PREFIX, clusterConfigMapAnnotation } from '../../core/cluster-config-map';
import { Finding, Manifest, Rule, finding, rule } from '../finding';
import { ManifestIndex, PodTemplate } from '../manifest-index';

/** The API server's CA bundle: root-ca-cert-publisher (GA since Kubernetes 1.21) keeps it in every namespace, so it is never in our output. */
const KUBERNETES_ROOT_CA = 'kube-root-ca.crt';

/** Services that route to pods: not ExternalName, with a selector. */
function selectingServices(index: ManifestIndex): readonly Manifest[] {
  return index.ofKind('Service').filter((s) => s.spec?.type !== 'ExternalName');
}

function selectedPods(index: ManifestIndex, svc: Manifest): PodTemplate[] {
  const selector = svc.spec?.selector ?? {};
  return Object.keys(selector).length === 0 ? [] : index.podsSelectedBy(svc.metadata?.namespace, selector);
}

/** True when `pod` declares `targetPort` (a number or a port name) in any container. */
function declaresPort(pod: PodTemplate, targetPort: number | string): boolean {
  const containers = [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? []).filter((c: any) => c.restartPolicy === 'Always')];
  return containers.some((c: any) => (c.ports ?? []).some((p: any) => p.containerPort === targetPort || p.name === targetPort));
}

/** The pod templates a NetworkPolicy selects (an empty podSelector selects its whole namespace). */
function policyPods(index: ManifestIndex, np: Manifest): PodTemplate[] {
  return index.selectPods(np.metadata?.namespace, np.spec?.podSelector ?? {});
}

/** Kubernetes' implicit policyTypes: Ingress, plus Egress when egress rules are present. */
function policyTypes(np: Manifest): string[] {
  return np.spec?.policyTypes ?? ['Ingress', ...(np.spec?.egress ? ['Egress'] : [])];
}

/** True when `pod` declares ConfigMap `name` as the cluster's, with a reason (lib/core/cluster-config-map.ts). */
function clusterProvided(pod: PodTemplate, name: string): boolean {
  const reason = pod.metadata?.annotations?.[clusterConfigMapAnnotation(name)];
  return typeof reason === 'string' && reason.trim() !== '';
}

/** ConfigMap names a pod spec refers to, with where. */
function configMapRefs(pod: PodTemplate): Array<[string, string]> {
  const refs: Array<[string, string]> = [];
  const containers = [...(pod.spec.containers ?? []).map((c: any, i: number) => [c, `containers[${i}]`]),
    ...(pod.spec.initContainers ?? []).map((c: any, i: number) => [c, `initContainers[${i}]`])];
  for (const [c, at] of containers) {
    (c.envFrom ?? []).forEach((e: any, i: number) => e.configMapRef && !e.configMapRef.optional && refs.push([e.configMapRef.name, `${at}.envFrom[${i}]`]));
    (c.env ?? []).forEach((e: any, i: number) => {
      const ref = e.valueFrom?.configMapKeyRef;
      if (ref && !ref.optional) refs.push([ref.name, `${at}.env[${i}].valueFrom`]);
    });
  }
  (pod.spec.volumes ?? []).forEach((v: any, i: number) => {
    if (v.configMap && !v.configMap.optional) refs.push([v.configMap.name, `volumes[${i}].configMap`]);
    (v.projected?.sources ?? []).forEach((s: any, j: number) =>
      s.configMap && !s.configMap.optional && refs.push([s.configMap.name, `volumes[${i}].projected.sources[${j}]`]));
  });
  return refs;
}

export const NETWORK_RULES: Rule[] = [
  rule('service-selects-pods', 'Every Service selects the pods of a workload in the output.',
    'Give the Service a non-empty selector that matches a pod template\'s labels.',
    (index) => selectingServices(index).filter((s) => selectedPods(index, s).length === 0)
      .map((s) => finding('service-selects-pods', s, 'spec.selector', `${JSON.stringify(s.spec?.selector ?? {})} selects no pod template`))),

  rule('service-target-ports', 'Every Service targetPort is a port of the selected pods, and multi-port Services name their ports.',
    'Target a declared container port, preferably by name; name every port of a multi-port Service.',
    (index) => selectingServices(index).flatMap((s) => {
      const pods = selectedPods(index, s);
      const ports: any[] = s.spec?.ports ?? [];
      return ports.flatMap((p, i) => {
        const found: Finding[] = [];
        const target = p.targetPort ?? p.port;
        if (pods.length > 0 && !pods.every((pod) => declaresPort(pod, target))) {
          found.push(finding('service-target-ports', s, `spec.ports[${i}].targetPort`, `${JSON.stringify(target)} is not a port of every selected pod`));
        }
        if (ports.length > 1 && !p.name) found.push(finding('service-target-ports', s, `spec.ports[${i}].name`, 'missing on a multi-port Service'));
        return found;
      });
    })),

  rule('no-node-port', 'No Service is of type NodePort.', 'Use ClusterIP and route outside traffic through the gateway.',
    (index) => index.ofKind('Service').filter((s) => s.spec?.type === 'NodePort')
      .map((s) => finding('no-node-port', s, 'spec.type', 'NodePort opens a port on every node'))),

  rule('service-account-exists', 'Every ServiceAccount a pod names is in the output.',
    'Create the ServiceAccount with the workload (Microservice does).',
    (index) => index.pods.filter((p) => p.spec.serviceAccountName
      && !index.find('ServiceAccount', p.owner.metadata?.namespace, p.spec.serviceAccountName))
      .map((p) => finding('service-account-exists', p.owner, `${p.specPath}.serviceAccountName`, `ServiceAccount "${p.spec.serviceAccountName}" is not in the output`))),

  rule('config-map-exists', 'Every ConfigMap a pod refers to (env, envFrom, volumes) is in the output, except the CA bundle Kubernetes publishes in every '
    + `namespace and those the pod declares as the cluster's (a ${CLUSTER_CONFIG_MAP_ANNOTATION_PREFIX}<name> annotation saying who keeps it).`,
    'Create the ConfigMap in the same chart set, mark the reference optional, or, for one the platform keeps (a CA bundle), declare it on the pod.',
    (index) => index.pods.flatMap((p) => configMapRefs(p)
      .filter(([name]) => name !== KUBERNETES_ROOT_CA && !clusterProvided(p, name) && !index.find('ConfigMap', p.owner.metadata?.namespace, name))
      .map(([name, at]) => finding('config-map-exists', p.owner, `${p.specPath}.${at}`, `ConfigMap "${name}" is not in the output`)))),

  rule('network-policy-coverage', 'Once a namespace has NetworkPolicies, every pod is selected by policies for both ingress and egress.',
    'Add the service\'s NetworkPolicy (both policyTypes, matchLabels on its pods).',
    (index) => {
      const policies = index.ofKind('NetworkPolicy');
      const guarded = new Set(policies.map((np) => np.metadata?.namespace));
      // Mark, policy by policy, the pods each one covers; then report the unmarked.
      const covered = { Ingress: new Set<PodTemplate>(), Egress: new Set<PodTemplate>() };
      for (const np of policies) {
        const types = (['Ingress', 'Egress'] as const).filter((type) => policyTypes(np).includes(type));
        if (types.length === 0) continue;
        for (const pod of policyPods(index, np)) for (const type of types) covered[type].add(pod);
      }
      return index.pods.flatMap((p) => {
        if (!guarded.has(p.owner.metadata?.namespace)) return [];
        return (['Ingress', 'Egress'] as const).filter((type) => !covered[type].has(p))
          .map((type) => finding('network-policy-coverage', p.owner, `${p.specPath.replace(/\.spec$/, '')}.metadata.labels`, `no NetworkPolicy covers ${type} of these pods`));
      });
    }),

  rule('network-policy-selects-pods', 'Every NetworkPolicy selects at least one pod template.',
    'Fix the podSelector, or remove the policy.',
    (index) => index.ofKind('NetworkPolicy').filter((np) => policyPods(index, np).length === 0)
      .map((np) => finding('network-policy-selects-pods', np, 'spec.podSelector', 'selects no pod template'))),
];

