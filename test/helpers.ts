import { ADDONS } from '../config/sections/gitops';
import { catalogJsonSchemaObject, environmentJsonSchemaObject } from '../config/json-schema';
import { configurationReference } from '../config/reference';
import { jaegerContract, kubePrometheusStackContract, pushgatewayContract, serviceUrl, servesTls } from '../lib/addons';
import { Chart, Testing } from 'cdk8s';
import { ProntoCharts, buildApp, environmentPorts } from '../charts/build-app';
import { dataTier } from '../charts/capabilities/database';
import { DataTier } from '../lib/database';
import { ConfigError, EnvironmentConfig, loadEnvironment, parseEnvironment } from '../config/load';
import { RenderedEnvironment, renderEnvironment } from '../charts/synthesize';
import { Manifest, renderCharts } from '../lib/core';
import { ProntoNamespace } from '../lib/namespace';
import { matches, runGate } from '../lib/validation';

export const CONFIG_DIR = `${__dirname}/../config`;
export const ENVIRONMENTS = ['dev', 'staging', 'prod'];

/** The validated config of a shipped environment. */
export function environment(env: string): EnvironmentConfig {
  return loadEnvironment(CONFIG_DIR, env);
}

/** Every object one environment synthesizes, all charts together, in apply order. */
export function synthEnvironment(config: EnvironmentConfig): Manifest[] {
  const app = Testing.app();
  buildApp(app, config);
  return chartsObjects(app.charts);
}

/**
 * Every object of `charts` (charts of one App), chart after chart: what `charts.flatMap((c) =>
 * c.toJson())` returns, rendered as the synth renders (lib/core `renderCharts`), without
 * resolving the whole App again for each chart.
 */
export function chartsObjects(charts: readonly Chart[]): Manifest[] {
  return [...renderCharts(charts).values()].flat();
}

/** The data tier of an environment whose database section is on, as its capability builds it (the heartbeat port included). */
export function dataTierOf(config: EnvironmentConfig): DataTier {
  return dataTier(config.capabilities.database!, config, environmentPorts(config));
}

/** The objects of `kind`. */
export function ofKind(manifests: Manifest[], kind: string): any[] {
  return manifests.filter((m) => m.kind === kind);
}

/** The object of `kind` named `name`; fails the test when absent. */
export function named(manifests: Manifest[], kind: string, name: string): any {
  const found = manifests.find((m) => m.kind === kind && m.metadata?.name === name);
  if (!found) throw new Error(`no ${kind}/${name} among ${manifests.map((m) => `${m.kind}/${m.metadata?.name}`).join(', ')}`);
  return found;
}

/** Pod specs with their owner, for every pod-bearing workload. */
export function podTemplates(manifests: Manifest[]): Array<{ owner: string; template: any }> {
  return manifests
    .filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet')
    .map((m) => ({ owner: `${m.kind}/${m.metadata?.name}`, template: (m.spec as any).template }));
}

/** Every pod template with its owner: Deployments, StatefulSets, DaemonSets, Jobs and CronJobs. */
export function everyPodTemplate(manifests: Manifest[]): Array<{ owner: string; template: any }> {
  const template = (m: Manifest): any => m.kind === 'CronJob' ? (m.spec as any).jobTemplate.spec.template : (m.spec as any).template;
  return manifests
    .filter((m) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'].includes(m.kind))
    .map((m) => ({ owner: `${m.kind}/${m.metadata?.name}`, template: template(m) }));
}

/**
 * A file as the Vault agent renders it from `template` (a reader's template body, or a pod's
 * whole `agent-inject-template-*` annotation) for a KV entry holding `fields`: only the
 * plain `{{ .Data.data.<field> }}` form is supported; anything else throws, so a test never
 * renders a template differently from the agent.
 */
export function renderVaultTemplate(template: string, fields: Readonly<Record<string, string>>): string {
  const body = template.replace(/^\{\{- with secret "[^"]*" -\}\}/, '').replace(/\{\{- end \}\}$/, '');
  return body.replace(/\{\{[^}]*\}\}/g, (expr) => {
    const field = /^\{\{ \.Data\.data\.([a-z_]+) \}\}$/.exec(expr)?.[1];
    if (field === undefined || fields[field] === undefined) throw new Error(`cannot render ${expr} (fields: ${Object.keys(fields).join(', ')})`);
    return fields[field];
  });
}

/** An S3 IAM identity policy, as the object-store files hold it. */
export interface IamPolicy {
  readonly Statement: ReadonlyArray<{
    readonly Effect: string; readonly Action: string[]; readonly Resource: string | string[];
    readonly Condition?: Record<string, Record<string, string[]>>;
  }>;
}

/** IAM's wildcard match (`*` any run, `?` one character), whole string. */
function iamMatch(pattern: string, value: string): boolean {
  return new RegExp(`^${pattern.split('').map((c) => c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')).join('')}$`).test(value);
}

/**
 * Whether `policy` allows `action` on `resource` with the request's condition keys `context`
 * (Allow statements only: the files hold no Deny; a condition key the request lacks fails,
 * as IAM's StringLike does). Enough of IAM's evaluation for least-privilege tests.
 */
export function allows(policy: IamPolicy, action: string, resource: string, context: Readonly<Record<string, string>> = {}): boolean {
  return policy.Statement.some((s) => s.Effect === 'Allow' && s.Action.some((a) => iamMatch(a, action))
    && [s.Resource].flat().some((r) => iamMatch(r, resource))
    && Object.entries(s.Condition ?? {}).every(([op, keys]) => op === 'StringLike'
      && Object.entries(keys).every(([k, patterns]) => context[k] !== undefined && patterns.some((p) => iamMatch(p, context[k])))));
}

/**
 * Whether `policy` lets its holder list `bucket` at `prefix` (a ListObjects request), which is
 * also what S3 checks, with the missing object's key as `s3:prefix`, before it answers 404
 * rather than 403.
 */
export function listable(policy: IamPolicy, bucket: string, prefix: string): boolean {
  return allows(policy, 's3:ListBucket', `arn:aws:s3:::${bucket}`, { 's3:prefix': prefix });
}

/** True when every label of `selector` is on `labels` (the gate's own matchLabels semantics). */
export const selects = matches;

/**
 * Findings of the whole validation gate over `manifests` synthesized into the namespace
 * `pronto`, with that namespace and its guardrails added (as the namespace chart does),
 * so construct tests can assert their output passes every rule.
 */
export function gateFindingsInNamespace(manifests: Manifest[]): string[] {
  const chart = Testing.chart();
  new ProntoNamespace(chart, 'ns', {
    name: 'pronto',
    quota: { requests: { cpu: '100', memory: '100Gi', storage: '1Ti' }, limits: { cpu: '100', memory: '100Gi' }, pods: 500, persistentVolumeClaims: 50 },
    limitRange: { default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' }, max: { cpu: '4', memory: '4Gi' } },
  });
  const all = [...Testing.synth(chart), ...manifests.map((m) => ({ ...m, metadata: { ...m.metadata, namespace: 'pronto' } }))];
  return runGate(all).findings.map((f) => `${f.rule} ${f.object} ${f.path}: ${f.message}`);
}

/** One environment built in memory: the charts and graph (buildApp's result) and every object. */
export function buildEnvironment(config: EnvironmentConfig): { charts: ProntoCharts; manifests: Manifest[] } {
  const app = Testing.app();
  const charts = buildApp(app, config);
  return { charts, manifests: chartsObjects(app.charts) };
}

/** The problems of the ConfigError that `run` throws, one per line; fails the test when it throws none. */
export function configProblems(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join('\n');
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/**
 * `text` without its top-level `key:` section and without the comment lines right above it
 * (config/*.yaml introduce each section with some): the section's own lines are the key's
 * line and every indented line after it, blank and comment lines included when more of the
 * section follows them.
 */
export function stripSection(text: string, key: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${key}:`));
  if (start < 0) return text;
  const indented = (i: number) => i < lines.length && /^\s+\S/.test(lines[i]);
  const filler = (i: number) => i < lines.length && !indented(i) && (lines[i].trim() === '' || lines[i].startsWith('#'));
  let end = start + 1;
  for (;;) {
    if (indented(end)) { end++; continue; }
    let next = end;
    while (filler(next)) next++;
    if (next > end && indented(next)) { end = next; continue; }
    break;
  }
  let from = start;
  while (from > 0 && lines[from - 1].startsWith('#') && !lines[from - 1].startsWith('# yaml-language-server')) from--;
  return [...lines.slice(0, from), ...lines.slice(end)].join('\n').replace(/\n*$/, '\n');
}

/**
 * `fn` with its results kept by argument (compared as JSON), for a suite that builds or renders
 * the same environment more than once: the first call computes, later calls return the same
 * object, so callers must not change what they get.
 */
export function cached<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  const results = new Map<string, R>();
  return (...args: A) => {
    const key = JSON.stringify(args);
    if (!results.has(key)) results.set(key, fn(...args));
    return results.get(key)!;
  };
}

/**
 * The JSON Schemas of the shipped environment file and catalog (config/json-schema.ts), converted
 * once per module registry: each conversion takes a tenth of a second, and the reference's and
 * the generated docs' suites read the same ones. Callers must not change them.
 */
export const shippedJsonSchemas = cached(() => ({ environment: environmentJsonSchemaObject(), catalog: catalogJsonSchemaObject() }));

/** docs/configuration.md as `npm run docs` renders it (configurationReferenceText()), once per module registry. */
export const shippedReference = cached(() => configurationReference(shippedJsonSchemas().environment, shippedJsonSchemas().catalog));

/**
 * `text` (an environment file) with the add-ons' Services stated as the cluster's own, as an
 * environment whose gitops does not install them must state them: the same values the
 * contracts give (lib/addons), so the output is the same as with the add-ons installed.
 */
export function withOwnAddons(text: string): string {
  const prometheus = serviceUrl(kubePrometheusStackContract(ADDONS.kubePrometheusStack.namespace), 'prometheus');
  const pushgateway = serviceUrl(pushgatewayContract(ADDONS.pushgateway.namespace), 'push');
  const jaeger = jaegerContract(ADDONS.jaeger.namespace);
  return text
    .replace(/^metrics:\n/m, `metrics:\n  prometheus: { url: "${prometheus}" }\n  pushgateway: { url: "${pushgateway}" }\n`)
    .replace(/^tracing:\n/m, `tracing:\n  jaeger: { insecure: ${!servesTls(jaeger, 'otlpGrpc')}, queryUrl: "${serviceUrl(jaeger, 'query')}" }\n`);
}

/**
 * `value` and everything it holds, frozen: a test that changes a shared render then fails
 * where it changes it (modules run in strict mode), instead of changing what the next reads.
 */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    // Data properties only: an output file's text is a getter that formats on first read.
    for (const key of Object.keys(value)) {
      const property = Object.getOwnPropertyDescriptor(value, key);
      if (property && 'value' in property) deepFreeze(property.value);
    }
  }
  return value;
}

/**
 * `renderEnvironment(parseEnvironment(text, file))` (the gate on), once per text and file in a
 * module registry: most suites of an aggregator render the shipped environments with their
 * section on, which for a shipped file is its own text, and each render takes about a quarter
 * of a second. The result is frozen all through (see {@link deepFreeze}); a render that throws
 * is not kept.
 */
export const renderText: (text: string, file: string) => RenderedEnvironment =
  cached((text: string, file: string) => deepFreeze(renderEnvironment(parseEnvironment(text, file))));

/** `renderEnvironment(environment(env))` (the gate on), once per environment in a module registry, frozen as {@link renderText}'s. */
export const renderShipped: (env: string) => RenderedEnvironment = cached((env: string) => deepFreeze(renderEnvironment(environment(env))));
