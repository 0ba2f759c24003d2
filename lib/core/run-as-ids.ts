/**
 * The numeric identities workloads run under: pure (no cdk8s), so that config/ can state the
 * ranges a pinned id must fall in.
 */

/** Lowest UID/GID accepted: below it ids may collide with host users. */
export const MIN_RUN_AS_ID = 10000;

/**
 * Where workloads' own ids are derived: [first, first + size). Above the ids images and
 * hosts commonly use (10000 to 19999 stays free for pinned ones), below 65534 (nobody).
 */
export const RUN_AS_ID_RANGE = { first: 20000, size: 40000 } as const;

/**
 * The UID (and GID) of `workload` (its `app.kubernetes.io/name`): FNV-1a of the name, into
 * {@link RUN_AS_ID_RANGE}. A workload's id depends on its own name only, so adding or
 * removing another never renumbers it (a table with an index would); two workloads whose
 * names land on one id are refused by the gate's `distinct-run-as-ids` rule, and one of them
 * is then pinned (`runAs`).
 */
export function workloadRunAsId(workload: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(workload, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return RUN_AS_ID_RANGE.first + (hash % RUN_AS_ID_RANGE.size);
}

/**
 * Where pinned ids live: [first, first + size). Derived ids ({@link RUN_AS_ID_RANGE}) never
 * land here, so a pin can never collide with a workload added later.
 */
export const PINNED_RUN_AS_ID_RANGE = { first: 10000, size: 10000 } as const;
