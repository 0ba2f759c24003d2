/**
 * The configuration reference (docs/configuration.md, config/reference.ts): every key of the
 * environment file and of the catalog has a description; the reference lists every key the
 * schemas have, with the defaults the loader applies; choices and records read as a user
 * writes them. The file's staleness is checked with the other generated docs
 * (test/charts/docs.spec.ts).
 */
import { z } from 'zod';
import { environmentJsonSchemaObject, inputJsonSchema } from '../../config/json-schema';
import { configurationReference, referenceRows, undescribedKeys } from '../../config/reference';
import { parseEnvironment } from '../../config/load';
import { FIXTURE_SECTIONS } from '../fixtures/capabilities';
import { VALID_ENV } from '../fixtures/environments';
import { shippedJsonSchemas, shippedReference } from '../helpers';

const { environment: ENV, catalog: CATALOG } = shippedJsonSchemas();
/** With the test capability's two sections beside the real ones. */
const WITH_FIXTURES = environmentJsonSchemaObject(FIXTURE_SECTIONS);

describe('the configuration reference', () => {
  test('every key of the environment file has a description (the paths listed are those without one)', () => {
    expect(undescribedKeys(ENV)).toEqual([]);
  });

  test('every key of the catalog has a description', () => {
    expect(undescribedKeys(CATALOG)).toEqual([]);
  });

  test('fails naming the key: a capability section with an undescribed key is listed by its path', () => {
    // The test capability's second section declares `bucket` without a description.
    expect(undescribedKeys(WITH_FIXTURES)).toContain('auditArchive.bucket');
    expect(undescribedKeys(inputJsonSchema(z.strictObject({ a: z.strictObject({ b: z.int().default(1) }).describe('A') })))).toEqual(['a.b']);
  });

  test('has a section per top-level key of the environment file, capability sections included, and a row per key below it', () => {
    const text = shippedReference();
    const headings = new Set(text.split('\n').filter((l) => l.startsWith('### ')).map((l) => l.slice(4)));
    const keyCells = new Set(text.split('\n').filter((l) => l.startsWith('| `')).map((l) => l.slice(3, l.indexOf('` |'))));
    const keys = Object.keys(ENV.properties ?? {});
    expect(keys.length).toBeGreaterThan(0);
    expect([...headings]).toEqual(keys);
    for (const row of referenceRows(ENV).filter((r) => r.path.includes('.'))) expect(keyCells).toContain(row.path.slice(row.path.indexOf('.') + 1));
    for (const row of referenceRows(CATALOG)) expect(keyCells).toContain(row.path.replace(/^<service>\./, ''));
  });

  test('a capability a test adds gets its section, from its schema alone', () => {
    const text = configurationReference(WITH_FIXTURES, CATALOG);
    expect(text).toContain('\n### audit\n');
    expect(text).toMatch(/\| `port` \| integer \| `4318` \| 1 to 65535 \|/);
  });

  test('states the defaults the loader applies, transformed fields included (CPU quantities, objectives)', () => {
    const loaded = parseEnvironment(VALID_ENV, 'config/test.yaml');
    // A minimal namespace section: every default of its keys applies.
    const applied = { namespace: { ...loaded.namespace }, cluster: { dns: { namespace: loaded.cluster?.dns.namespace } } } as Record<string, unknown>;
    const rows = referenceRows(ENV).filter((r) => r.path.startsWith('namespace.limitRange.') && r.default !== undefined && !/^`[[{]/.test(r.default));
    expect(rows.map((r) => r.path)).toContain('namespace.limitRange.max.cpu');
    for (const row of rows) {
      const value = row.path.split('.').reduce<any>((o, k) => o?.[k], applied);
      expect(row.default).toBe(`\`${value}\``);
    }
  });

  test('a choice: the discriminator lists its values, with what each means; a key of one branch says which', () => {
    const schema = inputJsonSchema(z.strictObject({
      tls: z.discriminatedUnion('mode', [
        z.strictObject({ mode: z.literal('edge').describe('ends at the edge') }),
        z.strictObject({ mode: z.literal('pod').describe('ends in the pod'), secret: z.string().describe('the certificate') }),
      ]).describe('TLS'),
    }));
    const rows = referenceRows(schema);
    expect(rows.find((r) => r.path === 'tls.mode')).toMatchObject({ type: '`edge` or `pod`', allowed: '`edge`, `pod`', description: '`edge`: ends at the edge; `pod`: ends in the pod' });
    expect(rows.find((r) => r.path === 'tls.secret')).toMatchObject({ only: 'mode: pod', required: true });
  });

  test('a record: its keys stand for their title, and a table cell keeps one line with its pipes escaped', () => {
    const schema = inputJsonSchema(z.strictObject({
      hosts: z.record(z.string().meta({ title: 'host' }), z.strictObject({ port: z.int().describe('a | b\nc') })).describe('per <host>'),
    }));
    expect(referenceRows(schema).map((r) => r.path)).toEqual(['hosts', 'hosts.<host>.port']);
    const text = configurationReference(schema, CATALOG);
    expect(text).toContain('| `<host>.port` | integer | **required** |  | a \\| b c |');
    expect(text).toContain('per &lt;host>');
  });
});
