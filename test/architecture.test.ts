/**
 * Dependencies point one way: main.ts → charts/ → lib/ → {imports/, cdk8s, cdk8s-plus}.
 * lib/ never reads config or files; config/ never builds Kubernetes objects.
 */
import { readdirSync, readFileSync, statSync } from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((entry) => {
    const rel = path.join(dir, entry);
    if (statSync(path.join(ROOT, rel)).isDirectory()) return sources(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
}

describe('architecture', () => {
  test('lib/ imports neither config/ nor charts/, and reads no files or environment', () => {
    for (const file of sources('lib')) {
      for (const spec of importsOf(file)) expect([file, spec]).not.toEqual([file, expect.stringMatching(/(config|charts)(\/|$)/)]);
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      expect([file, /process\.env|readFileSync|from 'fs'/.test(text)]).toEqual([file, false]);
    }
  });

  test('config/ uses only zod, yaml, node built-ins and the pure helpers of lib/core', () => {
    const allowed = /^(zod|yaml|fs|path|\.\/.*|\.\.\/lib\/core\/(quantity|image))$/;
    for (const file of sources('config')) {
      for (const spec of importsOf(file)) expect([file, spec]).toEqual([file, expect.stringMatching(allowed)]);
    }
  });

  test('charts/ does not import main.ts', () => {
    for (const file of sources('charts')) expect(importsOf(file).some((s) => s.includes('main'))).toBe(false);
  });
});
