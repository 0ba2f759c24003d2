/**
 * renderEnvironment: the problems one environment can have are reported together, each
 * pointing at the config it comes from. Objects are injected after the real build (the
 * schema keeps such objects out of any valid config), through a pass-through mock.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { CONFIG_DIR, ENVIRONMENTS } from '../helpers';
import { Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { renderEnvironment } from '../../charts/synthesize';
import { ConfigError, parseEnvironment } from '../../config/load';
import { setBuildHook } from '../fixtures/build-app-hook';
import { VALID_ENV, withQuotaCpu } from '../fixtures/environments';
import { OPERATOR_PYTHON_IMAGE, VAULT_AGENT_IMAGE } from '../../lib/addons';
import { CLIENT_SIDE_APPLY_LIMIT_BYTES } from '../../lib/core';

// Also for test/main/in-process.spec.ts, which runs in this file's module registry (below): one load of the stack for both.
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

describe('how each folder is applied by hand', () => {
  const note = (files: Array<{ name: string; text: string }>, name: string) => files.find((f) => f.name === name)!.text.split('\n').find((l) => l.startsWith('# ') && l.includes('kubectl'))!;

  test('kubectl apply -k; with --server-side only where an object of the folder is too large for client-side apply (its last-applied annotation)', () => {
    const small = renderEnvironment(parseEnvironment(VALID_ENV, FILE));
    expect(note(small.files, 'kustomization.yaml')).not.toContain('--server-side');
    expect(small.files.find((f) => f.name === 'INVENTORY.md')!.text).not.toContain('--server-side');
    // A ConfigMap just over the limit, valid otherwise (under the API server's 1 MiB), in the environment's own folder.
    setBuildHook((_app, _config, charts) => {
      const chart = Chart.of(charts.services.services.get('order-service')!);
      new kplus.k8s.KubeConfigMap(chart, 'Big', { metadata: { name: 'big' }, data: { big: 'x'.repeat(CLIENT_SIDE_APPLY_LIMIT_BYTES) } });
    });
    const large = renderEnvironment(parseEnvironment(VALID_ENV, FILE));
    expect(note(large.files, 'kustomization.yaml')).toContain('then this folder (kubectl apply --server-side -k: an object is too large for client-side apply)');
    expect(note(large.files, 'guardrails/kustomization.yaml')).toContain('kubectl apply -k this folder');
    expect(large.files.find((f) => f.name === 'INVENTORY.md')!.text).toContain('applied by `kubectl apply --server-side -k` on this folder');
  });
});

describe('the image policy (images.requireDigest, images.allowedRepositories)', () => {
  const prodText = readFileSync(path.join(CONFIG_DIR, 'prod.yaml'), 'utf8');
  const prod = parseEnvironment(prodText, 'config/prod.yaml');
  const images = (text: string) => renderEnvironment(parseEnvironment(text, 'config/prod.yaml'), { gate: false }).manifests
    .flatMap((m: any) => { const spec = m.kind === 'CronJob' ? m.spec.jobTemplate.spec.template.spec : m.spec?.template?.spec; return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]; })
    .map((c: any) => c.image as string);

  test('prod runs only images from its allowed repositories, and synth says so for any other', () => {
    expect(prod.images.allowedRepositories.length).toBeGreaterThan(0);
    const repository = (image: string) => image.split('@')[0].replace(/:[^/:]+$/, '');
    for (const image of images(prodText)) {
      expect([image, prod.images.allowedRepositories.some((p) => repository(image) === p || repository(image).startsWith(`${p}/`))]).toEqual([image, true]);
    }
    const withoutRedis = prodText.replace(/^\s+- docker\.io\/library\/redis\n/m, '');
    const problems = (() => { try { renderEnvironment(parseEnvironment(withoutRedis, 'config/prod.yaml')); return ''; } catch (e) { return (e as ConfigError).problems.join('\n'); } })();
    expect(problems).toMatch(/config\/prod\.yaml:\d+: images\.allowedRepositories: expected images from .*, found "docker\.io\/library\/redis:[^"]+" \(StatefulSet[./a-z ]*pronto\/redis, container redis\)/);
  });

  const prodProblems = (text: string) => {
    try { renderEnvironment(parseEnvironment(text, 'config/prod.yaml')); return ''; } catch (e) { return (e as ConfigError).problems.join('\n'); }
  };

  test('requireDigest refuses every image pinned by tag alone, naming it, the images webhooks inject included (the Vault agent, the Python auto-instrumentation)', () => {
    const strict = prodText.replace(/^( {2}registry: .*\n)/m, '$1  requireDigest: true\n').replace(/^tracing:\n/m, 'tracing:\n  instrumentation: {}\n');
    const problems = prodProblems(strict);
    expect(problems).toContain(`found "${OPERATOR_PYTHON_IMAGE.repository}:${OPERATOR_PYTHON_IMAGE.tag}", which the OpenTelemetry Operator (tracing.instrumentation) injects `
      + '(containers opentelemetry-auto-instrumentation-python): give its digest in tracing.instrumentation.python');
    const undigested = [...new Set(images(prodText).filter((i) => !i.includes('@sha256:')))];
    expect(undigested.length).toBeGreaterThan(0);
    for (const image of undigested) expect(problems).toContain(`images.requireDigest: expected every image pinned by digest (@sha256:…), found "${image}"`);
    const agent = `${VAULT_AGENT_IMAGE.repository}:${VAULT_AGENT_IMAGE.tag}`;
    expect(problems).toContain(`images.requireDigest: expected every image pinned by digest (@sha256:…), found "${agent}", which the Vault agent injector injects `
      + '(containers vault-agent-init, vault-agent): give its digest in secrets.agent.image');
    // With the agent's digest given, the agent is no longer named.
    const pinnedAgent = strict.replace(/^secrets:\n/m, `secrets:\n  agent:\n    image: { repository: ${VAULT_AGENT_IMAGE.repository}, tag: ${VAULT_AGENT_IMAGE.tag}, digest: "sha256:${'a'.repeat(64)}" }\n`);
    expect(pinnedAgent).not.toBe(strict);
    expect(prodProblems(pinnedAgent)).not.toContain(`found "${agent}`);
  });

  test('ATTACK: synth refuses prefix tricks in any container of the output: a longer host, a tag or digest on the bare registry, another port, a longer repository, a short name', () => {
    const tricks = ['registry.pronto.example.com.evil.io/pronto/tool:1.0.0', 'registry.pronto.example.com@evil', 'registry.pronto.example.com:1.0.0',
      'registry.pronto.example.com:5000/pronto/tool:1.0.0', 'docker.io/library/redis-evil:7.4.10-alpine', 'redis:7.4.10-alpine'];
    setBuildHook((_app, _config, charts) => {
      const order = charts.services.services.get('order-service')!.workloads[0].resource;
      tricks.forEach((image, i) => order.addJsonPatch(JsonPatch.add('/spec/template/spec/containers/-',
        { name: `tool-${i}`, image, resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '16Mi' } } })));
    });
    const problems = prodProblems(prodText);
    for (const [i, image] of tricks.entries()) {
      expect([image, problems]).toEqual([image, expect.stringContaining(
        `images.allowedRepositories: expected images from ${prod.images.allowedRepositories.join(', ')} (a registry exactly, then whole path segments), found "${image}" (Deployment pronto/order-service, container tool-${i})`)]);
    }
  });

  test('no shipped environment carries an invented digest: every digest names a release the pipeline recorded (none yet)', () => {
    for (const env of ENVIRONMENTS) expect(readFileSync(path.join(CONFIG_DIR, `${env}.yaml`), 'utf8')).not.toMatch(/digest: sha256:/);
  });
});

describe('main/in-process', () => { require('../main/in-process.spec'); });
