/**
 * Benchmark: what the validation gate adds to a synth. Not a test (nothing here can
 * fail a build); run it with `npm run bench` and copy the figures into the README.
 *
 * Every sample is a fresh process, so one-off costs (loading the precompiled schema
 * validators) count as they do in a real `npm run synth`. Samples alternate between
 * the two modes so that machine noise hits both alike.
 *
 *   in-process: building and writing all three environments, with and without the gate
 *   whole command: `tsx main.ts` end to end (node and tsx start-up included)
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 9);

function inProcessSample(gate: boolean): number {
  const out = mkdtempSync(path.join(tmpdir(), 'pronto-bench-'));
  const { synthesizeEnvironment } = require('../../charts/synthesize');
  const { listEnvironments, loadEnvironment } = require('../../config/load');
  const start = performance.now();
  for (const env of listEnvironments(path.join(ROOT, 'config'))) {
    synthesizeEnvironment(loadEnvironment(path.join(ROOT, 'config'), env), path.join(out, env), { gate });
  }
  const ms = performance.now() - start;
  rmSync(out, { recursive: true, force: true });
  return ms;
}

function spawnSample(args: string[], env: NodeJS.ProcessEnv = {}): number {
  const start = performance.now();
  const run = spawnSync(process.execPath, [TSX, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  if (run.status !== 0) throw new Error(run.stderr);
  return performance.now() - start;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function compare(label: string, sample: (gate: boolean) => number): void {
  const withGate: number[] = [];
  const without: number[] = [];
  sample(true); // warm the tsx transform cache
  for (let i = 0; i < SAMPLES; i++) {
    without.push(sample(false));
    withGate.push(sample(true));
  }
  const a = median(without);
  const b = median(withGate);
  console.log(`${label}: without gate ${a.toFixed(0)} ms, with gate ${b.toFixed(0)} ms, ` +
    `gate adds ${(b - a).toFixed(0)} ms (+${(((b - a) / a) * 100).toFixed(1)}%)  [median of ${SAMPLES}]`);
}

if (process.argv[2] === '--sample') {
  console.log(inProcessSample(process.argv[3] === 'gate').toFixed(1));
} else {
  compare('in-process synth of all environments', (gate) =>
    Number(spawnSync(process.execPath, [TSX, __filename, '--sample', gate ? 'gate' : 'none'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim()));
  const out = mkdtempSync(path.join(tmpdir(), 'pronto-bench-cmd-'));
  // The cdk8s CLI's variable makes main.ts leave the gate to the CLI's validation plugin.
  compare('whole `tsx main.ts` command', (gate) =>
    spawnSample(['main.ts', '--outdir', out], gate ? {} : { CDK8S_RECORD_CONSTRUCT_METADATA: 'true' }));
  rmSync(out, { recursive: true, force: true });
}
