/**
 * ConfigMaps the cluster provides rather than the output: a CA bundle the platform team keeps
 * in the namespace (a trust-manager Bundle, for example), like Kubernetes' own
 * `kube-root-ca.crt`. A pod that mounts one says so with an annotation naming it and who
 * keeps it, so the gate's `config-map-exists` rule accepts that one reference, and only it.
 */

/** Prefix of the pod annotation `cluster-config-map.pronto.io/<name>: "<who keeps it>"`. */
export const CLUSTER_CONFIG_MAP_ANNOTATION_PREFIX = 'cluster-config-map.pronto.io/';

/** The annotation key that declares ConfigMap `name` as provided by the cluster. */
export function clusterConfigMapAnnotation(name: string): string {
  return `${CLUSTER_CONFIG_MAP_ANNOTATION_PREFIX}${name}`;
}
