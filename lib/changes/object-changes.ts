/**
 * What replacing one environment's output with another does to the cluster's objects:
 * added, removed and changed objects, and for each changed one the fields that differ.
 * Pure: it compares plain JSON objects, as synthesized or as read back from a folder.
 */
import { Manifest } from '../core';

/** `Kind[.group]/namespace/name` (cluster-scoped: `Kind[.group]/name`): one object's identity in a cluster. */
export function objectRef(m: Manifest): string {
  const group = String(m.apiVersion ?? '').includes('/') ? `.${String(m.apiVersion).split('/')[0]}` : '';
  return [`${m.kind}${group}`, m.metadata?.namespace, m.metadata?.name].filter((p) => p !== undefined).join('/');
}

/** An object present before and after, with the paths of the fields that differ (`spec.template.metadata.labels`). */
export interface ObjectChange {
  readonly ref: string;
  readonly before: Manifest;
  readonly after: Manifest;
  readonly paths: readonly string[];
}

/** The difference between two outputs of the same environment. */
export interface OutputChanges {
  readonly added: readonly Manifest[];
  readonly removed: readonly Manifest[];
  readonly changed: readonly ObjectChange[];
}

/** Compares `before` (what the cluster holds) with `after` (what is about to be applied). */
export function compareOutputs(before: readonly Manifest[], after: readonly Manifest[]): OutputChanges {
  const old = new Map(before.map((m) => [objectRef(m), m]));
  const now = new Map(after.map((m) => [objectRef(m), m]));
  const sorted = (refs: Iterable<string>) => [...refs].sort();
  const changed: ObjectChange[] = [];
  for (const ref of sorted(now.keys())) {
    const was = old.get(ref);
    if (!was) continue;
    const paths = changedPaths(was, now.get(ref));
    if (paths.length > 0) changed.push({ ref, before: was, after: now.get(ref)!, paths });
  }
  return {
    added: sorted(now.keys()).filter((r) => !old.has(r)).map((r) => now.get(r)!),
    removed: sorted(old.keys()).filter((r) => !now.has(r)).map((r) => old.get(r)!),
    changed,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The paths at which `a` and `b` differ, as deep as both are objects: an array, a scalar,
 * or a key present on one side only is one path (`spec.template.spec.containers`).
 */
export function changedPaths(a: unknown, b: unknown, prefix = ''): string[] {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => changedPaths(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
}

/** The value at a dotted path, or undefined. */
export function valueAt(m: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (isObject(v) ? v[k] : undefined), m);
}

/** True when `path` is `prefix` or below it. */
export function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`);
}
