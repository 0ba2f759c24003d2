/**
 * `npm run synth` end to end, as a newcomer runs it: the real entry point in a child
 * process, its exit code, its output, and what it leaves in the output folder.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BAD_CASES, VALID_ENV } from './fixtures/environments';

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

function synth(...args: string[]) {
  const run = spawnSync(process.execPath, [TSX, 'main.ts', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CDK8S_OUTDIR: '' } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Path → sha256 of every file under `dir`. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const full = path.join(d, entry);
      if (statSync(full).isDirectory()) walk(full);
      else out[path.relative(dir, full)] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'pronto-main-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm run synth', () => {
  test('writes one folder per environment with a file per chart and a kustomization, and prints a summary', () => {
    const out = path.join(work, 'all');
    const run = synth('--outdir', out);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['dev', 'prod', 'staging']);
    for (const env of ['dev', 'staging', 'prod']) {
      expect(readdirSync(path.join(out, env))).toEqual(['0000-namespace.k8s.yaml', '0001-services.k8s.yaml', 'kustomization.yaml']);
      expect(readFileSync(path.join(out, env, 'kustomization.yaml'), 'utf8')).toContain(
        'resources:\n  - 0000-namespace.k8s.yaml\n  - 0001-services.k8s.yaml\n');
    }
    expect(run.stdout).toMatch(/^prod: .*prod\/ 3 files, 31 objects \(Deployment 6, HorizontalPodAutoscaler 5, .*\)$/m);
    expect(run.stdout).toContain('  waivers: none');
  });

  test('is deterministic: two runs give byte-identical files', () => {
    const a = path.join(work, 'det-a');
    const b = path.join(work, 'det-b');
    expect(synth('--outdir', a).status).toBe(0);
    expect(synth('--outdir', b).status).toBe(0);
    const fa = fingerprint(a);
    expect(Object.keys(fa).length).toBe(9);
    expect(fingerprint(b)).toEqual(fa);
  });

  test('cdk8s synth (the CLI, via cdk8s.yaml) produces the same files', () => {
    const cliOut = path.join(work, 'cli');
    const npmOut = path.join(work, 'npm');
    const cli = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'cdk8s'), ['synth', '--no-check-upgrade', '--output', cliOut],
      { cwd: ROOT, encoding: 'utf8' });
    expect(cli.status).toBe(0);
    expect(synth('--outdir', npmOut).status).toBe(0);
    expect(fingerprint(cliOut)).toEqual(fingerprint(npmOut));
  });

  test('fails on an unknown option and an unknown environment', () => {
    const bogus = synth('--bogus', 'x');
    expect(bogus.status).toBe(1);
    expect(bogus.stderr).toContain('--bogus: unknown option');
    const missing = synth('--env', 'qa', '--outdir', path.join(work, 'qa'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('config/qa.yaml: no such environment file (environments: dev, prod, staging)');
  });

  describe('with a bad config', () => {
    let configDir: string;
    let outdir: string;
    let before: Record<string, string>;

    beforeAll(() => {
      configDir = path.join(work, 'config');
      outdir = path.join(work, 'dist');
      cpSync(path.join(ROOT, 'config'), configDir, { recursive: true });
      writeFileSync(path.join(configDir, 'test.yaml'), VALID_ENV);
      const first = synth('--config', configDir, '--outdir', outdir);
      expect(first.status).toBe(0);
      before = fingerprint(outdir);
      expect(Object.keys(before)).toContain('test/0001-services.k8s.yaml');
    });

    test.each(BAD_CASES.map((c) => [c.name, c] as const))('%s: exits non-zero, explains, leaves dist/ byte-identical', (_, c) => {
      writeFileSync(path.join(configDir, 'test.yaml'), c.text);
      const run = synth('--config', configDir, '--outdir', outdir);
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('synth failed, dist/ left unchanged');
      expect(run.stderr).toContain(path.join(configDir, 'test.yaml'));
      for (const part of c.expect) expect(run.stderr).toContain(part);
      expect(fingerprint(outdir)).toEqual(before);
      expect(readdirSync(work).filter((f) => f.startsWith('.pronto-synth-'))).toEqual([]);
    });
  });
});
