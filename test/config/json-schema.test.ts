import { readFileSync } from 'fs';
import * as path from 'path';
import { environmentJsonSchema } from '../../config/json-schema';
import { CONFIG_DIR, ENVIRONMENTS } from '../helpers';

describe('config/schema.json', () => {
  test('is up to date with the zod schema (run `npm run schema` after changing config/schema.ts)', () => {
    expect(readFileSync(path.join(CONFIG_DIR, 'schema.json'), 'utf8')).toBe(environmentJsonSchema());
  });

  test('rejects unknown keys and documents defaults', () => {
    const schema = JSON.parse(environmentJsonSchema());
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['tier', 'images', 'services']);
    expect(schema.properties.namespace.properties.podSecurityVersion.default).toBe('v1.28');
  });

  test.each(ENVIRONMENTS)('%s.yaml points editors at it', (env) => {
    expect(readFileSync(path.join(CONFIG_DIR, `${env}.yaml`), 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./schema.json');
  });
});
