/**
 * renderEnvironment: the problems one environment can have are reported together, each
 * pointing at the config it comes from. Objects are injected after the real build (the
 * schema keeps such objects out of any valid config), through a pass-through mock.
 */
import { Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { renderEnvironment } from '../../charts/synthesize';
import { ConfigError, parseEnvironment } from '../../config/load';
import { setBuildHook } from '../fixtures/build-app-hook';
import { VALID_ENV, withQuotaCpu } from '../fixtures/environments';

jest.mock('../../charts/build-app', () => require('../fixtures/build-app-hook').passThrough());
afterEach(() => setBuildHook(undefined));

const FILE = 'config/test.yaml';
const problemsOf = (text: string): string[] => {
  try {
    renderEnvironment(parseEnvironment(text, FILE));
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.startsWith(needle)) + 1;

describe('renderEnvironment', () => {
  test('a capacity problem does not hide the gate findings: both are reported in one run', () => {
    setBuildHook((_app, _config, charts) => {
      charts.services.services.get('order-service')!.workloads[0].resource.addJsonPatch(JsonPatch.add('/spec/template/spec/hostNetwork', true));
    });
    const text = withQuotaCpu(VALID_ENV, '1');
    const problems = problemsOf(text).join('\n');
    expect(problems).toContain(`${FILE}:${lineOf(text, '    requests:')}: namespace.quota.requests.cpu: expected the quota to hold every workload`);
    expect(problems).toContain(`[no-host-namespaces]`);
    expect(problems).toContain(`${FILE}:${lineOf(text, '  order-service:')}: Deployment pronto/order-service: spec.template.spec.hostNetwork`);
  });

  test('an object marked foreign in a namespace the environment does not name as foreign is a config problem', () => {
    setBuildHook((app) => {
      const chart = new Chart(app, 'stray', { namespace: 'elsewhere', disableResourceNameHashes: true });
      new kplus.k8s.KubeConfigMap(chart, 'C', { metadata: { name: 'stray', annotations: { 'pronto.io/foreign-namespace': 'nobody' } }, data: { a: 'b' } });
    });
    expect(problemsOf(VALID_ENV).join('\n')).toContain(
      'namespace.name: expected an object marked pronto.io/foreign-namespace to live in a namespace the environment names as someone else\'s (kube-system), found ConfigMap elsewhere/stray in "elsewhere"');
  });

  test('a finding on an object of a capability\'s chart points at that capability\'s section', () => {
    setBuildHook((app, _config, charts) => {
      const chart = new Chart(app, 'audit', { namespace: 'pronto', disableResourceNameHashes: true });
      new kplus.k8s.KubeService(chart, 'S', { metadata: { name: 'orphan', labels: { 'app.kubernetes.io/name': 'orphan' } }, spec: { selector: { app: 'none' }, ports: [{ port: 80 }] } });
      (charts.capabilityOf as Map<Chart, string>).set(chart, 'gateway');
    });
    const text = `${VALID_ENV}gateway: false\n`;
    const rendered = renderEnvironment(parseEnvironment(text, FILE));
    expect(rendered.findings.map((f) => [f.rule, f.where])).toContainEqual(['service-selects-pods', `${FILE}:${lineOf(text, 'gateway:')}`]);
  });

  test('a chart the namespace chart depends on is refused: guardrails/ is applied before every other folder', () => {
    setBuildHook((app, _config, charts) => {
      const first = new Chart(app, 'first', { namespace: 'pronto', disableResourceNameHashes: true });
      new kplus.k8s.KubeConfigMap(first, 'C', { metadata: { name: 'first' }, data: { a: 'b' } });
      charts.namespace.addDependency(first);
    });
    expect(() => renderEnvironment(parseEnvironment(VALID_ENV, FILE))).toThrow('the namespace chart (guardrails/, applied before every other folder) depends on first: nothing may come before the namespace and its guardrails');
  });
});
