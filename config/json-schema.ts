/**
 * The environment-file schema as JSON Schema, for editors (`# yaml-language-server:
 * $schema=./environment.schema.json` at the top of each file). Generated from the zod schema, so
 * the two cannot drift; a test fails when `config/environment.schema.json` is stale. The same
 * conversion ({@link inputJsonSchema}) feeds the configuration reference (config/reference.ts,
 * docs/configuration.md), so editors and the reference show the same types, defaults and descriptions.
 *
 *   npm run schema     # rewrites config/environment.schema.json
 */
import { writeFileSync } from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { SectionSpec } from './sections';
import { catalogSchema, environmentSchema, environmentSchemaFor } from './schema';

/** A JSON Schema document or subschema, as zod's toJSONSchema writes it. */
export type JsonSchema = z.core.JSONSchema.BaseSchema;

/**
 * zod leaves a field's default out of an input schema when the field transforms its value (a
 * CPU quantity read as a string or a number, an objective read as any value and checked): a
 * default is an output value, which need not be a valid input. Ours are always valid inputs
 * too, and a reader needs them, so each one the field itself accepts is put back.
 */
function stateDefault(ctx: { zodSchema: z.core.$ZodTypes; jsonSchema: JsonSchema }): void {
  const def = ctx.zodSchema._zod.def;
  if (def.type !== 'default' || ctx.jsonSchema.default !== undefined) return;
  const value: unknown = def.defaultValue;
  if (z.safeParse(def.innerType, value).success) ctx.jsonSchema.default = value as JsonSchema['default'];
}

/** The JSON Schema of what a file may hold for `schema` (its input side), with every default stated. */
export function inputJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', override: stateDefault });
}

/** The environment file's JSON Schema, titled; `sections` default to the real ones. */
export function environmentJsonSchemaObject(sections?: Readonly<Record<string, SectionSpec>>): JsonSchema {
  return {
    ...inputJsonSchema(sections ? environmentSchemaFor(sections) : environmentSchema),
    title: 'Pronto Platform environment',
    description: 'One environment of the Pronto restaurant system (config/<env>.yaml).',
  };
}

/** The catalog's JSON Schema (config/catalog.ts is TypeScript: no editor reads it, the reference does). */
export function catalogJsonSchemaObject(): JsonSchema {
  return {
    ...inputJsonSchema(catalogSchema),
    title: 'Pronto Platform service catalog',
    description: 'Every Pronto service, declared once (config/catalog.ts).',
  };
}

/** The JSON Schema text, stable and newline-terminated; `sections` default to the real ones. */
export function environmentJsonSchema(sections?: Readonly<Record<string, SectionSpec>>): string {
  return `${JSON.stringify(environmentJsonSchemaObject(sections), null, 2)}\n`;
}

if (require.main === module) {
  const file = path.join(__dirname, 'environment.schema.json');
  writeFileSync(file, environmentJsonSchema());
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
