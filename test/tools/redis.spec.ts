/**
 * Redis's users and TLS in a real redis-server (Debian's): the synthesized redis.conf and
 * start script of an environment with `database.redis.tls` on (as prod), with the ACL files
 * the Vault agent would render from the synthesized templates (test passwords in the KV
 * entries the annotations name), and a certificate for the synthesized Certificate's DNS
 * names from a throw-away openssl CA standing in for cert-manager and the CA bundle. One
 * server for the suite, started by the synthesized start script. Only the port, the bind
 * address and the folders (data, Vault files, certificate, CA bundle) are rewritten, and one
 * user is added for the suite itself (an administrator for ACL DRYRUN and for looking behind
 * the apps); nothing else.
 *
 * TLS only: a plaintext client gets nothing, a client that trusts another CA or expects
 * another host name is refused; a renewed certificate is served without a restart (the
 * start script's reload).
 *
 * Every app that uses Redis (from the config, never a list here) logs in with the URL its
 * own Vault template renders and does its job below its prefix; then each attack of the
 * security review is refused: FLUSHALL, CONFIG SET requirepass, scripts, another service's
 * keys and channels, key listings, the built-in `default` user … Every command the server
 * knows is asked of every user with ACL DRYRUN: none of `@dangerous`, `@admin` or
 * `@scripting` is allowed, and the allowed commands that name no key are a reviewed list.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'fs';
import { X509Certificate } from 'crypto';
import { connect as plainConnect } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { REDIS_KEY_PREFIX_ENV, REDIS_WORKLOAD, redisUsers } from '../../charts/capabilities/database';
import { DATA_STORES } from '../../config/catalog';
import { parseEnvironment } from '../../config/load';
import { compareVersions } from '../../lib/core/image';
import { REDIS_DEFAULT_USER, REDIS_FILES, REDIS_TLS_DIR, REDIS_TLS_RELOAD_USER, SECRETS_DIR } from '../../lib/database';
import { CA_BUNDLE_DIR } from '../../lib/tls';
import { VALID_ENV, dataTierSections } from '../fixtures/environments';
import { buildEnvironment, named, podTemplates } from '../helpers';
import { freePort } from './postgres';
import { RedisConnection, RedisError, RedisReply, connectRedis } from './redis-client';
import { configMapData } from './roles-harness';
import { VaultEntries, renderVaultTemplate } from './vault-template';

const REDIS_SERVER = '/usr/bin/redis-server';
const VERSION = /v=(\d+\.\d+\.\d+)/.exec(spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1];
/** ACL DRYRUN and selectors are Redis 7's. */
const maybe = VERSION && compareVersions(VERSION, '7.0.0') >= 0 ? describe : (() => {
  console.warn(`\n!!! SKIPPED: Redis users in real redis-server: ${REDIS_SERVER} ${VERSION ? `is ${VERSION}, older than 7.0` : 'is missing'} (Debian package redis-server; CI installs it: .ci/run) !!!\n`);
  return describe.skip;
})();

const SECTION = dataTierSections({ redis: `    tls:
      issuer: { kind: ClusterIssuer, name: internal-ca }
      caBundle: { configMap: internal-ca, key: ca.crt }
` });
const config = parseEnvironment(`${VALID_ENV}${SECTION}`, 'config/test.yaml');
const { manifests } = buildEnvironment(config);
const APPS = redisUsers(config);
const redisPod = named(manifests, 'Deployment', REDIS_WORKLOAD).spec.template;
const VAULT = 'vault.hashicorp.com/';
/** The names the synthesized Certificate asks cert-manager for. */
const DNS_NAMES: string[] = named(manifests, 'Certificate', `${REDIS_WORKLOAD}-tls`).spec.dnsNames;

/** The pod template of `service` (its first slot's). */
const appPod = (service: string) => podTemplates(manifests).find((p) => p.template.spec.containers.some((c: any) => c.name === service))!.template;
const annotations = (pod: any): Record<string, string> => pod.metadata.annotations;
const envOf = (pod: any, container: string): Record<string, string> =>
  Object.fromEntries(pod.spec.containers.find((c: any) => c.name === container).env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));

/** A password per Vault entry, distinct, with characters a URL must escape. */
const password = (vaultPath: string) => `pw/${vaultPath.split('/').slice(-2).join(':')}@%#`;
/** The test's KV entries: every entry the Redis pod and the apps' pods read, each with its own password. */
const KV: VaultEntries = Object.fromEntries([redisPod, ...APPS.map(appPod)]
  .flatMap((pod) => Object.entries(annotations(pod)).filter(([k]) => k.startsWith(`${VAULT}agent-inject-secret-`)).map(([, v]) => v))
  .map((p) => [p, { password: password(p) }]));
/** The files the Redis pod's agent renders, by file name. */
const redisFiles = (kv: VaultEntries): Record<string, string> => Object.fromEntries(Object.entries(annotations(redisPod))
  .filter(([k]) => k.startsWith(`${VAULT}agent-inject-template-`))
  .map(([k, v]) => [k.slice(`${VAULT}agent-inject-template-`.length), renderVaultTemplate(v, kv)]));

/** How an app connects: what its rendered REDIS_URL says (redis-py's from_url reads the same parts: redis/connection.py parse_url). */
function appLogin(service: string): {
  user: string; password: string; host: string; port: number; db: number; prefix: string; scheme: string; options: Record<string, string>;
} {
  const pod = appPod(service);
  const url = new URL(renderVaultTemplate(annotations(pod)[`${VAULT}agent-inject-template-${DATA_STORES.redis.secret.file}`], KV));
  return {
    scheme: url.protocol, user: decodeURIComponent(url.username), password: decodeURIComponent(url.password), host: url.hostname, port: Number(url.port),
    db: Number(url.pathname.slice(1)), prefix: envOf(pod, service)[REDIS_KEY_PREFIX_ENV], options: Object.fromEntries(url.searchParams),
  };
}

/** A throw-away CA (openssl) and server certificates it signs, for `names`, ECDSA P-256 as cert-manager's. */
function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}
function makeCa(dir: string, name: string): string {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}`]);
  return path.join(dir, `${name}.crt`);
}
function makeServerCert(dir: string, ca: string, names: readonly string[], out: string): void {
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${out}.key`, '-out', `${out}.csr`, '-subj', `/CN=${names[0]}`]);
  writeFileSync(path.join(dir, `${out}.ext`), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\n`);
  openssl(dir, ['x509', '-req', '-in', `${out}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${out}.crt`, '-days', '1', '-extfile', `${out}.ext`]);
}

const ADMIN = { user: 'suite-admin', password: 'suite-admin-pw' };

maybe('Redis users and TLS in real redis-server', () => {
  let dir: string;
  let port: number;
  let server: ChildProcess;
  let admin: RedisConnection;
  let ca: Buffer;
  /** The synthesized text with the pod's folders and port made the test's. */
  let local: (text: string) => string;
  const open: RedisConnection[] = [];
  const connection = async (servername = DATA_STORES.redis.host, trusted?: Buffer) => {
    const c = await connectRedis({ port, tls: { ca: trusted ?? ca, servername } });
    open.push(c);
    return c;
  };
  const login = async (user: string, pass: string) => {
    const c = await connection();
    expect(await c.command('AUTH', user, pass)).toBe('OK');
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pronto-redis-'));
    for (const sub of ['secrets', 'data', 'tls', 'pki']) mkdirSync(path.join(dir, sub));
    for (const [file, text] of Object.entries(redisFiles(KV))) writeFileSync(path.join(dir, 'secrets', file), text);
    port = await freePort();
    // cert-manager's part: the CA (its ConfigMap in the CA bundle's folder) and Redis's certificate for the Certificate's names.
    makeCa(path.join(dir, 'pki'), 'test-ca');
    makeServerCert(path.join(dir, 'pki'), 'test-ca', DNS_NAMES, 'redis');
    writeFileSync(path.join(dir, 'tls', 'tls.crt'), readFileSync(path.join(dir, 'pki', 'redis.crt')));
    writeFileSync(path.join(dir, 'tls', 'tls.key'), readFileSync(path.join(dir, 'pki', 'redis.key')));
    ca = readFileSync(path.join(dir, 'pki', 'test-ca.crt'));
    const folders: Array<[string, string]> = [[`${SECRETS_DIR}/`, `${dir}/secrets/`], [`${REDIS_TLS_DIR}/`, `${dir}/tls/`], [`${CA_BUNDLE_DIR}/`, `${dir}/ca/`]];
    local = (text) => folders.reduce((t, [from, to]) => t.split(from).join(to), text).split(`-p ${DATA_STORES.redis.port} `).join(`-p ${port} `);
    const synthesized = configMapData(manifests, REDIS_WORKLOAD);
    const caFile = local(appLogin(APPS[0]).options.ssl_ca_certs);
    mkdirSync(path.dirname(caFile), { recursive: true });
    writeFileSync(caFile, ca);
    const rewrites: Array<[RegExp, string]> = [
      [new RegExp(`^tls-port ${DATA_STORES.redis.port}$`, 'm'), `tls-port ${port}`],
      [/^bind .*$/m, 'bind 127.0.0.1'],
      [/^dir .*$/m, `dir ${dir}/data`],
    ];
    let conf = local(synthesized[REDIS_FILES.conf]);
    for (const [from, to] of rewrites) {
      if (!from.test(conf)) throw new Error(`redis.conf has no line matching ${from}: the suite's rewrites need updating`);
      conf = conf.replace(from, to);
    }
    conf += `# The suite's own administrator (ACL DRYRUN, checks behind the apps): not in the synthesized file.\nuser ${ADMIN.user} on >${ADMIN.password} ~* &* +@all\n`;
    writeFileSync(path.join(dir, 'redis.conf'), conf);
    writeFileSync(path.join(dir, 'start.sh'), local(synthesized[REDIS_FILES.start]));
    // Its own process group: the start script's reload loop outlives the shell, and afterAll stops the group.
    server = spawn('sh', [path.join(dir, 'start.sh'), path.join(dir, 'redis.conf')], {
      cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, TLS_RELOAD_CHECK_SECONDS: '0.2' },
    });
    let log = '';
    server.stdout!.on('data', (c) => { log += c; });
    server.stderr!.on('data', (c) => { log += c; });
    for (let i = 0; ; i++) {
      try {
        admin = await login(ADMIN.user, ADMIN.password);
        break;
      } catch (err) {
        if (i > 200 || server.exitCode !== null) throw new Error(`redis-server did not start: ${err}\n${log}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });

  afterAll(() => {
    for (const c of open) c.close();
    if (server?.pid) process.kill(-server.pid, 'SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the config names the apps that use Redis, and each app\'s URL names its own user, Redis\'s Service, database 0, TLS verified against the CA bundle', () => {
    expect(APPS.length).toBeGreaterThan(1);
    for (const app of APPS) {
      const l = appLogin(app);
      expect(l).toMatchObject({ scheme: 'rediss:', user: app, host: DATA_STORES.redis.host, port: DATA_STORES.redis.port, db: 0, prefix: `${app}:` });
      expect(l.options).toEqual({ ssl_cert_reqs: 'required', ssl_check_hostname: 'true', ssl_ca_certs: `${CA_BUNDLE_DIR}/internal-ca/ca.crt` });
      expect(DNS_NAMES).toContain(l.host);
      expect(l.password).toBe(password(Object.keys(KV).find((p) => p.endsWith(`/${app}/${DATA_STORES.redis.secret.name}`))!));
    }
  });

  test('Redis\'s files hold no app password: each user line has the SHA-256 of the app\'s Vault password', () => {
    const files = Object.values(redisFiles(KV)).join('\n');
    for (const app of APPS) {
      expect(files).not.toContain(appLogin(app).password);
      expect(files).toMatch(new RegExp(`^user ${app} reset on #[0-9a-f]{64} `, 'm'));
    }
  });

  test.each(APPS)('%s does its job below its own prefix, over TLS as its URL says: strings, counters, expiry, hashes, lists, transactions, pub/sub', async (app) => {
    const l = appLogin(app);
    // As redis-py: TLS to the URL's host, its certificate checked against the URL's CA file and for that host name.
    const c = await connection(l.host, readFileSync(local(l.options.ssl_ca_certs)));
    expect(await c.command('AUTH', l.user, l.password)).toBe('OK');
    const k = (name: string) => `${l.prefix}${name}`;
    expect(await c.pipeline([
      ['SET', k('session'), 'v1', 'EX', 60], ['GET', k('session')], ['INCR', k('orders')], ['EXPIRE', k('orders'), 30], ['TTL', k('orders')],
      ['HSET', k('cart'), 'item', '2'], ['HGETALL', k('cart')], ['LPUSH', k('queue'), 'a'], ['RPOP', k('queue')],
      ['MULTI'], ['INCRBY', k('orders'), 2], ['EXEC'], ['EXISTS', k('session')], ['DEL', k('cart')], ['PING'], ['CLIENT', 'SETNAME', app],
    ])).toEqual(['OK', 'v1', 1, 1, 30, 1, ['item', '2'], 1, 'a', 'OK', 'QUEUED', [3], 1, 1, 'PONG', 'OK']);
    const subscriber = await login(l.user, l.password);
    expect(await subscriber.command('SUBSCRIBE', k('orders-events'))).toEqual(['subscribe', k('orders-events'), 1]);
    expect(await c.command('PUBLISH', k('orders-events'), 'new')).toBe(1);
    for (let i = 0; i < 50 && subscriber.messages.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(subscriber.messages).toEqual([['message', k('orders-events'), 'new']]);
  });

  test.each(APPS)('%s: every attack of the review is refused, and the other apps\' data and Redis\'s settings are untouched', async (app) => {
    const l = appLogin(app);
    const others = APPS.filter((a) => a !== app);
    // Each other app's key, written by the administrator, must survive.
    await admin.pipeline(others.map((o) => ['SET', `${o}:victim`, 'intact']));
    const c = await login(l.user, l.password);
    const other = `${others[0]}:victim`;
    const attacks: Array<[string, (string | number)[]]> = [
      ['wipe every database', ['FLUSHALL']], ['wipe the database', ['FLUSHDB']],
      ['lock everyone out', ['CONFIG', 'SET', 'requirepass', 'mine']], ['turn persistence off', ['CONFIG', 'SET', 'appendonly', 'no']],
      ['make itself an administrator', ['ACL', 'SETUSER', app, '+@all', '~*']], ['read the users', ['ACL', 'LIST']],
      ['run Lua', ['EVAL', 'return redis.call("flushall")', 0]], ['load a function', ['FUNCTION', 'LOAD', '#!lua name=x\nredis.register_function("x", function() return 1 end)']],
      ['flush the scripts', ['SCRIPT', 'FLUSH']], ['crash or stall Redis', ['DEBUG', 'SLEEP', 0]], ['stop Redis', ['SHUTDOWN', 'NOSAVE']],
      ['watch every command', ['MONITOR']], ['drop other clients', ['CLIENT', 'KILL', 'TYPE', 'normal']], ['list other clients', ['CLIENT', 'LIST']],
      ['pause every client', ['CLIENT', 'PAUSE', 1000]], ['track others\' keys', ['CLIENT', 'TRACKING', 'on', 'BCAST']],
      ['list every key', ['KEYS', '*']], ['scan every key', ['SCAN', 0]], ['pick any key', ['RANDOMKEY']], ['count every key', ['DBSIZE']],
      ['read the server\'s state', ['INFO']], ['read the slow log', ['SLOWLOG', 'GET']],
      ['switch database', ['SELECT', 1]], ['swap databases', ['SWAPDB', 0, 1]], ['move a key across databases by sort', ['SORT', `${l.prefix}x`, 'BY', '*']],
      ['read another app\'s key', ['GET', other]], ['overwrite another app\'s key', ['SET', other, 'owned']], ['delete another app\'s key', ['DEL', other]],
      ['rename into another app\'s keys', ['RENAME', `${l.prefix}x`, other]], ['copy another app\'s key', ['COPY', other, `${l.prefix}copy`]],
      ['listen to another app\'s channel', ['SUBSCRIBE', `${others[0]}:orders-events`]], ['publish on another app\'s channel', ['PUBLISH', `${others[0]}:orders-events`, 'x']],
      ['listen to every channel', ['PSUBSCRIBE', '*']], ['list the channels', ['PUBSUB', 'CHANNELS']], ['watch key events', ['SUBSCRIBE', '__keyspace@0__:*']],
      ['replicate elsewhere', ['REPLICAOF', '127.0.0.1', 1]], ['save a snapshot', ['BGSAVE']], ['load a module', ['MODULE', 'LOAD', '/tmp/x.so']],
    ];
    const replies = await c.pipeline(attacks.map(([, cmd]) => cmd));
    const allowed = attacks.filter((_a, i) => !(replies[i] instanceof RedisError && /^(NOPERM|ERR)$/.test((replies[i] as RedisError).code)));
    expect(allowed.map(([what, cmd]) => `${what}: ${cmd.join(' ')} → ${JSON.stringify(replies[attacks.findIndex((a) => a[1] === cmd)])}`)).toEqual([]);
    // NOPERM from the ACL; DEBUG and MODULE are refused before it too (enable-debug-command and enable-module-command are "no" by default).
    const notRefusedByAcl = attacks.filter((_a, i) => (replies[i] as RedisError).code !== 'NOPERM' && !/^ERR (DEBUG|MODULE) command not allowed/.test((replies[i] as RedisError).message));
    expect(notRefusedByAcl.map(([what]) => what)).toEqual([]);
    expect(await admin.pipeline(others.map((o) => ['GET', `${o}:victim`]))).toEqual(others.map(() => 'intact'));
    expect(await admin.command('CONFIG', 'GET', 'requirepass')).toEqual(['requirepass', '']);
    expect(await admin.command('ACL', 'GETUSER', app).then((u) => (u as RedisReply[])[(u as RedisReply[]).indexOf('keys') + 1])).toBe(`~${l.prefix}*`);
    // Another app's user with this app's password: refused (every user has a password of its own).
    expect(await (await connection()).command('AUTH', others[0], l.password)).toEqual(new RedisError('WRONGPASS invalid username-password pair or user is disabled.'));
  });

  test('the built-in default user is off: without logging in nothing runs, and it cannot log in', async () => {
    const c = await connection();
    const replies = await c.pipeline([['PING'], ['GET', `${APPS[0]}:victim`], ['FLUSHALL'], ['AUTH', REDIS_DEFAULT_USER, ''], ['AUTH', ''], ['HELLO', 3, 'AUTH', REDIS_DEFAULT_USER, 'x']]);
    expect(replies.map((r) => (r instanceof RedisError ? r.code : r))).toEqual(['NOAUTH', 'NOAUTH', 'NOAUTH', 'WRONGPASS', 'WRONGPASS', 'WRONGPASS']);
  });

  test('TLS only: a plaintext client gets no answer, a client that trusts another CA or expects another host name is refused', async () => {
    const plain = plainConnect({ host: '127.0.0.1', port });
    const answer = await new Promise<string>((resolve) => {
      let got = '';
      plain.on('data', (d) => { got += d.toString('latin1'); });
      plain.on('close', () => resolve(got));
      plain.on('error', () => undefined);
      plain.write('*1\r\n$4\r\nPING\r\n');
      setTimeout(() => { plain.destroy(); }, 500);
    });
    expect(answer).not.toContain('PONG');
    expect(answer).not.toContain('NOAUTH');
    const other = readFileSync(makeCa(path.join(dir, 'pki'), 'other-ca'));
    await expect(connectRedis({ port, tls: { ca: other, servername: DATA_STORES.redis.host } })).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    await expect(connectRedis({ port, tls: { ca, servername: 'redis.elsewhere.example' } })).rejects.toThrow(/Hostname\/IP does not match|altnames/i);
    // Every name of the Certificate works.
    for (const name of DNS_NAMES) expect(await (await connection(name)).command('PING')).toEqual(new RedisError('NOAUTH Authentication required.'));
  });

  test('a renewed certificate is served without a restart: the start script sees the new files and reloads them as its own user', async () => {
    const served = async () => (await connection()).peerSerial;
    const before = await served();
    expect(before).toBe(new X509Certificate(readFileSync(path.join(dir, 'tls', 'tls.crt'))).serialNumber);
    // cert-manager's renewal: a new key and certificate, swapped in at once (the kubelet's atomic update of the Secret volume).
    makeServerCert(path.join(dir, 'pki'), 'test-ca', DNS_NAMES, 'renewed');
    for (const [from, to] of [['renewed.key', 'tls.key'], ['renewed.crt', 'tls.crt']]) {
      writeFileSync(path.join(dir, 'tls', `.${to}`), readFileSync(path.join(dir, 'pki', from)));
      renameSync(path.join(dir, 'tls', `.${to}`), path.join(dir, 'tls', to));
    }
    const renewed = new X509Certificate(readFileSync(path.join(dir, 'tls', 'tls.crt'))).serialNumber;
    expect(renewed).not.toBe(before);
    let now = before;
    for (let i = 0; i < 100 && now !== renewed; i++) {
      await new Promise((r) => setTimeout(r, 50));
      now = await served();
    }
    expect(now).toBe(renewed);
    // The same server: the administrator's connection from before is still there.
    expect(await admin.command('PING')).toBe('PONG');
  });

  test('the readiness probe, as synthesized, passes with the health-check user, which can only PING', async () => {
    const probe: string[] = redisPod.spec.containers.find((x: any) => x.name === 'redis').readinessProbe.exec.command;
    expect(probe[2]).toContain('--tls --cacert');
    const run = (secrets: string) => spawnSync(probe[0], [probe[1], local(probe[2]).split(`${dir}/secrets/`).join(`${secrets}/`)], { encoding: 'utf8' });
    expect(run(path.join(dir, 'secrets'))).toMatchObject({ status: 0, stderr: '' });
    const wrong = path.join(dir, 'wrong');
    mkdirSync(wrong, { recursive: true });
    writeFileSync(path.join(wrong, 'redis-cli-auth'), 'not-the-password');
    expect(run(wrong).status).not.toBe(0);
    const files = redisFiles(KV);
    const user = /^user (\S+) /.exec(Object.values(files).find((f) => f.endsWith(' +ping'))!)![1];
    const c = await login(user, files['redis-cli-auth']);
    expect((await c.pipeline([['PING'], ['GET', `${APPS[0]}:victim`], ['SET', 'x', '1'], ['INFO']])).map((r) => (r instanceof RedisError ? r.code : r)))
      .toEqual(['PONG', 'NOPERM', 'NOPERM', 'NOPERM']);
  });

  test('every command the server knows, asked of each user with ACL DRYRUN: nothing dangerous, administrative or scripted, and only reviewed key-less commands', async () => {
    const categories = await admin.pipeline(['dangerous', 'admin', 'scripting'].map((cat) => ['ACL', 'CAT', cat]));
    const forbidden = new Set((categories as string[][]).flat());
    expect(forbidden.has('flushall') && forbidden.has('config|set') && forbidden.has('eval')).toBe(true);
    // Name, arity, key specifications and subcommands of every command (COMMAND's RESP2 reply: fields 0, 1, 8, 9).
    const table = await admin.command('COMMAND') as RedisReply[][];
    // A command with subcommands (CLIENT, CONFIG …) is asked for each of them.
    const all: Array<{ name: string; arity: number; keyless: boolean }> = table
      .flatMap((cmd) => ((cmd[9] as RedisReply[][] | undefined)?.length ? cmd[9] as RedisReply[][] : [cmd]))
      .map((c) => ({ name: c[0] as string, arity: c[1] as number, keyless: (c[8] as RedisReply[]).length === 0 }));
    const args = (name: string, arity: number, prefix: string) => {
      const words = name.split('|');
      const count = Math.abs(arity);
      return [...words, ...Array.from({ length: Math.max(0, count - words.length) }, () => `${prefix}x`)];
    };
    const probeUser = /^user (\S+) /.exec(Object.values(redisFiles(KV)).find((f) => f.endsWith(' +ping'))!)![1];
    const users = [...APPS, probeUser, REDIS_TLS_RELOAD_USER];
    // One pipeline for every user and command.
    const replies = await admin.pipeline(users.flatMap((user) => all.map((c) => ['ACL', 'DRYRUN', user, ...args(c.name, c.arity, `${user}:`)])));
    const granted = (user: string) => all.filter((_c, i) => replies[users.indexOf(user) * all.length + i] === 'OK');
    for (const user of APPS) {
      expect(granted(user).filter((c) => forbidden.has(c.name)).map((c) => c.name)).toEqual([]);
      const keyless = granted(user).filter((c) => c.keyless).map((c) => c.name).filter((n) => !REVIEWED_KEYLESS.has(n));
      expect(`${user}: ${keyless.join(', ')}`).toBe(`${user}: `);
    }
    // AUTH, HELLO, QUIT and RESET are open to every connection (the no-auth commands); the probe's user adds PING alone.
    expect(granted(probeUser).map((c) => c.name).sort()).toEqual(['auth', 'hello', 'ping', 'quit', 'reset']);
    // The start script's own user, whose password never leaves the container: CONFIG SET alone, to reload the certificate.
    expect(granted(REDIS_TLS_RELOAD_USER).map((c) => c.name).sort()).toEqual(['auth', 'config|set', 'hello', 'quit', 'reset']);
  });

  test('the start script refuses users that share a password (an environment upgraded without new passwords), and an empty one; shellcheck finds nothing', () => {
    const bin = path.join(dir, 'fake-bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'redis-server'), '#!/bin/sh\necho "redis-server started"\n');
    chmodSync(path.join(bin, 'redis-server'), 0o755);
    // Each start refuses before the reload loop and redis-server (the suite's server proves the script starts Redis).
    const start = (kv: VaultEntries, name: string) => {
      const secrets = path.join(dir, `secrets-${name}`);
      mkdirSync(secrets);
      for (const [file, text] of Object.entries(redisFiles(kv))) writeFileSync(path.join(secrets, file), text);
      const conf = path.join(secrets, 'redis.conf');
      writeFileSync(conf, configMapData(manifests, REDIS_WORKLOAD)[REDIS_FILES.conf].split(`include ${SECRETS_DIR}/`).join(`include ${secrets}/`));
      return spawnSync('sh', [path.join(dir, 'start.sh'), conf], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` }, timeout: 10000 });
    };
    // As before per-service users: every app's entry holds Redis's one shared password.
    const shared = Object.fromEntries(Object.keys(KV).map((p) => [p, { password: p.endsWith('/healthcheck') ? KV[p].password : 'the-old-shared-password' }]));
    const refused = start(shared, 'shared');
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('these users have the same password');
    for (const app of APPS) expect(refused.stderr).toContain(` ${app}`);
    const empty = start({ ...KV, [Object.keys(KV).find((p) => p.endsWith(`/${APPS[0]}/redis`))!]: { password: '' } }, 'empty');
    expect(empty).toMatchObject({ status: 1, stdout: '' });
    expect(empty.stderr).toContain(`empty password for ${APPS[0]}`);
    const shellcheck = spawnSync('shellcheck', ['-s', 'sh', path.join(dir, 'start.sh')], { encoding: 'utf8' });
    if (shellcheck.error) console.warn('\n!!! SKIPPED: shellcheck of Redis\'s start.sh: shellcheck is missing (Debian package shellcheck) !!!\n');
    else expect(shellcheck.stdout).toBe('');
  });
});

/**
 * Commands an app's user may run that name no key, each reviewed: they reach no other
 * service's data. Connection and transaction control, the channel commands (their channels
 * are checked against the user's pattern), the command table, and harmless replies.
 */
const REVIEWED_KEYLESS = new Set([
  'ping', 'echo', 'hello', 'auth', 'quit', 'reset', 'multi', 'exec', 'discard', 'unwatch', 'wait', 'waitaof', 'readonly', 'readwrite', 'asking', 'lolwut',
  'client|id', 'client|info', 'client|getname', 'client|setname', 'client|setinfo', 'client|reply', 'client|no-touch', 'client|getredir',
  'client|trackinginfo', 'client|caching', 'client|help',
  'command|count', 'command|docs', 'command|getkeys', 'command|getkeysandflags', 'command|info', 'command|list', 'command|help',
  'publish', 'spublish', 'subscribe', 'ssubscribe', 'psubscribe', 'unsubscribe', 'sunsubscribe', 'punsubscribe',
  'object|help', 'xinfo|help', 'xgroup|help', 'memory|help',
]);
