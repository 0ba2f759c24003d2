/**
 * One sample of `npm run bench`, in a process of its own, started exactly as `npm run synth`
 * starts main.ts (the bench reads that command from package.json), so that start-up, module
 * loading and peak memory count as they do in a real synth. Prints one line of JSON.
 *
 *   scale <extra> <outdir>   prod with <extra> copies of order-service (test/bench/scaled.ts)
 *   all <outdir> [nogate]    every shipped environment, as npm run synth renders and writes them
 *   handoff <extra>          prod with <extra> copies, rendered and checked; then what handing its
 *                            objects to a second thread would cost (copying them out and in, as
 *                            postMessage does), against formatting them here
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { deserialize, serialize } from 'v8';
import { RenderedEnvironment, renderEnvironment, writeEnvironment } from '../../charts/synthesize';
import { EnvironmentConfig, listEnvironments, loadEnvironment } from '../../config/load';
import { scaledCatalog, scaledEnvironmentText, shippedProdText } from './scaled';

/** When every module of the synth was loaded (node start-up included), in ms since the process started. */
const loaded = performance.now();
const ROOT = path.resolve(__dirname, '..', '..');

/** Milliseconds per step, summed over the environments. */
const timings: Record<string, number> = {};

function timed<T>(name: string, run: () => T): T {
  const start = performance.now();
  try {
    return run();
  } finally {
    timings[name] = (timings[name] ?? 0) + performance.now() - start;
  }
}

function synthesize(configs: Array<() => EnvironmentConfig>, outdir: string, gate: boolean): RenderedEnvironment[] {
  const rendered = configs.map((load) => {
    const r = renderEnvironment(timed('load', load), { gate, timings });
    if (r.findings.length > 0) throw new Error(`${r.environment}: ${r.findings.length} findings\n${r.report}`);
    return r;
  });
  // The YAML of a file is formatted when its text is first read: measured apart from writing it.
  timed('format', () => rendered.forEach((r) => r.files.forEach((f) => f.text)));
  timed('write', () => rendered.forEach((r) => writeEnvironment(r, path.join(outdir, r.environment))));
  return rendered;
}

/** Runs `run` with a loader of prod with `extra` copies of order-service, its file in a temporary folder. */
function withScaledProd<T>(extra: number, run: (load: () => EnvironmentConfig) => T): T {
  const configDir = mkdtempSync(path.join(tmpdir(), 'pronto-bench-config-'));
  writeFileSync(path.join(configDir, 'prod.yaml'), scaledEnvironmentText(extra, shippedProdText()));
  try {
    return run(() => loadEnvironment(configDir, 'prod', scaledCatalog(extra)));
  } finally {
    rmSync(configDir, { recursive: true, force: true });
  }
}

/**
 * What handing the rendered objects of an environment to a second thread would cost: postMessage copies them
 * with the structured clone algorithm, which v8.serialize writes (the sending thread's part) and v8.deserialize
 * reads (the receiving thread's), against formatting their YAML on this one.
 */
function handoff(load: () => EnvironmentConfig): void {
  const env = renderEnvironment(load(), { gate: true });
  const copy = timed('serialize', () => serialize(env.manifests));
  timed('deserialize', () => deserialize(copy));
  timed('format', () => env.files.forEach((f) => f.text));
  process.stdout.write(`${JSON.stringify({ timings, objects: env.manifests.length, bytes: copy.length })}\n`);
}

/** Renders and writes, then prints the timings, CPU and peak memory of the whole process. */
function report(synthesized: () => RenderedEnvironment[]): void {
  const started = performance.now();
  const rendered = synthesized();
  const usage = process.resourceUsage();
  process.stdout.write(`${JSON.stringify({
    loadedMs: loaded,
    inProcessMs: performance.now() - started,
    timings,
    objects: rendered.reduce((n, r) => n + r.manifests.length, 0),
    // After the measurements: the texts are formatted and written by then.
    outputBytes: rendered.reduce((n, r) => n + r.files.reduce((m, f) => m + Buffer.byteLength(f.text), 0), 0),
    cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
    maxRssMb: usage.maxRSS / 1024,
  })}\n`);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'scale') {
  report(() => withScaledProd(Number(args[0]), (load) => synthesize([load], args[1], true)));
} else if (mode === 'handoff') {
  withScaledProd(Number(args[0]), handoff);
} else if (mode === 'all') {
  const configDir = path.join(ROOT, 'config');
  report(() => synthesize(listEnvironments(configDir).map((env) => () => loadEnvironment(configDir, env)), args[0], args[1] !== 'nogate'));
} else {
  throw new Error(`usage: child.ts scale <extra> <outdir> | all <outdir> [nogate] | handoff <extra> (found ${mode})`);
}
