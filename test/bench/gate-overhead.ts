/**
 * Benchmark: what the validation gate adds to a synth. Not a test (nothing here can
 * fail a build); run it with `npm run bench`. docs/validation.md says what it measures, not the
 * figures: a number in the docs must be generated or checked by a test, and timings cannot be.
 *
 * Every sample is a fresh process, so one-off costs (loading the precompiled schema
 * validators) count as they do in a real `npm run synth`. Samples alternate between
 * the two modes so that machine noise hits both alike.
 *
 *   in-process: building and writing all three environments, with and without the gate
 *   whole command: `npm run synth` end to end (node and tsx start-up included, gate always on)
 *   scaling: the gate alone over 1×, 4× and 16× copies of the prod output (copies renamed
 *            so that names and selector labels stay unique); linear cost keeps the time
 *            ratios near 4 and 16. `npm run bench -- --scaling` runs only this part.
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

function spawnSample(args: string[]): number {
  const start = performance.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, encoding: 'utf8' });
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

/** The name-like fields of an object, suffixed so that a copy neither collides with nor selects the original. */
function renamed(m: any, suffix: string): any {
  const walk = (node: any): any => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    return Object.fromEntries(Object.entries(node).map(([key, value]) => {
      const selectorLabel = key === 'app.kubernetes.io/name' || key === 'app.kubernetes.io/instance';
      const reference = key === 'serviceAccountName';
      return [key, (selectorLabel || reference) && typeof value === 'string' ? `${value}${suffix}` : walk(value)];
    }));
  };
  const copy = walk(m);
  copy.metadata.name = `${copy.metadata.name}${suffix}`;
  if (copy.spec?.scaleTargetRef?.name) copy.spec.scaleTargetRef.name = `${copy.spec.scaleTargetRef.name}${suffix}`;
  return copy;
}

/** The prod output with `copies` copies of every application object (one namespace and its guardrails). */
function scaledProd(prod: any[], copies: number): any[] {
  // Namespace-wide objects exist once however many services run: the namespace, its guardrails,
  // and a policy selecting every pod (default-deny). Copying those would make the set itself quadratic.
  const isShared = (m: any) => ['Namespace', 'ResourceQuota', 'LimitRange'].includes(m.kind)
    || (m.kind === 'NetworkPolicy' && Object.keys(m.spec?.podSelector?.matchLabels ?? {}).length === 0 && !m.spec?.podSelector?.matchExpressions);
  const app = prod.filter((m) => !isShared(m));
  return [...prod.filter(isShared),
    ...Array.from({ length: copies }, (_, i) => (i === 0 ? app : app.map((m) => renamed(m, `-c${i}`)))).flat()];
}

function scaling(): void {
  const { environment, synthEnvironment } = require('../helpers');
  const { ManifestIndex, runGate } = require('../../lib/validation');
  const prod = synthEnvironment(environment('prod'));
  const sizes = [1, 4, 16].map((copies) => ({ copies, set: scaledProd(prod, copies), ms: [] as number[], examined: 0 }));
  for (const size of sizes) {
    const index = new ManifestIndex(size.set);
    const findings = runGate(index).findings; // also warms up
    if (findings.length > 0) throw new Error(`${size.copies}× prod: the copies are not valid: ${JSON.stringify(findings.slice(0, 3))}`);
    size.examined = index.stats.podsExamined;
  }
  // Sizes alternate within each round, so that machine noise hits them alike.
  for (let i = 0; i < SAMPLES; i++) {
    for (const size of sizes) {
      const start = performance.now();
      runGate(size.set);
      size.ms.push(performance.now() - start);
    }
  }
  sizes.forEach((size, i) => {
    const ms = median(size.ms);
    const previous = sizes[Math.max(0, i - 1)];
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
    console.log(`gate over ${String(size.copies).padStart(2)}× prod (${String(size.set.length).padStart(3)} objects): ${ms.toFixed(1)} ms, ` +
      `${((ms / size.set.length) * 1000).toFixed(0)} µs/object; pod templates examined by selectors: ${size.examined}` +
      (i === 0 ? `  [median of ${SAMPLES}]` : `; vs ${previous.copies}×: objects ${ratio(size.set.length, previous.set.length)}, ` +
        `time ${ratio(ms, median(previous.ms))}, examined ${ratio(size.examined, previous.examined)}`));
  });
}

if (process.argv[2] === '--scaling') {
  scaling();
} else if (process.argv[2] === '--sample') {
  console.log(inProcessSample(process.argv[3] === 'gate').toFixed(1));
} else {
  compare('in-process synth of all environments', (gate) =>
    Number(spawnSync(process.execPath, [TSX, __filename, '--sample', gate ? 'gate' : 'none'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim()));
  // The command always runs the gate (it decides what reaches dist/): its total time puts
  // the gate's in-process cost above in proportion.
  const out = mkdtempSync(path.join(tmpdir(), 'pronto-bench-cmd-'));
  spawnSample(['main.ts', '--outdir', out]);
  const whole = median(Array.from({ length: SAMPLES }, () => spawnSample(['main.ts', '--outdir', out])));
  console.log(`whole \`npm run synth\` command (node --import tsx main.ts, gate included): ${whole.toFixed(0)} ms  [median of ${SAMPLES}]`);
  rmSync(out, { recursive: true, force: true });
  scaling();
}
