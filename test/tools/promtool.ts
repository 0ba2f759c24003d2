/**
 * Runs Debian's `promtool` (package `prometheus`; CI installs it, .ci/run) on rule files
 * and rule unit tests. Suites call {@link promtoolOrSkip} once at load: without promtool
 * they skip with a loud notice, never pass silently. Each suite runs promtool once per
 * kind of check, over every file at once, to keep `npm test` fast.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { RuleGroup, renderGroups } from '../../lib/metrics';

const version = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
/** True when promtool runs here. */
export const HAS_PROMTOOL = version.status === 0;

/** `describe`, or `describe.skip` with a loud notice naming `what` when promtool is missing. */
export function promtoolOrSkip(what: string): jest.Describe {
  if (HAS_PROMTOOL) return describe;
  console.warn(`\n!!! SKIPPED: ${what}: promtool is missing (Debian package prometheus; CI installs it: .ci/run) !!!\n`);
  return describe.skip;
}

export interface PromtoolResult {
  readonly status: number | null;
  readonly output: string;
}

/** A temporary folder, removed by the returned function. */
export function scratch(prefix = 'pronto-promtool-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes typed `groups` as the rule file `name` in `dir`; returns its path. */
export function writeRuleFile(dir: string, name: string, groups: readonly RuleGroup[]): string {
  return writeRawRuleFile(dir, name, renderGroups(groups));
}

/** Writes groups as found in a synthesized PrometheusRule's `spec.groups`; returns the path. */
export function writeRawRuleFile(dir: string, name: string, groups: readonly unknown[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, stringify({ groups }, { lineWidth: 0 }));
  return file;
}

/** `promtool check rules <files…>`. */
export function checkRules(files: readonly string[]): PromtoolResult {
  return run(['check', 'rules', ...files]);
}

/** What {@link checkQueriesWithBroken} found: the whole result, and the part about the good file alone. */
export interface QueryCheck {
  readonly result: PromtoolResult;
  readonly good: string;
  readonly bad: string;
  readonly goodOutput: string;
}

/**
 * `promtool check rules` over `groups` (queries as recording rules, written to `name` in `dir`)
 * and over `broken` beside them, so a test can show both that every query parses and that the
 * check fails on one that does not.
 */
export function checkQueriesWithBroken(dir: string, name: string, groups: readonly unknown[], broken: readonly unknown[]): QueryCheck {
  const good = writeRawRuleFile(dir, name, groups);
  const bad = writeRawRuleFile(dir, 'broken.yaml', broken);
  const result = checkRules([good, bad]);
  return { result, good, bad, goodOutput: result.output.slice(result.output.indexOf(`Checking ${good}`), result.output.indexOf(`Checking ${bad}`)) };
}

/** `promtool test rules <files…>`: the unit tests (each names its rule files, relative to itself). */
export function testRules(files: readonly string[]): PromtoolResult {
  return run(['test', 'rules', ...files]);
}

function run(args: string[]): PromtoolResult {
  const child = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: child.status, output: `${child.stdout ?? ''}${child.stderr ?? ''}` };
}
