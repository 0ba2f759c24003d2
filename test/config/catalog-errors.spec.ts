/**
 * Problems in config/catalog.ts carry `config/catalog.ts:<line>`: the line of the offending
 * entry's field, found in the file's text when the problem is reported. A catalog with a
 * mistake is made the way a user makes one (config/catalog.ts copied and edited, then
 * loaded); the expected line is found by searching the edited text.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { CATALOG } from '../../config/catalog';
import { CatalogSource, catalogLine } from '../../config/catalog-source';
import { ConfigError, parseEnvironment, validateCatalog } from '../../config/load';
import { lineInEntry, loadCatalogText, shippedCatalogText } from '../fixtures/added-service';
import { VALID_ENV } from '../fixtures/environments';

const FILE = 'config/catalog.ts';
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pronto-catalog-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The problems validateCatalog reports for `catalog`, written as `text`. */
function problemsOf(catalog: Parameters<typeof validateCatalog>[0], text: string): string[] {
  const source: CatalogSource = { file: FILE, text: () => text };
  try {
    validateCatalog(catalog, source);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/** config/catalog.ts with `from` replaced by `to` below `service`'s key (its own field, not another entry's), loaded. */
function editedCatalog(service: string, from: string, to: string) {
  const text = shippedCatalogText();
  const entry = text.indexOf(`'${service}': {`);
  const at = text.indexOf(from, entry);
  expect([entry, at].every((i) => i >= 0)).toBe(true);
  const edited = text.slice(0, at) + to + text.slice(at + from.length);
  return { text: edited, catalog: loadCatalogText(dir, edited).catalog };
}

describe('catalog problems name config/catalog.ts and the line of the field', () => {
  test('a service that calls an unknown service: the line of its calls', () => {
    const calls = `calls: ${JSON.stringify(CATALOG['order-service'].calls).replace(/"/g, "'").replace(/,/g, ', ')}`;
    const { text, catalog } = editedCatalog('order-service', calls, "calls: ['kitchen-dispaly']");
    expect(problemsOf(catalog, text)).toEqual([
      `${FILE}:${lineInEntry(text, 'order-service', 'calls')}: order-service.calls.0: expected another catalog service (${Object.keys(CATALOG).join(', ')}), found "kitchen-dispaly"`,
    ]);
  });

  test('a port below 1024: the line of the port, with the value written', () => {
    const { text, catalog } = editedCatalog('payment-gateway', `port: ${CATALOG['payment-gateway'].port},`, 'port: 80,');
    expect(problemsOf(catalog, text)).toEqual([`${FILE}:${lineInEntry(text, 'payment-gateway', 'port')}: payment-gateway.port: expected a value ≥ 1024, found 80`]);
  });

  test('a field inside another on the same line (route.path): the line that writes it', () => {
    const route = CATALOG['employees-app'].route!.path;
    const { text, catalog } = editedCatalog('kitchen-display', `path: '${CATALOG['kitchen-display'].route!.path}'`, `path: '${route}'`);
    expect(problemsOf(catalog, text)).toEqual([
      `${FILE}:${lineInEntry(text, 'kitchen-display', 'route')}: kitchen-display.route.path: expected a path no other service uses, found "${route}" (also employees-app)`,
    ]);
  });

  test('an unknown key: the line of the key', () => {
    const { text, catalog } = editedCatalog('order-service', 'port:', 'prot: 8080,\n    port:');
    expect(problemsOf(catalog, text).join('\n')).toContain(`${FILE}:${lineInEntry(text, 'order-service', 'prot')}: order-service: unknown key "prot"`);
  });

  test('parseEnvironment locates a problem of the shipped catalog in config/catalog.ts', () => {
    const catalog = { ...CATALOG, 'order-service': { ...CATALOG['order-service'], port: 80 } };
    expect(() => parseEnvironment(VALID_ENV, 'config/test.yaml', catalog))
      .toThrow(`${FILE}:${lineInEntry(shippedCatalogText(), 'order-service', 'port')}: order-service.port: expected a value ≥ 1024, found 80`);
  });

  test('a service the text does not write (a catalog built in code) still names the field, without a line', () => {
    const catalog = { ...CATALOG, 'made-in-code': { ...CATALOG['order-service'], calls: ['nobody'] } };
    expect(problemsOf(catalog, shippedCatalogText())).toEqual([expect.stringMatching(new RegExp(`^${FILE}: made-in-code\\.calls\\.0: expected another catalog service`))]);
  });
});

describe('catalogLine', () => {
  const TEXT = [
    '// CATALOG: a comment that mentions \'a\': { port: 1 }',
    'export const CATALOG: Catalog = {',
    '  a: {',
    '    // port: in a comment',
    '    port: 8080,',
    '    route: { path: \'/a\' },',
    '    secrets: [{',
    '      path: \'a/x\', file: \'x\',',
    '    }],',
    '  },',
    '  "b-c": { port: 1 },',
    '  d: {',
    '    port: 2,',
    '  },',
    '};',
  ].join('\n');
  const line = (needle: string, from = 0) => TEXT.split('\n').findIndex((l, i) => i >= from && l.includes(needle)) + 1;

  test.each([
    [['a'], line('  a: {')],
    [['a', 'port'], line('    port: 8080')],
    [['a', 'route', 'path'], line('route:')],
    [['a', 'secrets', 0, 'file'], line("file: 'x'")],
    [['a', 'calls', 0], line('  a: {')],
    [['b-c', 'port'], line('"b-c"')],
    [['d', 'port'], line('    port: 2')],
  ])('%j is on line %i', (at, expected) => {
    expect(catalogLine(TEXT, at)).toBe(expected);
  });

  test('a field an entry does not write is looked for in that entry only, never the next one', () => {
    expect(catalogLine(TEXT, ['b-c', 'route'])).toBe(line('"b-c"'));
  });

  test('a service the text does not write has no line', () => {
    expect(catalogLine(TEXT, ['zz', 'port'])).toBeUndefined();
  });
});
