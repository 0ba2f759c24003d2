/**
 * Attacks on the Loki add-on's gateway, in real nginx (Debian's; no module needed): the
 * nginx.conf and the htpasswd template the shipped prod gives the chart (gitops.addons.loki's
 * Application values, from the same function synth uses), the htpasswd rendered from that
 * template with a hash per login (`openssl passwd -6`, as docs/upgrade.md says), and a stub Loki
 * behind it that records what reaches it. Only the listen address, the upstream's address,
 * the temp and pid paths and the htpasswd path are rewritten. One nginx for the whole suite.
 *
 * Before this, the chart's own gateway let every pod in without a login and passed the
 * client's X-Scope-OrgID through: each attack below succeeded.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'fs';
import * as http from 'http';
import * as https from 'https';
import { TLSSocket } from 'tls';
import { AddressInfo } from 'net';
import { freePort } from './postgres';
import { tmpdir } from 'os';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { environmentPorts } from '../../charts/build-app';
import { addonApplications } from '../../charts/capabilities/gitops';
import { LOKI_GATEWAY, LOKI_PATHS, LOKI_TENANT_HEADER, serviceOf } from '../../lib/addons';
import { parseEnvironment } from '../../config/load';
import { ConnectionGraph } from '../../lib/core';
import { CONFIG_DIR, environment } from '../helpers';

const nginxVersion = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
const opensslVersion = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const missing = [...(nginxVersion.status === 0 ? [] : ['nginx']), ...(opensslVersion.status === 0 ? [] : ['openssl'])];
if (missing.length > 0) console.warn(`\n!!! SKIPPED: the Loki gateway in real nginx: missing ${missing.join(', ')} (CI installs them: .ci/run) !!!\n`);

const config = environment('prod');
const ports = environmentPorts(config);
const loki = addonApplications(config.capabilities.gitops!, config, ports, new ConnectionGraph()).find((a) => a.addon === 'loki')!;
const values = loki.source.values as any;
const TENANT = ports.loki!.tenant!;
const logins = ports.loki!.logins!;
const pusher = logins.find((l) => l.access === 'push')!;
const reader = logins.find((l) => l.access === 'read')!;
/** A tenant that is not the environment's: what an attacker asks for. */
const OTHER = `${TENANT}-other`;
/** Random passwords (base64url); the first starts with "-", as one in 64 random ones does, so that case is always run. */
const password = new Map(logins.map((l, i) => [l.user, `${i === 0 ? '-' : ''}${randomBytes(18).toString('base64url')}`]));
/** The same environment with TLS to Loki (logs.loki.tls): what the gateway then gets. */
const tlsConfig = (() => {
  const TLS = 'tls: { issuer: { name: internal-ca }, caBundle: { configMap: internal-ca } }';
  const text = readFileSync(`${CONFIG_DIR}/prod.yaml`, 'utf8').replace(/^( {2}loki: \{ url: )http:\/\/([^,]+),/m, `$1https://$2, ${TLS},`);
  return parseEnvironment(text, 'config/prod.yaml');
})();
const tlsValues = addonApplications(tlsConfig.capabilities.gitops!, tlsConfig, environmentPorts(tlsConfig), new ConnectionGraph()).find((a) => a.addon === 'loki')!.source.values as any;

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders }
const seen: Seen[] = [];
let stub: http.Server | undefined;
let nginx: ChildProcess | undefined;
let dir = '';
let port = 0;
let nginxTls: ChildProcess | undefined;
let tlsPort = 0;

/** `text` with `from` replaced by `to`, which must occur exactly `times` times: a rewrite that misses fails the suite. */
function replaceExactly(text: string, from: string, to: string, times = 1): string {
  const parts = text.split(from);
  if (parts.length - 1 !== times) throw new Error(`rewrite: expected "${from}" ${times} time(s) in the gateway's nginx.conf, found ${parts.length - 1}`);
  return parts.join(to);
}

/**
 * The file the Vault agent renders from the template: `{{- with secret "…" -}}` and
 * `{{- end }}` dropped, each `{{ index .Data.data "<user>" }}` the entry's field.
 */
function renderTemplate(template: string, data: Record<string, string>): string {
  const body = /^\{\{- with secret "[^"]+" -\}\}([\s\S]*)\{\{- end \}\}$/.exec(template);
  if (!body) throw new Error(`not an agent template: ${template}`);
  return body[1].replace(/\{\{ index \.Data\.data "([^"]+)" \}\}/g, (_m, field: string) => data[field] ?? '<no value>');
}

interface Reply { status: number; body: string }
function request(pathAndQuery: string, options: { method?: string; login?: string; password?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const auth = options.login ? { Authorization: `Basic ${Buffer.from(`${options.login}:${options.password ?? password.get(options.login)}`).toString('base64')}` } : {};
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path: pathAndQuery, method: options.method ?? 'GET', agent: false,
      headers: { ...auth, ...(options.body !== undefined ? { 'Content-Type': 'application/x-protobuf', 'Content-Length': String(Buffer.byteLength(options.body)) } : {}), ...options.headers },
    }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.setTimeout(10000, () => req.destroy(new Error(`timeout: ${pathAndQuery}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Starts nginx on `conf` (the gateway's file) in `folder`: the listen address, the upstream's
 * address, the temp and pid paths, the htpasswd path and, with TLS, the certificate's folder
 * rewritten, each of which must occur as many times as said; waits until GET / answers.
 */
async function startGateway(file: string, folder: string, listenPort: number, upstream: string, htpasswd: string, tlsDir?: string): Promise<ChildProcess> {
  mkdirSync(folder);
  chmodSync(folder, 0o755);
  const api = loki.contract.services.api;
  const ssl = tlsDir ? ' ssl' : '';
  let conf = file;
  conf = replaceExactly(conf, `server ${api.name}.${loki.namespace}.svc.cluster.local:${api.port};`, `server ${upstream};`);
  conf = replaceExactly(conf, `listen             ${LOKI_GATEWAY.port}${ssl};`, `listen             127.0.0.1:${listenPort}${ssl};`);
  conf = replaceExactly(conf, `listen             [::]:${LOKI_GATEWAY.port}${ssl};\n`, '');
  // The temporary folder first: it is itself under /tmp.
  conf = replaceExactly(conf, ' /tmp/', ` ${folder}/`, 6);
  conf = replaceExactly(conf, `${LOKI_GATEWAY.secretVolumePath}/${LOKI_GATEWAY.htpasswdFile}`, htpasswd);
  conf = replaceExactly(conf, '/dev/stderr', path.join(folder, 'nginx.log'), 2);
  if (tlsDir) conf = replaceExactly(conf, `"${LOKI_GATEWAY.tlsDir}"`, `"${tlsDir}"`);
  // Workers of a root master run as nobody (CI runs as root).
  if (process.getuid?.() === 0) conf = `user nobody nogroup;\n${conf}`;
  writeFileSync(path.join(folder, 'nginx.conf'), conf);
  const out = openSync(path.join(folder, 'nginx.out'), 'a', 0o644);
  const child = spawn('nginx', ['-c', path.join(folder, 'nginx.conf'), '-e', path.join(folder, 'nginx.log'), '-g', 'daemon off;'], { stdio: ['ignore', out, out] });
  closeSync(out);
  const ready = () => new Promise<boolean>((resolve) => {
    const options = { host: '127.0.0.1', port: listenPort, path: '/', agent: false, rejectUnauthorized: false };
    const req = (tlsDir ? https : http).get(options, (res) => { res.resume(); resolve(res.statusCode === 200); });
    req.on('error', () => resolve(false));
  });
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${readFileSync(path.join(folder, 'nginx.log'), 'utf8')}`);
    if (await ready()) return child;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('nginx did not answer');
}

/** openssl with `args` in the test folder; throws with its stderr. */
function openssl(...args: string[]): string {
  const run = spawnSync('openssl', args, { encoding: 'utf8', cwd: dir });
  if (run.status !== 0) throw new Error(`openssl ${args[0]}: ${run.stderr}`);
  return run.stdout;
}

/**
 * What cert-manager would write into the Secret: a P-256 key and a certificate of the test CA
 * (made once) for every name of the gateway's Service, as `tls.crt` and `tls.key` of the TLS
 * folder, replaced by rename (as the kubelet swaps a Secret volume's files), readable by the workers.
 */
function issueCertificate(name: string): void {
  if (!existsSync(path.join(dir, 'ca.crt'))) {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=pronto-test-ca', '-days', '1');
  }
  const gateway = serviceOf(loki.contract, 'gatewayTls');
  const names = [gateway.name, `${gateway.name}.${loki.namespace}`, `${gateway.name}.${loki.namespace}.svc`, `${gateway.name}.${loki.namespace}.svc.cluster.local`];
  writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\n`);
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${gateway.name}`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
  for (const [from, to] of [[`${name}.crt`, 'tls.crt'], [`${name}.key`, 'tls.key']]) {
    chmodSync(path.join(dir, from), 0o644);
    renameSync(path.join(dir, from), path.join(dir, 'tls', to));
  }
}

(missing.length === 0 ? describe : describe.skip)('the Loki add-on\'s gateway in real nginx: logins, tenants, APIs', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pronto-loki-gateway-'));
    chmodSync(dir, 0o755);
    stub = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers });
        res.writeHead(req.url!.startsWith(LOKI_PATHS.push) ? 204 : 200, { 'Content-Type': 'application/json' });
        res.end(req.url!.startsWith(LOKI_PATHS.push) ? undefined : '{"status":"success"}');
      });
    });
    stub.on('upgrade', (req, socket) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    });
    await new Promise<void>((resolve) => stub!.listen(0, '127.0.0.1', resolve));
    port = await freePort();

    // The htpasswd the agent renders: a SHA-512 crypt hash per login (one openssl run for all). The passwords go on
    // stdin, one a line: as arguments, a random one starting with "-" was read as an option.
    const users = [...password.keys()];
    const hashed = spawnSync('openssl', ['passwd', '-6', '-stdin'], { input: users.map((u) => `${password.get(u)!}\n`).join(''), encoding: 'utf8' });
    if (hashed.status !== 0) throw new Error(`openssl passwd: ${hashed.stderr}`);
    const hashes = hashed.stdout.trim().split('\n');
    const template = values.gateway.podAnnotations[`vault.hashicorp.com/agent-inject-template-${LOKI_GATEWAY.htpasswdFile}`];
    const htpasswd = path.join(dir, LOKI_GATEWAY.htpasswdFile);
    writeFileSync(htpasswd, renderTemplate(template, Object.fromEntries(users.map((u, i) => [u, hashes[i]]))), { mode: 0o644 });

    const upstream = `127.0.0.1:${(stub.address() as AddressInfo).port}`;
    const started = await startGateway(values.gateway.nginxConfig.file, path.join(dir, 'plain'), port, upstream, htpasswd);
    nginx = started;

    // The TLS variant (logs.loki.tls): a CA and a certificate for the gateway Service's names, where the Secret's volume is mounted.
    tlsPort = await freePort();
    mkdirSync(path.join(dir, 'tls'));
    issueCertificate('first');
    nginxTls = await startGateway(tlsValues.gateway.nginxConfig.file, path.join(dir, 'tls-server'), tlsPort, upstream, htpasswd, path.join(dir, 'tls'));
  }, 20000);

  afterAll(async () => {
    for (const n of [nginx, nginxTls]) {
      if (n && n.exitCode === null) {
        const exited = new Promise((resolve) => n.once('exit', resolve));
        n.kill('SIGTERM');
        await exited;
      }
    }
    if (stub) await new Promise((resolve) => { stub!.close(resolve); stub!.closeAllConnections(); });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `attempt` and returns what reached Loki meanwhile. */
  const reaching = async (attempt: () => Promise<unknown>): Promise<Seen[]> => {
    const before = seen.length;
    await attempt();
    return seen.slice(before);
  };
  const push = (options: Parameters<typeof request>[1] = {}) => request(LOKI_PATHS.push, { method: 'POST', body: 'x', ...options });
  const QUERY = `${LOKI_PATHS.api}query_range?query=${encodeURIComponent('{service="order-service"}')}`;

  test('the readiness probe (GET /) answers without a login; nothing else does', async () => {
    expect((await request('/')).status).toBe(200);
  });

  test('no login, or a wrong password: 401 on push and query, and nothing reaches Loki', async () => {
    const reached = await reaching(async () => {
      expect((await push()).status).toBe(401);
      expect((await request(QUERY)).status).toBe(401);
      expect((await push({ login: pusher.user, password: 'not-the-password' })).status).toBe(401);
      expect((await request(QUERY, { login: reader.user, password: 'not-the-password' })).status).toBe(401);
      // A user the gateway does not know at all.
      expect((await push({ login: 'intruder', password: 'x' })).status).not.toBe(204);
    });
    expect(reached).toEqual([]);
  });

  test('a pusher who asks for another tenant pushes into its own: X-Scope-OrgID is the login\'s, whatever the client sent, and the password stays at the gateway', async () => {
    const attempts: Array<Record<string, string>> = [{ [LOKI_TENANT_HEADER]: OTHER }, { 'x-scope-orgid': OTHER }, { 'X-SCOPE-ORGID': `${OTHER}|${TENANT}` }, {}];
    for (const headers of attempts) {
      const [hit, ...more] = await reaching(async () => expect((await push({ login: pusher.user, headers })).status).toBe(204));
      expect(more).toEqual([]);
      expect(hit.url).toBe(LOKI_PATHS.push);
      expect(hit.headers['x-scope-orgid']).toBe(TENANT);
      expect(hit.headers.authorization).toBeUndefined();
    }
  });

  test('every catalog service\'s shipper pushes with its own login, into the environment\'s tenant', async () => {
    for (const login of logins.filter((l) => l.access === 'push')) {
      const reached = await reaching(async () => expect((await push({ login: login.user })).status).toBe(204));
      expect(reached.map((r) => r.headers['x-scope-orgid'])).toEqual([TENANT]);
    }
    expect(logins.filter((l) => l.access === 'push').map((l) => l.user).sort()).toEqual(config.services.map((s) => s.name).sort());
  });

  test('a pusher reads nothing: the query, label, series and tail APIs answer 403 and reach nothing', async () => {
    const reached = await reaching(async () => {
      for (const p of [QUERY, `${LOKI_PATHS.api}query?query=1`, `${LOKI_PATHS.api}labels`, `${LOKI_PATHS.api}label/service/values`, `${LOKI_PATHS.api}series`, `${LOKI_PATHS.api}tail`]) {
        expect([p, (await request(p, { login: pusher.user, headers: { [LOKI_TENANT_HEADER]: OTHER } })).status]).toEqual([p, 403]);
      }
      // Nor pushes with another verb.
      expect((await request(LOKI_PATHS.push, { login: pusher.user })).status).toBe(403);
    });
    expect(reached).toEqual([]);
  });

  test('nobody deletes or administers: delete requests, rules, flush, shutdown, config, rings, OTLP and legacy paths are refused for every login, tricks included', async () => {
    const paths = [
      `${LOKI_PATHS.api}delete?query=${encodeURIComponent('{service="order-service"}')}&start=0`, `${LOKI_PATHS.api}cache/generation_numbers`,
      `${LOKI_PATHS.api}rules`, `${LOKI_PATHS.api}rules/pronto`, '/api/prom/rules', '/prometheus/api/v1/rules', '/flush', '/ingester/shutdown', '/config', '/ring',
      '/distributor/ring', '/memberlist', '/otlp/v1/logs', '/api/prom/push', '/api/prom/query?query=1', '/loki/api/v1',
      // What a normalizing proxy might hand Loki as the delete API.
      `${LOKI_PATHS.push}/../delete`, '/loki/api/v1/%64elete', '//loki/api/v1/delete', '/loki/api/v1/push%2F..%2Fdelete', `${LOKI_PATHS.api}query_range/../delete`,
    ];
    const reached = await reaching(async () => {
      const attempts = [pusher, reader].flatMap((login) => ['GET', 'POST', 'PUT', 'DELETE'].flatMap((method) => paths.map((p) => ({ login, method, p }))));
      // Concurrently: nginx checks each login independently.
      const statuses = await Promise.all(attempts.map(({ login, method, p }) => request(p, { method, login: login.user, body: method === 'GET' ? undefined : 'x' })));
      expect(attempts.filter((_a, i) => ![403, 404].includes(statuses[i].status)).map(({ login, method, p }, i) => `${login.user} ${method} ${p}: ${statuses[i].status}`)).toEqual([]);
    });
    expect(reached).toEqual([]);
  });

  test('Grafana\'s login reads, in the environment\'s tenant whatever it asks for, and cannot push', async () => {
    const reached = await reaching(async () => {
      for (const p of [QUERY, `${LOKI_PATHS.api}labels`, `${LOKI_PATHS.api}label/service/values`, `${LOKI_PATHS.api}index/volume`, `${LOKI_PATHS.api}status/buildinfo`]) {
        expect([p, (await request(p, { login: reader.user, headers: { [LOKI_TENANT_HEADER]: OTHER } })).status]).toEqual([p, 200]);
      }
    });
    expect(reached.map((r) => r.headers['x-scope-orgid'])).toEqual(reached.map(() => TENANT));
    expect(reached.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(await reaching(async () => expect((await push({ login: reader.user })).status).toBe(403))).toEqual([]);
  });

  test('Grafana\'s live tail (a websocket upgrade) reaches Loki in its tenant', async () => {
    const reached = await reaching(() => new Promise<void>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1', port, path: `${LOKI_PATHS.api}tail?query=1`, agent: false,
        headers: { Authorization: `Basic ${Buffer.from(`${reader.user}:${password.get(reader.user)}`).toString('base64')}`, Connection: 'Upgrade', Upgrade: 'websocket', [LOKI_TENANT_HEADER]: OTHER },
      });
      req.on('upgrade', (_res, socket) => { socket.destroy(); resolve(); });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    }));
    expect(reached.map((r) => [r.headers['x-scope-orgid'], r.headers.upgrade])).toEqual([[TENANT, 'websocket']]);
  });

  /** A request over HTTPS to the TLS gateway, verifying it as a shipper does: the CA, the Service's name. */
  const overTls = (options: { login?: string; ca?: string; servername?: string; headers?: Record<string, string> } = {}) => new Promise<{ status: number; fingerprint: string }>((resolve, reject) => {
    const gateway = serviceOf(loki.contract, 'gatewayTls');
    const auth = options.login ? { Authorization: `Basic ${Buffer.from(`${options.login}:${password.get(options.login)}`).toString('base64')}` } : {};
    const req = https.request({
      host: '127.0.0.1', port: tlsPort, path: LOKI_PATHS.push, method: 'POST', agent: false,
      servername: options.servername ?? `${gateway.name}.${loki.namespace}.svc.cluster.local`, ca: options.ca ?? readFileSync(path.join(dir, 'ca.crt')),
      headers: { ...auth, 'Content-Length': '1', ...options.headers },
    }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, fingerprint }));
    });
    req.on('error', reject);
    req.end('x');
  });

  test('TLS (logs.loki.tls): a pusher pushes over HTTPS, verifying the gateway against the CA for the Service\'s name; the tenant is still the login\'s', async () => {
    const reached = await reaching(async () => expect((await overTls({ login: pusher.user, headers: { [LOKI_TENANT_HEADER]: OTHER } })).status).toBe(204));
    expect(reached.map((r) => [r.headers['x-scope-orgid'], r.headers.authorization])).toEqual([[TENANT, undefined]]);
    expect((await overTls()).status).toBe(401);
  });

  test('TLS: a client that trusts another CA, or checks another name, does not connect; plain HTTP on the TLS port reaches nothing', async () => {
    const other = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=other-ca', '-days', '1'], { encoding: 'utf8' });
    await expect(overTls({ login: pusher.user, ca: other.stdout })).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
    await expect(overTls({ login: pusher.user, servername: 'loki.loki.svc.cluster.local' })).rejects.toThrow(/altnames|Hostname\/IP does not match/i);
    const plain = await reaching(async () => {
      const status = await new Promise<number>((resolve, reject) => {
        http.request({ host: '127.0.0.1', port: tlsPort, path: LOKI_PATHS.push, method: 'POST', agent: false }, (res) => { res.resume(); resolve(res.statusCode!); })
          .on('error', reject).end('x');
      });
      expect(status).toBe(400);
    });
    expect(plain).toEqual([]);
  });

  test('TLS: a renewed certificate is served from the next handshake on, with no reload of nginx (the files are read at every handshake)', async () => {
    const before = await overTls({ login: pusher.user });
    issueCertificate('renewed');
    const after = await overTls({ login: pusher.user });
    expect([before.status, after.status]).toEqual([204, 204]);
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(after.fingerprint).toBe(new (require('crypto').X509Certificate)(readFileSync(path.join(dir, 'tls', 'tls.crt'))).fingerprint256);
    expect(nginxTls?.exitCode).toBeNull();
  });

  test('nginx logged no error of its own (the access log names the login, never its password)', () => {
    expect(nginx?.exitCode === null || nginx?.exitCode === 0).toBe(true);
    const text = readFileSync(path.join(dir, 'plain', 'nginx.log'), 'utf8');
    for (const secret of password.values()) expect(text).not.toContain(secret);
    expect(text).toContain(` - ${pusher.user} [`);
    expect(text).not.toMatch(/\[(emerg|alert|crit)\]/);
  });
});
