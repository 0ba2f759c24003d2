/**
 * `kubectl apply -k` must work on every folder of manifests synth writes: the real kustomize
 * (inside kubectl) builds `dist/<env>/guardrails/` (the namespace and its guardrails, applied
 * first), `dist/<env>/` (everything else outside Argo CD's charts), and, with gitops,
 * `dist/<env>/argocd/projects/` (applied by an Argo CD administrator) and
 * `dist/<env>/argocd/applications/` (applied once, to bootstrap), each into exactly the
 * objects of its charts, and together into every object synthesized.
 * CI installs kubectl (.ci/run); elsewhere this skips with a loud notice.
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { parse, parseAllDocuments } from 'yaml';
import { buildApp } from '../../charts/build-app';
import { synthesizeEnvironment } from '../../charts/synthesize';
import { ARGOCD_FOLDER, GUARDRAILS_FOLDER, Manifest, NESTED_MANIFEST_FOLDERS } from '../../lib/core';
import { ArgoCdChart } from '../../lib/gitops';
import { ENVIRONMENTS, environment } from '../helpers';

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const haveKubectl = kubectl.status === 0;
if (!haveKubectl) console.warn('\n!!! SKIPPED: kustomize build of dist/: kubectl is not installed (CI installs it) !!!\n');

let out: string;
beforeAll(() => {
  out = mkdtempSync(path.join(tmpdir(), 'pronto-kustomize-'));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The objects of each folder's charts ('' for the environment's own), from a build of their own. */
function synthesized(env: string): Map<string, Manifest[]> {
  const app = Testing.app();
  const built = buildApp(app, environment(env));
  const folderOf = (c: Chart) => (c === built.namespace ? GUARDRAILS_FOLDER : ArgoCdChart.isArgoCdChart(c) ? c.folder : '');
  const folders = new Map<string, Manifest[]>();
  for (const chart of app.charts) folders.set(folderOf(chart), [...(folders.get(folderOf(chart)) ?? []), ...chart.toJson()]);
  return folders;
}

/** The `*.yaml` files directly in `dir`. */
const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

(haveKubectl ? describe : describe.skip)('kubectl kustomize dist/<env>, its guardrails/ and its argocd/ folders', () => {
  test.each(ENVIRONMENTS)('%s: each folder builds into exactly the synthesized objects of its charts', (env) => {
    const dir = path.join(out, 'dist', env);
    const summary = synthesizeEnvironment(environment(env), dir, { gate: false });
    const expected = synthesized(env);
    expect(expected.get('')!.length).toBeGreaterThan(0);
    expect(expected.get(GUARDRAILS_FOLDER)!.length).toBeGreaterThan(0);
    const gitops = environment(env).capabilities.gitops !== undefined;
    expect([...expected.keys()].sort()).toEqual(['', ...(gitops ? NESTED_MANIFEST_FOLDERS : [GUARDRAILS_FOLDER])].sort());
    if (!gitops) expect(existsSync(path.join(dir, ARGOCD_FOLDER))).toBe(false);

    // Each folder as `kubectl apply -k` builds it. One kustomization listing the folders would save runs, but
    // Debian's kubectl (1.20, kustomize 2.0.3: what CI installs) refuses folders as resources and buildMetadata.
    const ref = (m: Manifest) => `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;
    const sorted = (list: Manifest[]) => [...list].sort((a, b) => ref(a).localeCompare(ref(b)));
    for (const [folder, objects] of expected) {
      const at = path.join(dir, folder);
      // Every manifest file written is in its folder's kustomization, so nothing synthesized is left out of an
      // apply; capability files (vault/) and INVENTORY.md are never read by kustomize.
      const resources = parse(readFileSync(path.join(at, 'kustomization.yaml'), 'utf8')).resources as string[];
      expect([folder, [...resources, 'kustomization.yaml'].sort()]).toEqual([folder, yamlFiles(at)]);
      const written = summary.files.filter((f) => path.dirname(f) === (folder ? path.join(folder) : '.') && f.endsWith('.yaml'));
      expect([folder, written]).toEqual([folder, [...resources, 'kustomization.yaml'].map((f) => (folder ? path.join(folder, f) : f))]);
      const run = spawnSync('kubectl', ['kustomize', at], { encoding: 'utf8' });
      expect([folder, run.stderr, run.status]).toEqual([folder, '', 0]);
      // Exactly the synthesized objects, field for field (kustomize sorts them by kind).
      expect([folder, sorted(parseAllDocuments(run.stdout).map((d) => d.toJS()))]).toEqual([folder, sorted(objects)]);
    }
  });
});
