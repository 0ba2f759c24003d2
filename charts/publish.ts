/**
 * `npm run publish -- --env <env> --to <GitOps checkout>`: synthesizes one environment
 * (config, capacity guard, validation gate: the pipeline of `npm run synth`), then replaces
 * that environment's folder in a checkout of the GitOps repository with renames, so the
 * folder is either the old one or the new one, never a mix. Prints what changed, object by
 * object. Refuses, changing nothing, when the synth or the gate fails, when the checkout has
 * uncommitted changes in that folder (they would be lost), or when the folder exists and was
 * not written by Pronto. It never commits: review `git diff` and commit.
 *
 * The folder is `gitops.repository.path` when the gitops capability is on (where the Argo CD
 * Application looks), else the environment's name.
 */
import { execFileSync } from 'child_process';
import { Dirent, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { parseAllDocuments } from 'yaml';
import { ConfigError, EnvironmentConfig, loadEnvironment } from '../config/load';
import { Manifest } from '../lib/core';
import { Io } from '../config/promote';
import { GENERATED_HEADER, RenderedEnvironment, renderEnvironment, writeEnvironment } from './synthesize';

export const USAGE = 'usage: npm run publish -- --env <environment> --to <GitOps checkout> [--config <dir>]';

/**
 * `git status --porcelain` of `folder` (relative to `checkout`), untracked files included:
 * empty when clean. Throws when `checkout` is not a Git working tree.
 */
export type GitStatus = (checkout: string, folder: string) => string;

/** Runs git once: `git -C <checkout> status --porcelain=v1 --untracked-files=all -- <folder>`. */
export const gitStatus: GitStatus = (checkout, folder) => execFileSync('git', ['-C', checkout, 'status', '--porcelain=v1', '--untracked-files=all', '--', folder], {
  encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
});

/** Objects added, changed and removed, as `Kind/namespace/name` (cluster-scoped: `Kind/name`), sorted. */
export interface ObjectDiff {
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
}

/** A refusal: nothing was changed; `lines` say why. */
class Refusal extends Error {
  public constructor(public readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

const refOf = (m: Manifest) => [m.kind, m.metadata?.namespace, m.metadata?.name].filter((p) => p !== undefined).join('/');

/** What publishing `after` over `before` does to the cluster's objects. */
export function diffObjects(before: readonly Manifest[], after: readonly Manifest[]): ObjectDiff {
  const old = new Map(before.map((m) => [refOf(m), JSON.stringify(m)]));
  const now = new Map(after.map((m) => [refOf(m), JSON.stringify(m)]));
  const sorted = (refs: Iterable<string>) => [...refs].sort();
  return {
    added: sorted([...now.keys()].filter((r) => !old.has(r))),
    changed: sorted([...now.keys()].filter((r) => old.has(r) && old.get(r) !== now.get(r))),
    removed: sorted([...old.keys()].filter((r) => !now.has(r))),
  };
}

/** The diff as lines: totals, then one line per kind naming the objects (`+` added, `~` changed, `-` removed). */
export function formatDiff(diff: ObjectDiff): string[] {
  const total = diff.added.length + diff.changed.length + diff.removed.length;
  if (total === 0) return ['no object changed'];
  const byKind = new Map<string, string[]>();
  const note = (refs: string[], mark: string) => {
    for (const ref of refs) {
      const [kind, ...rest] = ref.split('/');
      byKind.set(kind, [...(byKind.get(kind) ?? []), `${mark}${rest.join('/')}`]);
    }
  };
  note(diff.added, '+');
  note(diff.changed, '~');
  note(diff.removed, '-');
  return [
    `${diff.added.length} added, ${diff.changed.length} changed, ${diff.removed.length} removed`,
    ...[...byKind.keys()].sort().map((kind) => `  ${kind}: ${byKind.get(kind)!.join(', ')}`),
  ];
}

/** The folder of the GitOps repository the environment is published to. */
export function publishFolder(config: EnvironmentConfig): string {
  return config.capabilities.gitops?.repository.path ?? config.name;
}

/** Every object of the YAML manifests under `dir` (`*.yaml` files, recursively; the kustomizations aside). */
function readManifests(dir: string): Manifest[] {
  if (!existsSync(dir)) return [];
  const out: Manifest[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a: Dirent, b: Dirent) => a.name.localeCompare(b.name))) {
      const file = path.join(at, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.isFile() && entry.name.endsWith('.yaml') && entry.name !== 'kustomization.yaml') {
        for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
          const value = doc.toJS() as Manifest | null;
          if (value && typeof value === 'object' && typeof value.kind === 'string') out.push(value);
        }
      }
    }
  };
  walk(dir);
  return out;
}

function isGenerated(dir: string): boolean {
  try {
    return readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8').startsWith(GENERATED_HEADER);
  } catch {
    return false;
  }
}

/** The checks that make a publish safe, in order; throws a {@link Refusal} naming every problem of the target. */
function checkTarget(checkout: string, folder: string, git: GitStatus): void {
  let stat;
  try {
    stat = statSync(checkout);
  } catch {
    throw new Refusal([`--to ${checkout}: does not exist (expected a checkout of the GitOps repository)`]);
  }
  if (!stat.isDirectory()) throw new Refusal([`--to ${checkout}: is not a folder (expected a checkout of the GitOps repository)`]);
  let status: string;
  try {
    status = git(checkout, folder);
  } catch (err) {
    const detail = String((err as { stderr?: unknown }).stderr ?? (err as Error).message).trim().split('\n')[0];
    throw new Refusal([`--to ${checkout}: is not a Git checkout, or git failed (${detail})`]);
  }
  const dirty = status.split('\n').filter((l) => l.trim() !== '');
  if (dirty.length > 0) {
    throw new Refusal([
      `${path.join(checkout, folder)}: has uncommitted changes, which publishing would overwrite; commit or discard them first:`,
      ...dirty.map((l) => `  ${l}`),
    ]);
  }
  const target = path.join(checkout, folder);
  if (existsSync(target) && (!lstatSync(target).isDirectory() || !isGenerated(target))) {
    throw new Refusal([`${target}: exists and was not written by Pronto (no kustomization.yaml starting with "${GENERATED_HEADER}"): move it away or choose another gitops.repository.path`]);
  }
}

/**
 * Writes `rendered` into `target` with renames: staged next to it, the old folder moved
 * aside, the new one moved in, the old one deleted. Undoes the first move if the second fails.
 */
function replaceFolder(rendered: RenderedEnvironment, target: string): void {
  const parent = path.dirname(target);
  mkdirSync(parent, { recursive: true });
  const staging = mkdtempSync(path.join(parent, '.pronto-publish-'));
  try {
    const fresh = path.join(staging, 'new');
    writeEnvironment(rendered, fresh);
    const previous = path.join(staging, 'previous');
    const hadOne = existsSync(target);
    if (hadOne) renameSync(target, previous);
    try {
      renameSync(fresh, target);
    } catch (err) {
      if (hadOne) renameSync(previous, target);
      throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

export interface PublishOptions {
  readonly env: string;
  /** The checkout of the GitOps repository. */
  readonly to: string;
  /** @default 'config' */
  readonly configDir?: string;
}

/** What a publish did. */
export interface PublishResult {
  /** The folder replaced, `<to>/<folder>`. */
  readonly target: string;
  readonly diff: ObjectDiff;
}

/**
 * Synthesizes and validates `options.env`, then replaces its folder in the checkout.
 * Throws {@link ConfigError} (config, capacity, gate) or a refusal before changing anything.
 */
export function publish(options: PublishOptions, git: GitStatus = gitStatus): PublishResult {
  const config = loadEnvironment(options.configDir ?? 'config', options.env);
  const rendered = renderEnvironment(config);
  if (rendered.findings.length > 0) {
    throw new ConfigError([`${rendered.findings.length} policy finding(s) in ${config.name}:`, ...rendered.report.split('\n')]);
  }
  const folder = publishFolder(config);
  checkTarget(options.to, folder, git);
  const target = path.join(options.to, folder);
  const diff = diffObjects(readManifests(target), rendered.manifests);
  replaceFolder(rendered, target);
  return { target, diff };
}

/** `npm run publish` with `argv`; returns the exit status (0 published, 1 refused or failed). */
export function run(argv: readonly string[], io: Io, git: GitStatus = gitStatus): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv], strict: true, allowPositionals: false,
      options: { env: { type: 'string' }, to: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    io.err(`publish: ${(err as Error).message.split('\n')[0]}\n${USAGE}`);
    return 1;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (!values.env || !values.to) {
    io.err(`publish: ${!values.env ? '--env' : '--to'} is required\n${USAGE}`);
    return 1;
  }
  try {
    const { target, diff } = publish({ env: values.env, to: values.to, configDir: values.config }, git);
    io.out([`published ${values.env} to ${target}/:`, ...formatDiff(diff).map((l) => `  ${l}`),
      `Next: review with git -C ${values.to} diff, then commit and push; Argo CD syncs from there.`].join('\n'));
    return 0;
  } catch (err) {
    const lines = err instanceof Refusal ? err.lines : err instanceof ConfigError ? err.problems : undefined;
    if (!lines) throw err;
    io.err(`publish refused, nothing changed:\n${lines.map((l) => `  ${l}`).join('\n')}`);
    return 1;
  }
}

if (require.main === module) {
  process.exitCode = run(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  });
}
