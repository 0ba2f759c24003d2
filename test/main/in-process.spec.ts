/**
 * `npm run synth`, `npm run promote` and the cdk8s CLI modes, in process, through `run()`
 * (fast): every bad input (test/fixtures/inputs.ts and the bad configs of
 * test/fixtures/environments.ts), the output folder's bookkeeping (stale folders, repeated
 * --env), and the cdk8s CLI modes. Each failure must exit non-zero, say what was wrong and
 * where, print no stack trace, and leave the config folder, the output folder and
 * everything around them byte-identical. What only a real process shows is in e2e.test.ts.
 *
 * The cases run on a light config folder (LIGHT_CONFIG, test/fixtures/environments.ts:
 * config/'s environment names, small valid contents, nested output folders included): they
 * are about arguments, files and the output folder's mechanics, which it proves as well as
 * the shipped config does at a fraction of the CPU. e2e.test.ts synthesizes the shipped
 * config/ (twice, in two processes) and checks every file of it.
 */
import {
  chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from 'fs';
import * as path from 'path';
import { ApiObject, Chart } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { listEnvironments, parseEnvironment } from '../../config/load';
import { ProntoPolicy } from '../../lib/validation/cdk8s-plugin';
import { run as synth } from '../../main';
import { setBuildHook } from '../fixtures/build-app-hook';
import { BAD_CASES, VALID_ENV } from '../fixtures/environments';
import { FOLDER, INPUT_CASES, InputCase } from '../fixtures/inputs';
import { STACK_FRAME, fingerprint, inProcess, kustomizationOf, scratchFolder, writeLightConfig } from './harness';

// buildApp is the pass-through mock with a hook through which a test adds charts or objects (a policy finding, a
// chart inserted): mocked by test/charts/synthesize.test.ts, which runs this suite in its module registry.

let work: string;
beforeAll(() => {
  work = scratchFolder('pronto-main-');
});
afterAll(() => {
  setBuildHook(undefined);
  rmSync(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------- in process

/** A fresh `{work}` for one case: the light config folder and a successful synth of it in dist/. */
let reference: string;
let caseCount = 0;
function caseFolder(): { base: string; config: string; out: string } {
  const base = path.join(work, `case-${caseCount++}`);
  const config = writeLightConfig(path.join(base, 'config'));
  const out = path.join(base, 'dist');
  cpSync(reference, out, { recursive: true });
  return { base, config, out };
}

/** The environments of the light config, as the loader lists them (`{envs}`). */
let lightEnvs: string[];
beforeAll(async () => {
  const config = writeLightConfig(path.join(work, 'reference-config'));
  lightEnvs = listEnvironments(config);
  reference = path.join(work, 'reference');
  const { status, stderr } = await inProcess('synth', ['--config', config, '--outdir', reference]);
  expect(stderr).toBe('');
  expect(status).toBe(0);
  // Nested output folders (vault/, argocd/), so that the copies and swaps below move folder trees.
  expect(readdirSync(reference, { recursive: true }).filter((f) => String(f).split(path.sep).length > 2)).not.toEqual([]);
});

describe('bad input (in process)', () => {
  test('there are at least twenty input cases', () => {
    expect(INPUT_CASES.length).toBeGreaterThanOrEqual(20);
  });

  const substitute = (text: string, dirs: { base: string; config: string; out: string }) => text
    .replaceAll('{config}', dirs.config).replaceAll('{out}', dirs.out).replaceAll('{work}', dirs.base)
    .replaceAll('{envs}', lightEnvs.join(', '));

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
    // As the CLI finds them: the YAML files under each environment folder, its guardrails/ and argocd/ included.
    const manifests = readdirSync(scratch, { recursive: true }).map(String).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(scratch, f));
    expect(manifests.some((f) => f.endsWith(path.join('guardrails', 'namespace.k8s.yaml')))).toBe(true);
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
    // Created last, but the services chart depends on it: it must be applied before it (after the namespace, in guardrails/).
    setBuildHook((app, _config, charts) => {
      const crds = new Chart(app, 'crds');
      new ApiObject(crds, 'cm', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'crds', namespace: 'pronto' } });
      crds.addDependency(charts.namespace);
      charts.services.addDependency(crds);
    });
    const dirs = caseFolder();
    const env = listEnvironments(dirs.config)[0];
    const before = readdirSync(path.join(dirs.out, env)).filter((f) => f.endsWith('.k8s.yaml'));
    const run = await inProcess('synth', ['--config', dirs.config, '--outdir', dirs.out, '--env', env]);
    expect(run.stderr).toBe('');
    expect(readdirSync(path.join(dirs.out, env)).filter((f) => f.endsWith('.yaml')).sort()).toEqual([...before, 'crds.k8s.yaml', 'kustomization.yaml'].sort());
    for (const f of before) expect(readFileSync(path.join(dirs.out, env, f), 'utf8')).toBe(readFileSync(path.join(reference, env, f), 'utf8'));
    const { resources } = kustomizationOf(path.join(dirs.out, env));
    expect(resources.indexOf('crds.k8s.yaml')).toBeGreaterThanOrEqual(0);
    expect(resources.indexOf('crds.k8s.yaml')).toBeLessThan(resources.indexOf('services.k8s.yaml'));
    expect(resources).not.toContain('namespace.k8s.yaml');
  });
});
