/**
 * `kubectl apply -k dist/<env>` must work: the real kustomize (inside kubectl) builds every
 * environment's kustomization.yaml into exactly the objects we synthesized, in apply order.
 * CI installs kubectl (.ci/run); elsewhere this skips with a loud notice.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { parse, parseAllDocuments } from 'yaml';
import { synthesizeEnvironment } from '../../charts/synthesize';
import { ENVIRONMENTS, environment, synthEnvironment } from '../helpers';

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const haveKubectl = kubectl.status === 0;
if (!haveKubectl) console.warn('\n!!! SKIPPED: kustomize build of dist/: kubectl is not installed (CI installs it) !!!\n');

let out: string;
beforeAll(() => {
  out = mkdtempSync(path.join(tmpdir(), 'pronto-kustomize-'));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

(haveKubectl ? describe : describe.skip)('kubectl kustomize dist/<env>', () => {
  test.each(ENVIRONMENTS)('%s builds into exactly the synthesized objects', (env) => {
    const summary = synthesizeEnvironment(environment(env), path.join(out, env));
    // Every manifest file written is in the kustomization, so nothing synthesized is left out of an
    // apply; capability files (vault/) sit in folders of their own that kustomize never reads.
    const resources = parse(readFileSync(path.join(out, env, 'kustomization.yaml'), 'utf8')).resources;
    expect([...resources, 'kustomization.yaml'].sort()).toEqual(readdirSync(path.join(out, env)).filter((f) => f.endsWith('.yaml')).sort());
    expect([...resources, 'kustomization.yaml']).toEqual(summary.files.filter((f) => !f.includes(path.sep)));
    const run = spawnSync('kubectl', ['kustomize', path.join(out, env)], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const built = parseAllDocuments(run.stdout).map((d) => d.toJS()).map((m) => `${m.kind}/${m.metadata.name}`);
    const expected = synthEnvironment(environment(env)).map((m) => `${m.kind}/${m.metadata?.name}`);
    expect([...built].sort()).toEqual([...expected].sort());
  });
});
