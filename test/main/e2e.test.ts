/**
 * `npm run synth` and `cdk8s synth` as a newcomer runs them, in child processes: what only
 * a real process shows. The happy path, and `cdk8s synth` (a second, separate process)
 * delivering byte for byte the same dist/, which makes the synth deterministic across
 * processes; a failing `cdk8s synth` leaving dist/ alone; SIGINT in the middle of a synth;
 * and bad configs end to end. Everything else runs in process (in-process.spec.ts).
 */
import { spawn, spawnSync } from 'child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { GENERATED_HEADER, INVENTORY_FILE, renderEnvironment } from '../../charts/synthesize';
import { EnvironmentConfig, listEnvironments, parseEnvironment } from '../../config/load';
import { ARGOCD_FOLDER, GUARDRAILS_FOLDER, NESTED_MANIFEST_FOLDERS } from '../../lib/core';
import { ArgoCdChart } from '../../lib/gitops';
import { BAD_CASES, VALID_ENV } from '../fixtures/environments';
import { environment } from '../helpers';
import { CONFIG, ROOT, STACK_FRAME, fingerprint, kustomizationOf, scratchFolder, writeLightConfig } from './harness';

// buildApp through the pass-through hook, as in in-process.spec.ts.
jest.mock('../../charts/build-app', () => require('../fixtures/build-app-hook').passThrough());

const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const CDK8S_YAML = parseYaml(readFileSync(path.join(ROOT, 'cdk8s.yaml'), 'utf8'));
const CDK8S = path.join(ROOT, 'node_modules', '.bin', 'cdk8s');

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

/**
 * The files an environment's folder must hold (one per chart of its kustomization, named by
 * chart id, the capability folders, `guardrails/`, `argocd/` when there are Argo CD charts,
 * the inventory and the kustomization), the charts of each folder of manifests (`''` for the
 * environment's own, `guardrails`, `argocd/projects`, `argocd/applications`), for each chart
 * file the chart files it depends on, and the objects of each folder, from a build of their own.
 */
function expectedFiles(config: EnvironmentConfig) {
  const app = Testing.app();
  // Through the (pass-through) mock, so this is the buildApp main.ts uses.
  const built = jest.requireMock('../../charts/build-app').buildApp(app, config);
  const all = app.node.findAll().filter((c): c is Chart => Chart.isChart(c));
  // The namespace chart is written apart, in guardrails/; Argo CD's charts in argocd/projects and argocd/applications.
  const folderOf = (c: Chart) => (c === built.namespace ? GUARDRAILS_FOLDER : ArgoCdChart.isArgoCdChart(c) ? c.folder : '');
  const file = (c: Chart) => `${c.node.id}.k8s.yaml`;
  const charts = new Map<string, string[]>();
  for (const c of all) charts.set(folderOf(c), [...(charts.get(folderOf(c)) ?? []), file(c)]);
  // Capability files (the Vault administrators' policies) sit in folders of their own.
  const folders = [...new Set((built.files as Array<{ path: string }>).map((f) => f.path.split('/')[0]))];
  // Rendering resolves the dependencies that constructs imply between charts. cdk8s's own toJson(), chart by chart:
  // an oracle apart from the synth's renderer (lib/core renderCharts).
  const objects = new Map(all.map((c) => [c, c.toJson()]));
  const dependsOn = new Map(all.map((c) => [file(c), c.node.dependencies.filter((d) => Chart.isChart(d) && d !== c).map((d) => file(d as Chart))]));
  const argocd = all.some((c) => ArgoCdChart.isArgoCdChart(c));
  const objectsIn = new Map<string, unknown[]>();
  for (const c of all) objectsIn.set(folderOf(c), [...(objectsIn.get(folderOf(c)) ?? []), ...objects.get(c)!]);
  return {
    files: [...charts.get('')!, ...folders, GUARDRAILS_FOLDER, ...(argocd ? [ARGOCD_FOLDER] : []), INVENTORY_FILE, 'kustomization.yaml'].sort(),
    charts,
    dependsOn,
    objects: objectsIn,
  };
}

let work: string;
beforeAll(() => {
  work = scratchFolder('pronto-main-');
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('npm run synth (child process)', () => {
  let first: string;
  /** The waivers of every environment, in the order of their folders, as the validation plugin lists them. */
  const summaryWaivers: string[] = [];

  test('writes one folder per environment, a file per chart and a kustomization in apply order', () => {
    first = path.join(work, 'e2e-a', 'dist');
    const a = synthProcess('--outdir', first);
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    const envs = listEnvironments(CONFIG);
    expect(readdirSync(first).sort()).toEqual(envs);
    const lines = a.stdout.split('\n');
    for (const env of envs) {
      const config = environment(env);
      const { files, charts, dependsOn, objects } = expectedFiles(config);
      const dir = path.join(first, env);
      expect(readdirSync(dir).sort()).toEqual(files);
      expect([...charts.keys()].sort()).toEqual(['', ...(config.capabilities.gitops ? NESTED_MANIFEST_FOLDERS : [GUARDRAILS_FOLDER])].sort());
      if (config.capabilities.gitops) expect(readdirSync(path.join(dir, ARGOCD_FOLDER)).sort()).toEqual(['applications', 'projects']);
      const folderOf = new Map([...charts].flatMap(([folder, list]) => list.map((c) => [c, folder])));
      // The one render of the synth is exactly what the gates saw: file contents included.
      const rendered = renderEnvironment(parseEnvironment(readFileSync(path.join(CONFIG, `${env}.yaml`), 'utf8'), path.join('config', `${env}.yaml`)));
      for (const file of rendered.files) expect(readFileSync(path.join(dir, file.name), 'utf8')).toBe(file.text);
      const read = (folder: string, list: string[]) => list.flatMap((f) => parseAllDocuments(readFileSync(path.join(folder, f), 'utf8')).map((d) => d.toJS()));
      let count = 0;
      for (const [folder, list] of charts) {
        // Each folder of manifests holds exactly its charts and a generated kustomization listing them (`kubectl apply -k
        // dist/<env>` applies the environment's own only), a chart after every chart of the same folder it depends on.
        const kustomization = kustomizationOf(path.join(dir, folder));
        expect(kustomization.header.startsWith(GENERATED_HEADER)).toBe(true);
        expect([folder, [...kustomization.resources].sort()]).toEqual([folder, [...list].sort()]);
        if (folder) expect(readdirSync(path.join(dir, folder)).sort()).toEqual([...list, 'kustomization.yaml'].sort());
        for (const chart of list) {
          for (const dep of dependsOn.get(chart) ?? []) {
            if (folderOf.get(dep) !== folder) continue;
            expect(kustomization.resources.indexOf(dep)).toBeLessThan(kustomization.resources.indexOf(chart));
          }
        }
        expect(read(path.join(dir, folder), kustomization.resources)).toEqual(objects.get(folder));
        count += objects.get(folder)!.length;
      }
      // No chart of the environment's folder depends on a chart applied after it (Argo CD's).
      for (const chart of charts.get('')!) {
        for (const dep of dependsOn.get(chart) ?? []) expect([chart, dep, folderOf.get(dep)]).not.toEqual([chart, dep, expect.stringMatching(/^argocd/)]);
      }
      expect(a.stdout).toContain(`${env}: ${dir}/ ${rendered.files.length} files, ${count} objects (`);
      // Under the environment's line, the waivers the gate reported (or "none"), each with its reason.
      const at = lines.findIndex((l) => l.startsWith(`${env}: ${dir}/ `));
      const next = lines.findIndex((l, i) => i > at && !l.startsWith('  '));
      const waived = rendered.waivers.map((w) => `  waived ${w.rule} on ${w.object}: ${w.reason}`);
      const block = lines.slice(at + 1, next < 0 ? undefined : next);
      expect(block.filter((l) => l.startsWith('  waive'))).toEqual(waived.length > 0 ? waived : ['  waivers: none']);
      // Then what changed since the dist/ it replaced: nothing to compare in a fresh folder.
      expect(block.filter((l) => !l.startsWith('  waive'))).toEqual(['  since the last synth: nothing to compare (first synth of this folder)']);
      summaryWaivers.push(...rendered.waivers.map((w) => `${w.rule} on ${w.object}: ${w.reason}`));
    }
  });

  // The second process of the determinism check: the CLI runs the same entry point (cdk8s.yaml's
  // app) in a process of its own, so byte-identical folders prove the synth deterministic.
  // It also runs the validation plugin over the real output of every environment
  // (test/lib/validation/cdk8s-plugin.spec.ts has the failing report).
  test('cdk8s synth (the CLI, with cdk8s.yaml) delivers the same dist/ (deterministic: a second process, byte for byte), a copy to its scratch output, and passes the validation plugin', () => {
    expect(CDK8S_YAML.output).not.toMatch(/^(\.\/)?dist\/?$/);
    expect(readFileSync(path.join(ROOT, '.gitignore'), 'utf8').split('\n')).toContain(`${String(CDK8S_YAML.output).replace(/\/?$/, '/')}`);
    expect(CDK8S_YAML.app).toBe(PACKAGE.scripts.synth);
    const dist = path.join(work, 'cli', 'dist');
    const scratch = path.join(work, 'cli', 'scratch');
    const cli = cdk8sSynth(scratch, '--outdir', dist);
    expect(cli.stderr).not.toMatch(STACK_FRAME);
    expect(cli.status).toBe(0);
    expect(cli.stdout).toMatch(/Status\s+│ success/);
    // One document set per environment (dist/<env>/ with its guardrails/ and argocd/ folders), environments in name order.
    const waivers = (summaryWaivers.length > 0 ? summaryWaivers.join('; ') : 'none').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(cli.stdout).toMatch(new RegExp(`waivers\\s+│ ${waivers}\\s+║`));
    expect(cli.stdout).toContain('Validations ended succesfully');
    expect(fingerprint(dist)).toEqual(fingerprint(first));
    expect(fingerprint(scratch)).toEqual(fingerprint(first));
  });

  test('a failing cdk8s synth exits non-zero and leaves dist/ byte-identical', () => {
    const base = path.join(work, 'cli-fail');
    // The light stand-in for config/ (its environment names, small contents), one of them then broken:
    // the test is about the CLI's exit and dist/, which the shipped environments' renders add nothing to.
    const config = writeLightConfig(path.join(base, 'config'));
    const dist = path.join(base, 'dist');
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

  // Two of the bad configs end to end, in one process: one the schema refuses (read and parse),
  // one only the capacity guard finds (after building). All of them run in process, one by one.
  const E2E_BAD = ['unknown key (typo)', 'quota too small for peak scale'];
  test(`with bad configs (${E2E_BAD.join(', ')}): exits 1, explains each at its file, leaves dist/ byte-identical`, () => {
    const cases = E2E_BAD.map((name) => BAD_CASES.find((b) => b.name === name)!);
    const base = path.join(work, 'e2e-bad');
    const config = path.join(base, 'config');
    const dist = path.join(base, 'dist');
    cpSync(CONFIG, config, { recursive: true });
    cpSync(first, dist, { recursive: true });
    const envs = cases.map((c) => `bad-${BAD_CASES.indexOf(c)}`);
    cases.forEach((c, i) => writeFileSync(path.join(config, `${envs[i]}.yaml`), c.text));
    const before = fingerprint(base);
    // The bad environments only: the in-process cases cover reporting every environment at once.
    const run = synthProcess('--config', config, '--outdir', dist, ...envs.flatMap((env) => ['--env', env]));
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`synth failed, ${dist}/ left unchanged: ${envs.length} of ${envs.length} environment(s) have problems (${envs.join(', ')})`);
    cases.forEach((c, i) => {
      // Each case's problems are the lines naming its own file.
      const file = path.join(config, `${envs[i]}.yaml`);
      const lines = run.stderr.split('\n').filter((l) => l.includes(`${file}:`)).join('\n');
      expect([c.name, lines]).toEqual([c.name, expect.stringContaining(file)]);
      for (const part of c.expect) expect([c.name, lines]).toEqual([c.name, expect.stringContaining(part)]);
    });
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(fingerprint(base)).toEqual(before);
  });
});

describe('scripts/bundle.js', () => { require('./bundle.spec'); });
