/**
 * `npm run publish -- --env <env> --to <GitOps checkout>`: synthesizes one environment
 * (config, capacity guard, validation gate: the pipeline of `npm run synth`), then replaces
 * that environment's folder in a checkout of the GitOps repository with renames, so the
 * folder is either the old one or the new one, never a mix. Prints what changed, object by
 * object, and what must happen around the sync (charts/review.ts: objects left behind where
 * nothing prunes, restarts, Vault files to apply first). Refuses, changing nothing, when the
 * synth or the gate fails, when the API server would refuse an update of an object the
 * folder holds (unless `--remedied`: the operator did what each refusal says), when the
 * checkout has uncommitted changes in that folder (they would be lost), or when the folder
 * exists and was not written by Pronto. It never commits: review `git diff` and commit.
 *
 * The folder is `gitops.repository.path` when the gitops capability is on (where the Argo CD
 * Application looks), else the environment's name.
 */
import { execFileSync } from 'child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { ConfigError, EnvironmentConfig, loadEnvironment } from '../config/load';
import { Io } from '../config/promote';
import { Review, formatActions, formatSummary, readOutput, renderedOutput, review } from './review';
import { GENERATED_HEADER, RenderedEnvironment, renderEnvironment, writeEnvironment } from './synthesize';

export const USAGE = 'usage: npm run publish -- --env <environment> --to <GitOps checkout> [--config <dir>] [--remedied]';

/**
 * `git status --porcelain` of `folder` (relative to `checkout`), untracked files included:
 * empty when clean. Throws when `checkout` is not a Git working tree.
 */
export type GitStatus = (checkout: string, folder: string) => string;

/** Runs git once: `git -C <checkout> status --porcelain=v1 --untracked-files=all -- <folder>`. */
export const gitStatus: GitStatus = (checkout, folder) => execFileSync('git', ['-C', checkout, 'status', '--porcelain=v1', '--untracked-files=all', '--', folder], {
  encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
});

/** A refusal: nothing was changed; `lines` say why. */
class Refusal extends Error {
  public constructor(public readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

/** The folder of the GitOps repository the environment is published to. */
export function publishFolder(config: EnvironmentConfig): string {
  return config.capabilities.gitops?.repository.path ?? config.name;
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
  /**
   * Publish although the API server would refuse some updates: the operator has done (or
   * will do, before the sync) what each refusal says. @default false
   */
  readonly remedied?: boolean;
}

/** What a publish did. */
export interface PublishResult {
  /** The folder replaced, `<to>/<folder>`. */
  readonly target: string;
  /** The new output against the one the folder held. */
  readonly review: Review;
  /** The folder did not exist: every file is new (and untracked). */
  readonly first: boolean;
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
  const result = review(config, readOutput(target), renderedOutput(rendered));
  if (result.refusals.length > 0 && !options.remedied) {
    throw new Refusal([...formatActions({ ...result, leftBehind: [], restarts: [], vault: { added: [], changed: [], removed: [] }, projects: [] }),
      'Do what each refusal says, then publish again with --remedied (or change the config so that nothing frozen changes).']);
  }
  const first = !existsSync(target);
  replaceFolder(rendered, target);
  return { target, review: result, first };
}

/** `npm run publish` with `argv`; returns the exit status (0 published, 1 refused or failed). */
export function run(argv: readonly string[], io: Io, git: GitStatus = gitStatus): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv], strict: true, allowPositionals: false,
      options: { env: { type: 'string' }, to: { type: 'string' }, config: { type: 'string' }, remedied: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
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
    const { target, review: result, first } = publish({ env: values.env, to: values.to, configDir: values.config, remedied: values.remedied }, git);
    const folder = path.relative(values.to, target);
    // `git diff` shows nothing for files git does not track yet: a first publish is reviewed through the index.
    const reviewCommand = first
      ? `git -C ${values.to} add -N ${folder} && git -C ${values.to} diff -- ${folder}`
      : `git -C ${values.to} diff -- ${folder}`;
    io.out([`published ${values.env} to ${target}/:`, ...formatSummary(result.changes).map((l) => `  ${l}`), ...formatActions(result),
      `Next: review with ${reviewCommand}, then commit and push; Argo CD syncs from there.`].join('\n'));
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
