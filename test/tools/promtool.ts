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

/** `promtool test rules <files…>`: the unit tests (each names its rule files, relative to itself). */
export function testRules(files: readonly string[]): PromtoolResult {
  return run(['test', 'rules', ...files]);
}

function run(args: string[]): PromtoolResult {
  const child = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: child.status, output: `${child.stdout ?? ''}${child.stderr ?? ''}` };
}
