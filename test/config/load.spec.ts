import { renderEnvironment } from '../../charts/synthesize';
import { CATALOG } from '../../config/catalog';
import { ConfigError, parseEnvironment } from '../../config/load';
import { DEFAULT_REPLICAS } from '../../lib/core/release';
import { BAD_CASES, VALID_ENV } from '../fixtures/environments';
import { ENVIRONMENTS, environment } from '../helpers';

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
      'config/catalog.ts: order-service.calls.0: expected another catalog service');
  });

  test('fails on two catalog services with the same public route', () => {
    const catalog = { ...CATALOG, 'kitchen-display': { ...CATALOG['kitchen-display'], route: { path: '/staff' } } };
    expect(() => parseEnvironment(VALID_ENV, FILE, catalog)).toThrow('route.path: expected a path no other service uses');
  });

  test('reports every problem at once', () => {
    const text = VALID_ENV.replace('tag: 1.3.0', 'tag: latest').replace('gitSha: 0f3e9d8', 'gitSha: nope');
    expect(problemsOf(text)).toHaveLength(2);
  });
});

describe('catalog cross-checks', () => {
  test('fails on a service named like a platform workload (the gateway, a data store host)', () => {
    const catalog = { ...CATALOG, redis: { ...CATALOG['order-service'] } };
    expect(() => parseEnvironment(VALID_ENV, 'config/test.yaml', catalog))
      .toThrow('config/catalog.ts: redis: expected a service name other than the platform\'s own workloads (gateway, pgbouncer, redis), found "redis"');
  });

  test('fails on owning a kube-* namespace, and on DNS pod labels that are not labels', () => {
    const owned = VALID_ENV.replace('namespace:\n', 'namespace:\n  name: kube-extra\n');
    expect(() => parseEnvironment(owned, 'config/test.yaml')).toThrow('namespace.name: expected a namespace Pronto owns, never one Kubernetes runs');
    const labels = (podLabels: string) => `${VALID_ENV}cluster:\n  dns:\n    podLabels: ${podLabels}\n`;
    expect(() => parseEnvironment(labels('{ "k8s app": kube-dns }'), 'config/test.yaml')).toThrow('cluster.dns.podLabels.k8s app: expected a label key (');
    expect(() => parseEnvironment(labels('{ k8s-app: "kube dns!" }'), 'config/test.yaml')).toThrow('cluster.dns.podLabels.k8s-app: expected a label value (bad characters');
  });
});
