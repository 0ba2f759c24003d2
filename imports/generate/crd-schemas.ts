/**
 * Generates `imports/crd-schemas.json`: for every served version of every CRD in
 * `imports/crds/` (or the files given as arguments), its `openAPIV3Schema` made
 * strict, keyed by `<group>/<version>/<Kind>`. The API server prunes unknown fields
 * of custom resources silently; we want them reported, so every object schema that
 * lists `properties` gets `additionalProperties: false` unless it is marked
 * `x-kubernetes-preserve-unknown-fields`. Descriptions are dropped.
 *
 * {@link strictify} is also the pipeline of the Kubernetes schema (k8s-schema.ts).
 *
 *   npm run import     # regenerates this, the CRD bindings and the Kubernetes schema
 */
import { readdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';

type Schema = Record<string, any>;

/** The range of a Go int32 (`format: int32`): larger values are rejected by the API server's decoder. */
const INT32 = { minimum: -2147483648, maximum: 2147483647 } as const;

/** What an `x-kubernetes-int-or-string` value may be; the marker itself constrains nothing in JSON Schema. */
const INT_OR_STRING = [{ type: 'integer' }, { type: 'string' }];

/** Keys that document or drive merging but constrain nothing a validator can check. */
const DROPPED = new Set(['description', 'format', 'x-kubernetes-patch-merge-key', 'x-kubernetes-patch-strategy',
  'x-kubernetes-unions', 'x-kubernetes-group-version-kind']);

/**
 * Makes a schema strict, along properties/items/additionalProperties:
 * - `additionalProperties: false` on every object schema that lists `properties`, unless it
 *   already says what else it allows or is marked `x-kubernetes-preserve-unknown-fields`
 *   (free-form maps list no `properties`, so they stay open);
 * - `type: integer` stays integer, and `format: int32` (on an integer or an int-or-string)
 *   becomes the int32 range, unless the schema sets its own bound; other formats (int64,
 *   double, date-time, byte) are dropped;
 * - `x-kubernetes-int-or-string: true` gets its `anyOf` integer/string (CRDs carry it already);
 * - Go RE2 patterns become JavaScript ones; descriptions and merge annotations are dropped.
 * `required`, `enum`, `$ref` and every other keyword are kept as they are.
 */
export function strictify(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROPPED.has(key)) continue;
    if (key === 'pattern' && typeof value === 'string') out.pattern = jsRegex(value);
    else if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, strictify(v)]));
    else if (key === 'items' && typeof value === 'object') out.items = strictify(value);
    else if (key === 'additionalProperties' && typeof value === 'object') out.additionalProperties = strictify(value);
    else if (['allOf', 'anyOf', 'oneOf'].includes(key)) out[key] = (value as Schema[]).map(stripDescriptions);
    else if (key === 'not') out.not = stripDescriptions(value);
    else out[key] = value;
  }
  if ((schema.type === 'integer' || schema['x-kubernetes-int-or-string'] === true) && schema.format === 'int32') {
    out.minimum ??= INT32.minimum;
    out.maximum ??= INT32.maximum;
  }
  if (out['x-kubernetes-int-or-string'] === true && out.anyOf === undefined) out.anyOf = INT_OR_STRING;
  if (out.properties && out.additionalProperties === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  return out;
}

function stripDescriptions(schema: Schema): Schema {
  return JSON.parse(JSON.stringify(schema, (k, v) => (DROPPED.has(k) ? undefined : v)));
}

/** Go's RE2 inline flag `(?i)` has no JavaScript equivalent: spell each letter's cases. */
function jsRegex(pattern: string): string {
  if (!pattern.includes('(?i)')) return pattern;
  return pattern.replace('(?i)', '').replace(/[a-zA-Z]/g, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
}

/** The strict schemas of every served CRD version in `files`, keyed by group/version/kind. */
export function schemas(files: string[]): Record<string, Schema> {
  const schemas: Record<string, Schema> = {};
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const crd = doc.toJS();
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      for (const version of crd.spec.versions.filter((v: Schema) => v.served)) {
        const root = strictify(version.schema.openAPIV3Schema);
        // Metadata is checked against the core ObjectMeta schema by the validator.
        delete root.properties.metadata;
        delete root.properties.status;
        schemas[`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`] = root;
      }
    }
  }
  return Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b)));
}

/** Where the CRD files are kept (one file per API group, listed under `imports:` in cdk8s.yaml). */
export const CRD_DIR = path.join(__dirname, '..', 'crds');

/** The text written to imports/crd-schemas.json. */
export function generate(files: string[]): string {
  return `${JSON.stringify({
    $comment: 'Generated by imports/generate/crd-schemas.ts from the CRDs named in cdk8s.yaml. Do not edit.',
    resources: schemas(files),
  })}\n`;
}

/** The CRD files of {@link CRD_DIR}, sorted. */
export function crdFiles(): string[] {
  return readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(CRD_DIR, f));
}

if (require.main === module) {
  const files = process.argv.length > 2 ? process.argv.slice(2) : crdFiles();
  const out = path.join(__dirname, '..', 'crd-schemas.json');
  writeFileSync(out, generate(files));
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}
