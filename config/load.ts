/**
 * Reads an environment file, validates it against the schema and the catalog, and
 * returns the resolved model the charts build from. Every problem is reported as
 * `<file>:<line>: <field path>: <expected>, found <value>`; nothing is logged and
 * nothing carries on with a half-valid config.
 */
import { readdirSync, readFileSync, statSync } from 'fs';
import * as path from 'path';
import { Document, LineCounter, isMap, isScalar, parseDocument, visit } from 'yaml';
import { z } from 'zod';
import { ImageRef } from '../lib/core/image';
import { bytes, cpuMillis } from '../lib/core/quantity';
import { DEFAULT_REPLICAS, PRODUCTION_MIN_PODS, Release, Scaling } from '../lib/core/release';
import { ComputeResources } from '../lib/core/resources';
import { CATALOG, DATA_STORES, GATEWAY, secretsOf } from './catalog';
import { CatalogSource, SHIPPED_CATALOG, catalogLocator } from './catalog-source';
import { EnabledSections, SECTIONS, SectionSpec } from './sections';
import { sharedKubernetesAuthProblems } from './sections/secrets';
import {
  Catalog, EnvironmentFile, ImageConfig, ResolvedCatalogEntry, ServiceConfig, catalogSchema, environmentSchema, environmentSchemaFor,
} from './schema';

/**
 * How every document is parsed. `jitless`: a synth parses a few documents with each schema
 * (the catalog, one file per environment), and zod's fast path, which first compiles every
 * object schema into a function, costs more than it saves here (about a third of loading
 * the three shipped environments; no difference at a thousand services).
 */
const PARSE = { reportInput: true, jitless: true } as const;

/** A configuration that cannot be used; `problems` holds one line per finding. */
export class ConfigError extends Error {
  public constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** One service, catalog and environment merged. */
export interface ServiceModel {
  readonly name: string;
  readonly catalog: ResolvedCatalogEntry;
  /** Requests and limits of the app container. */
  readonly resources: ComputeResources;
  /** Images, pod counts and rollout settings. */
  readonly release: Release;
}

/** One environment, ready to synthesize. */
export interface EnvironmentConfig {
  /** Environment name: the file name without `.yaml`. */
  readonly name: string;
  /** The file it came from, relative to the working directory. */
  readonly file: string;
  readonly tier: EnvironmentFile['tier'];
  readonly namespace: EnvironmentFile['namespace'];
  /** Cluster facts: where the DNS runs. */
  readonly cluster: EnvironmentFile['cluster'];
  /** Where Pronto's images come from, and what every image must satisfy (digest, allowed repositories). */
  readonly images: EnvironmentFile['images'];
  /** The sections of the capabilities that are on; a capability that is off is absent. */
  readonly capabilities: EnabledSections;
  /**
   * Namespaces Pronto owns (created with Pod Security labels, quota and limits) and the
   * ones it only refers to (never created or guarded): the cluster DNS and whatever the
   * enabled capabilities name.
   */
  readonly namespaces: { readonly owned: readonly string[]; readonly foreign: readonly string[] };
  /** Services in catalog order. */
  readonly services: ServiceModel[];
  /**
   * 1-based line in {@link file} of the deepest node along `at` that the file writes
   * (`['services', 'order-service', 'image']`), so that findings about objects built from
   * a config value can point at it. 1 when nothing along `at` is written.
   */
  lineOf(at: readonly PropertyKey[]): number;
}


/** Environment names found in `configDir` (`*.yaml`), sorted. Throws {@link ConfigError} when it is not a readable folder. */
export function listEnvironments(configDir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(configDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a folder' : `cannot be read (${code})`;
    throw new ConfigError([`${configDir}: the config folder ${why} (expected a folder of <env>.yaml files)`]);
  }
  return entries.filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();
}

/** Reads and validates `<configDir>/<env>.yaml`. Throws {@link ConfigError}. */
export function loadEnvironment(configDir: string, env: string, catalog: Catalog = CATALOG,
  sections: Readonly<Record<string, SectionSpec>> = SECTIONS): EnvironmentConfig {
  const { file, text } = readEnvironmentFile(configDir, env);
  return parseEnvironment(text, file, catalog, sections);
}

// ---------------------------------------------------------------- reading environment files

/** Environment names: the file name of `config/<env>.yaml`, never a path. */
export const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]*$/;

const NAME_RULE = 'lower-case letters, digits and "-", starting with a letter';

/** Why `env` cannot name an environment, or undefined when it can. */
export function environmentNameProblem(env: string): string | undefined {
  return ENVIRONMENT_NAME.test(env) ? undefined : `expected an environment name (${NAME_RULE}), found ${JSON.stringify(env)}`;
}

/**
 * The text of `<configDir>/<env>.yaml`, with one clear {@link ConfigError} for each way
 * reading it can fail: a name that is not an environment name (refused before the file
 * system is touched, so `--env ../x` reads nothing), a missing config folder, a missing
 * file, a folder where the file should be, a file that cannot be read, text that is not
 * UTF-8 (with its line), and an empty file. A byte order mark is dropped.
 * Used by main.ts, `npm run promote` and {@link loadEnvironment}.
 */
export function readEnvironmentFile(configDir: string, env: string): { file: string; text: string } {
  const problem = environmentNameProblem(env);
  if (problem) throw new ConfigError([`--env: ${problem}`]);
  const file = path.join(configDir, `${env}.yaml`);
  let data: Buffer;
  try {
    if (statSync(file).isDirectory()) throw new ConfigError([`${file}: is a folder, expected an environment file`]);
    data = readFileSync(file);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      // Throws when the config folder itself is missing or not a folder.
      const known = listEnvironments(configDir).join(', ');
      throw new ConfigError([`${file}: no such environment file (environments: ${known || 'none'})`]);
    }
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : String(code ?? (err as Error).message);
    throw new ConfigError([`${file}: cannot be read (${why})`]);
  }
  const text = decodeUtf8(data, file);
  if (text.trim() === '') {
    throw new ConfigError([`${file}:1: (top level): expected the settings of an environment (tier, images, services, ...), found an empty file`]);
  }
  return { file, text };
}

function decodeUtf8(data: Buffer, file: string): string {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    return decoder.decode(data);
  } catch {
    // Find the line: a newline byte never occurs inside a multi-byte character.
    let line = 1;
    for (let start = 0; start <= data.length; line++) {
      const end = data.indexOf(0x0a, start) === -1 ? data.length : data.indexOf(0x0a, start);
      try {
        decoder.decode(data.subarray(start, end));
      } catch {
        break;
      }
      start = end + 1;
    }
    throw new ConfigError([`${file}:${line}: expected UTF-8 text, found bytes that are not UTF-8 (save the file as UTF-8)`]);
  }
}



/** Validates the text of an environment file; `file` names it in messages and gives the environment name. */
export function parseEnvironment(text: string, file: string, catalog: Catalog = CATALOG,
  sections: Readonly<Record<string, SectionSpec>> = SECTIONS): EnvironmentConfig {
  const name = path.basename(file, '.yaml');
  if (!ENVIRONMENT_NAME.test(name)) {
    throw new ConfigError([`${file}: environment name "${name}": expected lower-case letters, digits and "-"`]);
  }
  const resolvedCatalog = validateCatalog(catalog);
  const lineCounter = new LineCounter();
  // Silent: the yaml library would print warnings to stderr; they are reported below as problems.
  // Duplicate keys are found below, in one pass: the library's own check compares each key with every earlier
  // key of its map (node_modules/yaml/dist/compose/util-map-includes.js), quadratic in the services of a file.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, logLevel: 'silent', uniqueKeys: false });
  // Warnings count: an unknown tag (`!secret`) is a mistake, not a string.
  const yamlProblems = [...doc.errors, ...duplicateKeys(doc), ...doc.warnings];
  if (yamlProblems.length > 0) {
    throw new ConfigError(yamlProblems.map((e) => `${file}:${lineCounter.linePos(e.pos[0]).line}: YAML: ${e.message.split('\n')[0]}`));
  }
  const locate = (at: readonly PropertyKey[]) => lineOf(doc, lineCounter, at);
  const written = (at: readonly PropertyKey[]) => scalarAsWritten(doc, at);
  let data: unknown;
  try {
    // The yaml library refuses documents whose aliases expand exponentially ("billion laughs").
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    throw new ConfigError([`${file}:1: YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError([`${file}:1: (top level): expected a mapping of settings (tier, images, services, ...), found ${describe(data)}`]);
  }
  const schema = sections === SECTIONS ? environmentSchema : environmentSchemaFor(sections);
  const parsed = schema.safeParse(data, PARSE);
  if (!parsed.success) {
    const where: IssueSource = { file, locate, written, keysDoc: 'config/environment.schema.json' };
    throw new ConfigError(parsed.error.issues.map((issue) => formatIssue(issue, where)));
  }
  const env = parsed.data as EnvironmentFile;
  const enabled = Object.fromEntries(Object.keys(sections)
    // Absent and `false` both mean off.
    .filter((id) => ![undefined, false].includes((parsed.data as Record<string, unknown>)[id] as undefined | false))
    .map((id) => [id, (parsed.data as Record<string, unknown>)[id]])) as EnabledSections;
  const namespaces = {
    owned: [env.namespace.name],
    foreign: [...new Set([env.cluster.dns.namespace, ...Object.entries(enabled).flatMap(([id, section]) =>
      sections[id].foreignNamespaces?.(section as never) ?? [])])].sort(),
  };
  const problems = [...crossCheck(env, resolvedCatalog), ...checkCapabilities(enabled, sections), ...checkNamespaces(env, namespaces)]
    .map(([at, message]) => `${file}:${locate(at)}: ${at.join('.')}: ${message}`);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    name,
    file,
    tier: env.tier,
    namespace: env.namespace,
    cluster: env.cluster,
    images: env.images,
    capabilities: enabled,
    namespaces,
    services: Object.keys(resolvedCatalog).map((svc) =>
      resolveService(svc, resolvedCatalog[svc], env.services[svc], env.images.registry)),
    lineOf: (at) => Number(locate(at)),
  };
}

/**
 * A key written twice in one map, as the yaml library reports it with its default
 * `uniqueKeys` (the same message, at the repeated key): keys are equal when they are the
 * same node or scalars of the same value (`===`).
 */
function duplicateKeys(doc: Document): Array<{ pos: [number, number]; message: string }> {
  const found: Array<{ pos: [number, number]; message: string }> = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = pair.key;
        // NaN is the one value that is not `===` to itself (a `.nan` key written twice is not a duplicate).
        if (!isScalar(key) || Number.isNaN(key.value)) continue;
        if (seen.has(key.value)) found.push({ pos: [key.range?.[0] ?? 0, key.range?.[1] ?? 0], message: 'Map keys must be unique' });
        seen.add(key.value);
      }
    },
  });
  return found;
}

/**
 * Validates a catalog (the schema, then the rules between entries) and returns it with its
 * defaults. Each problem is `<file>:<line>: <service>.<field>: ...`, the line found in
 * `source`'s text (without it when the service is not written there). Throws {@link ConfigError}.
 */
export function validateCatalog(catalog: Catalog, source: CatalogSource = SHIPPED_CATALOG): Record<string, ResolvedCatalogEntry> {
  const locate = catalogLocator(source);
  const parsed = catalogSchema.safeParse(catalog, PARSE);
  if (!parsed.success) {
    // A TypeScript value is shown as parsed: the catalog has no YAML notation to quote.
    const where: IssueSource = { file: source.file, locate, written: () => undefined, keysDoc: 'catalogEntrySchema in config/schema.ts' };
    throw new ConfigError(parsed.error.issues.map((issue) => formatIssue(issue, where)));
  }
  const problems = catalogProblems(parsed.data).map(([at, where, message]) => {
    const line = locate(at);
    return `${source.file}${line ? `:${line}` : ''}: ${where}: ${message}`;
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return parsed.data;
}

/** A catalog problem: the path to locate it by, the path as the message prints it, the message. */
type CatalogFinding = [PropertyKey[], string, string];

/** The rules between entries: no platform name, calls to other services, own secrets, one route per path. */
function catalogProblems(catalog: Record<string, ResolvedCatalogEntry>): CatalogFinding[] {
  const problems: CatalogFinding[] = [];
  const routes = new Map<string, string>();
  // The platform's own workloads answer at these names; a service of the same name would collide with them.
  const platform = new Set([GATEWAY, ...Object.values(DATA_STORES).map((d) => d.host)]);
  for (const [svc, entry] of Object.entries(catalog)) {
    if (platform.has(svc)) problems.push([[svc], svc, `expected a service name other than the platform's own workloads (${[...platform].join(', ')}), found "${svc}"`]);
    entry.calls.forEach((callee, i) => {
      if (!catalog[callee] || callee === svc) {
        problems.push([[svc, 'calls', i], `${svc}.calls.${i}`, `expected another catalog service (${Object.keys(catalog).join(', ')}), found "${callee}"`]);
      }
    });
    entry.dataStores.forEach((store, i) => {
      const reserved = DATA_STORES[store].reservedUsers ?? [];
      if (reserved.includes(svc)) {
        problems.push([[svc, 'dataStores', i], `${svc}.dataStores.${i}`,
          `expected a service name other than ${store}'s own users (${reserved.join(', ')}): each service logs in to ${store} as the user of its name, found "${svc}"`]);
      }
    });
    problems.push(...secretProblems(svc, entry));
    if (entry.route) {
      const owner = routes.get(entry.route.path);
      if (owner) problems.push([[svc, 'route', 'path'], `${svc}.route.path`, `expected a path no other service uses, found "${entry.route.path}" (also ${owner})`]);
      routes.set(entry.route.path, svc);
    }
  }
  return problems;
}

/**
 * A service reads only its own Vault paths (`<service>/...`), and its secrets (declared, and
 * derived from its data stores) never share a path, a file or an env var.
 */
function secretProblems(svc: string, entry: ResolvedCatalogEntry): CatalogFinding[] {
  const problems: CatalogFinding[] = [];
  const all = secretsOf(svc, entry);
  const derived = all.length - entry.secrets.length;
  // A derived secret is written as its data store; a declared one as its element of `secrets`.
  const at = (i: number): PropertyKey[] => (i < derived ? [svc, 'dataStores', i] : [svc, 'secrets', i - derived]);
  const where = (i: number) => (i < derived ? `${svc}.dataStores.${i} (its derived secret)` : `${svc}.secrets.${i - derived}`);
  all.forEach((secret, i) => {
    if (!secret.path.startsWith(`${svc}/`)) {
      problems.push([[...at(i), 'path'], `${where(i)}.path`,
        `expected a path below the service's own "${svc}/" (each service reads only its own secrets), found "${secret.path}"`]);
    }
    for (const field of ['path', 'file', 'env'] as const) {
      const first = all.findIndex((s) => s[field] === secret[field]);
      if (first < i) {
        problems.push([[...at(i), field], `${where(i)}.${field}`, `expected a ${field} no other secret of ${svc} uses, found "${secret[field]}" (also ${where(first)})`]);
      }
    }
  });
  return problems;
}

type Finding = [PropertyKey[], string];

/** Cross-capability rules: a capability that needs another (backups need the database). */
function checkCapabilities(enabled: EnabledSections, sections: Readonly<Record<string, SectionSpec>>): Finding[] {
  return Object.keys(enabled).flatMap((id) => (sections[id].requires ?? [])
    .filter((needed) => !(needed in enabled))
    .map((needed): Finding => [[id], `expected the "${needed}" capability to be on too (${id} needs ${needed}), found no "${needed}" section`]));
}

/** A namespace is either ours or someone else's, never both. */
function checkNamespaces(env: EnvironmentFile, namespaces: EnvironmentConfig['namespaces']): Finding[] {
  return namespaces.foreign.filter((ns) => namespaces.owned.includes(ns)).map((ns): Finding => [['namespace', 'name'],
    `expected a namespace other than those Pronto only refers to (${namespaces.foreign.join(', ')}), found "${ns}"${ns === env.cluster.dns.namespace ? ' (the cluster DNS namespace)' : ''}`]);
}

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
  const image = (i: ImageConfig | undefined): ImageRef => {
    if (!i) throw new Error(`unreachable: ${name} image was validated`);
    return { repository: i.repository ?? `${registry}/${name}`, tag: i.tag, gitSha: i.gitSha, ...(i.digest ? { digest: i.digest } : {}) };
  };
  const scaling: Scaling = config.autoscaling
    ? { kind: 'autoscaling', minReplicas: config.autoscaling.minReplicas, maxReplicas: config.autoscaling.maxReplicas,
      targetCpuUtilizationPercent: config.autoscaling.targetCPUUtilizationPercentage }
    : { kind: 'fixed', replicas: config.replicas ?? DEFAULT_REPLICAS };
  const r = config.rollout;
  const rollingUpdate = { maxSurge: r.maxSurge, minReadySeconds: r.minReadySeconds, progressDeadlineSeconds: r.progressDeadlineSeconds };
  const release: Release = r.strategy === 'rolling'
    ? { strategy: 'rolling', image: image(config.image), scaling, rollingUpdate }
    : { strategy: 'blueGreen', activeSlot: r.activeSlot, idleReplicas: r.idleReplicas, scaling, rollingUpdate,
      images: { blue: image(r.slots.blue.image), green: image(r.slots.green.image) } };
  return { name, catalog, resources: config.resources, release };
}

// ---------------------------------------------------------------- messages

/** The file a schema problem is in, and how to point into it. */
interface IssueSource {
  /** As messages print it. */
  readonly file: string;
  /** The line of a path, or '' when it cannot be told. */
  readonly locate: (at: readonly PropertyKey[]) => string;
  /** A value as the file writes it, where its parsed form would misquote it (see {@link scalarAsWritten}). */
  readonly written: (at: readonly PropertyKey[]) => { value: unknown; text: string } | undefined;
  /** Where the keys an unknown key is checked against are documented. */
  readonly keysDoc: string;
}

/** One schema problem as `<file>:<line>: <path>: <expected>, found <value>`. */
function formatIssue(issue: z.core.$ZodIssue, { file, locate, written, keysDoc }: IssueSource): string {
  const at = issue.path;
  const where = at.length > 0 ? at.join('.') : '(top level)';
  // An unknown key is best pointed at where the key itself is written.
  const line = locate(issue.code === 'unrecognized_keys' ? [...at, issue.keys[0]] : at);
  const prefix = line ? `${file}:${line}: ${where}` : `${file}: ${where}`;
  if (issue.code === 'unrecognized_keys') {
    return `${prefix}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` +
      ` (expected only the documented keys; see ${keysDoc})`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return `${prefix}: missing: ${expectation(issue)}`;
  }
  const found = 'input' in issue ? `, found ${describeFound(foundValue(issue), written(at))}` : '';
  return `${prefix}: ${expectation(issue)}${found}`;
}

function expectation(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    return issue.message.startsWith('expected') ? issue.message : `expected ${issue.expected}`;
  }
  if (issue.code === 'invalid_value') {
    return issue.message.startsWith('expected') ? issue.message : `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  // A record key that fails its own schema: zod nests the key's issues.
  if (issue.code === 'invalid_key' && issue.issues.length > 0) return issue.issues[0].message;
  const items = (issue.code === 'too_small' || issue.code === 'too_big') && issue.origin === 'array';
  // A list's own message says more than its length ("an empty list would lock everyone out"); a number's states its type too, so its bound is shown.
  if (items && issue.message.startsWith('expected')) return issue.message;
  if (issue.code === 'too_small') return items ? `expected at least ${issue.minimum} item(s)` : `expected a value ≥ ${issue.minimum}`;
  if (issue.code === 'too_big') return items ? `expected at most ${issue.maximum} item(s)` : `expected a value ≤ ${issue.maximum}`;
  return issue.message;
}

/**
 * The offending value. Object-level checks (a refinement, a discriminated union) receive
 * the whole object; the field they point at is the value worth showing.
 */
function foundValue(issue: z.core.$ZodIssue): unknown {
  const input = (issue as { input?: unknown }).input;
  const field = issue.path[issue.path.length - 1];
  // A discriminated union receives the whole object; what is wrong is its discriminator, present or not.
  const discriminator = (issue as { discriminator?: string }).discriminator;
  if (discriminator && input !== null && typeof input === 'object') return (input as Record<string, unknown>)[discriminator];
  if (input !== null && typeof input === 'object' && !Array.isArray(input) && field !== undefined && field in input) {
    return (input as Record<PropertyKey, unknown>)[field];
  }
  return input;
}

/**
 * The found value; a number as the file writes it (`1e400`, `.nan`, `0x10`), when the value
 * is that number or what a field made of it (a CPU quantity reads `1e400` as "Infinity").
 */
function describeFound(value: unknown, written: { value: unknown; text: string } | undefined): string {
  if (written && (Object.is(value, written.value) || value === String(written.value))) return written.text;
  return describe(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  // JSON writes Infinity and NaN as null.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The number at `at` and its text in the file. YAML reads `1e400` and `.inf` as Infinity and
 * `.nan` as NaN, which JSON (the messages' notation) writes as null, and `0x10` as 16: the
 * message quotes what the user wrote. Undefined for anything but a number.
 */
function scalarAsWritten(doc: ReturnType<typeof parseDocument>, at: readonly PropertyKey[]): { value: unknown; text: string } | undefined {
  const node = doc.getIn(at as unknown[], true);
  if (!isScalar(node) || typeof node.value !== 'number' || typeof node.source !== 'string') return undefined;
  return { value: node.value, text: node.source };
}

/** 1-based line of the deepest node along `at` that exists in the document. */
function lineOf(doc: ReturnType<typeof parseDocument>, counter: LineCounter, at: readonly PropertyKey[]): string {
  for (let depth = at.length; depth >= 0; depth--) {
    // The key's own line reads best (`services.order-service:`), else the value's.
    const parent = depth > 0 ? doc.getIn(at.slice(0, depth - 1) as unknown[], true) : undefined;
    const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === at[depth - 1]) : undefined;
    const keyRange = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
    if (keyRange) return String(counter.linePos(keyRange[0]).line);
    const node = doc.getIn(at.slice(0, depth) as unknown[], true) as { range?: [number, number, number] } | undefined;
    if (node && node.range) return String(counter.linePos(node.range[0]).line);
  }
  return '1';
}

/**
 * Problems no single environment file shows, across the `environments` loaded together:
 * two environments sharing a Vault Kubernetes auth mount or token audience
 * (sections/secrets.ts). Each names both files.
 */
export function crossEnvironmentProblems(environments: readonly EnvironmentConfig[]): string[] {
  return sharedKubernetesAuthProblems(environments.flatMap((env) => {
    const secrets = env.capabilities.secrets;
    return secrets ? [{ name: env.name, file: env.file, secrets, lineOf: (at: readonly PropertyKey[]) => env.lineOf(at) }] : [];
  }));
}
