/**
 * The environment-file schema as JSON Schema, for editors (`# yaml-language-server:
 * $schema=./environment.schema.json` at the top of each file). Generated from the zod schema, so
 * the two cannot drift; a test fails when `config/environment.schema.json` is stale.
 *
 *   npm run schema     # rewrites config/environment.schema.json
 */
import { writeFileSync } from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { SectionSpec } from './sections';
import { environmentSchema, environmentSchemaFor } from './schema';

/** The JSON Schema text, stable and newline-terminated; `sections` default to the real ones. */
export function environmentJsonSchema(sections?: Readonly<Record<string, SectionSpec>>): string {
  const schema = z.toJSONSchema(sections ? environmentSchemaFor(sections) : environmentSchema, { io: 'input', unrepresentable: 'any' });
  const titled = {
    ...schema,
    title: 'Pronto Platform environment',
    description: 'One environment of the Pronto restaurant system (config/<env>.yaml).',
  };
  return `${JSON.stringify(titled, null, 2)}\n`;
}

if (require.main === module) {
  const file = path.join(__dirname, 'environment.schema.json');
  writeFileSync(file, environmentJsonSchema());
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
