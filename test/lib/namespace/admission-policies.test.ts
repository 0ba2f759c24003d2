/**
 * The namespace's admission guardrails (`namespace.admissionPolicies`): the policies and
 * bindings, their CEL evaluated with a CEL implementation (@bufbuild/cel, with the strings
 * extension that Kubernetes also loads) against pods and workloads we synthesize (which
 * must all pass) and broken copies of them (each rejected by exactly the guardrail it
 * breaks), the whole gate with the setting on, and byte-identical output with it off.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { CelResult, CelValue, celEnv, celError, isCelError, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { Testing } from 'cdk8s';
import { stringify } from 'yaml';
import { buildApp } from '../../../charts/build-app';
import { renderEnvironment } from '../../../charts/synthesize';
import { ConfigError, EnvironmentConfig, parseEnvironment } from '../../../config/load';
import { OPERATOR_PYTHON_IMAGE, VAULT_AGENT_IMAGE } from '../../../lib/addons';
import { DIGEST, Manifest, VERSION_TAG, allowedImagePattern, imageRepository, imageUnderRepositories } from '../../../lib/core';
import { PYTHON_INIT_CONTAINER } from '../../../lib/tracing';
import {
  AdmissionPolicies, GUARDRAILS, Guardrail, PINNED_IMAGE, POD_SPEC_SHAPES, VERSION_TAG_RE2, checkCapacity,
} from '../../../lib/namespace';
import { imageTag } from '../../../lib/validation/rules/container-rules';
import { VALID_ENV } from '../../fixtures/environments';
import { CONFIG_DIR, ENVIRONMENTS, cached, chartsObjects } from '../../helpers';

const FILE = 'config/test.yaml';
const NAMESPACE_LINE = /^namespace:\n/m;

/** `text` with `namespace.admissionPolicies` set to `value` (YAML, indented under it), in place of the file's own setting. */
function withSetting(text: string, value: string): string {
  if (!NAMESPACE_LINE.test(text)) throw new Error('expected a top-level "namespace:" mapping');
  return text.replace(/^ {2}admissionPolicies:.*\n/m, '').replace(NAMESPACE_LINE, `namespace:\n  admissionPolicies:${value}\n`);
}
const ON = ' { enforcement: Deny }';

const synth = (config: EnvironmentConfig): Manifest[] => {
  const app = Testing.app();
  buildApp(app, config);
  return chartsObjects(app.charts);
};
/**
 * An environment text rendered (built, through the whole gate and the capacity guard), once per text: the pod
 * templates below and the tests with the setting on share it (read only).
 */
const renderText = cached((text: string, file: string) => renderEnvironment(parseEnvironment(text, file)));
const yaml = (manifests: Manifest[]) => manifests.map((m) => stringify(m)).join('---\n');

const SOURCES: Array<{ name: string; file: string; text: string }> = [
  { name: 'VALID_ENV', file: FILE, text: VALID_ENV },
  ...ENVIRONMENTS.map((env) => ({ name: env, file: `config/${env}.yaml`, text: readFileSync(path.join(CONFIG_DIR, `${env}.yaml`), 'utf8') })),
];

// ---------------------------------------------------------------- CEL

/** A JSON object as the API server hands it to CEL: integers are CEL ints. */
function celInput(value: unknown): any {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(celInput);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, celInput(v)]));
  return value;
}

/**
 * What `run(expression, bindings, { funcs: strings })` computes, with each expression parsed
 * and planned once: run() parses and plans on every call, and the same few dozen expressions
 * are evaluated thousands of times here. A plan is a reusable evaluation function (see plan()).
 */
const CEL_ENV = celEnv({ funcs: strings });
const PROGRAMS = new Map<string, (bindings: any) => CelResult>();
function cel(expression: string, bindings: Record<string, unknown>): CelValue {
  let result: CelResult;
  try {
    let program = PROGRAMS.get(expression);
    if (!program) PROGRAMS.set(expression, (program = plan(CEL_ENV, parse(expression)) as (bindings: any) => CelResult));
    result = program(bindings);
  } catch (e) {
    result = celError(e);
  }
  if (isCelError(result)) throw new Error(`${expression}: ${result.message}`);
  return result;
}

/**
 * The guardrails `policy` rejects `object` for, by id, with their messages (variables evaluated in order, as the API server does).
 * @param guardrails the policy's guardrails, in the order of its validations
 */
function evaluate(policy: Manifest, object: unknown, guardrails: readonly Guardrail[] = GUARDRAILS): Array<{ id: string; message: string }> {
  const input = celInput(object);
  const variables: Record<string, unknown> = {};
  for (const v of policy.spec.variables) variables[v.name] = cel(v.expression, { object: input, variables });
  return policy.spec.validations.flatMap((v: any, i: number) => {
    const passed = cel(v.expression, { object: input, variables });
    if (typeof passed !== 'boolean') throw new Error(`${v.expression}: expected a bool, found ${String(passed)}`);
    if (passed) return [];
    const message = cel(v.messageExpression, { object: input, variables });
    if (typeof message !== 'string') throw new Error(`${v.messageExpression}: expected a string`);
    return [{ id: guardrails[i].id, message }];
  });
}

/** A pod template as each shape's policy sees it: a Pod, a Deployment, a CronJob. */
const AS_SHAPE: Record<string, (template: any) => unknown> = {
  pod: (t) => ({ apiVersion: 'v1', kind: 'Pod', metadata: t.metadata, spec: t.spec }),
  workload: (t) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'sample' }, spec: { template: t } }),
  cronjob: (t) => ({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'sample' }, spec: { jobTemplate: { spec: { template: t } } } }),
};

function policiesOf(namespace = 'pronto', enforcement?: 'Deny' | 'Warn' | 'Audit'): Manifest[] {
  const chart = Testing.chart();
  new AdmissionPolicies(chart, 'guardrails', { namespace, enforcement });
  return Testing.synth(chart) as Manifest[];
}
const POLICIES = policiesOf().filter((m) => m.kind === 'ValidatingAdmissionPolicy');
const policyOf = (shape: string) => POLICIES.find((p) => p.metadata.name === `pronto-${shape}-guardrails`)!;

/** Every pod template of every environment's output with the setting on. */
const GOOD = SOURCES.flatMap((s) => renderText(withSetting(s.text, ON), s.file).manifests
  .filter((m) => m.spec?.template?.spec?.containers || m.spec?.jobTemplate)
  .map((m) => ({ owner: `${s.name} ${m.kind}/${m.metadata.name}`, manifest: m, template: m.spec.jobTemplate?.spec.template ?? m.spec.template })));

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value));
const app = (t: any) => t.spec.containers[0];
const securityContext = (c: any) => (c.securityContext ??= {});

/** Broken copies of a good template, and the one guardrail each must trip. */
const BAD: Array<[string, string, (t: any) => void]> = [
  ['no memory limit', 'resources', (t) => { delete app(t).resources.limits.memory; }],
  ['no memory request', 'resources', (t) => { delete app(t).resources.requests.memory; }],
  ['no CPU request', 'resources', (t) => { delete app(t).resources.requests.cpu; }],
  ['a zero memory limit', 'resources', (t) => { app(t).resources.limits.memory = '0'; }],
  ['no resources on an init container', 'resources', (t) => { t.spec.initContainers = [...(t.spec.initContainers ?? []), { ...copy(app(t)), name: 'setup', resources: undefined }]; }],
  [':latest', 'image-pinned', (t) => { app(t).image = `${app(t).image.split(/[:@](?=[^/]*$)/)[0]}:latest`; }],
  ['no tag', 'image-pinned', (t) => { app(t).image = app(t).image.split(/[:@](?=[^/]*$)/)[0]; }],
  ['a major-only tag', 'image-pinned', (t) => { app(t).image = `${app(t).image.split(/[:@](?=[^/]*$)/)[0]}:1`; }],
  ['an unpinned ephemeral container', 'image-pinned', (t) => { t.spec.ephemeralContainers = [{ name: 'debug', image: 'docker.io/library/busybox:latest', securityContext: copy(app(t).securityContext) }]; }],
  ['privileged', 'not-privileged', (t) => { securityContext(app(t)).privileged = true; }],
  ['runAsUser 0', 'not-root-user', (t) => { securityContext(app(t)).runAsUser = 0; }],
  ['runAsUser 0 on the pod only', 'not-root-user', (t) => {
    (t.spec.securityContext ??= {}).runAsUser = 0;
    for (const c of [...t.spec.containers, ...(t.spec.initContainers ?? [])]) if (c.securityContext) delete c.securityContext.runAsUser;
  }],
  ['runAsNonRoot false', 'run-as-non-root', (t) => { securityContext(app(t)).runAsNonRoot = false; }],
  ['runAsNonRoot unset on pod and container', 'run-as-non-root', (t) => {
    if (t.spec.securityContext) delete t.spec.securityContext.runAsNonRoot;
    delete securityContext(app(t)).runAsNonRoot;
  }],
];

describe('AdmissionPolicies', () => {
  test('one policy and one binding of the same name per pod-spec shape, cluster-scoped, labelled, bound to the namespace only', () => {
    const out = policiesOf('pronto-dev');
    expect(out.map((m) => `${m.apiVersion}/${m.kind}/${m.metadata.name}`)).toEqual(POD_SPEC_SHAPES.flatMap((s) => [
      `admissionregistration.k8s.io/v1beta1/ValidatingAdmissionPolicy/pronto-dev-${s.id}-guardrails`,
      `admissionregistration.k8s.io/v1beta1/ValidatingAdmissionPolicyBinding/pronto-dev-${s.id}-guardrails`,
    ]));
    for (const m of out) {
      expect(m.metadata.namespace).toBeUndefined();
      expect(m.metadata.labels).toEqual({
        'app.kubernetes.io/name': m.metadata.name, 'app.kubernetes.io/instance': m.metadata.name, 'app.kubernetes.io/component': 'admission-policy',
        'app.kubernetes.io/part-of': 'pronto', 'app.kubernetes.io/managed-by': 'cdk8s',
      });
    }
    for (const b of out.filter((m) => m.kind === 'ValidatingAdmissionPolicyBinding')) {
      expect(b.spec.policyName).toBe(b.metadata.name);
      expect(b.spec.validationActions).toEqual(['Deny']);
      expect(b.spec.matchResources.namespaceSelector).toEqual({ matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['pronto-dev'] }] });
    }
    for (const p of out.filter((m) => m.kind === 'ValidatingAdmissionPolicy')) {
      expect(p.spec.failurePolicy).toBe('Fail');
      expect(p.spec.validations.map((v: any) => v.expression)).toHaveLength(GUARDRAILS.length);
    }
    expect(yaml(policiesOf())).toMatchSnapshot();
  });

  test('covers every kind that carries a pod template, and Pods (with their ephemeral containers)', () => {
    const matched = POLICIES.flatMap((p) => p.spec.matchConstraints.resourceRules.flatMap((r: any) => r.resources.map((res: string) => `${r.apiGroups[0]}/${res}`)));
    expect(matched.sort()).toEqual(['/pods', '/pods/ephemeralcontainers', 'apps/daemonsets', 'apps/deployments', 'apps/replicasets',
      'apps/statefulsets', 'batch/cronjobs', 'batch/jobs'].sort());
    for (const p of POLICIES) for (const r of p.spec.matchConstraints.resourceRules) expect(r.operations).toEqual(['CREATE', 'UPDATE']);
  });

  test.each([['Warn'], ['Audit']] as const)('enforcement %s is the bindings\' validationActions', (enforcement) => {
    for (const b of policiesOf('pronto', enforcement).filter((m) => m.kind === 'ValidatingAdmissionPolicyBinding')) {
      expect(b.spec.validationActions).toEqual([enforcement]);
    }
  });

  test('every message is a plain sentence that fits a single-quoted CEL string, and no expression needs an escape', () => {
    for (const rule of GUARDRAILS) expect(rule.message).not.toMatch(/['\\]/);
    for (const p of POLICIES) {
      for (const e of [...p.spec.variables.map((v: any) => v.expression), ...p.spec.validations.flatMap((v: any) => [v.expression, v.messageExpression])]) {
        expect(e).not.toContain('\\');
      }
    }
  });
});

describe('the guardrails in CEL', () => {
  test('the image pattern is the gate\'s VERSION_TAG, spelled for RE2 without escapes', () => {
    expect(VERSION_TAG_RE2).not.toContain('\\');
    const tags = ['1.4.2', 'v1.4.2', '1.5.0-rc.1', '16.4', '16.4-bookworm', '1.27.3-alpine', '4.18.0-nginx-202509051009', 'v0.110.0', '0.64b0', '1.0rc1',
      'latest', 'stable', '16', 'v1', '1.x', '-1.2', '1.2-', ''];
    for (const tag of tags) {
      expect([tag, cel(`t.matches('^${VERSION_TAG_RE2}$')`, { t: tag })]).toEqual([tag, VERSION_TAG.test(tag)]);
    }
  });

  test('an image is pinned exactly when the gate\'s image-pinned rule accepts it', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const images = ['registry.example.com/pronto/app:1.4.2', `registry.example.com/pronto/app:1.4.2@${digest}`, `registry.example.com/pronto/app@${digest}`,
      'registry.example.com:5000/pronto/app:v2.0.0', 'docker.io/owasp/modsecurity-crs:4.18.0-nginx-202509051009', 'postgres:16.4-bookworm',
      'registry.example.com/pronto/app', 'registry.example.com/pronto/app:latest', 'registry.example.com:5000/pronto/app', 'app:16',
      `registry.example.com/pronto/app:latest@${digest}`, 'registry.example.com/pronto/app@sha256:short'];
    const gateAccepts = (image: string) => {
      const tag = imageTag(image);
      return tag ? VERSION_TAG.test(tag) : DIGEST.test(image.split('@')[1] ?? '');
    };
    for (const image of images) expect([image, cel(`i.matches('${PINNED_IMAGE}')`, { i: image })]).toEqual([image, gateAccepts(image)]);
  });

  test('every pod template we synthesize passes every policy, as a Pod, a workload and a CronJob', () => {
    expect(GOOD.length).toBeGreaterThan(0);
    for (const { owner, template } of GOOD) {
      for (const shape of POD_SPEC_SHAPES) expect([owner, shape.id, evaluate(policyOf(shape.id), AS_SHAPE[shape.id](template))]).toEqual([owner, shape.id, []]);
    }
  });

  test('every workload we synthesize passes the policy that matches its kind, as the API server sees it', () => {
    const shapeOf = (kind: string) => (kind === 'CronJob' ? 'cronjob' : 'workload');
    for (const { owner, manifest } of GOOD) expect([owner, evaluate(policyOf(shapeOf(manifest.kind)), manifest)]).toEqual([owner, []]);
  });

  const samples = GOOD.filter((g) => g.owner.startsWith('VALID_ENV '));
  test.each(BAD)('%s is rejected by exactly the %s guardrail, naming the container, in every shape', (_what, id, breakIt) => {
    expect(samples.length).toBeGreaterThan(0);
    for (const { owner, template } of samples) {
      const bad = copy(template);
      breakIt(bad);
      for (const shape of POD_SPEC_SHAPES) {
        const rejected = evaluate(policyOf(shape.id), AS_SHAPE[shape.id](bad));
        expect([owner, shape.id, rejected.map((r) => r.id)]).toEqual([owner, shape.id, [id]]);
        const broken = [...bad.spec.containers, ...(bad.spec.initContainers ?? []), ...(bad.spec.ephemeralContainers ?? [])]
          .filter((c: any) => !template.spec.containers.concat(template.spec.initContainers ?? []).some((g: any) => JSON.stringify(g) === JSON.stringify(c)));
        for (const c of broken) expect(rejected[0].message).toContain(c.name);
        expect(rejected[0].message.startsWith(GUARDRAILS.find((g) => g.id === id)!.message)).toBe(true);
      }
    }
  });

  test('a tag with a digest, a digest alone and a registry port are accepted; ephemeral containers need no resources', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    for (const { owner, template } of samples) {
      const t = copy(template);
      const repo = app(t).image.split(/[:@](?=[^/]*$)/)[0];
      t.spec.initContainers = [...(t.spec.initContainers ?? []), { ...copy(app(t)), name: 'by-digest', image: `${repo}@${digest}` }];
      t.spec.ephemeralContainers = [{ name: 'debug', image: `registry.example.com:5000/tools/debug:1.36.1@${digest}`, securityContext: copy(app(t).securityContext ?? {}) }];
      if (!t.spec.ephemeralContainers[0].securityContext.runAsNonRoot && !t.spec.securityContext?.runAsNonRoot) t.spec.ephemeralContainers[0].securityContext.runAsNonRoot = true;
      expect([owner, evaluate(policyOf('pod'), AS_SHAPE.pod(t))]).toEqual([owner, []]);
    }
  });
});

describe('namespace.admissionPolicies in an environment', () => {
  test.each(SOURCES.map((s) => [s.name, s]))('%s: on, the objects are in the namespace chart (guardrails/) and everything passes the whole gate and the capacity guard', (_name, source) => {
    const config = parseEnvironment(withSetting(source.text, ON), source.file);
    const rendered = renderText(withSetting(source.text, ON), source.file);
    const manifests = rendered.manifests;
    const ns = config.namespace.name;
    const ours = manifests.filter((m) => m.kind.startsWith('ValidatingAdmissionPolicy'));
    expect(ours.map((m) => m.metadata.name)).toEqual(POD_SPEC_SHAPES.flatMap((s) => [`${ns}-${s.id}-guardrails`, `${ns}-${s.id}-guardrails`]));
    const namespaceFile = rendered.files.find((f) => f.name === 'guardrails/namespace.k8s.yaml')!;
    for (const m of ours) expect(namespaceFile.text).toContain(`name: ${m.metadata.name}`);
    // The rendering ran the whole gate over exactly these objects: its findings are the gate's.
    expect(rendered.findings).toEqual([]);
    expect(checkCapacity(manifests, ns)).toEqual([]);
  });

  test.each(SOURCES.map((s) => [s.name, s]))('%s: off (absent or false), the output is byte-identical', (_name, source) => {
    // The objects in order, every key in order: what the YAML files are written from, so equal JSON is byte-identical YAML.
    const json = (manifests: Manifest[]) => JSON.stringify(manifests, null, 1);
    const absent = source.text.replace(/^ {2}admissionPolicies:.*\n/m, '');
    const expected = json(synth(parseEnvironment(absent, source.file)));
    expect(expected).not.toContain('ValidatingAdmissionPolicy');
    expect(json(synth(parseEnvironment(withSetting(source.text, ' false'), source.file)))).toBe(expected);
  });

  test('enforcement defaults to Deny', () => {
    const config = parseEnvironment(withSetting(VALID_ENV, ' {}'), FILE);
    expect(config.namespace.admissionPolicies).toEqual({ enforcement: 'Deny' });
    const warn = synth(parseEnvironment(withSetting(VALID_ENV, '\n    enforcement: Warn'), FILE));
    for (const b of warn.filter((m) => m.kind === 'ValidatingAdmissionPolicyBinding')) expect(b.spec.validationActions).toEqual(['Warn']);
  });

  const problems = (text: string): string[] => {
    try {
      parseEnvironment(text, FILE);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    throw new Error('expected a ConfigError');
  };
  const settingLine = VALID_ENV.split('\n').findIndex((l) => l === 'namespace:') + 2;

  test('fails on an unknown enforcement with file:line, field, expected and found', () => {
    expect(problems(withSetting(VALID_ENV, '\n    enforcement: Block')).join('\n')).toContain(
      `${FILE}:${settingLine + 1}: namespace.admissionPolicies.enforcement: expected Deny (reject), Warn (admit with a warning) or Audit (audit log only), found "Block"`);
  });

  test('fails on true and on an unknown key', () => {
    expect(problems(withSetting(VALID_ENV, ' true')).join('\n')).toContain(
      `${FILE}:${settingLine}: namespace.admissionPolicies: expected false (off) or the admission policy settings`);
    expect(problems(withSetting(VALID_ENV, '\n    enforce: Deny')).join('\n')).toContain('namespace.admissionPolicies: unknown key "enforce"');
  });
});

describe('which requests the policies look at', () => {
  const condition = (shape: string) => policyOf(shape).spec.matchConditions[0].expression;
  const run = (shape: string, operation: string, object: unknown, oldObject: unknown) =>
    cel(condition(shape), { request: { operation }, object: celInput(object), oldObject: celInput(oldObject) });

  test('every CREATE, and an UPDATE only when the pod spec changes (a controller scaling an old ReplicaSet is let through)', () => {
    const template = GOOD[0].template;
    const rs = (replicas: number, t: any) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'old' }, spec: { replicas, template: t } });
    const latest = copy(template);
    app(latest).image = 'registry.example.com/x:latest';
    expect(run('workload', 'CREATE', rs(2, latest), null)).toBe(true);
    expect(run('workload', 'UPDATE', rs(0, latest), rs(2, latest))).toBe(false);
    expect(run('workload', 'UPDATE', rs(2, latest), rs(2, template))).toBe(true);
    const pod = (labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { labels }, spec: latest.spec });
    expect(run('pod', 'UPDATE', pod({ a: 'b' }), pod({}))).toBe(false);
  });
});

describe('where images come from, at admission (images.allowedRepositories, images.requireDigest, the injected images)', () => {
  const prodSource = SOURCES.find((s) => s.name === 'prod')!;
  const DIGEST_OF = (c: string) => `sha256:${c.repeat(64)}`;

  /** The namespace chart of an environment text as built (no render: the quota is not what this checks), with its policies' guardrails. */
  const built = (text: string) => {
    const config = parseEnvironment(text, prodSource.file);
    const charts = buildApp(Testing.app(), config);
    const policies = charts.namespace.admissionPolicies!;
    const pod = (Testing.synth(charts.namespace) as Manifest[]).find((m) => m.kind === 'ValidatingAdmissionPolicy' && m.metadata.name.endsWith('-pod-guardrails'))!;
    return { config, policies, pod, manifests: app(charts) };
  };
  const app = (charts: ReturnType<typeof buildApp>) => chartsObjects([charts.services, ...charts.capabilities]);
  const prod = built(prodSource.text);
  /** The agent image prod's pods name (secrets.agent.image, default from the injector's contract). */
  const agentImage = `${VAULT_AGENT_IMAGE.repository}:${VAULT_AGENT_IMAGE.tag}`;
  /** A prod pod that reads secrets (the Vault injector adds its agent). */
  const reader = GOOD.find((g) => g.owner.startsWith('prod ') && g.template.metadata?.annotations?.['vault.hashicorp.com/agent-inject'] === 'true')!;
  /** The pod as admitted: the injector adds its two containers, with the image the pod's agent-image annotation names (vault-k8s agent-inject/agent/annotations.go). */
  const withAgent = (template: any, image: string = template.metadata.annotations['vault.hashicorp.com/agent-image']) => {
    const t = copy(template);
    const agent = (name: string) => ({ ...copy(app0(t)), name, image, ports: undefined, env: undefined, volumeMounts: undefined, livenessProbe: undefined, readinessProbe: undefined });
    t.spec.initContainers = [...(t.spec.initContainers ?? []), agent('vault-agent-init')];
    t.spec.containers = [...t.spec.containers, agent('vault-agent')];
    return t;
  };
  const app0 = (t: any) => t.spec.containers[0];
  const admit = (template: unknown, policy = prod.pod, guardrails = prod.policies.guardrails) => evaluate(policy, AS_SHAPE.pod(template), guardrails);

  test('prod turns the policies on (Deny); they check every container\'s repository against the list plus the injected agent\'s repository, no digest yet', () => {
    expect(reader.template.metadata.annotations['vault.hashicorp.com/agent-image']).toBe(agentImage);
    expect(prod.config.namespace.admissionPolicies).toEqual({ enforcement: 'Deny' });
    expect(prod.policies.guardrails.map((g) => g.id)).toEqual([...GUARDRAILS.map((g) => g.id), 'image-repository']);
    const repositoryRule = prod.policies.guardrails.find((g) => g.id === 'image-repository')!;
    for (const prefix of [...prod.config.images.allowedRepositories, imageRepository(agentImage)]) expect(repositoryRule.message).toContain(prefix);
    // The agent's repository comes from the injector's contract: prod lists it nowhere itself.
    expect(prod.config.images.allowedRepositories).not.toContain(imageRepository(agentImage));
    expect(agentImage).toBe(`${VAULT_AGENT_IMAGE.repository}:${VAULT_AGENT_IMAGE.tag}`);
  });

  test('every prod pod is admitted, with the Vault agent the injector adds at the contract\'s image', () => {
    expect(reader).toBeDefined();
    for (const { owner, template } of GOOD.filter((g) => g.owner.startsWith('prod '))) {
      const admitted = template.metadata?.annotations?.['vault.hashicorp.com/agent-inject'] === 'true' ? withAgent(template) : template;
      expect([owner, admit(admitted)]).toEqual([owner, []]);
    }
  });

  test('ATTACK: an image from another registry is denied, naming the container', () => {
    const t = copy(reader.template);
    app0(t).image = 'ghcr.io/attacker/order-service:1.4.2';
    const rejected = admit(t);
    expect(rejected.map((r) => r.id)).toEqual(['image-repository']);
    expect(rejected[0].message).toContain(app0(t).name);
  });

  test.each([
    ['a longer host name', 'registry.pronto.example.com.evil.io/pronto/order-service:1.4.2'],
    ['a digest on the bare registry name', 'registry.pronto.example.com@evil'],
    ['another port on the same host', 'registry.pronto.example.com:5000/pronto/order-service:1.4.2'],
    ['the allowed name as a path below another registry', 'evil.io/registry.pronto.example.com/order-service:1.4.2'],
    ['a longer repository name', 'docker.io/library/redis-evil:7.4.10-alpine'],
    ['a longer name of the injected agent\'s repository', 'docker.io/hashicorp/vault-evil:1.19.0'],
    ['a short Docker Hub name', 'redis:7.4.10-alpine'],
  ])('ATTACK: a prefix trick (%s) is denied by the repository guardrail', (_what, image) => {
    const t = copy(reader.template);
    app0(t).image = image;
    expect(admit(t).map((r) => r.id)).toContain('image-repository');
  });

  test('ATTACK: a pod that asks the injector for another agent image (vault.hashicorp.com/agent-image) is denied: the injected containers carry it', () => {
    const rejected = admit(withAgent(reader.template, 'docker.io/attacker/vault:1.19.0'));
    expect(rejected.map((r) => r.id)).toEqual(['image-repository']);
    for (const name of ['vault-agent-init', 'vault-agent']) expect(rejected[0].message).toMatch(new RegExp(`containers that do not: .*\\b${name}\\b`));
  });

  test('ATTACK: kubectl debug with an image from another registry is denied', () => {
    const t = copy(reader.template);
    t.spec.ephemeralContainers = [{ name: 'debug', image: 'docker.io/library/busybox:1.36.1', securityContext: copy(app0(t).securityContext) }];
    expect(admit(t).map((r) => r.id)).toEqual(['image-repository']);
  });

  test('the Python auto-instrumentation the operator injects is admitted at the image the Instrumentation states; another is denied', () => {
    const traced = built(prodSource.text.replace(/^tracing:\n/m, 'tracing:\n  instrumentation: {}\n'));
    const instrumentation = traced.manifests.find((m) => m.kind === 'Instrumentation')!;
    const image = instrumentation.spec.python.image as string;
    expect(image).toBe(`${OPERATOR_PYTHON_IMAGE.repository}:${OPERATOR_PYTHON_IMAGE.tag}`);
    const withInit = (ref: string) => {
      const t = withAgent(reader.template);
      t.spec.initContainers.push({ ...copy(app0(t)), name: PYTHON_INIT_CONTAINER, image: ref, ports: undefined, livenessProbe: undefined, readinessProbe: undefined });
      return t;
    };
    expect(admit(withInit(image), traced.pod, traced.policies.guardrails)).toEqual([]);
    expect(admit(withInit('ghcr.io/attacker/autoinstrumentation-python:0.64b0'), traced.pod, traced.policies.guardrails).map((r) => r.id)).toEqual(['image-repository']);
  });

  test('ATTACK: with requireDigest, an image pinned by tag alone is denied (the injected agent too); with digests everything is admitted', () => {
    const chart = Testing.chart();
    const policies = new AdmissionPolicies(chart, 'guardrails', { namespace: 'pronto', allowedRepositories: [...prod.config.images.allowedRepositories, imageRepository(agentImage)], requireDigest: true });
    const pod = (Testing.synth(chart) as Manifest[]).find((m) => m.metadata.name === 'pronto-pod-guardrails' && m.kind === 'ValidatingAdmissionPolicy')!;
    expect(policies.guardrails.map((g) => g.id)).toContain('image-digest');
    const tagged = admit(withAgent(reader.template), pod, policies.guardrails);
    expect(tagged.map((r) => r.id)).toEqual(['image-digest']);
    for (const name of ['vault-agent-init', 'vault-agent']) expect(tagged[0].message).toMatch(new RegExp(`containers that do not: .*\\b${name}\\b`));
    const pinned = withAgent(reader.template, `${agentImage}@${DIGEST_OF('c')}`);
    for (const c of [...pinned.spec.containers, ...pinned.spec.initContainers]) if (!c.image.includes('@')) c.image = `${c.image}@${DIGEST_OF('d')}`;
    expect(admit(pinned, pod, policies.guardrails)).toEqual([]);
    // A digest with a tag from elsewhere is still from elsewhere.
    app0(pinned).image = `ghcr.io/attacker/x:1.0.0@${DIGEST_OF('e')}`;
    expect(admit(pinned, pod, policies.guardrails).map((r) => r.id)).toEqual(['image-repository']);
  });

  test('admission and synth match repositories alike: the CEL pattern and the synth check agree on every image, and on the expected answer', () => {
    const prefixes = ['registry.pronto.example.com', 'docker.io/library/redis', 'quay.io/prometheuscommunity', 'registry.example.com:5000'];
    const cases: Array<[string, boolean]> = [
      ['registry.pronto.example.com/pronto/app:1.4.2', true], [`registry.pronto.example.com/pronto/app@${DIGEST_OF('a')}`, true],
      ['docker.io/library/redis:7.4.10-alpine', true], [`docker.io/library/redis:7.4.10@${DIGEST_OF('a')}`, true], ['docker.io/library/redis/sub:1.0', true],
      ['quay.io/prometheuscommunity/postgres-exporter:v0.17.1', true], ['registry.example.com:5000/x:1.0', true],
      ['registry.pronto.example.com:1.0', false], ['registry.pronto.example.com@evil', false], ['registry.pronto.example.com', false],
      ['registry.pronto.example.com.evil.io/x:1.0', false], ['registry.pronto.example.comevil/x:1.0', false], ['registry.pronto.example.com:5000/x:1.0', false],
      ['evil.io/registry.pronto.example.com/x:1.0', false], ['docker.io/library/redis-evil:1.0', false], ['docker.io/library/redisx:1.0', false],
      ['docker.io/library/redis:1.0@evil/x', false], ['quay.io/prometheuscommunity-evil/x:1.0', false], ['registry.example.com/x:1.0', false],
      ['redis:7.4', false], ['REGISTRY.PRONTO.EXAMPLE.COM/x:1.0', false],
    ];
    const pattern = allowedImagePattern(prefixes);
    expect(pattern).not.toContain('\\');
    for (const [image, allowed] of cases) {
      expect([image, cel(`i.matches('${pattern}')`, { i: image }), imageUnderRepositories(image, prefixes)]).toEqual([image, allowed, allowed]);
    }
  });

  test('fails on an empty allow-list given to the construct (empty means any repository: give none)', () => {
    expect(() => new AdmissionPolicies(Testing.chart(), 'guardrails', { namespace: 'pronto', allowedRepositories: [] })).toThrow('allowedRepositories: expected at least one repository prefix');
  });
});
