/**
 * Reviewed output as files: one file per environment and output file under
 * `__snapshots__/<test path>/<env>/`, the exact text synth writes, with each object headed by
 * a `# <Kind> <namespace>/<name>` line, so a snapshot diff names the environment and the file
 * in its path and the object right above its hunk. A mismatch fails with the object-level
 * review (lib/changes): which objects changed, and their fields as a unified diff.
 *
 * Updated exactly when jest updates snapshots: `npx jest <suite> -u` rewrites them, a plain
 * run writes only missing ones, and `--ci` (CI=true) writes nothing and fails on a missing one.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { formatFieldDiffs, formatSummary } from '../charts/review';
import { compareOutputs, objectRef } from '../lib/changes';
import { Manifest } from '../lib/core';

const ROOT = path.resolve(__dirname, '..');
const HEADER = /^# .*\n/gm;

/** How jest was asked to treat snapshots: `all` (-u), `new` (default), `none` (--ci). */
function updateMode(): 'all' | 'new' | 'none' {
  const state = (expect.getState() as { snapshotState?: { _updateSnapshot?: 'all' | 'new' | 'none' } }).snapshotState;
  return state?._updateSnapshot ?? 'none';
}

const objectsOf = (text: string): Manifest[] => parseAllDocuments(text).map((d) => d.toJS() as Manifest).filter((m) => m && typeof m === 'object');

/** A YAML file's text with a header line naming each object; other files as they are. */
export function withHeaders(name: string, text: string): string {
  if (!name.endsWith('.yaml') || name.endsWith('kustomization.yaml')) return text;
  const docs = text.split(/^---\n/m);
  return docs.map((doc) => {
    const [m] = objectsOf(doc);
    return m?.kind ? `# ${objectRef(m).replace('/', ' ')}\n${doc}` : doc;
  }).join('---\n');
}

/** Every file below `dir`, relative path → text. */
function filesUnder(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  const walk = (at: string) => {
    for (const name of readdirSync(at).sort()) {
      const file = path.join(at, name);
      if (statSync(file).isDirectory()) walk(file);
      else out.set(path.relative(dir, file).split(path.sep).join('/'), readFileSync(file, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

/**
 * Asserts that `files` match the reviewed snapshot folder `folder` (relative to the
 * repository's `__snapshots__/`), or writes it as jest's update mode says.
 */
export function expectSnapshotFiles(folder: string, files: ReadonlyArray<{ readonly name: string; readonly text: string }>,
  root = path.join(ROOT, '__snapshots__'), mode = updateMode()): void {
  const dir = path.join(root, folder);
  const expected = new Map(files.map((f) => [f.name, withHeaders(f.name, f.text)]));
  const reviewed = filesUnder(dir);
  if (mode === 'all' || (mode === 'new' && reviewed.size === 0)) {
    rmSync(dir, { recursive: true, force: true });
    for (const [name, text] of expected) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), text);
    }
    return;
  }
  const problems: string[] = [];
  for (const name of [...new Set([...expected.keys(), ...reviewed.keys()])].sort()) {
    const [now, was] = [expected.get(name), reviewed.get(name)];
    if (now === was) continue;
    if (was === undefined) problems.push(`+ ${folder}/${name}: new file, not in the reviewed snapshot`);
    else if (now === undefined) problems.push(`- ${folder}/${name}: in the reviewed snapshot, no longer written`);
    else if (!name.endsWith('.yaml')) problems.push(`~ ${folder}/${name}: changed`);
    else {
      const changes = compareOutputs(objectsOf(was.replace(HEADER, '')), objectsOf(now.replace(HEADER, '')));
      problems.push(`~ ${folder}/${name}: ${formatSummary(changes).join('\n')}`, ...formatFieldDiffs(changes));
      if (changes.added.length + changes.removed.length + changes.changed.length === 0) problems.push('  (same objects: formatting or order changed)');
    }
  }
  if (problems.length > 0) {
    throw new Error(`The output differs from the reviewed snapshot in __snapshots__/${folder}/ ` +
      `(if intended: npx jest <this suite> -u, then read git diff __snapshots__/):\n${problems.join('\n')}`);
  }
}
