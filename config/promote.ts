/**
 * Blue-green promotion as a Git change: flips `rollout.activeSlot` of one service in
 * one environment file, touching nothing else in the file (comments and formatting
 * stay byte-identical), validates the result, and prints what changed.
 *
 *   npm run promote -- <service> --env <env> [--config <dir>]
 */
import { writeFileSync } from 'fs';
import { parseArgs } from 'util';
import { isMap, isScalar, parseDocument } from 'yaml';
import { Release, Slot } from '../lib/core/release';
import { ConfigError, parseEnvironment, readEnvironmentFile } from './load';

/** Why a promotion was refused. */
export class PromotionError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'PromotionError';
  }
}

export interface Promotion {
  /** The new file text. */
  readonly text: string;
  /** Human summary: what now serves traffic and what stays for rollback. */
  readonly summary: string;
  /** Changed lines, `-`/`+` prefixed with their line number. */
  readonly diff: string[];
}

/** Flips the active slot of `service` in the environment file text `text` (named `file`). */
export function promote(text: string, file: string, service: string): Promotion {
  let from: Slot;
  let to: Slot;
  try {
    ({ from, to } = checkPromotable(text, file, service));
  } catch (err) {
    if (err instanceof ConfigError) throw new PromotionError(`${file}: the config is invalid, fix it first:\n  ${err.problems.join('\n  ')}`);
    throw err;
  }
  const next = setActiveSlot(text, service, to);
  let after: Release;
  try {
    after = parseEnvironment(next, file).services.find((s) => s.name === service)!.release;
  } catch (err) {
    if (err instanceof ConfigError) throw new PromotionError(`${file}: the promoted config would be invalid:\n  ${err.problems.join('\n  ')}`);
    throw err;
  }
  if (after.strategy !== 'blueGreen') throw new PromotionError(`${file}: ${service} stopped being blue-green`);
  const serving = after.images[to];
  const previous = after.images[from];
  return {
    text: next,
    summary: `${file}: ${service} active slot ${from} → ${to}: now serving ${serving.tag} (git ${serving.gitSha}); ` +
      `${from} keeps ${previous.tag} with ${after.idleReplicas} pods for rollback (promote again to roll back).`,
    diff: lineDiff(text, next),
  };
}

/**
 * The refusals, checked on the raw document so each names its own cause: not a
 * blue-green service, no image in the idle slot, or an idle slot with no pods (promoting
 * it would send all traffic to nothing).
 */
function checkPromotable(text: string, file: string, service: string): { from: Slot; to: Slot } {
  const doc = parseDocument(text);
  // A file that is not YAML gets the loader's messages (file:line for each error).
  if (doc.errors.length > 0) parseEnvironment(text, file);
  const at = (...rest: string[]) => ['services', service, ...rest];
  if (!doc.hasIn(at())) {
    const services = doc.get('services', true);
    const known = isMap(services) ? services.items.map((item) => String(isScalar(item.key) ? item.key.value : item.key)).join(', ') : '';
    throw new PromotionError(`${file}: services.${service}: no such service (services: ${known || 'none'})`);
  }
  const strategy = doc.getIn(at('rollout', 'strategy')) ?? 'rolling';
  if (strategy !== 'blueGreen') {
    throw new PromotionError(`${file}: services.${service}.rollout.strategy is ${strategy}: only blue-green services can be promoted`);
  }
  const from = doc.getIn(at('rollout', 'activeSlot')) as Slot;
  const to: Slot = from === 'blue' ? 'green' : 'blue';
  if (!doc.hasIn(at('rollout', 'slots', to, 'image'))) {
    throw new PromotionError(`${file}: services.${service}.rollout.slots.${to}.image is not set: the idle slot has no image to promote`);
  }
  if (Number(doc.getIn(at('rollout', 'idleReplicas')) ?? 0) === 0) {
    throw new PromotionError(
      `${file}: services.${service}.rollout.idleReplicas is 0, so the idle slot "${to}" has no pods and would receive ` +
      `all traffic cold. Warm it first: set idleReplicas, synthesize and apply, check ${service}-preview, then promote.`);
  }
  parseEnvironment(text, file);
  return { from, to };
}

/** Replaces only the characters of the `activeSlot` value, so the rest of the file stays byte-identical. */
function setActiveSlot(text: string, service: string, slot: Slot): string {
  const node = parseDocument(text).getIn(['services', service, 'rollout', 'activeSlot'], true);
  if (!isScalar(node) || !node.range) throw new PromotionError(`services.${service}.rollout.activeSlot is not set`);
  const [start, end] = node.range;
  return text.slice(0, start) + slot + text.slice(end);
}

function lineDiff(before: string, after: string): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  const diff: string[] = [];
  a.forEach((line, i) => {
    if (line !== b[i]) diff.push(`${i + 1}: - ${line.trim()}`, `${i + 1}: + ${b[i].trim()}`);
  });
  return diff;
}

// ---------------------------------------------------------------- command line

/** Where the command writes: stdout and stderr, one message per call. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const USAGE = 'usage: npm run promote -- <service> --env <environment> [--config <dir>]';

class UsageError extends Error {}

function parseCommandLine(argv: readonly string[]): { service: string; env: string; configDir: string } | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { env: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
  const { values, positionals, tokens } = parsed;
  for (const name of ['env', 'config']) {
    if (tokens.filter((t) => t.kind === 'option' && t.name === name).length > 1) throw new UsageError(`--${name} given more than once`);
  }
  if (values.help) return 'help';
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'expected the service to promote' : `expected one service, found ${positionals.length}: ${positionals.join(', ')}`);
  }
  if (values.env === undefined) throw new UsageError('--env is required: the environment to promote in');
  if (values.config === '') throw new UsageError('--config: expected a folder, found an empty value');
  return { service: positionals[0], env: values.env, configDir: values.config ?? 'config' };
}

/**
 * `npm run promote`: returns the exit code (0 promoted, 1 refused or a usage error) and
 * writes messages through `io`. Never throws for a user's mistake.
 */
export function run(argv: readonly string[], io: Io): number {
  try {
    const args = parseCommandLine(argv);
    if (args === 'help') {
      io.out(`${USAGE}\n\nFlips services.<service>.rollout.activeSlot in <config>/<environment>.yaml (default config/), ` +
        'changing nothing else in the file, after checking that the idle slot has an image and pods.');
      return 0;
    }
    const { file, text } = readEnvironmentFile(args.configDir, args.env);
    const result = promote(text, file, args.service);
    try {
      writeFileSync(file, result.text);
    } catch (err) {
      throw new PromotionError(`${file}: cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    io.out([result.summary, ...result.diff.map((d) => `  ${d}`), 'Next: npm run synth, review the diff, commit.'].join('\n'));
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`promote: ${err.message}\n${USAGE}`);
      return 1;
    }
    if (err instanceof PromotionError) {
      io.err(`promote refused: ${err.message}`);
      return 1;
    }
    if (err instanceof ConfigError) {
      io.err(`promote refused:\n${err.problems.map((p) => `  ${p}`).join('\n')}`);
      return 1;
    }
    throw err;
  }
}

if (require.main === module) {
  process.exitCode = run(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  });
}
