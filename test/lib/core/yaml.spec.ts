/**
 * formatYaml prints exactly what cdk8s's Yaml.stringify prints (the yaml library). The
 * shipped output is compared byte for byte by the snapshots (test/charts/app.test.ts, every
 * file of every environment); here, documents generated from the strings YAML treats
 * specially, and the documents the port hands to the library.
 */
import { Yaml } from 'cdk8s';
import { formatYaml, yamlStats } from '../../../lib/core';

/** A small deterministic generator (a linear congruential one), so that a failure reproduces. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

/** Pieces of strings that change how YAML writes a scalar: indicators, spaces and newlines at either end, escapes, lookalikes. */
const PIECES = [
  'a', 'Z', ' ', '  ', '\n', '\n\n', '\t', ':', ': ', ' #', '#', '-', '- ', '?', '? ', "'", '"', '%', '@', '`', '[', ']', '{', '}', ',', '&', '*', '!',
  '|', '>', '.', '0', '7', '9', '1e3', '0x1F', '0o7', '0b1', '1:20', '1_000', '.inf', '-.Inf', '.NaN', '~', '<<', '=', 'null', 'Null', 'true', 'False',
  'yes', 'No', 'on', 'OFF', 'y', 'n', '---', '...', '2001-12-14', '2001-12-14t21:59:43.10-05:00', 'é', '漢', '😀', '\u0085', '\u00a0', '\u2028',
  '\u2029', '\x00', '\x07', '\x1b', '\r', '\\', '\\n', '/', 'http://x', '$(A)', '{{ .Data }}',
];

function generatedString(random: () => number): string {
  let text = '';
  for (let i = Math.floor(random() * 7); i > 0; i--) text += PIECES[Math.floor(random() * PIECES.length)];
  // Long strings too: double-quoted strings of 40 characters or more break their lines.
  return random() < 0.15 ? text.repeat(2 + Math.floor(random() * 10)) : text;
}

function generatedValue(random: () => number, depth: number): unknown {
  const r = random();
  if (depth > 3 || r < 0.55) {
    const t = random();
    if (t < 0.7) return generatedString(random);
    if (t < 0.78) return Math.floor(random() * 2000) - 1000;
    if (t < 0.82) return random() * 100;
    if (t < 0.88) return random() < 0.5;
    if (t < 0.93) return null;
    return [-0, NaN, Infinity, -Infinity, 1e21, 5e-7, undefined][Math.floor(random() * 7)];
  }
  if (r < 0.78) return Array.from({ length: Math.floor(random() * 4) }, () => generatedValue(random, depth + 1));
  return generatedMap(random, depth + 1);
}

function generatedMap(random: () => number, depth: number): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  for (let i = Math.floor(random() * 4); i > 0; i--) map[generatedString(random)] = generatedValue(random, depth);
  return map;
}

describe('formatYaml', () => {
  test('prints 1500 generated documents of awkward keys and values exactly as cdk8s Yaml.stringify does, all by itself', () => {
    const random = generator(17);
    const docs = Array.from({ length: 1500 }, () => ({ ...generatedMap(random, 0), kind: generatedString(random) }));
    const delegated = yamlStats.delegated;
    const different = docs.filter((doc) => formatYaml([doc]) !== Yaml.stringify(doc));
    expect(different.slice(0, 3).map((doc) => ({ doc, library: Yaml.stringify(doc), port: formatYaml([doc]) }))).toEqual([]);
    // All in one file too: the texts it keeps for strings that recur (as keys and values, at every depth) are right.
    expect(formatYaml(docs) === Yaml.stringify(...docs)).toBe(true);
    expect(yamlStats.delegated).toBe(delegated);
  });

  test('joins documents as cdk8s does: `---` between them, an undefined document as an empty line', () => {
    const docs = [{ a: 1 }, undefined, { b: ['x', { c: 'multi\nline\n' }] }, {}];
    expect(formatYaml(docs)).toBe(Yaml.stringify(...docs));
    expect(formatYaml([])).toBe(Yaml.stringify());
  });

  test('hands to the library what it does not print: an object reached twice (an anchor and alias), a class instance, a long key, a non-map document', () => {
    const shared = { x: 1 };
    const cases: unknown[] = [
      { a: shared, b: shared },
      { a: [shared], b: { c: shared } },
      { when: new Date(0) },
      { [`k${'e'.repeat(1100)}`]: 1 },
      { value: { toJSON: () => 'serialized' } },
      ['a', 'b'],
      'a string',
      null,
    ];
    for (const doc of cases) {
      const before = yamlStats.delegated;
      expect(formatYaml([doc])).toBe(Yaml.stringify(doc));
      expect(yamlStats.delegated).toBe(before + 1);
    }
    expect(formatYaml([{ a: shared, b: shared }])).toContain('&a1');
  });
});
