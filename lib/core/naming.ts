/**
 * Object names. Every name Pronto emits is built here so that it is readable,
 * stable (no hash suffix) and a valid DNS-1123 label.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Longest name a DNS-1123 label (Service, Deployment pod hostname) may have. */
export const MAX_NAME_LENGTH = 63;

/**
 * Joins name parts with `-` and checks the result is a DNS-1123 label of at most
 * 63 characters: `resourceName('clients-app', 'blue')` → `clients-app-blue`.
 */
export function resourceName(...parts: string[]): string {
  const name = parts.filter((part) => part.length > 0).join('-');
  if (name.length > MAX_NAME_LENGTH || !DNS_LABEL.test(name)) {
    throw new Error(
      `"${name}" is not a valid object name: expected lower-case letters, digits and "-", ` +
      `starting and ending with a letter or digit, at most ${MAX_NAME_LENGTH} characters`);
  }
  return name;
}
