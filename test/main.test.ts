/**
 * `npm run synth`, `npm run promote` and `cdk8s synth` as a newcomer runs them.
 *
 * In process, through `run()` (fast): every bad input (test/fixtures/inputs.ts and the bad
 * configs of test/fixtures/environments.ts), the output folder's bookkeeping (stale
 * folders, repeated --env), and the cdk8s CLI modes. Each failure must exit non-zero,
 * say what was wrong and where, print no stack trace, and leave the config folder, the
 * output folder and everything around them byte-identical.
 *
 * In child processes (what only a real process shows): the happy path and determinism,
 * `cdk8s synth` producing the same dist/, a failing `cdk8s synth` leaving dist/ alone,
 * SIGINT in the middle of a synth, and two bad configs end to end.
 */
import { spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import {
  chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { ApiObject, Chart, Testing } from 'cdk8s';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { GENERATED_HEADER, renderEnvironment } from '../charts/synthesize';
import { EnvironmentConfig, listEnvironments, parseEnvironment } from '../config/load';
import { run as promote } from '../config/promote';
import { ProntoPolicy } from '../lib/validation/cdk8s-plugin';
import { run as synth } from '../main';
import { setBuildHook } from './fixtures/build-app-hook';
import { BAD_CASES, VALID_ENV } from './fixtures/environments';
import { FOLDER, INPUT_CASES, InputCase } from './fixtures/inputs';
import { environment, synthEnvironment } from './helpers';

// buildApp, with a hook through which a test adds charts or objects (a policy finding, a chart inserted).
jest.mock('../charts/build-app', () => require('./fixtures/build-app-hook').passThrough());

const ROOT = path.resolve(__dirname, '..');
const CONFIG = path.join(ROOT, 'config');
const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const CDK8S_YAML = parseYaml(readFileSync(path.join(ROOT, 'cdk8s.yaml'), 'utf8'));
const CDK8S = path.join(ROOT, 'node_modules', '.bin', 'cdk8s');
const STACK_FRAME = /^\s+at /m;

/** `npm run synth -- <args>`, as package.json runs it, with node as this process's node. */
function synthCommand(...args: string[]): [string, string[]] {
  const [program, ...rest] = String(PACKAGE.scripts.synth).split(' ');
  if (program !== 'node') throw new Error(`test expects "synth" to run node, found ${PACKAGE.scripts.synth}`);
  return [process.execPath, [...rest, ...args]];
}

function synthProcess(...args: string[]) {
  const [program, argv] = synthCommand(...args);
  const child = spawnSync(program, argv, { cwd: ROOT, encoding: 'utf8', env: cleanEnv() });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

/** This process's environment without the cdk8s CLI's variables. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.CDK8S_OUTDIR;
  delete env.CDK8S_RECORD_CONSTRUCT_METADATA;
  return env;
}

/** `cdk8s synth` with cdk8s.yaml's app plus `appArgs`, into the scratch folder `output`. */
function cdk8sSynth(output: string, ...appArgs: string[]) {
  const app = [CDK8S_YAML.app, ...appArgs.map((a) => `'${a}'`)].join(' ');
  const child = spawnSync(CDK8S, ['synth', '--no-check-upgrade', '--app', app, '--output', output], { cwd: ROOT, encoding: 'utf8', env: cleanEnv() });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

/** Runs a command in process; returns its status and what it printed. */
async function inProcess(command: 'synth' | 'promote', argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
  const status = command === 'synth' ? await synth(argv, env, io) : promote(argv, io);
  return { status, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** Path → sha256 (files), `folder` or `-> target` (symlinks) for everything under `dir`. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const full = path.join(d, entry);
      const rel = path.relative(dir, full);
      const stat = lstatSync(full);
      if (stat.isDirectory()) {
        out[rel] = `folder ${(stat.mode & 0o777).toString(8)}`;
        walk(full);
      } else {
        let hash: string;
        try {
          hash = createHash('sha256').update(readFileSync(full)).digest('hex');
        } catch {
          hash = 'unreadable';
        }
        out[rel] = `${hash} ${(stat.mode & 0o777).toString(8)}`;
      }
    }
  };
  walk(dir);
  return out;
}

/**
 * The files an environment's folder must hold (one per chart, named by chart id, and the
 * kustomization), and for each chart file the chart files it depends on.
 */
function expectedFiles(config: EnvironmentConfig): { files: string[]; charts: string[]; dependsOn: Map<string, string[]> } {
  const app = Testing.app();
  // Through the (pass-through) mock, so this is the buildApp main.ts uses.
  const built = jest.requireMock('../charts/build-app').buildApp(app, config);
  const charts = app.node.findAll().filter((c): c is Chart => Chart.isChart(c));
  // Capability files (the Vault administrators' policies) sit in folders of their own.
  const folders = [...new Set((built.files as Array<{ path: string }>).map((f) => f.path.split('/')[0]))];
  const file = (c: Chart) => `${c.node.id}.k8s.yaml`;
  // Rendering resolves the dependencies that constructs imply between charts.
  for (const chart of charts) chart.toJson();
  const dependsOn = new Map(charts.map((c) => [file(c), c.node.dependencies.filter((d) => Chart.isChart(d) && d !== c).map((d) => file(d as Chart))]));
  return { files: [...charts.map(file), ...folders, 'kustomization.yaml'].sort(), charts: charts.map(file), dependsOn };
}

function kustomizationOf(dir: string): { header: string; resources: string[] } {
  const text = readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8');
  return { header: text.split('\n')[0], resources: parseYaml(text).resources };
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'pronto-main-'));
});
afterAll(() => {
  setBuildHook(undefined);
  rmSync(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------- end to end

describe('npm run synth (child process)', () => {
  let first: string;

  test('writes one folder per environment, a file per chart and a kustomization in apply order, and is deterministic', () => {
    first = path.join(work, 'e2e-a', 'dist');
    const second = path.join(work, 'e2e-b', 'dist');
    const a = synthProcess('--outdir', first);
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    const envs = listEnvironments(CONFIG);
    expect(readdirSync(first).sort()).toEqual(envs);
    for (const env of envs) {
      const config = environment(env);
      const { files, charts, dependsOn } = expectedFiles(config);
      expect(readdirSync(path.join(first, env)).sort()).toEqual(files);
      const kustomization = kustomizationOf(path.join(first, env));
      expect(kustomization.header.startsWith(GENERATED_HEADER)).toBe(true);
      expect([...kustomization.resources].sort()).toEqual([...charts].sort());
      for (const [chart, deps] of dependsOn) {
        for (const dep of deps) {
          expect(kustomization.resources).toContain(dep);
          expect(kustomization.resources.indexOf(dep)).toBeLessThan(kustomization.resources.indexOf(chart));
        }
      }
      // The one render of the synth is exactly what the gates saw: file contents included.
      const rendered = renderEnvironment(parseEnvironment(readFileSync(path.join(CONFIG, `${env}.yaml`), 'utf8'), path.join('config', `${env}.yaml`)));
      for (const file of rendered.files) expect(readFileSync(path.join(first, env, file.name), 'utf8')).toBe(file.text);
      const objects = synthEnvironment(config);
      const written = kustomization.resources.flatMap((f) => parseAllDocuments(readFileSync(path.join(first, env, f), 'utf8')).map((d) => d.toJS()));
      expect(written).toEqual(objects);
      expect(a.stdout).toContain(`${env}: ${path.join(first, env)}/ ${rendered.files.length} files, ${objects.length} objects (`);
    }
    expect(a.stdout).toContain('  waivers: none');

    const b = synthProcess('--outdir', second);
    expect(b.status).toBe(0);
    expect(fingerprint(second)).toEqual(fingerprint(first));
  });

  test('cdk8s synth (the CLI, with cdk8s.yaml) delivers the same dist/, and a copy to its scratch output', () => {
    expect(CDK8S_YAML.output).not.toMatch(/^(\.\/)?dist\/?$/);
    expect(readFileSync(path.join(ROOT, '.gitignore'), 'utf8').split('\n')).toContain(`${String(CDK8S_YAML.output).replace(/\/?$/, '/')}`);
    const dist = path.join(work, 'cli', 'dist');
    const scratch = path.join(work, 'cli', 'scratch');
    const cli = cdk8sSynth(scratch, '--outdir', dist);
    expect(cli.stderr).not.toMatch(STACK_FRAME);
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain('Validations ended succesfully');
    expect(fingerprint(dist)).toEqual(fingerprint(first));
    expect(fingerprint(scratch)).toEqual(fingerprint(first));
  });

  test('a failing cdk8s synth exits non-zero and leaves dist/ byte-identical', () => {
    const base = path.join(work, 'cli-fail');
    const config = path.join(base, 'config');
    const dist = path.join(base, 'dist');
    cpSync(CONFIG, config, { recursive: true });
    cpSync(first, dist, { recursive: true });
    writeFileSync(path.join(config, 'staging.yaml'), VALID_ENV.replace('tag: 1.3.0', 'tag: latest'));
    const before = fingerprint(base);
    const cli = cdk8sSynth(path.join(work, 'cli-fail-scratch'), '--config', config, '--outdir', dist);
    expect(cli.status).not.toBe(0);
    // What the app says; the CLI then adds its own "Error: command ... returned a non-zero exit code" and its stack.
    const ours = cli.stderr.split('Error: command')[0];
    expect(ours).toContain(`synth failed, ${dist}/ left unchanged`);
    expect(ours).toContain(`${path.join(config, 'staging.yaml')}:${VALID_ENV.split('\n').findIndex((l) => l.includes('tag: 1.3.0')) + 1}: services.employees-app.image.tag`);
    expect(ours).not.toMatch(STACK_FRAME);
    expect(fingerprint(base)).toEqual(before);
  });

  test('SIGINT in the middle of a synth leaves no staging folder and dist/ unchanged (exit 130)', async () => {
    const base = path.join(work, 'sigint');
    const config = path.join(base, 'config');
    const dist = path.join(base, 'dist');
    mkdirSync(config, { recursive: true });
    // Many environments, so that the synth is still running when the signal arrives.
    for (let i = 0; i < 60; i++) writeFileSync(path.join(config, `env-${i}.yaml`), VALID_ENV);
    cpSync(first, dist, { recursive: true });
    const before = fingerprint(base);
    const [program, argv] = synthCommand('--config', config, '--outdir', dist);
    const child = spawn(program, argv, { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const staging = () => readdirSync(base).filter((f) => f.startsWith('.pronto-synth-'));
    // The staging folder exists from before the first environment until the end of the synth.
    const deadline = Date.now() + 30_000;
    while (staging().length === 0 && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(staging()).toHaveLength(1);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain(`synth interrupted (SIGINT): ${dist}/ left unchanged`);
    expect(stderr).not.toMatch(STACK_FRAME);
    expect(staging()).toEqual([]);
    expect(fingerprint(base)).toEqual(before);
  });

  // Two of the bad configs end to end; all of them run in process below.
  describe.each(['unknown key (typo)', 'quota too small for peak scale'])('with a bad config: %s', (name) => {
    test('exits 1, explains, leaves dist/ byte-identical', () => {
      const c = BAD_CASES.find((b) => b.name === name)!;
      const base = path.join(work, `e2e-bad-${BAD_CASES.indexOf(c)}`);
      cpSync(CONFIG, path.join(base, 'config'), { recursive: true });
      cpSync(first, path.join(base, 'dist'), { recursive: true });
      writeFileSync(path.join(base, 'config', 'test.yaml'), c.text);
      const before = fingerprint(base);
      // The bad environment only: the in-process cases cover reporting every environment at once.
      const run = synthProcess('--config', path.join(base, 'config'), '--outdir', path.join(base, 'dist'), '--env', 'test');
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`synth failed, ${path.join(base, 'dist')}/ left unchanged`);
      expect(run.stderr).toContain(path.join(base, 'config', 'test.yaml'));
      for (const part of c.expect) expect(run.stderr).toContain(part);
      expect(run.stderr).not.toMatch(STACK_FRAME);
      expect(fingerprint(base)).toEqual(before);
    });
  });
});

// ---------------------------------------------------------------- in process

/** A fresh `{work}` for one case: a copy of config/ and a successful synth of it in dist/. */
let reference: string;
let caseCount = 0;
function caseFolder(): { base: string; config: string; out: string } {
  const base = path.join(work, `case-${caseCount++}`);
  const config = path.join(base, 'config');
  const out = path.join(base, 'dist');
  mkdirSync(config, { recursive: true });
  for (const f of readdirSync(CONFIG).filter((f) => f.endsWith('.yaml'))) cpSync(path.join(CONFIG, f), path.join(config, f));
  cpSync(reference, out, { recursive: true });
  return { base, config, out };
}

beforeAll(async () => {
  reference = path.join(work, 'reference');
  const { status, stderr } = await inProcess('synth', ['--outdir', reference]);
  expect(stderr).toBe('');
  expect(status).toBe(0);
});

describe('bad input (in process)', () => {
  test('there are at least twenty input cases', () => {
    expect(INPUT_CASES.length).toBeGreaterThanOrEqual(20);
  });

  const substitute = (text: string, dirs: { base: string; config: string; out: string }) => text
    .replaceAll('{config}', dirs.config).replaceAll('{out}', dirs.out).replaceAll('{work}', dirs.base)
    .replaceAll('{envs}', listEnvironments(CONFIG).join(', '));

  test.each(INPUT_CASES.map((c) => [`${c.command}: ${c.name}`, c] as const))('%s', async (_, c: InputCase) => {
    const reason = c.skip?.();
    if (reason) {
      console.warn(`\n!!! SKIPPED: ${c.command}: ${c.name}: ${reason} !!!\n`);
      return;
    }
    const dirs = caseFolder();
    for (const [at, entry] of Object.entries(c.setup ?? {})) {
      const full = path.join(dirs.base, at);
      if (entry === null) rmSync(full, { recursive: true, force: true });
      else if (entry === FOLDER) mkdirSync(full, { recursive: true });
      else {
        mkdirSync(path.dirname(full), { recursive: true });
        writeFileSync(full, entry);
      }
    }
    for (const [at, mode] of Object.entries(c.chmod ?? {})) chmodSync(path.join(dirs.base, at), mode);
    const before = fingerprint(dirs.base);
    try {
      const run = await inProcess(c.command, c.argv.map((a) => substitute(a, dirs)));
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      for (const part of c.expect) expect(run.stderr).toContain(substitute(part, dirs));
      expect(run.stderr).not.toMatch(STACK_FRAME);
      expect(fingerprint(dirs.base)).toEqual(before);
    } finally {
      for (const at of Object.keys(c.chmod ?? {})) chmodSync(path.join(dirs.base, at), 0o644);
    }
  });

  test.each(BAD_CASES.map((c) => [c.name, c] as const))('bad config, %s: exits 1, explains, leaves everything byte-identical', async (_, c) => {
    const dirs = caseFolder();
    writeFileSync(path.join(dirs.config, 'test.yaml'), c.text);
    const before = fingerprint(dirs.base);
    // Only the bad environment: reporting every environment at once has cases of its own (fixtures/inputs.ts).
    const run = await inProcess('synth', ['--config', dirs.config, '--outdir', dirs.out, '--env', 'test']);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`synth failed, ${dirs.out}/ left unchanged: 1 of 1 environment(s) have problems (test)`);
    expect(run.stderr).toContain(path.join(dirs.config, 'test.yaml'));
    for (const part of c.expect) expect(run.stderr).toContain(part);
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(fingerprint(dirs.base)).toEqual(before);
  });

  test('a capacity violation points at the quota line of the environment file', async () => {
    const c = BAD_CASES.find((b) => b.name === 'quota too small for peak scale')!;
    const dirs = caseFolder();
    const file = path.join(dirs.config, 'test.yaml');
    writeFileSync(file, c.text);
    const line = parseEnvironment(VALID_ENV, file).lineOf(['namespace', 'quota', 'requests', 'cpu']);
    const run = await inProcess('synth', ['--config', dirs.config, '--outdir', dirs.out, '--env', 'test']);
    expect(run.stderr).toContain(`${file}:${line}: namespace.quota.requests.cpu: expected the quota to hold`);
  });
});

describe('the output folder (in process)', () => {
  test('--help prints the usage and exits 0', async () => {
    const run = await inProcess('synth', ['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run synth -- \[--env <name>\]\.\.\. \[--config <dir>\] \[--outdir <dir>\]\n/);
    expect(run.stderr).toBe('');
  });

  test('a repeated --env synthesizes that environment once and leaves the others alone', async () => {
    const dirs = caseFolder();
    const [env, ...others] = listEnvironments(dirs.config);
    const before = fingerprint(dirs.out);
    const run = await inProcess('synth', ['--config', dirs.config, '--outdir', dirs.out, '--env', env, '--env', env]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n').filter((l) => l.startsWith(`${env}: `))).toHaveLength(1);
    const after = fingerprint(dirs.out);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const other of others) {
      for (const key of Object.keys(before).filter((k) => k.startsWith(`${other}/`))) expect(after[key]).toBe(before[key]);
    }
    expect(readdirSync(dirs.base).filter((f) => f.startsWith('.pronto-synth-'))).toEqual([]);
  });

  test('removes the folders Pronto generated for environments no longer in config/, and nothing else', async () => {
    const dirs = caseFolder();
    const [gone] = listEnvironments(dirs.config);
    rmSync(path.join(dirs.config, `${gone}.yaml`));
    mkdirSync(path.join(dirs.out, 'notes'));
    writeFileSync(path.join(dirs.out, 'notes', 'kustomization.yaml'), 'resources: []\n');
    writeFileSync(path.join(dirs.out, 'README.md'), 'hand-written\n');
    const run = await inProcess('synth', ['--config', dirs.config, '--outdir', dirs.out]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`removed ${path.join(dirs.out, gone)}/: generated for environment "${gone}", which is no longer in ${dirs.config}/`);
    expect(readdirSync(dirs.out).sort()).toEqual([...listEnvironments(dirs.config), 'README.md', 'notes'].sort());
  });

  test('an interrupted synth (SIGTERM) writes nothing and exits 143', async () => {
    const dirs = caseFolder();
    const before = fingerprint(dirs.base);
    const err: string[] = [];
    let checks = 0;
    const status = await synth(['--config', dirs.config, '--outdir', dirs.out], {}, {
      out: () => undefined,
      err: (t) => err.push(t),
      // The signal arrives while the second environment is being synthesized.
      interrupted: () => (++checks > 1 ? 'SIGTERM' : undefined),
    });
    expect(status).toBe(143);
    expect(err.join('\n')).toContain(`synth interrupted (SIGTERM): ${dirs.out}/ left unchanged`);
    expect(fingerprint(dirs.base)).toEqual(before);
  });
});

describe('under the cdk8s CLI (in process)', () => {
  afterEach(() => {
    setBuildHook(undefined);
  });

  test('delivers to dist/ as npm run synth does, copies the files to CDK8S_OUTDIR, and reports on stderr', async () => {
    const dirs = caseFolder();
    const scratch = path.join(dirs.base, 'scratch');
    rmSync(dirs.out, { recursive: true });
    const run = await inProcess('synth', ['--config', dirs.config, '--outdir', dirs.out], { CDK8S_OUTDIR: scratch, CDK8S_RECORD_CONSTRUCT_METADATA: 'true' });
    expect(run.status).toBe(0);
    // The CLI swallows the app's stdout.
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`(also written to ${scratch}/ for the cdk8s CLI)`);
    const npm = caseFolder();
    rmSync(npm.out, { recursive: true });
    expect((await inProcess('synth', ['--config', dirs.config, '--outdir', npm.out])).status).toBe(0);
    expect(fingerprint(dirs.out)).toEqual(fingerprint(npm.out));
    expect(fingerprint(scratch)).toEqual(fingerprint(dirs.out));
  });

  test('cdk8s synth --output dist (the CLI deleted dist/ first): delivers and warns; on failure says dist/ was deleted', async () => {
    const dirs = caseFolder();
    rmSync(dirs.out, { recursive: true });
    const env = { CDK8S_OUTDIR: dirs.out, CDK8S_RECORD_CONSTRUCT_METADATA: 'true' };
    const ok = await inProcess('synth', ['--config', dirs.config, '--outdir', dirs.out], env);
    expect(ok.status).toBe(0);
    expect(ok.stderr).toContain(`warning: ${dirs.out}/ is the cdk8s CLI's output folder (--output ${dirs.out}): the CLI deleted it`);
    expect(readdirSync(dirs.out).sort()).toEqual(listEnvironments(dirs.config));
    writeFileSync(path.join(dirs.config, 'test.yaml'), BAD_CASES[0].text);
    const bad = await inProcess('synth', ['--config', dirs.config, '--outdir', dirs.out], env);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`synth failed, ${dirs.out}/ was deleted by the cdk8s CLI before the app ran`);
  });

  /** A Deployment of order-service with a `latest` image, and a Secret with data in the namespace chart. */
  function addPolicyFindings(): void {
    setBuildHook((app, config, charts) => {
      new ApiObject(charts.services, 'rogue', {
        apiVersion: 'v1', kind: 'ConfigMap',
        metadata: { name: 'rogue', namespace: config.namespace.name, labels: { 'app.kubernetes.io/name': 'order-service' },
          annotations: { 'pronto.io/waive-no-such-rule': 'because' } },
      });
      new ApiObject(charts.namespace, 'secret', {
        apiVersion: 'v1', kind: 'Secret', metadata: { name: 'leak', namespace: config.namespace.name }, data: { password: 'c2VjcmV0' },
      });
      const extra = new Chart(app, 'extra');
      new ApiObject(extra, 'default-cm', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stray', namespace: 'default' } });
    });
  }

  test('policy findings: each finding line names the config it comes from (file:line), grouped by rule', async () => {
    addPolicyFindings();
    const dirs = caseFolder();
    const before = fingerprint(dirs.base);
    const run = await inProcess('synth', ['--config', dirs.config, '--outdir', dirs.out, '--env', 'prod']);
    expect(run.status).toBe(1);
    const file = path.join(dirs.config, 'prod.yaml');
    const config = parseEnvironment(readFileSync(file, 'utf8'), file);
    expect(run.stderr).toContain(`synth failed, ${dirs.out}/ left unchanged: 1 of 1 environment(s) have problems (prod)`);
    expect(run.stderr).toMatch(/^\[waiver-reason\] .*\(1\)$/m);
    expect(run.stderr).toContain(`  ${file}:${config.lineOf(['services', 'order-service'])}: ConfigMap pronto/rogue: metadata.annotations.pronto.io/waive-no-such-rule: names no rule`);
    expect(run.stderr).toMatch(/^\[secret-without-data\] /m);
    expect(run.stderr).toContain(`  ${file}:${config.lineOf(['namespace'])}: Secret pronto/leak: `);
    expect(run.stderr).toContain(`  ${file}:1: ConfigMap default/stray: `);
    expect(run.stderr).toMatch(/^ {2}fix: /m);
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(fingerprint(dirs.base)).toEqual(before);
  });

  test('policy findings when the CLI runs the plugin: files only in the scratch folder, exit 0 so that cdk8s reports and exits 2', async () => {
    addPolicyFindings();
    const dirs = caseFolder();
    const scratch = path.join(work, 'plugin-scratch');
    const before = fingerprint(dirs.base);
    const run = await inProcess('synth', ['--config', dirs.config, '--outdir', dirs.out], { CDK8S_OUTDIR: scratch, CDK8S_RECORD_CONSTRUCT_METADATA: 'true' });
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`synth failed, ${dirs.out}/ left unchanged: `);
    expect(run.stderr).toContain(`the manifests are in ${scratch}/ only, for the cdk8s validation report`);
    expect(fingerprint(dirs.base)).toEqual(before);
    expect(readdirSync(scratch).sort()).toEqual(listEnvironments(dirs.config));

    // What cdk8s then does with them: the plugin named in cdk8s.yaml fails the validation.
    // As the CLI finds them: the YAML files of each environment folder.
    const manifests = readdirSync(scratch).flatMap((env) => readdirSync(path.join(scratch, env)).filter((f) => f.endsWith('.yaml')).map((f) => path.join(scratch, env, f)));
    let status: string | undefined;
    const rules: string[] = [];
    await new ProntoPolicy().validate({
      manifests,
      parseManifest: (file) => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS()),
      report: { addViolation: (v) => rules.push(v.ruleName), submit: (s) => { status = s; } },
    });
    expect(status).toBe('failure');
    expect(rules).toEqual(expect.arrayContaining(['waiver-reason', 'secret-without-data']));
  });

  test('policy findings under cdk8s synth --no-validate: the app fails the synth itself', async () => {
    addPolicyFindings();
    const dirs = caseFolder();
    const scratch = path.join(work, 'no-validate-scratch');
    const before = fingerprint(dirs.base);
    const run = await inProcess('synth', ['--config', dirs.config, '--outdir', dirs.out], { CDK8S_OUTDIR: scratch, CDK8S_RECORD_CONSTRUCT_METADATA: 'false' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('cdk8s synth --no-validate');
    expect(existsSync(scratch)).toBe(false);
    expect(fingerprint(dirs.base)).toEqual(before);
  });

  test('a chart inserted keeps every other file as it was; the kustomization puts charts after those they depend on', async () => {
    // Created last, but the namespace chart depends on it: it must be applied first.
    setBuildHook((app, _config, charts) => {
      const crds = new Chart(app, 'crds');
      new ApiObject(crds, 'cm', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'crds', namespace: 'pronto' } });
      charts.namespace.addDependency(crds);
    });
    const dirs = caseFolder();
    const env = listEnvironments(dirs.config)[0];
    const before = readdirSync(path.join(dirs.out, env)).filter((f) => f.endsWith('.k8s.yaml'));
    const run = await inProcess('synth', ['--config', dirs.config, '--outdir', dirs.out, '--env', env]);
    expect(run.stderr).toBe('');
    expect(readdirSync(path.join(dirs.out, env)).filter((f) => f.endsWith('.yaml')).sort()).toEqual([...before, 'crds.k8s.yaml', 'kustomization.yaml'].sort());
    for (const f of before) expect(readFileSync(path.join(dirs.out, env, f), 'utf8')).toBe(readFileSync(path.join(reference, env, f), 'utf8'));
    const { resources } = kustomizationOf(path.join(dirs.out, env));
    expect(resources.indexOf('crds.k8s.yaml')).toBeLessThan(resources.indexOf('namespace.k8s.yaml'));
    expect(resources.indexOf('namespace.k8s.yaml')).toBeLessThan(resources.indexOf('services.k8s.yaml'));
  });
});
