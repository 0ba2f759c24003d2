/**
 * How a client pod trusts the issuer's CA: a ConfigMap the platform keeps in the namespace
 * (a trust-manager Bundle, for example; a CA certificate is public), mounted read-only into
 * the container that connects. The ConfigMap is not in the output: the pod declares it as
 * the cluster's ({@link clusterConfigMapAnnotation}), so the gate's config-map-exists rule
 * accepts it, and a pod whose ConfigMap is missing does not start (the volume is not optional).
 */
import { clusterConfigMapAnnotation, isDnsLabel } from '../core';
import { PodExtensionPoint } from '../workload';

/** A CA bundle: the ConfigMap of the namespace and its key holding the PEM certificate(s). */
export interface CaBundle {
  readonly configMap: string;
  /** @default 'ca.crt' */
  readonly key?: string;
}

/** Where CA bundles appear in a container: `<dir>/<configMap>/<key>`. */
export const CA_BUNDLE_DIR = '/etc/pronto/ca';

/** The file of `bundle` in a container that mounted it with {@link mountCaBundle}. */
export function caBundleFile(bundle: CaBundle): string {
  return `${CA_BUNDLE_DIR}/${bundle.configMap}/${bundle.key ?? 'ca.crt'}`;
}

/** Name of the pod volume {@link mountCaBundle} adds for `bundle`, for another container of the pod to mount too. */
export function caBundleVolume(bundle: CaBundle): string {
  return `ca-${bundle.configMap}`.slice(0, 63).replace(/-+$/, '');
}

/**
 * Mounts `bundle` read-only into the app container of `pod` and returns the CA file's path.
 * Idempotent: two capabilities that trust the same bundle (PostgreSQL and Redis clients in
 * one pod) share one volume and one mount.
 */
export function mountCaBundle(pod: PodExtensionPoint, bundle: CaBundle): string {
  const key = bundle.key ?? 'ca.crt';
  if (!isDnsLabel(bundle.configMap)) throw new Error(`${pod.owner}: CA bundle: expected a ConfigMap name (a DNS label), found "${bundle.configMap}"`);
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw new Error(`${pod.owner}: CA bundle ${bundle.configMap}: expected a ConfigMap key, found "${key}"`);
  const name = caBundleVolume(bundle);
  const file = caBundleFile(bundle);
  const existing = pod.volumes.find((v) => v.name === name);
  if (existing) {
    if (existing.configMap?.name !== bundle.configMap || !existing.configMap.items?.some((i) => i.key === key)) {
      throw new Error(`${pod.owner}: volume "${name}" exists and is not CA bundle ${bundle.configMap} (key ${key})`);
    }
    return file;
  }
  pod.addVolume({ name, configMap: { name: bundle.configMap, items: [{ key, path: key }], defaultMode: 0o444 } });
  pod.addAppMount({ volume: name, path: `${CA_BUNDLE_DIR}/${bundle.configMap}`, readOnly: true });
  pod.addPodAnnotation(clusterConfigMapAnnotation(bundle.configMap),
    'CA bundle of the cluster\'s issuer, kept in the namespace by the platform team (not in the output)');
  return file;
}
