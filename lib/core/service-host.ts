/**
 * The cluster DNS name of a Service: one definition for every caller (the gateway's
 * upstreams, the mesh's DestinationRule hosts), so they all address a Service the same way.
 */

/** `<name>.<namespace>.svc.cluster.local`: the fully qualified DNS name of Service `name` in `namespace`. */
export function serviceHost(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.cluster.local`;
}
