/**
 * Kubernetes resource quantities, parsed into plain numbers so that requests,
 * limits and quotas can be compared and summed.
 *
 * Only the notations Pronto's config accepts are parsed: CPU as cores or
 * millicores (`2`, `0.5`, `250m`), memory and storage as binary or decimal
 * suffixes (`256Mi`, `1Gi`, `512M`, `1073741824`).
 *
 * @see https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
 */

const CPU = /^(\d+(?:\.\d+)?)(m?)$/;
const BYTES = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/;

const BYTE_FACTORS: Record<string, number> = {
  '': 1,
  k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50,
};

/** True when `value` is a CPU quantity such as `250m`, `1` or `1.5`. */
export function isCpuQuantity(value: string): boolean {
  return CPU.test(value);
}

/** True when `value` is a byte quantity such as `256Mi`, `1Gi` or `512M`. */
export function isByteQuantity(value: string): boolean {
  return BYTES.test(value);
}

/** CPU quantity in millicores (`250m` → 250, `1.5` → 1500). Throws on anything else. */
export function cpuMillis(value: string): number {
  const match = CPU.exec(value);
  if (!match) throw new Error(`"${value}" is not a CPU quantity (expected e.g. 250m or 1.5)`);
  const amount = Number(match[1]);
  return match[2] === 'm' ? amount : Math.round(amount * 1000);
}

/** Byte quantity in bytes (`1Ki` → 1024, `1k` → 1000). Throws on anything else. */
export function bytes(value: string): number {
  const match = BYTES.exec(value);
  if (!match) throw new Error(`"${value}" is not a byte quantity (expected e.g. 256Mi or 1Gi)`);
  return Math.round(Number(match[1]) * BYTE_FACTORS[match[2] ?? '']);
}

/** Millicores as a short human string: 1500 → `1500m (1.5 CPU)`. */
export function formatCpu(millis: number): string {
  return `${millis}m (${+(millis / 1000).toFixed(3)} CPU)`;
}

/** Bytes as a short human string in MiB: 1073741824 → `1024Mi`. */
export function formatBytes(value: number): string {
  return `${+(value / 2 ** 20).toFixed(1)}Mi`;
}
