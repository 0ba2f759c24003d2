/**
 * Grafana uids: readable, stable from run to run, and within Grafana's limit.
 * Pure (no cdk8s): the dashboards and the datasources share it.
 */

/** Grafana refuses a dashboard or datasource uid longer than this. */
export const MAX_GRAFANA_UID_LENGTH = 40;

const UID_CHARS = /^[a-zA-Z0-9-_]+$/;

/**
 * The uid `parts` joined by `-` (e.g. `pronto-prod-red`), or, when that is longer than
 * {@link MAX_GRAFANA_UID_LENGTH}, its first 31 characters, `-` and 8 hex digits of its
 * FNV-1a hash: still readable, still stable, and distinct for distinct inputs in practice.
 * Links and bookmarks to a dashboard survive as long as its parts do not change.
 */
export function grafanaUid(...parts: string[]): string {
  const uid = parts.filter((p) => p.length > 0).join('-');
  if (!UID_CHARS.test(uid)) throw new Error(`"${uid}" cannot be a Grafana uid: expected letters, digits, "-" and "_"`);
  if (uid.length <= MAX_GRAFANA_UID_LENGTH) return uid;
  return `${uid.slice(0, MAX_GRAFANA_UID_LENGTH - 9)}-${fnv1a(uid)}`;
}

/** 32-bit FNV-1a of `text`, as 8 hex digits. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
