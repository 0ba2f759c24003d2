/**
 * Entry point of `npm run synth` and `cdk8s synth`: the only place that reads argv and
 * the environment. It validates every requested environment and synthesizes it into a
 * staging folder; only when all succeed does it swap the results into `dist/<env>/`, so
 * a bad config never leaves `dist/` half-written.
 *
 *   tsx main.ts [--env <name>]... [--config <dir>] [--outdir <dir>]
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'fs';
import * as path from 'path';
import { GateError, SynthSummary, synthesizeEnvironment } from './charts/synthesize';
import { ConfigError, listEnvironments, loadEnvironment } from './config/load';

interface Options {
  readonly envs: string[];
  /** False when the cdk8s CLI will run the gate as its validation plugin. */
  readonly gate: boolean;
  readonly configDir: string;
  readonly outdir: string;
}

function parseArgs(argv: string[]): Options {
  const envs: string[] = [];
  let configDir = 'config';
  // cdk8s synth passes its output folder in CDK8S_OUTDIR.
  let outdir = process.env.CDK8S_OUTDIR ?? 'dist';
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new ConfigError([`${argv[i]}: expected a value`]);
    if (argv[i] === '--env') envs.push(value);
    else if (argv[i] === '--config') configDir = value;
    else if (argv[i] === '--outdir') outdir = value;
    else throw new ConfigError([`${argv[i]}: unknown option (expected --env, --config or --outdir)`]);
    i++;
  }
  // The cdk8s CLI sets this when it will run validation plugins: ours (cdk8s.yaml) then
  // runs the gate over the written files and prints cdk8s's own report.
  const gate = process.env.CDK8S_RECORD_CONSTRUCT_METADATA !== 'true';
  return { envs: envs.length > 0 ? envs : listEnvironments(configDir), configDir, outdir, gate };
}

function synthesizeAll(options: Options): SynthSummary[] {
  const parent = path.dirname(path.resolve(options.outdir));
  mkdirSync(parent, { recursive: true });
  // Same parent folder as the output, so the final rename stays on one filesystem.
  const staging = mkdtempSync(path.join(parent, '.pronto-synth-'));
  try {
    const summaries = options.envs.map((env) =>
      synthesizeEnvironment(loadEnvironment(options.configDir, env), path.join(staging, env), { gate: options.gate }));
    mkdirSync(options.outdir, { recursive: true });
    for (const env of options.envs) {
      rmSync(path.join(options.outdir, env), { recursive: true, force: true });
      renameSync(path.join(staging, env), path.join(options.outdir, env));
    }
    return summaries;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function printSummary(summaries: SynthSummary[], outdir: string): void {
  for (const s of summaries) {
    const total = Object.values(s.kinds).reduce((a, b) => a + b, 0);
    const kinds = Object.entries(s.kinds).map(([kind, n]) => `${kind} ${n}`).join(', ');
    console.log(`${s.environment}: ${path.join(outdir, s.environment)}/ ${s.files.length} files, ${total} objects (${kinds})`);
    if (s.waivers.length === 0) console.log('  waivers: none');
    for (const w of s.waivers) console.log(`  waived ${w.rule} on ${w.object}: ${w.reason}`);
  }
}

function main(): number {
  try {
    const options = parseArgs(process.argv.slice(2));
    printSummary(synthesizeAll(options), options.outdir);
    return 0;
  } catch (err) {
    if (err instanceof GateError) {
      console.error(`synth failed, dist/ left unchanged: ${err.environment}: ${err.count} policy finding(s)\n${err.report}`);
      return 1;
    }
    if (err instanceof ConfigError) {
      console.error(`synth failed, dist/ left unchanged:\n${err.problems.map((p) => `  ${p}`).join('\n')}`);
      return 1;
    }
    console.error(`synth failed, dist/ left unchanged: ${(err as Error).stack ?? err}`);
    return 2;
  }
}

process.exitCode = main();
