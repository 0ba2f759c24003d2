/**
 * A throw-away CA and server certificates made with `openssl`, laid out as cert-manager and
 * the kubelet lay them out in a pod: `tls.crt` and `tls.key` (ECDSA P-256, PKCS#8, as
 * ServiceCertificate asks for) in a folder per server, the CA as the bundle's `ca.crt`. Under
 * root the key is owned by root and readable by the `postgres` group only (0440), as a
 * Secret volume with the pod's fsGroup is, so a server that refuses such a key fails here too.
 */
import { spawnSync } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { isRoot } from './postgres';

/** True when `openssl` runs here. */
export const HAS_OPENSSL = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** A CA in `dir`: ca.crt and ca.key. Returns the certificate's path. */
export function makeCa(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2',
    '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  return path.join(dir, 'ca.crt');
}

/**
 * A server certificate signed by the CA in `caDir`, for `dnsNames` and `ips`, into `dir`
 * (tls.crt, tls.key), readable by the `postgres` user (group, under root) and no one else.
 */
export function issue(caDir: string, dir: string, dnsNames: readonly string[], ips: readonly string[]): void {
  mkdirSync(dir, { recursive: true });
  const ext = path.join(dir, 'ext.cnf');
  writeFileSync(ext, `subjectAltName=${[...dnsNames.map((n) => `DNS:${n}`), ...ips.map((i) => `IP:${i}`)].join(',')}\n`
    + 'extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n');
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', `/CN=${dnsNames[0]}`], dir);
  openssl(['x509', '-req', '-in', 'tls.csr', '-CA', path.join(caDir, 'ca.crt'), '-CAkey', path.join(caDir, 'ca.key'), '-CAcreateserial',
    '-days', '2', '-out', 'tls.crt', '-extfile', ext], dir);
  if (isRoot()) {
    // The kubelet's layout of a Secret volume with fsGroup: owner root, group the pod's, mode 0440 (CERTIFICATE_FILE_MODE).
    spawnSync('chown', ['root:postgres', path.join(dir, 'tls.key'), path.join(dir, 'tls.crt')]);
    spawnSync('chmod', ['0440', path.join(dir, 'tls.key'), path.join(dir, 'tls.crt')]);
  } else {
    spawnSync('chmod', ['0600', path.join(dir, 'tls.key')]);
  }
}
