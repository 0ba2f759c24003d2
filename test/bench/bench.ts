/**
 * `npm run bench`: what a synth costs, and how it grows. Not a test (nothing here fails a
 * build, and absolute times depend on the machine); the README's figures come from it.
 *
 * Every synth sample is a fresh process started exactly as `npm run synth` starts main.ts
 * (the command is read from package.json), so start-up, module loading and peak memory
 * count as they do for a user. Samples of different kinds alternate, so that machine noise
 * hits them alike; each figure is a median.
 *
 *   scale series: prod with 0, 250 and 1000 extra services (copies of order-service with
 *                 Redis only, test/bench/scaled.ts): wall and CPU time of the process, CPU
 *                 per extra service, peak memory (max RSS), objects; and where their time
 *                 goes, step by step, against what the scale goal leaves for each extra
 *                 service
 *   hand-off:     what a worker thread would cost to get the 1000-service objects (the copy
 *                 postMessage makes), against formatting them
 *   start-up:     the whole three-environment synth command against the floor, a bare
 *                 `node -e "require('cdk8s-plus-28')"`, and where the time goes (module
 *                 loading, config, build, render, gate, checks, YAML, write)
 *   in-process:   rendering and writing the three environments once the modules are
 *                 loaded, with and without the validation gate
 *   gate scaling: the gate alone over 1×, 4× and 16× copies of the prod output
 *   goals:        the ratios issue 17 asks for, each with its limit
 *
 * `npm run bench -- --scale`, `-- --handoff`, `-- --startup` and `-- --scaling` run one part only (no goals).
 * BENCH_ROUNDS (default 3) sets the samples of the scale series and the hand-off, BENCH_SAMPLES (default 9)
 * those of the rest.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const CHILD = path.relative(ROOT, path.join(__dirname, 'child.ts'));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 9);
const EXTRA = [0, 250, 1000];

/** The goals of issue 17 (ratios measured in one run). */
const GOALS = {
  /** prod with 1000 extra services, against the shipped prod: wall time. */
  scaleWall: 4,
  /** CPU per extra service at 1000 against at 250. */
  perServiceGrowth: 1.1,
  /** Peak memory (max RSS) at 1000 extra services, MiB. */
  peakMemoryMb: 1024,
  /** The three-environment synth command against the require floor: wall time. */
  startUp: 4,
};

/** `npm run synth`'s command line (package.json), as argv: `node …` runs this node. */
function synthCommand(): { argv: string[]; entry: number } {
  const script: string = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.synth;
  const argv = script.split(/\s+/).filter((a) => a !== '');
  if (argv[0] !== 'node' || !argv.includes('main.ts')) throw new Error(`bench: expected "node … main.ts" as the synth script, found "${script}"`);
  return { argv: [process.execPath, ...argv.slice(1)], entry: argv.indexOf('main.ts') };
}

const SYNTH = synthCommand();

interface Sample {
  readonly wallMs: number;
  readonly out: string;
}

function spawn(argv: string[]): Sample {
  const start = performance.now();
  const run = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wallMs = performance.now() - start;
  if (run.status !== 0) throw new Error(`bench: ${argv.join(' ')} exited ${run.status}\n${run.stderr}`);
  return { wallMs, out: run.stdout };
}

/** What test/bench/child.ts prints. */
interface ChildReport {
  readonly loadedMs: number;
  readonly inProcessMs: number;
  readonly timings: Record<string, number>;
  readonly objects: number;
  /** Bytes of every file written. */
  readonly outputBytes: number;
  readonly cpuMs: number;
  readonly maxRssMb: number;
}

/** test/bench/child.ts with `args`, started as the synth command starts main.ts. */
function child(...args: string[]): ChildReport & { wallMs: number } {
  const argv = [...SYNTH.argv];
  argv.splice(SYNTH.entry, 1, CHILD, ...args);
  const sample = spawn(argv);
  return { ...JSON.parse(sample.out.trim().split('\n').pop()!), wallMs: sample.wallMs };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const ms = (v: number) => `${v.toFixed(0)} ms`;
const s = (v: number) => `${(v / 1000).toFixed(2)} s`;
const x = (v: number) => `${v.toFixed(2)}×`;

function withTemp<T>(run: (dir: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'pronto-bench-'));
  try {
    return run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ScaleRow {
  readonly extra: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly maxRssMb: number;
  readonly objects: number;
  readonly outputBytes: number;
  /** Median milliseconds of each step of {@link STEPS}, and of module loading (`loaded`, since the process started). */
  readonly steps: Record<string, number>;
}

function scaleSeries(): ScaleRow[] {
  const samples = new Map(EXTRA.map((n) => [n, [] as Array<ChildReport & { wallMs: number }>]));
  withTemp((dir) => {
    child('scale', '0', path.join(dir, 'warm')); // the first start after a change may build or fill caches
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of EXTRA) samples.get(n)!.push(child('scale', String(n), path.join(dir, `${n}-${round}`)));
    }
  });
  const rows = EXTRA.map((extra) => {
    const all = samples.get(extra)!;
    return {
      extra,
      wallMs: median(all.map((r) => r.wallMs)),
      cpuMs: median(all.map((r) => r.cpuMs)),
      maxRssMb: median(all.map((r) => r.maxRssMb)),
      objects: all[0].objects,
      outputBytes: all[0].outputBytes,
      steps: Object.fromEntries([...STEPS.map(([step]) => step), 'loaded'].map((step) =>
        [step, median(all.map((r) => (step === 'loaded' ? r.loadedMs : r.timings[step] ?? 0)))])),
    };
  });
  console.log(`\nScale series: prod with extra services (copies of order-service, Redis only), one process each  [median of ${ROUNDS}]`);
  console.log('| extra services | objects | wall | CPU | CPU per extra service | peak memory |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const perService = r.extra === 0 ? '—' : `${((r.cpuMs - rows[0].cpuMs) / r.extra).toFixed(2)} ms`;
    console.log(`| ${r.extra} | ${r.objects} | ${s(r.wallMs)} | ${s(r.cpuMs)} | ${perService} | ${r.maxRssMb.toFixed(0)} MB |`);
  }
  stepSplit(rows);
  return rows;
}

/**
 * Where the time of the scale series goes, step by step, and what each extra service adds to each step, against
 * what the scale goal leaves for them: at most (goal - 1) × the shipped prod's wall time for every extra service.
 */
function stepSplit(rows: ScaleRow[]): void {
  const zero = rows[0];
  const top = rows[rows.length - 1];
  const budgetMs = (GOALS.scaleWall - 1) * zero.wallMs;
  console.log(`\nWhere the scale series' time goes, by step (in-process, wall)  [median of ${ROUNDS}]`);
  console.log(`| step | ${rows.map((r) => `${r.extra} extra`).join(' | ')} | per extra service at ${top.extra} |`);
  console.log(`|---|${rows.map(() => '---|').join('')}---|`);
  const line = (label: string, value: (r: ScaleRow) => number) =>
    console.log(`| ${label} | ${rows.map((r) => ms(value(r))).join(' | ')} | ${((value(top) - value(zero)) / top.extra * 1000).toFixed(0)} µs |`);
  line('start-up and module loading', (r) => r.steps.loaded);
  for (const [step, what] of STEPS) line(`${step}: ${what}`, (r) => r.steps[step]);
  line('whole process (wall)', (r) => r.wallMs);
  const perServiceBytes = (top.outputBytes - zero.outputBytes) / top.extra;
  const mbPerS = (bytes: number, us: number) => `${(bytes / us).toFixed(1)} MB/s`;
  const tookUs = (top.wallMs - zero.wallMs) / top.extra * 1000;
  console.log(`Output: ${(zero.outputBytes / 1e6).toFixed(1)} MB shipped, ${(top.outputBytes / 1e6).toFixed(1)} MB with ${top.extra} extra services `
    + `(${(perServiceBytes / 1000).toFixed(1)} kB each).`);
  console.log(`The scale goal (at most ${GOALS.scaleWall}× the shipped prod) leaves ${ms(budgetMs)} for ${top.extra} extra services: `
    + `${(budgetMs / top.extra * 1000).toFixed(0)} µs each, ${mbPerS(perServiceBytes, budgetMs / top.extra * 1000)} of output through every step; `
    + `they take ${tookUs.toFixed(0)} µs each (${mbPerS(perServiceBytes, tookUs)}).`);
}

/**
 * What moving the work after the render to a second thread would cost before it saved anything: a worker thread
 * gets the objects as a copy (postMessage), written by the synth's thread and read by the worker's.
 */
function handoff(): void {
  const top = EXTRA[EXTRA.length - 1];
  const samples = Array.from({ length: ROUNDS }, () => {
    const argv = [...SYNTH.argv];
    argv.splice(SYNTH.entry, 1, CHILD, 'handoff', String(top));
    return JSON.parse(spawn(argv).out.trim().split('\n').pop()!) as { timings: Record<string, number>; objects: number; bytes: number };
  });
  const step = (name: string) => median(samples.map((r) => r.timings[name]));
  console.log(`\nHanding prod with ${top} extra services (${samples[0].objects} objects, ${(samples[0].bytes / 1024 / 1024).toFixed(0)} MiB as a structured clone) `
    + `to a worker thread  [median of ${ROUNDS}]`);
  console.log(`copy out (the synth's thread) ${ms(step('serialize'))}, copy in (the worker's) ${ms(step('deserialize'))}; `
    + `formatting their YAML on the synth's thread ${ms(step('format'))}`);
}

interface StartUp {
  readonly floorMs: number;
  readonly commandMs: number;
}

const STEPS: Array<[string, string]> = [
  ['load', 'read and validate the config'], ['build', 'build the constructs'], ['render', 'render the charts to JSON'],
  ['gate', 'validation gate'], ['checks', 'capacity, namespace and image checks'], ['files', 'kustomizations, inventory'],
  ['format', 'format the YAML'], ['write', 'write the files'],
];

function startUp(): StartUp {
  const floor: number[] = [];
  const command: number[] = [];
  const split: ChildReport[] = [];
  const noGate: ChildReport[] = [];
  withTemp((dir) => {
    const out = path.join(dir, 'dist');
    spawn([...SYNTH.argv, '--outdir', out]); // warm the caches of the file system (and a build, if one is due)
    for (let i = 0; i < SAMPLES; i++) {
      floor.push(spawn([process.execPath, '-e', 'require("cdk8s-plus-28")']).wallMs);
      command.push(spawn([...SYNTH.argv, '--outdir', out]).wallMs);
      split.push(child('all', path.join(dir, `all-${i}`)));
      noGate.push(child('all', path.join(dir, `none-${i}`), 'nogate'));
    }
  });
  const floorMs = median(floor);
  const commandMs = median(command);
  const loaded = median(split.map((r) => r.loadedMs));
  console.log(`\nStart-up: the whole synth of every environment (${SYNTH.argv.slice(1).join(' ')})  [median of ${SAMPLES}]`);
  console.log(`| step | time |`);
  console.log('|---|---|');
  console.log(`| floor: node -e "require('cdk8s-plus-28')" | ${ms(floorMs)} |`);
  console.log(`| module loading beyond the floor (start-up, build check, our modules and libraries) | ${ms(loaded - floorMs)} |`);
  for (const [step, what] of STEPS) console.log(`| ${step}: ${what} | ${ms(median(split.map((r) => r.timings[step] ?? 0)))} |`);
  console.log(`| whole command, three environments (${split[0].objects} objects) | ${ms(commandMs)} (${x(commandMs / floorMs)} the floor) |`);
  const withGate = median(split.map((r) => r.inProcessMs));
  const without = median(noGate.map((r) => r.inProcessMs));
  console.log(`\nIn-process synth of every environment (modules loaded; config, build, render, checks, YAML, write)  [median of ${SAMPLES}]`);
  console.log(`without gate ${ms(without)}, with gate ${ms(withGate)}, the gate adds ${ms(withGate - without)} (+${(((withGate - without) / without) * 100).toFixed(1)} %)`);
  return { floorMs, commandMs };
}

/** Fields holding a workload's UID or GID: a copy is another workload, with ids of its own. */
const RUN_AS_FIELDS = new Set(['runAsUser', 'runAsGroup', 'fsGroup']);
/** The injected Vault agent's ids, as the pod's annotations state them. */
const RUN_AS_ANNOTATIONS = new Set(['vault.hashicorp.com/agent-run-as-user', 'vault.hashicorp.com/agent-run-as-group']);

/**
 * The name-like fields of an object, suffixed so that a copy neither collides with nor selects
 * the original, and its ids moved by `idOffset` so that it shares none.
 */
function renamed(m: any, suffix: string, idOffset: number): any {
  const walk = (node: any): any => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    return Object.fromEntries(Object.entries(node).map(([key, value]) => {
      const selectorLabel = key === 'app.kubernetes.io/name' || key === 'app.kubernetes.io/instance';
      const reference = key === 'serviceAccountName' || key === 'serviceName';
      if (RUN_AS_FIELDS.has(key) && typeof value === 'number') return [key, value + idOffset];
      if (RUN_AS_ANNOTATIONS.has(key) && typeof value === 'string') return [key, String(Number(value) + idOffset)];
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
    ...Array.from({ length: copies }, (_, i) => (i === 0 ? app : app.map((m) => renamed(m, `-c${i}`, i * 100_000)))).flat()];
}

/** The gate alone over copies of the prod output, in this process. */
function gateScaling(): void {
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
  for (let i = 0; i < SAMPLES; i++) {
    for (const size of sizes) {
      const start = performance.now();
      runGate(size.set);
      size.ms.push(performance.now() - start);
    }
  }
  console.log(`\nGate scaling: the gate alone over copies of the prod output, in one process  [median of ${SAMPLES}]`);
  sizes.forEach((size, i) => {
    const t = median(size.ms);
    const previous = sizes[Math.max(0, i - 1)];
    console.log(`gate over ${String(size.copies).padStart(2)}× prod (${String(size.set.length).padStart(4)} objects): ${t.toFixed(1)} ms, ` +
      `${((t / size.set.length) * 1000).toFixed(0)} µs/object; pod templates examined by selectors: ${size.examined}` +
      (i === 0 ? '' : `; vs ${previous.copies}×: objects ${x(size.set.length / previous.set.length)}, ` +
        `time ${x(t / median(previous.ms))}, examined ${x(size.examined / previous.examined)}`));
  });
}

function goals(rows: ScaleRow[], start: StartUp): void {
  const [zero, mid, top] = rows;
  const perService = (r: ScaleRow) => (r.cpuMs - zero.cpuMs) / r.extra;
  const lines: Array<[string, number, number, (v: number) => string]> = [
    [`prod with ${top.extra} extra services / shipped prod (wall)`, top.wallMs / zero.wallMs, GOALS.scaleWall, x],
    [`CPU per extra service at ${top.extra} / at ${mid.extra}`, perService(top) / perService(mid), GOALS.perServiceGrowth, x],
    [`peak memory at ${top.extra} extra services (MB)`, top.maxRssMb, GOALS.peakMemoryMb, (v) => v.toFixed(0)],
    ['three-environment synth command / require floor (wall)', start.commandMs / start.floorMs, GOALS.startUp, x],
  ];
  console.log('\nGoals (issue 17)');
  for (const [what, value, limit, format] of lines) {
    console.log(`${value <= limit ? 'met    ' : 'MISSED '} ${what}: ${format(value)} (at most ${format(limit)})`);
  }
}

if (process.argv[2] === '--scaling') {
  gateScaling();
} else if (process.argv[2] === '--startup') {
  startUp();
} else if (process.argv[2] === '--scale') {
  scaleSeries();
} else if (process.argv[2] === '--handoff') {
  handoff();
} else {
  console.log(`npm run bench: node ${process.version}, synth command: ${SYNTH.argv.slice(1).join(' ')}`);
  const rows = scaleSeries();
  handoff();
  const start = startUp();
  gateScaling();
  goals(rows, start);
}
