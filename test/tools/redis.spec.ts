/**
 * Redis's users in a real redis-server (Debian's): the synthesized redis.conf and start
 * script, with the ACL files the Vault agent would render from the synthesized templates
 * (test passwords in the KV entries the annotations name). One server for the suite, started
 * by the synthesized start script. Only the port, the bind address, the data folder and the
 * folder of the Vault files are rewritten, and one user is added for the suite itself (an
 * administrator for ACL DRYRUN and for looking behind the apps); nothing else.
 *
 * Every app that uses Redis (from the config, never a list here) logs in with the URL its
 * own Vault template renders and does its job below its prefix; then each attack of the
 * security review is refused: FLUSHALL, CONFIG SET requirepass, scripts, another service's
 * keys and channels, key listings, the built-in `default` user … Every command the server
 * knows is asked of every user with ACL DRYRUN: none of `@dangerous`, `@admin` or
 * `@scripting` is allowed, and the allowed commands that name no key are a reviewed list.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { REDIS_KEY_PREFIX_ENV, REDIS_WORKLOAD, redisUsers } from '../../charts/capabilities/database';
import { DATA_STORES } from '../../config/catalog';
import { parseEnvironment } from '../../config/load';
import { compareVersions } from '../../lib/core/image';
import { REDIS_DEFAULT_USER, REDIS_FILES, SECRETS_DIR } from '../../lib/database';
import { VALID_ENV } from '../fixtures/environments';
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

const SECTION = `secrets: {}
database:
  postgres:
    image: { repository: registry.example.com/postgres-walg, tag: 16.4-walg3.0.9 }
    walgVersion: 3.0.9
  walg: { s3Prefix: s3://pronto-backups/pg, storageCidrs: [52.95.128.0/21] }
  pgbouncer:
    image: { repository: ghcr.io/cloudnative-pg/pgbouncer, tag: 1.25.2 }
    version: 1.25.2
  redis:
    image: { repository: docker.io/library/redis, tag: 7.4.10-alpine }
`;
const config = parseEnvironment(`${VALID_ENV}${SECTION}`, 'config/test.yaml');
const { manifests } = buildEnvironment(config);
const APPS = redisUsers(config);
const redisPod = named(manifests, 'Deployment', REDIS_WORKLOAD).spec.template;
const VAULT = 'vault.hashicorp.com/';

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

/** How an app connects: what its rendered REDIS_URL says (redis-py's from_url reads the same parts). */
function appLogin(service: string): { user: string; password: string; host: string; port: number; db: number; prefix: string } {
  const pod = appPod(service);
  const url = new URL(renderVaultTemplate(annotations(pod)[`${VAULT}agent-inject-template-${DATA_STORES.redis.secret.file}`], KV));
  expect(url.protocol).toBe('redis:');
  return {
    user: decodeURIComponent(url.username), password: decodeURIComponent(url.password), host: url.hostname, port: Number(url.port),
    db: Number(url.pathname.slice(1)), prefix: envOf(pod, service)[REDIS_KEY_PREFIX_ENV],
  };
}

const ADMIN = { user: 'suite-admin', password: 'suite-admin-pw' };

maybe('Redis users in real redis-server', () => {
  let dir: string;
  let port: number;
  let server: ChildProcess;
  let admin: RedisConnection;
  const open: RedisConnection[] = [];
  const connection = async () => {
    const c = await connectRedis({ port });
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
    mkdirSync(path.join(dir, 'secrets'));
    mkdirSync(path.join(dir, 'data'));
    for (const [file, text] of Object.entries(redisFiles(KV))) writeFileSync(path.join(dir, 'secrets', file), text);
    port = await freePort();
    const synthesized = configMapData(manifests, REDIS_WORKLOAD);
    const rewrites: Array<[RegExp, string]> = [
      [/^port \d+$/m, `port ${port}`],
      [/^bind .*$/m, 'bind 127.0.0.1'],
      [/^dir .*$/m, `dir ${dir}/data`],
      [new RegExp(`^include ${SECRETS_DIR}/`, 'gm'), `include ${dir}/secrets/`],
    ];
    let conf = synthesized[REDIS_FILES.conf];
    for (const [from, to] of rewrites) {
      if (!from.test(conf)) throw new Error(`redis.conf has no line matching ${from}: the suite's rewrites need updating`);
      conf = conf.replace(from, to);
    }
    conf += `# The suite's own administrator (ACL DRYRUN, checks behind the apps): not in the synthesized file.\nuser ${ADMIN.user} on >${ADMIN.password} ~* &* +@all\n`;
    writeFileSync(path.join(dir, 'redis.conf'), conf);
    writeFileSync(path.join(dir, 'start.sh'), synthesized[REDIS_FILES.start]);
    server = spawn('sh', [path.join(dir, 'start.sh'), path.join(dir, 'redis.conf')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
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
    server?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the config names the apps that use Redis, and each app\'s URL names its own user, Redis\'s Service and database 0', () => {
    expect(APPS.length).toBeGreaterThan(1);
    for (const app of APPS) {
      const l = appLogin(app);
      expect(l).toMatchObject({ user: app, host: DATA_STORES.redis.host, port: DATA_STORES.redis.port, db: 0, prefix: `${app}:` });
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

  test.each(APPS)('%s does its job below its own prefix: strings, counters, expiry, hashes, lists, transactions, pub/sub', async (app) => {
    const l = appLogin(app);
    const c = await login(l.user, l.password);
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

  test('the readiness probe, as synthesized, passes with the health-check user, which can only PING', async () => {
    const probe: string[] = redisPod.spec.containers.find((x: any) => x.name === 'redis').readinessProbe.exec.command;
    const run = (secrets: string) => spawnSync(probe[0], [probe[1], probe[2].split(`${SECRETS_DIR}/`).join(`${secrets}/`).replace(/-p \d+/, `-p ${port}`)], { encoding: 'utf8' });
    expect(run(path.join(dir, 'secrets')).status).toBe(0);
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
    const users = [...APPS, /^user (\S+) /.exec(Object.values(redisFiles(KV)).find((f) => f.endsWith(' +ping'))!)![1]];
    for (const user of users) {
      const replies = await admin.pipeline(all.map((c) => ['ACL', 'DRYRUN', user, ...args(c.name, c.arity, `${user}:`)]));
      const granted = all.filter((_c, i) => replies[i] === 'OK');
      expect(granted.filter((c) => forbidden.has(c.name)).map((c) => c.name)).toEqual([]);
      const keyless = granted.filter((c) => c.keyless).map((c) => c.name).filter((n) => !REVIEWED_KEYLESS.has(n));
      expect(`${user}: ${keyless.join(', ')}`).toBe(`${user}: `);
      // AUTH, HELLO, QUIT and RESET are open to every connection (the no-auth commands); the probe's user adds PING alone.
      if (!APPS.includes(user)) expect(granted.map((c) => c.name).sort()).toEqual(['auth', 'hello', 'ping', 'quit', 'reset']);
    }
  });

  test('the start script refuses users that share a password (an environment upgraded without new passwords), and an empty one; shellcheck finds nothing', () => {
    const bin = path.join(dir, 'fake-bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'redis-server'), '#!/bin/sh\necho "redis-server started"\n');
    chmodSync(path.join(bin, 'redis-server'), 0o755);
    const start = (kv: VaultEntries) => {
      const secrets = path.join(dir, `secrets-${Object.keys(kv).length}-${Math.random().toString(16).slice(2)}`);
      mkdirSync(secrets);
      for (const [file, text] of Object.entries(redisFiles(kv))) writeFileSync(path.join(secrets, file), text);
      const conf = path.join(secrets, 'redis.conf');
      writeFileSync(conf, configMapData(manifests, REDIS_WORKLOAD)[REDIS_FILES.conf].split(`include ${SECRETS_DIR}/`).join(`include ${secrets}/`));
      return spawnSync('sh', [path.join(dir, 'start.sh'), conf], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } });
    };
    expect(start(KV)).toMatchObject({ status: 0, stdout: 'redis-server started\n' });
    // As before per-service users: every app's entry holds Redis's one shared password.
    const shared = Object.fromEntries(Object.keys(KV).map((p) => [p, { password: p.endsWith('/healthcheck') ? KV[p].password : 'the-old-shared-password' }]));
    const refused = start(shared);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('these users have the same password');
    for (const app of APPS) expect(refused.stderr).toContain(` ${app}`);
    const empty = start({ ...KV, [Object.keys(KV).find((p) => p.endsWith(`/${APPS[0]}/redis`))!]: { password: '' } });
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
