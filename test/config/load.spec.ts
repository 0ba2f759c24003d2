import { renderEnvironment } from '../../charts/synthesize';
import { CATALOG, DATA_STORES, REDIS_HEALTHCHECK_USER } from '../../config/catalog';
import { ConfigError, parseEnvironment } from '../../config/load';
import { cpuMillis } from '../../lib/core/quantity';
import { DEFAULT_REPLICAS } from '../../lib/core/release';
import { BAD_CASES, VALID_ENV, lineOf } from '../fixtures/environments';
import { ENVIRONMENTS, environment } from '../helpers';
import { lineInEntry, shippedCatalogText } from '../fixtures/added-service';

const FILE = 'config/test.yaml';

/** Loads and renders in memory: the whole validation a synth does (config, capacity, gate). */
function validate(text: string): void {
  const rendered = renderEnvironment(parseEnvironment(text, FILE));
  if (rendered.findings.length > 0) throw new Error(`unexpected policy findings:\n${rendered.report}`);
}

function problemsOf(text: string): string[] {
  try {
    validate(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('environment config', () => {
  test.each(ENVIRONMENTS)('shipped environment %s is valid', (env) => {
    expect(environment(env).services.map((s) => s.name)).toEqual(Object.keys(CATALOG));
  });

  test('the fixture environment is valid', () => {
    expect(() => validate(VALID_ENV)).not.toThrow();
  });

  test('applies the documented defaults', () => {
    const config = parseEnvironment(VALID_ENV, FILE);
    expect(config.name).toBe('test');
    expect(config.namespace.name).toBe('pronto');
    expect(config.namespace.podSecurityVersion).toBe('v1.28');
    expect(config.namespace.quota.pods).toBe(100);
    expect(config.namespace.limitRange.max).toEqual({ cpu: '4', memory: '4Gi' });
    expect(config.capabilities).toEqual({});
    const employees = config.services.find((s) => s.name === 'employees-app')!;
    expect(employees.resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi', ephemeralStorage: '1Gi' },
      limits: { cpu: '500m', memory: '256Mi', ephemeralStorage: '2Gi' },
    });
    expect(employees.release).toMatchObject({
      strategy: 'rolling',
      scaling: { kind: 'fixed', replicas: DEFAULT_REPLICAS },
      rollingUpdate: { maxSurge: 1, minReadySeconds: 10, progressDeadlineSeconds: 600 },
      image: { repository: 'registry.example.com/pronto/employees-app' },
    });
    const clients = config.services.find((s) => s.name === 'clients-app')!;
    expect(clients.release.scaling).toEqual({ kind: 'autoscaling', minReplicas: 2, maxReplicas: 4, targetCpuUtilizationPercent: 70 });
  });

  test('accepts v-prefixed and pre-release tags, digests and a repository override', () => {
    const text = VALID_ENV.replace('{ tag: 1.3.0, gitSha: 51aa0f2 }',
      `{ tag: v1.3.0-rc.2, gitSha: 51aa0f2c51aa0f2c51aa0f2c51aa0f2c51aa0f2c, repository: mirror.example.com:5000/staff/app, digest: "sha256:${'a'.repeat(64)}" }`);
    const svc = parseEnvironment(text, FILE).services.find((s) => s.name === 'employees-app')!;
    expect(svc.release.strategy === 'rolling' && svc.release.image).toEqual({
      repository: 'mirror.example.com:5000/staff/app', tag: 'v1.3.0-rc.2',
      gitSha: '51aa0f2c51aa0f2c51aa0f2c51aa0f2c51aa0f2c', digest: `sha256:${'a'.repeat(64)}`,
    });
  });

  test('at least twelve bad configurations are covered', () => {
    expect(BAD_CASES.length).toBeGreaterThanOrEqual(12);
  });

  test.each(BAD_CASES.map((c) => [c.name, c] as const))('fails on %s with a message naming file, field, expectation and value', (_, c) => {
    const message = problemsOf(c.text).join('\n');
    expect(message).toContain(FILE);
    for (const part of c.expect) expect(message).toContain(part);
  });

  test('fails on a catalog entry that calls an unknown service', () => {
    const catalog = { ...CATALOG, 'order-service': { ...CATALOG['order-service'], calls: ['kitchen-dispaly'] } };
    expect(() => parseEnvironment(VALID_ENV, FILE, catalog)).toThrow(
      `config/catalog.ts:${lineInEntry(shippedCatalogText(), 'order-service', 'calls')}: order-service.calls.0: expected another catalog service`);
  });

  test('fails on two catalog services with the same public route', () => {
    const catalog = { ...CATALOG, 'kitchen-display': { ...CATALOG['kitchen-display'], route: { path: '/staff' } } };
    expect(() => parseEnvironment(VALID_ENV, FILE, catalog)).toThrow('route.path: expected a path no other service uses');
  });

  // YAML reads these as Infinity or NaN, which JSON (the messages' notation) writes as null.
  const replace = (from: string | RegExp, to: string) => (text: string) => {
    expect(text).toMatch(from);
    return text.replace(from, to);
  };
  test.each([
    ['a memory limit of 1e400', replace('memory: 512Mi }', 'memory: 1e400 }'), 'services.order-service.resources.limits.memory', 'expected a memory quantity', '1e400'],
    ['a CPU request of 1e400', replace('requests: { cpu: 200m', 'requests: { cpu: 1e400'), 'services.order-service.resources.requests.cpu', 'expected a CPU quantity', '1e400'],
    ['a quota memory of -.inf', replace(/(requests: \{ cpu: "\d+", memory: )\w+/, '$1-.inf'), 'namespace.quota.requests.memory', 'expected a memory quantity', '-.inf'],
    ['a memory request of .NaN', replace('memory: 256Mi }', 'memory: .NaN }'), 'services.order-service.resources.requests.memory', 'expected a memory quantity', '.NaN'],
  ])('%s is quoted as the file writes it, at its file, line and field', (_, change, field, expected, written) => {
    const text = change(VALID_ENV);
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    const [start, end] = [`${FILE}:${lineOf(text, written)}: ${field}: ${expected}`, `, found ${written}`];
    expect(problems[0].slice(0, start.length)).toBe(start);
    expect(problems[0].slice(-end.length)).toBe(end);
  });

  test('reports every problem at once', () => {
    const text = VALID_ENV.replace('tag: 1.3.0', 'tag: latest').replace('gitSha: 0f3e9d8', 'gitSha: nope');
    expect(problemsOf(text)).toHaveLength(2);
  });
});

describe('namespace quota: requests within limits', () => {
  /** VALID_ENV with the quota's requests line, and its limits line when given (none when not). */
  const quota = (requests: string, limits?: string) => {
    const lines = /^ {4}requests: .*\n {4}limits: .*\n/m;
    expect(VALID_ENV).toMatch(lines);
    return VALID_ENV.replace(lines, `    requests: ${requests}\n${limits ? `    limits: ${limits}\n` : ''}`);
  };
  const refusal = (text: string, field: 'cpu' | 'memory', limit: string, request: string) =>
    `${FILE}:${lineOf(text, '    requests:')}: namespace.quota.requests.${field}: expected at most namespace.quota.limits.${field} (${limit}): ` +
    `requests above the limits can never be used, found "${request}"`;

  test('requests.cpu above limits.cpu is refused, naming the field and both values', () => {
    const text = quota('{ cpu: "3", memory: 1Gi }', '{ cpu: 2500m, memory: 2Gi }');
    expect(problemsOf(text)).toEqual([refusal(text, 'cpu', '2500m', '3')]);
  });

  test('requests.memory above limits.memory is refused, whatever the units (3Gi is 3072Mi)', () => {
    const text = quota('{ cpu: "3", memory: 3Gi }', '{ cpu: "4", memory: 3000Mi }');
    expect(problemsOf(text)).toEqual([refusal(text, 'memory', '3000Mi', '3Gi')]);
  });

  test('requests above the default limits, when the file writes none, are refused against the defaults', () => {
    const defaults = parseEnvironment(quota('{ cpu: "1", memory: 1Gi }'), FILE).namespace.quota.limits;
    const cpu = String(cpuMillis(defaults.cpu) / 1000 + 1);
    const text = quota(`{ cpu: "${cpu}", memory: 1Gi }`);
    expect(problemsOf(text)).toEqual([refusal(text, 'cpu', defaults.cpu, cpu)]);
  });

  test('requests equal to the limits are accepted', () => {
    const config = parseEnvironment(quota('{ cpu: "3", memory: 3Gi }', '{ cpu: 3000m, memory: 3072Mi }'), FILE);
    expect(config.namespace.quota).toMatchObject({ requests: { cpu: '3', memory: '3Gi' }, limits: { cpu: '3000m', memory: '3072Mi' } });
  });
});

describe('catalog cross-checks', () => {
  test('fails on a service named like a platform workload (the gateway, a data store host)', () => {
    const catalog = { ...CATALOG, redis: { ...CATALOG['order-service'] } };
    expect(() => parseEnvironment(VALID_ENV, 'config/test.yaml', catalog))
      .toThrow('config/catalog.ts: redis: expected a service name other than the platform\'s own workloads (gateway, pgbouncer, redis), found "redis"');
  });

  test('fails on a Redis user named like one of Redis\'s own users (each service logs in as itself): the built-in default, the probe\'s', () => {
    expect(DATA_STORES.redis.reservedUsers).toEqual(['default', REDIS_HEALTHCHECK_USER]);
    for (const name of DATA_STORES.redis.reservedUsers!) {
      const catalog = { ...CATALOG, [name]: { ...CATALOG['kitchen-display'], secrets: [] } };
      const at = CATALOG['kitchen-display'].dataStores.indexOf('redis');
      expect(() => parseEnvironment(VALID_ENV, 'config/test.yaml', catalog)).toThrow(`config/catalog.ts: ${name}.dataStores.${at}: expected a service name other than redis's own users ` +
        `(default, ${REDIS_HEALTHCHECK_USER}): each service logs in to redis as the user of its name, found "${name}"`);
    }
  });

  test('fails on owning a kube-* namespace, and on DNS pod labels that are not labels', () => {
    const owned = VALID_ENV.replace('namespace:\n', 'namespace:\n  name: kube-extra\n');
    expect(() => parseEnvironment(owned, 'config/test.yaml')).toThrow('namespace.name: expected a namespace Pronto owns, never one Kubernetes runs');
    const labels = (podLabels: string) => `${VALID_ENV}cluster:\n  dns:\n    podLabels: ${podLabels}\n`;
    expect(() => parseEnvironment(labels('{ "k8s app": kube-dns }'), 'config/test.yaml')).toThrow('cluster.dns.podLabels.k8s app: expected a label key (');
    expect(() => parseEnvironment(labels('{ k8s-app: "kube dns!" }'), 'config/test.yaml')).toThrow('cluster.dns.podLabels.k8s-app: expected a label value (bad characters');
  });
});

describe('duplicate keys (found in one pass, as the yaml library reports them)', () => {
  const yamlProblems = (text: string) => {
    try {
      parseEnvironment(text, FILE);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.filter((p) => p.includes('YAML:'));
      throw err;
    }
    return [];
  };

  test('a key written twice in a nested block map, or in a flow map, is refused at the repeated key\'s line', () => {
    const nested = VALID_ENV.replace('services:\n', 'services:\n  order-service:\n    image: { tag: 1.0.0, gitSha: 1a2b3c4 }\n');
    const line = nested.split('\n').findIndex((l, i) => i > nested.split('\n').indexOf('services:') + 2 && l === '  order-service:') + 1;
    expect(yamlProblems(nested)).toEqual([`${FILE}:${line}: YAML: Map keys must be unique`]);
    expect(yamlProblems(`${VALID_ENV}extra: { a: 1, b: 2, a: 3 }\n`)).toEqual([`${FILE}:${VALID_ENV.split('\n').length}: YAML: Map keys must be unique`]);
  });

  test('equal keys in different maps, keys that only look alike, and `.nan` twice (not equal to itself) are not duplicates', () => {
    for (const text of ['a: { x: 1 }\nb: { x: 1 }\n', 'a: { "1": x, 1: y }\n', 'a: { .nan: x, .nan: y }\n']) {
      expect(yamlProblems(text)).toEqual([]);
    }
  });
});
