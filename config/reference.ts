/**
 * The configuration reference (docs/configuration.md): every key of the environment file and of
 * the catalog with its type, default, allowed values and description, rendered from the JSON
 * Schema editors read (config/json-schema.ts), itself generated from the zod schemas. So the
 * reference, the editors' checks and the loader cannot disagree, and a description is written
 * once, in its `.describe()`. `npm run docs` writes the file; tests fail when it is stale or when
 * a key has no description.
 *
 * Pure: it reads the JSON Schema, never zod's internals.
 */
import { JsonSchema, catalogJsonSchemaObject, environmentJsonSchemaObject } from './json-schema';

/** Where the reference is written, relative to the repository. */
export const CONFIGURATION_REFERENCE = 'docs/configuration.md';

/** One key of a file, as the reference lists it. */
export interface ReferenceRow {
  /** Dotted path from the file's top, `<service>` (the record key's title) for a key any name may take, `[]` for list items. */
  readonly path: string;
  /** `integer`, `string`, `mapping`, `list of string`, `false or mapping`, … */
  readonly type: string;
  /** True when the file must set it (no default). */
  readonly required: boolean;
  /** The default as the file would write it. @default - none */
  readonly default?: string;
  /** Allowed values and bounds; '' when the type says it all. */
  readonly allowed: string;
  /** The `.describe()` text. @default - none: a test fails */
  readonly description?: string;
  /** For a key of one branch of a choice only: which, e.g. `strategy: blueGreen`. @default - every branch */
  readonly only?: string;
}

/** Every key below `schema` (not `schema` itself), depth first in the schema's order. */
export function referenceRows(schema: JsonSchema, prefix = ''): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  for (const child of childSchemas(schema, prefix)) {
    if (child.kind === 'choice') {
      rows.push(...mergeBranches(child.branches.map((b) => ({ branch: b, rows: referenceRows(b.schema, child.path) }))));
      continue;
    }
    if (child.kind === 'nested') {
      rows.push(...referenceRows(child.schema, child.path));
      continue;
    }
    const { schema: s, required, path } = child;
    rows.push({
      path,
      type: typeOf(s),
      required: required && s.default === undefined,
      ...(s.default !== undefined ? { default: formatValue(s.default) } : {}),
      allowed: allowedOf(s).join('; '),
      ...(typeof s.description === 'string' && s.description.trim() !== '' ? { description: s.description } : {}),
    });
    rows.push(...referenceRows(s, path));
  }
  return rows;
}

/** The paths of keys below `schema` that have no description, for the test that requires one everywhere. */
export function undescribedKeys(schema: JsonSchema, prefix = ''): string[] {
  return [...new Set(referenceRows(schema, prefix).filter((r) => r.description === undefined).map((r) => r.path))];
}

type Child =
  | { kind: 'key'; key: string; path: string; schema: JsonSchema; required: boolean }
  | { kind: 'nested'; path: string; schema: JsonSchema }
  | { kind: 'choice'; path: string; branches: Branch[] };

/** One branch of a choice: `label` is `strategy: blueGreen`, `value` is `blueGreen`, `discriminator` the path of `strategy`. */
interface Branch {
  readonly label: string;
  readonly value: string;
  readonly discriminator?: string;
  readonly schema: JsonSchema;
}

/** The keys of `schema`, and the schemas below it whose keys continue the same path (list items, record values, choices). */
function childSchemas(schema: JsonSchema, path: string): Child[] {
  const children: Child[] = [];
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  for (const [key, s] of Object.entries(schema.properties ?? {})) {
    if (typeof s === 'object') children.push({ kind: 'key', key, path: join(path, key), schema: s, required: required.has(key) });
  }
  const values = schema.additionalProperties;
  if (typeof values === 'object' && !schema.properties) children.push({ kind: 'nested', path: join(path, `<${keyTitle(schema)}>`), schema: values });
  if (typeof schema.items === 'object' && !Array.isArray(schema.items)) children.push({ kind: 'nested', path: `${path}[]`, schema: schema.items });
  const objects = branchesOf(schema).filter(hasKeys);
  if (objects.length === 1) children.push({ kind: 'nested', path, schema: objects[0] });
  if (objects.length > 1) {
    const discriminator = discriminatorOf(objects);
    children.push({
      kind: 'choice', path,
      branches: objects.map((b, i) => {
        const value = discriminator ? String(constOf(b.properties![discriminator] as JsonSchema)) : `form ${i + 1}`;
        return { label: discriminator ? `${discriminator}: ${value}` : value, value, discriminator: discriminator ? join(path, discriminator) : undefined, schema: b };
      }),
    });
  }
  return children;
}

/**
 * The rows of a choice (a discriminated union): a key every branch has once, its types and
 * allowed values combined and its descriptions per branch when they differ; a key of some
 * branches only, marked with them.
 */
function mergeBranches(branches: Array<{ branch: Branch; rows: ReferenceRow[] }>): ReferenceRow[] {
  const paths = [...new Set(branches.flatMap((b) => b.rows.map((r) => r.path)))];
  return paths.map((path) => {
    const found = branches.flatMap((b) => b.rows.filter((r) => r.path === path).map((row) => ({ branch: b.branch, row })));
    const [first] = found;
    const unique = (values: Array<string | undefined>) => [...new Set(values.filter((v): v is string => v !== undefined && v !== ''))];
    const descriptions = unique(found.map((f) => f.row.description));
    const described = found.every((f) => f.row.description !== undefined);
    return {
      path,
      type: unique(found.map((f) => f.row.type)).join(' or '),
      required: found.every((f) => f.row.required),
      ...(first.row.default !== undefined ? { default: first.row.default } : {}),
      allowed: unique(found.map((f) => f.row.allowed)).join(', '),
      // The discriminator's own descriptions say what each value means: `gateway`: …; other keys say under which value.
      ...(described ? {
        description: descriptions.length === 1 ? descriptions[0]
          : found.map((f) => `${code(path === f.branch.discriminator ? f.branch.value : f.branch.label)}: ${f.row.description}`).join('; '),
      } : {}),
      ...(found.length < branches.length ? { only: found.map((f) => f.branch.label).join(' or ') } : {}),
    };
  });
}

/** The property every object branch fixes to a constant (`strategy`, `mode`), if any. */
function discriminatorOf(objects: JsonSchema[]): string | undefined {
  const keys = Object.keys(objects[0].properties ?? {});
  return keys.find((k) => objects.every((o) => {
    const p = o.properties?.[k];
    return typeof p === 'object' && constOf(p) !== undefined;
  }));
}

function constOf(s: JsonSchema): unknown {
  return s.const ?? (Array.isArray(s.enum) && s.enum.length === 1 ? s.enum[0] : undefined);
}

function branchesOf(s: JsonSchema): JsonSchema[] {
  return ([...(s.anyOf ?? []), ...(s.oneOf ?? [])] as Array<JsonSchema | boolean>).filter((b): b is JsonSchema => typeof b === 'object');
}

function hasKeys(s: JsonSchema): boolean {
  return s.properties !== undefined && Object.keys(s.properties).length > 0;
}

/** The name a record's keys stand for: its key schema's title (`service`), else `name`. */
function keyTitle(s: JsonSchema): string {
  const keys = s.propertyNames;
  return typeof keys === 'object' && typeof keys.title === 'string' ? keys.title : 'name';
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** The type as a reader says it. */
export function typeOf(s: JsonSchema): string {
  const c = constOf(s);
  if (c !== undefined) return formatValue(c);
  const branches = branchesOf(s);
  if (branches.length > 0) return [...new Set(branches.map(typeOf))].join(' or ');
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (types.length === 0) return Array.isArray(s.enum) ? 'string' : 'any';
  return types.map((t) => {
    if (t === 'object') {
      const values = s.additionalProperties;
      if (!s.properties && typeof values === 'object') return `map of <${keyTitle(s)}> to ${typeOf(values)}`;
      return 'mapping';
    }
    if (t === 'array') return typeof s.items === 'object' && !Array.isArray(s.items) ? `list of ${typeOf(s.items)}` : 'list';
    return t;
  }).join(' or ');
}

/** Allowed values and bounds, each a short phrase. */
export function allowedOf(s: JsonSchema): string[] {
  const out: string[] = [];
  const branches = branchesOf(s);
  if (branches.length > 0) {
    // A constant branch (`false`) is said by the type already; the others' bounds are worth a column.
    const each = branches.map((b) => allowedOf(b).join(', ') || typeOf(b));
    if (branches.some((b) => constOf(b) === undefined && allowedOf(b).length > 0)) out.push(each.join(' or '));
    return out;
  }
  const c = constOf(s);
  if (c !== undefined) return [formatValue(c)];
  if (Array.isArray(s.enum)) out.push(`one of ${s.enum.map(formatValue).join(', ')}`);
  const range = rangeOf(s);
  if (range) out.push(range);
  if (typeof s.minLength === 'number' || typeof s.maxLength === 'number') out.push(lengthOf(s.minLength, s.maxLength, 'characters'));
  if (typeof s.pattern === 'string') out.push(`matches ${code(s.pattern)}`);
  if (s.format === 'uri') out.push('a URL');
  else if (typeof s.format === 'string') out.push(`format ${s.format}`);
  if (typeof s.minItems === 'number' || typeof s.maxItems === 'number') out.push(lengthOf(s.minItems, s.maxItems, 'items'));
  if (typeof s.items === 'object' && !Array.isArray(s.items)) {
    const item = allowedOf(s.items);
    if (item.length > 0) out.push(`each: ${item.join(', ')}`);
  }
  return out;
}

/** zod writes ±2^53−1 as the bounds of every integer: no bound a reader needs to see. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

function rangeOf(s: JsonSchema): string | undefined {
  const low = typeof s.exclusiveMinimum === 'number' ? `> ${s.exclusiveMinimum}` : typeof s.minimum === 'number' && s.minimum > -UNBOUNDED ? `≥ ${s.minimum}` : undefined;
  const high = typeof s.exclusiveMaximum === 'number' ? `< ${s.exclusiveMaximum}` : typeof s.maximum === 'number' && s.maximum < UNBOUNDED ? `≤ ${s.maximum}` : undefined;
  if (low && high && low.startsWith('≥') && high.startsWith('≤')) return `${low.slice(2)} to ${high.slice(2)}`;
  return [low, high].filter(Boolean).join(' and ') || undefined;
}

function lengthOf(min: number | undefined, max: number | undefined, unit: 'characters' | 'items'): string {
  if (min !== undefined && max !== undefined) return `${min} to ${max} ${unit}`;
  if (min === 1) return 'not empty';
  return min !== undefined ? `at least ${min} ${unit}` : `at most ${max} ${unit}`;
}

/** A value as a YAML file would write it, in a code span: strings bare, the rest as JSON. */
function formatValue(value: unknown): string {
  return code(typeof value === 'string' ? value : JSON.stringify(value));
}

function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  return `${fence}${fence === '``' ? ` ${text} ` : text}${fence}`;
}

// ---------------------------------------------------------------- markdown

/** A table cell: one line, pipes escaped (GitHub reads `\|` as a pipe in code spans too), `<` outside code spans escaped. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').split(/(`+[^`]*`+)/).map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '&lt;')))
    .join('').replace(/\|/g, '\\|');
}

/** Text outside tables: `<` outside code spans escaped, so `<service>` is not read as an HTML tag. */
function prose(text: string): string {
  return text.split(/(`+[^`]*`+)/).map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '&lt;'))).join('');
}

function defaultCell(row: ReferenceRow): string {
  return row.default ?? (row.required ? '**required**' : '—');
}

function table(rows: readonly ReferenceRow[], strip: string): string[] {
  if (rows.length === 0) return [];
  const relative = (p: string) => (strip && p.startsWith(`${strip}.`) ? p.slice(strip.length + 1) : p);
  return [
    '| Key | Type | Default | Allowed | Description |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${cell(code(relative(r.path)))} | ${cell(r.type)} | ${cell(defaultCell(r))} | ${cell(r.allowed)} | ${cell(`${r.only ? `(only with ${code(r.only)}) ` : ''}${r.description ?? ''}`)} |`),
    '',
  ];
}

/** One section per top-level key: its description, its own type and default, and a table of every key below it. */
function sections(schema: JsonSchema, anchorPrefix: string): string[] {
  const top = referenceRows(schema).filter((r) => !r.path.includes('.') && !r.path.includes('['));
  const rows = referenceRows(schema);
  return top.flatMap((t) => {
    const below = rows.filter((r) => r.path.startsWith(`${t.path}.`) || r.path.startsWith(`${t.path}[`));
    return [
      `### ${anchorPrefix}${t.path}`,
      '',
      prose(t.description ?? ''),
      '',
      `Type: ${prose(t.type)} · Default: ${defaultCell(t)}${t.allowed ? ` · Allowed: ${prose(t.allowed)}` : ''}`,
      '',
      ...(below.length > 0 ? [`Keys below \`${t.path}\`:`, '', ...table(below, t.path)] : []),
    ];
  });
}

/** docs/configuration.md from the two files' JSON Schemas. */
export function configurationReference(environment: JsonSchema, catalog: JsonSchema): string {
  const envKeys = referenceRows(environment).filter((r) => !r.path.includes('.'));
  const catalogRows = referenceRows(catalog);
  return [
    '# Configuration reference',
    '',
    '<!-- Generated by `npm run docs` from the zod schemas (config/schema.ts, config/sections/*.ts) through the JSON Schema editors read (config/json-schema.ts). Do not edit: change a `.describe()` and run npm run docs. -->',
    '',
    'Every key of the two files that configure Pronto Platform, generated from their schemas:',
    '',
    '- [The environment file](#the-environment-file-configenvyaml), `config/<env>.yaml`: what varies per environment.',
    '  Editors check it against `config/environment.schema.json`; `npm run synth` refuses an unknown key or a bad value, naming the file, line and key.',
    '- [The catalog](#the-catalog-configcatalogts), `config/catalog.ts`: every service, the same in every environment.',
    '',
    'Columns: **Type** (`mapping` is a YAML mapping; `map of <service> to …` takes any key of that kind),',
    '**Default** (what applies when the key is absent; **required**: the file must set it; —: absent means what the description says),',
    '**Allowed** (values, bounds and patterns beyond the type), **Description**. A capability section is absent or `false` when the capability',
    'is off, and a mapping of its settings when on.',
    '',
    '## The environment file (config/&lt;env&gt;.yaml)',
    '',
    ...envKeys.map((k) => `- [${k.path}](#${k.path.toLowerCase()}): ${prose(firstSentence(k.description ?? ''))}`),
    '',
    ...sections(environment, ''),
    '## The catalog (config/catalog.ts)',
    '',
    prose(catalog.description ?? ''),
    'Each entry is keyed by the service name (a DNS label of at most 32 characters) and holds:',
    '',
    ...table(catalogRows.map((r) => ({ ...r, path: r.path.replace(/^<[^>]+>\./, '') })).filter((r) => !r.path.startsWith('<')), ''),
  ].join('\n').replace(/\n{3,}/g, '\n\n').replace(/\n*$/, '\n');
}

function firstSentence(text: string): string {
  const end = text.search(/[.;](\s|$)/);
  return end < 0 ? text : text.slice(0, end);
}

/** The reference of the real schemas, as `npm run docs` writes it. */
export function configurationReferenceText(): string {
  return configurationReference(environmentJsonSchemaObject(), catalogJsonSchemaObject());
}
