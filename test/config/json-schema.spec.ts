import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { environmentJsonSchema } from '../../config/json-schema';
import { FIXTURE_SECTIONS } from '../fixtures/capabilities';
import { CONFIG_DIR, ENVIRONMENTS, shippedJsonSchemas } from '../helpers';

describe('config/environment.schema.json', () => {
  test('is up to date with the zod schema (run `npm run schema` after changing config/schema.ts)', () => {
    expect(readFileSync(path.join(CONFIG_DIR, 'environment.schema.json'), 'utf8')).toBe(environmentJsonSchema());
  });

  test('rejects unknown keys and documents defaults', () => {
    const schema = shippedJsonSchemas().environment as any;
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['tier', 'images', 'services']);
    expect(schema.properties.namespace.properties.podSecurityVersion.default).toBe('v1.28');
  });

  test('a built capability section accepts false or its settings, as the loader does', () => {
    const audit = JSON.parse(environmentJsonSchema(FIXTURE_SECTIONS)).properties.audit;
    expect(audit.anyOf).toEqual([{ type: 'boolean', const: false }, expect.objectContaining({ type: 'object', additionalProperties: false })]);
  });

  test.each(ENVIRONMENTS)('%s.yaml points editors at it', (env) => {
    expect(readFileSync(path.join(CONFIG_DIR, `${env}.yaml`), 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./environment.schema.json');
  });
});

describe('module resolution', () => {
  // Node (and ts-node, cdk8s's default runner) resolves `./schema` to schema.js or
  // schema.json before schema.ts: a JSON file beside a module would shadow it.
  test('no .js or .json file shares its base name with a .ts module in config/, charts/ or lib/', () => {
    const root = path.join(CONFIG_DIR, '..');
    const shadowed: string[] = [];
    const walk = (dir: string) => {
      const entries = readdirSync(path.join(root, dir), { withFileTypes: true });
      const names = new Set(entries.map((e) => e.name));
      for (const e of entries) {
        if (e.isDirectory()) walk(path.join(dir, e.name));
        else if (e.name.endsWith('.ts')) {
          const base = e.name.slice(0, -3);
          for (const ext of ['.js', '.json']) if (names.has(base + ext) && !(dir === path.join('lib', 'validation') && base === 'cdk8s-plugin')) shadowed.push(path.join(dir, base + ext));
        }
      }
    };
    for (const dir of ['config', 'charts', 'lib']) walk(dir);
    expect(shadowed).toEqual([]);
  });
});
