/**
 * Reads an environment file, validates it against the schema and the catalog, and
 * returns the resolved model the charts build from. Every problem is reported as
 * `<file>:<line>: <field path>: <expected>, found <value>`; nothing is logged and
 * nothing carries on with a half-valid config.
 */
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { bytes, cpuMillis } from '../lib/core/quantity';
import { CATALOG } from './catalog';
import {
  Catalog, EnvironmentFile, ImageConfig, ResolvedCatalogEntry, ServiceConfig, catalogSchema, environmentSchema,
} from './schema';

/** A configuration that cannot be used; `problems` holds one line per finding. */
export class ConfigError extends Error {
  public constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Slot = 'blue' | 'green';

export interface ResolvedImage {
  readonly repository: string;
  readonly tag: string;
  readonly gitSha: string;
  readonly digest?: string;
}

export type ScalingModel =
  | { readonly kind: 'fixed'; readonly replicas: number }
  | { readonly kind: 'autoscaling'; readonly minReplicas: number; readonly maxReplicas: number;
    readonly targetCpuUtilizationPercent: number };

interface RolloutTiming {
  readonly maxSurge: number | string;
  readonly minReadySeconds: number;
  readonly progressDeadlineSeconds: number;
}

export type RolloutModel =
  | (RolloutTiming & { readonly strategy: 'rolling'; readonly image: ResolvedImage })
  | (RolloutTiming & { readonly strategy: 'blueGreen'; readonly activeSlot: Slot; readonly idleReplicas: number;
    readonly images: Readonly<Record<Slot, ResolvedImage>> });

/** One service, catalog and environment merged. */
export interface ServiceModel {
  readonly name: string;
  readonly catalog: ResolvedCatalogEntry;
  readonly resources: ServiceConfig['resources'];
  readonly scaling: ScalingModel;
  readonly rollout: RolloutModel;
}

/** One environment, ready to synthesize. */
export interface EnvironmentConfig {
  /** Environment name: the file name without `.yaml`. */
  readonly name: string;
  /** The file it came from, relative to the working directory. */
  readonly file: string;
  readonly tier: EnvironmentFile['tier'];
  readonly namespace: EnvironmentFile['namespace'];
  readonly features: EnvironmentFile['features'];
  /** Services in catalog order. */
  readonly services: ServiceModel[];
}

/** Replicas a service runs when the environment sets neither replicas nor autoscaling. */
export const DEFAULT_REPLICAS = 2;
/** Fewest pods per service in a production-tier environment. */
export const PRODUCTION_MIN_PODS = 2;

const ENV_NAME = /^[a-z][a-z0-9-]*$/;

/** Environment names found in `configDir` (`*.yaml`), sorted. */
export function listEnvironments(configDir: string): string[] {
  return readdirSync(configDir).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();
}

/** Reads and validates `<configDir>/<env>.yaml`. Throws {@link ConfigError}. */
export function loadEnvironment(configDir: string, env: string, catalog: Catalog = CATALOG): EnvironmentConfig {
  const file = path.join(configDir, `${env}.yaml`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    const known = listEnvironments(configDir).join(', ');
    throw new ConfigError([`${file}: no such environment file (environments: ${known || 'none'})`]);
  }
  return parseEnvironment(text, file, catalog);
}

/** Validates the text of an environment file; `file` names it in messages and gives the environment name. */
export function parseEnvironment(text: string, file: string, catalog: Catalog = CATALOG): EnvironmentConfig {
  const name = path.basename(file, '.yaml');
  if (!ENV_NAME.test(name)) {
    throw new ConfigError([`${file}: environment name "${name}": expected lower-case letters, digits and "-"`]);
  }
  const resolvedCatalog = validateCatalog(catalog);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${file}:${lineCounter.linePos(e.pos[0]).line}: YAML: ${e.message.split('\n')[0]}`));
  }
  const locate = (at: PropertyKey[]) => lineOf(doc, lineCounter, at);
  const parsed = environmentSchema.safeParse(doc.toJS() ?? {}, { reportInput: true });
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => formatIssue(file, issue, locate)));
  }
  const problems = crossCheck(parsed.data, resolvedCatalog)
    .map(([at, message]) => `${file}:${locate(at)}: ${at.join('.')}: ${message}`);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    name,
    file,
    tier: parsed.data.tier,
    namespace: parsed.data.namespace,
    features: parsed.data.features,
    services: Object.keys(resolvedCatalog).map((svc) =>
      resolveService(svc, resolvedCatalog[svc], parsed.data.services[svc], parsed.data.images.registry)),
  };
}

function validateCatalog(catalog: Catalog): Record<string, ResolvedCatalogEntry> {
  const file = 'config/catalog.ts';
  const parsed = catalogSchema.safeParse(catalog, { reportInput: true });
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => formatIssue(file, i, () => '')));
  const problems: string[] = [];
  const routes = new Map<string, string>();
  for (const [svc, entry] of Object.entries(parsed.data)) {
    entry.calls.forEach((callee, i) => {
      if (!parsed.data[callee] || callee === svc) {
        problems.push(`${file}: ${svc}.calls.${i}: expected another catalog service (${Object.keys(parsed.data).join(', ')}), found "${callee}"`);
      }
    });
    if (entry.route) {
      const owner = routes.get(entry.route.path);
      if (owner) problems.push(`${file}: ${svc}.route.path: expected a path no other service uses, found "${entry.route.path}" (also ${owner})`);
      routes.set(entry.route.path, svc);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return parsed.data;
}

type Finding = [PropertyKey[], string];

function crossCheck(env: EnvironmentFile, catalog: Record<string, ResolvedCatalogEntry>): Finding[] {
  const findings: Finding[] = [];
  const known = Object.keys(catalog);
  for (const svc of Object.keys(env.services)) {
    if (!catalog[svc]) findings.push([['services', svc], `expected a catalog service (${known.join(', ')}), found "${svc}"`]);
  }
  for (const svc of known) {
    const config = env.services[svc];
    if (!config) {
      findings.push([['services', svc], 'expected an entry for every catalog service, found none (add at least its image)']);
      continue;
    }
    findings.push(...checkScale(env, svc, config), ...checkLimitRange(env, svc, config));
  }
  return findings;
}

/** Replica floors: production keeps 2 pods per service; an idle warm slot stays below the HPA maximum. */
function checkScale(env: EnvironmentFile, svc: string, config: ServiceConfig): Finding[] {
  const findings: Finding[] = [];
  const at = (...rest: string[]) => ['services', svc, ...rest];
  const production = env.tier === 'production';
  const pods = config.autoscaling?.minReplicas ?? config.replicas ?? DEFAULT_REPLICAS;
  if (production && pods < PRODUCTION_MIN_PODS) {
    const field = config.autoscaling ? at('autoscaling', 'minReplicas') : at('replicas');
    findings.push([field, `expected at least ${PRODUCTION_MIN_PODS} in a production-tier environment, found ${pods}`]);
  }
  if (config.rollout.strategy === 'blueGreen') {
    const idle = config.rollout.idleReplicas;
    if (production && idle > 0 && idle < PRODUCTION_MIN_PODS) {
      findings.push([at('rollout', 'idleReplicas'), `expected 0 or at least ${PRODUCTION_MIN_PODS} in a production-tier environment, found ${idle}`]);
    }
    if (config.autoscaling && idle >= config.autoscaling.maxReplicas) {
      findings.push([at('rollout', 'idleReplicas'), `expected fewer than autoscaling.maxReplicas (${config.autoscaling.maxReplicas}), found ${idle}`]);
    }
  }
  return findings;
}

/** A container limit above the LimitRange maximum would be rejected at admission. */
function checkLimitRange(env: EnvironmentFile, svc: string, config: ServiceConfig): Finding[] {
  const max = env.namespace.limitRange.max;
  const findings: Finding[] = [];
  if (cpuMillis(config.resources.limits.cpu) > cpuMillis(max.cpu)) {
    findings.push([['services', svc, 'resources', 'limits', 'cpu'],
      `expected at most namespace.limitRange.max.cpu (${max.cpu}), found ${config.resources.limits.cpu}`]);
  }
  if (bytes(config.resources.limits.memory) > bytes(max.memory)) {
    findings.push([['services', svc, 'resources', 'limits', 'memory'],
      `expected at most namespace.limitRange.max.memory (${max.memory}), found ${config.resources.limits.memory}`]);
  }
  return findings;
}

function resolveService(name: string, catalog: ResolvedCatalogEntry, config: ServiceConfig, registry: string): ServiceModel {
  const image = (i: ImageConfig | undefined): ResolvedImage => {
    if (!i) throw new Error(`unreachable: ${name} image was validated`);
    return { repository: i.repository ?? `${registry}/${name}`, tag: i.tag, gitSha: i.gitSha, ...(i.digest ? { digest: i.digest } : {}) };
  };
  const scaling: ScalingModel = config.autoscaling
    ? { kind: 'autoscaling', minReplicas: config.autoscaling.minReplicas, maxReplicas: config.autoscaling.maxReplicas,
      targetCpuUtilizationPercent: config.autoscaling.targetCPUUtilizationPercentage }
    : { kind: 'fixed', replicas: config.replicas ?? DEFAULT_REPLICAS };
  const r = config.rollout;
  const timing = { maxSurge: r.maxSurge, minReadySeconds: r.minReadySeconds, progressDeadlineSeconds: r.progressDeadlineSeconds };
  const rollout: RolloutModel = r.strategy === 'rolling'
    ? { strategy: 'rolling', ...timing, image: image(config.image) }
    : { strategy: 'blueGreen', ...timing, activeSlot: r.activeSlot, idleReplicas: r.idleReplicas,
      images: { blue: image(r.slots.blue.image), green: image(r.slots.green.image) } };
  return { name, catalog, resources: config.resources, scaling, rollout };
}

// ---------------------------------------------------------------- messages

function formatIssue(file: string, issue: z.core.$ZodIssue, locate: (at: PropertyKey[]) => string): string {
  const at = issue.path;
  const where = at.length > 0 ? at.join('.') : '(top level)';
  // An unknown key is best pointed at where the key itself is written.
  const line = locate(issue.code === 'unrecognized_keys' ? [...at, issue.keys[0]] : at);
  const prefix = line ? `${file}:${line}: ${where}` : `${file}: ${where}`;
  if (issue.code === 'unrecognized_keys') {
    return `${prefix}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` +
      ` (expected only the documented keys; see config/schema.json)`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return `${prefix}: missing: ${expectation(issue)}`;
  }
  const found = 'input' in issue ? `, found ${describe(foundValue(issue))}` : '';
  return `${prefix}: ${expectation(issue)}${found}`;
}

function expectation(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    return issue.message.startsWith('expected') ? issue.message : `expected ${issue.expected}`;
  }
  if (issue.code === 'invalid_value') {
    return issue.message.startsWith('expected') ? issue.message : `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  if (issue.code === 'too_small') return `expected a value ≥ ${issue.minimum}`;
  if (issue.code === 'too_big') return `expected a value ≤ ${issue.maximum}`;
  return issue.message;
}

/**
 * The offending value. Object-level checks (a refinement, a discriminated union) receive
 * the whole object; the field they point at is the value worth showing.
 */
function foundValue(issue: z.core.$ZodIssue): unknown {
  const input = (issue as { input?: unknown }).input;
  const field = issue.path[issue.path.length - 1];
  if (input !== null && typeof input === 'object' && !Array.isArray(input) && field !== undefined && field in input) {
    return (input as Record<PropertyKey, unknown>)[field];
  }
  return input;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** 1-based line of the deepest node along `at` that exists in the document. */
function lineOf(doc: ReturnType<typeof parseDocument>, counter: LineCounter, at: PropertyKey[]): string {
  for (let depth = at.length; depth >= 0; depth--) {
    const node = doc.getIn(at.slice(0, depth) as unknown[], true) as { range?: [number, number, number] } | undefined;
    if (node && node.range) return String(counter.linePos(node.range[0]).line);
  }
  return '1';
}
