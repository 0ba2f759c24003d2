/**
 * CIDR blocks as numbers: parse, check containment. Pure (config/ validates blocks with it,
 * lib/network keeps sensitive ranges out of broad egress blocks with it).
 */

/** An address and its family, as an unsigned integer. */
interface Address {
  readonly family: 4 | 6;
  readonly value: bigint;
}

const WIDTH = { 4: 32, 6: 128 } as const;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6_GROUP = /^[0-9a-f]{1,4}$/;

/** A dotted-quad IPv4 address (no leading zeros) or an IPv6 address in lower-case hex (`::` allowed, no embedded IPv4). */
function parseAddress(text: string): Address | undefined {
  const v4 = IPV4.exec(text);
  if (v4) {
    const parts = v4.slice(1).map((p) => (p.length > 1 && p.startsWith('0') ? NaN : Number(p)));
    if (parts.some((p) => !(p >= 0 && p <= 255))) return undefined;
    return { family: 4, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = halves.map((h) => (h === '' ? [] : h.split(':')));
  const present = groups.flat();
  if (present.length > 8 || !present.every((g) => IPV6_GROUP.test(g))) return undefined;
  if (halves.length === 1 && present.length !== 8) return undefined;
  if (halves.length === 2 && present.length === 8) return undefined;
  const all = halves.length === 1 ? present : [...groups[0], ...Array(8 - present.length).fill('0'), ...groups[1]];
  return { family: 6, value: all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/** A CIDR block: its network address, family and prefix length. */
export interface CidrBlock extends Address {
  readonly prefix: number;
}

/** The block `text` writes, or why it is not a CIDR block with its host bits zero. */
export function parseCidrBlock(text: string): CidrBlock | string {
  const [address, prefix, ...rest] = text.split('/');
  const parsed = parseAddress(address);
  if (rest.length > 0 || prefix === undefined || !/^\d{1,3}$/.test(prefix) || !parsed) {
    return 'expected a CIDR block such as 203.0.113.0/24 or 2001:db8::/32';
  }
  const bits = Number(prefix);
  const width = WIDTH[parsed.family];
  if (bits > width) return `expected a prefix length of at most ${width} for an IPv${parsed.family} block`;
  const hostMask = (1n << BigInt(width - bits)) - 1n;
  if ((parsed.value & hostMask) !== 0n) {
    return `expected the network address of the block (host bits zero), such as ${formatAddress({ ...parsed, value: parsed.value & ~hostMask })}/${bits}`;
  }
  return { ...parsed, prefix: bits };
}

function formatAddress(a: Address): string {
  if (a.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((a.value >> s) & 255n)).join('.');
  return Array.from({ length: 8 }, (_, i) => ((a.value >> BigInt(16 * (7 - i))) & 0xffffn).toString(16)).join(':');
}

/** True when `inner` is a strictly smaller block inside `outer`. */
export function cidrStrictlyInside(inner: CidrBlock, outer: CidrBlock): boolean {
  if (inner.family !== outer.family || inner.prefix <= outer.prefix) return false;
  const shift = BigInt(WIDTH[outer.family] - outer.prefix);
  return (inner.value >> shift) === (outer.value >> shift);
}

/** True when `inner` is inside `outer` or equal to it. */
export function cidrWithin(inner: CidrBlock, outer: CidrBlock): boolean {
  return (inner.family === outer.family && inner.prefix === outer.prefix && inner.value === outer.value) || cidrStrictlyInside(inner, outer);
}
