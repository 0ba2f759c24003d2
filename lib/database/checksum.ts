import { ANNOTATION_CONFIG_CHECKSUM, sha256Hex } from '../gateway';

/** Pod annotation holding the SHA-256 of a workload's ConfigMap: a change rolls the pods (the gateway's). */
export { ANNOTATION_CONFIG_CHECKSUM };

/** SHA-256 of a ConfigMap's files (name, newline, text; files joined by NUL), as the gateway computes it. */
export function configChecksum(files: Readonly<Record<string, string>>): string {
  return sha256Hex(Object.entries(files).map(([file, text]) => `${file}\n${text}`).join('\0'));
}
