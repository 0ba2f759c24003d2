/**
 * Object names. Every name Pronto emits is built here so that it is readable,
 * stable (no hash suffix) and a valid DNS-1123 label.
 *
 * The name syntaxes Kubernetes checks are defined here once, as pure functions without
 * dependencies (config validation and the validation gate both use them).
 *
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
 */

/** Longest name a DNS-1123 label (Service, Deployment pod hostname) may have. */
export const MAX_NAME_LENGTH = 63;
/** Longest DNS-1123 subdomain (most object names, label and annotation key prefixes). */
export const MAX_SUBDOMAIN_LENGTH = 253;

/** The DNS name syntaxes of Kubernetes object names. */
export type DnsNameSyntax = 'dns-1123-label' | 'dns-1035-label' | 'dns-1123-subdomain';

const DNS_SYNTAX: Record<DnsNameSyntax, { max: number; pattern: RegExp; expected: string }> = {
  'dns-1123-label': {
    max: MAX_NAME_LENGTH,
    pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    expected: 'lower-case letters, digits and "-", starting and ending with a letter or digit',
  },
  'dns-1035-label': {
    max: MAX_NAME_LENGTH,
    pattern: /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
    expected: 'lower-case letters, digits and "-", starting with a letter and ending with a letter or digit',
  },
  'dns-1123-subdomain': {
    max: MAX_SUBDOMAIN_LENGTH,
    pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    expected: 'lower-case letters, digits, "-" and ".", each dot-separated part starting and ending with a letter or digit',
  },
};

/**
 * Why `name` is not of `syntax`, or undefined when it is: `empty`,
 * `too long (64 characters, at most 63)` or `bad characters (expected …)`.
 */
export function dnsNameProblem(name: string, syntax: DnsNameSyntax): string | undefined {
  const { max, pattern, expected } = DNS_SYNTAX[syntax];
  if (typeof name !== 'string' || name.length === 0) return 'empty';
  if (name.length > max) return `too long (${name.length} characters, at most ${max})`;
  if (!pattern.test(name)) return `bad characters (expected ${expected})`;
  return undefined;
}

/** An RFC 1123 DNS label of at most 63 characters: Namespace names, most Pronto names. */
export function isDnsLabel(name: string): boolean {
  return dnsNameProblem(name, 'dns-1123-label') === undefined;
}

/** An RFC 1035 DNS label (a DNS-1123 label that starts with a letter): Service names. */
export function isDns1035Label(name: string): boolean {
  return dnsNameProblem(name, 'dns-1035-label') === undefined;
}

/** An RFC 1123 DNS subdomain of at most 253 characters: the names of most kinds. */
export function isDnsSubdomain(name: string): boolean {
  return dnsNameProblem(name, 'dns-1123-subdomain') === undefined;
}

/**
 * Joins name parts with `-` and checks the result is a DNS-1123 label of at most
 * 63 characters: `resourceName('clients-app', 'blue')` → `clients-app-blue`.
 */
export function resourceName(...parts: string[]): string {
  const name = parts.filter((part) => part.length > 0).join('-');
  if (!isDnsLabel(name)) {
    throw new Error(
      `"${name}" is not a valid object name: expected lower-case letters, digits and "-", ` +
      `starting and ending with a letter or digit, at most ${MAX_NAME_LENGTH} characters`);
  }
  return name;
}

/** An IANA service name, as container ports are named: at most 15 of a-z, 0-9 and single `-`, with a letter. */
const IANA_SERVICE_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*[a-z0-9]$|^[a-z]$/;

/** True for a valid container port name (`http`, `metrics`), which Services and probes refer to. */
export function isIanaPortName(name: string): boolean {
  return name.length <= 15 && IANA_SERVICE_NAME.test(name);
}
