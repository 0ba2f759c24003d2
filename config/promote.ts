/**
 * Blue-green promotion as a Git change: flips `rollout.activeSlot` of one service in
 * one environment file, touching nothing else in the file (comments and formatting
 * stay byte-identical), validates the result, and prints what changed.
 *
 *   npm run promote -- <service> --env <env> [--config <dir>]
 */
import { readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { isScalar, parseDocument } from 'yaml';
import { ConfigError, RolloutModel, Slot, parseEnvironment } from './load';

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
  const { from, to } = checkPromotable(text, file, service);
  const next = setActiveSlot(text, service, to);
  let after: RolloutModel;
  try {
    after = parseEnvironment(next, file).services.find((s) => s.name === service)!.rollout;
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
  const at = (...rest: string[]) => ['services', service, ...rest];
  if (!doc.hasIn(at())) {
    const known = Object.keys((doc.toJS() ?? {}).services ?? {}).join(', ');
    throw new PromotionError(`${file}: services.${service}: no such service (services: ${known})`);
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

function parseArgs(argv: string[]): { service: string; env: string; configDir: string } {
  let env: string | undefined;
  let configDir = 'config';
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--env') env = argv[++i];
    else if (argv[i] === '--config') configDir = argv[++i];
    else positional.push(argv[i]);
  }
  if (positional.length !== 1 || !env) {
    throw new PromotionError('usage: npm run promote -- <service> --env <environment> [--config <dir>]');
  }
  return { service: positional[0], env, configDir };
}

function main(): number {
  try {
    const { service, env, configDir } = parseArgs(process.argv.slice(2));
    const file = path.join(configDir, `${env}.yaml`);
    const result = promote(readFileSync(file, 'utf8'), file, service);
    writeFileSync(file, result.text);
    console.log([result.summary, ...result.diff.map((d) => `  ${d}`), 'Next: npm run synth, review the diff, commit.'].join('\n'));
    return 0;
  } catch (err) {
    if (err instanceof PromotionError || err instanceof ConfigError) {
      console.error(`promote refused: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

if (require.main === module) process.exitCode = main();
