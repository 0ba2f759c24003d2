/** A synthesized Kubernetes object as plain JSON: what the gates and checks read. */
export type Manifest = Record<string, any>;

/**
 * Client-side apply (`kubectl apply`, and Argo CD unless told `ServerSideApply=true`) keeps the
 * whole object in its `last-applied-configuration` annotation, and an object's annotations
 * together may not exceed 256 KiB: an object above this size (a little under, for its other
 * annotations) needs server-side apply.
 */
export const CLIENT_SIDE_APPLY_LIMIT_BYTES = 256 * 1024 - 16 * 1024;

const JSON_BYTES = new WeakMap<object, number>();

/** Bytes of `m` as compact JSON (what `last-applied-configuration` holds), measured once per object. */
export function jsonBytes(m: Manifest): number {
  let bytes = JSON_BYTES.get(m);
  if (bytes === undefined) {
    bytes = Buffer.byteLength(JSON.stringify(m));
    JSON_BYTES.set(m, bytes);
  }
  return bytes;
}

/** How `objects` are applied by hand: `kubectl apply -k`, or with `--server-side` when one is too large for client-side apply. */
export function kubectlApply(objects: readonly Manifest[]): string {
  return objects.some((m) => jsonBytes(m) > CLIENT_SIDE_APPLY_LIMIT_BYTES) ? 'kubectl apply --server-side -k' : 'kubectl apply -k';
}
