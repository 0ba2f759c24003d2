/**
 * The gate as the cdk8s CLI runs it: the validation plugin named in cdk8s.yaml, over the
 * files an app wrote, reported in cdk8s's own format.
 *
 * The passing report (status success, and the waivers in force: the gate's, environment by
 * environment) is checked where the CLI already runs the plugin over the real output of every
 * environment: test/main/e2e.test.ts, so that this suite starts one CLI process (seconds each), not two.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { environment, named, synthEnvironment } from '../../helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CDK8S = path.join(ROOT, 'node_modules', '.bin', 'cdk8s');

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'pronto-plugin-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `cdk8s synth` with an app that writes `manifests` as dist/prod/all.k8s.yaml. */
function cliSynth(manifests: any[]) {
  const input = path.join(work, 'input.k8s.yaml');
  writeFileSync(input, manifests.map((m) => stringify(m)).join('---\n'));
  const app = `node -e "const fs=require('fs');const d=process.env.CDK8S_OUTDIR+'/prod';fs.mkdirSync(d,{recursive:true});fs.copyFileSync('${input}',d+'/all.k8s.yaml')"`;
  return spawnSync(CDK8S, ['synth', '--no-check-upgrade', '--app', app, '--output', path.join(work, 'dist')], { cwd: ROOT, encoding: 'utf8' });
}

describe('cdk8s validation plugin', () => {
  test('fails the synth with a report naming rule, object, field and fix', () => {
    const set = synthEnvironment(environment('prod'));
    named(set, 'Deployment', 'order-service').spec.template.spec.containers[0].image = 'registry.example.com/pronto/order-service:latest';
    const run = cliSynth(set);
    expect(run.status).toBe(2);
    expect(run.stdout).toMatch(/Status\s+│ failure/);
    expect(run.stdout).toContain('image-pinned');
    expect(run.stdout).toContain('Deployment pronto/order-service');
    expect(run.stdout).toContain('spec.template.spec.containers[0].image');
    expect(run.stdout).toContain('Use <repository>:<version>');
  });
});
