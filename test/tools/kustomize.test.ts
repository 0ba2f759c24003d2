/**
 * `kubectl apply -k dist/<env>` must work: the real kustomize (inside kubectl) builds every
 * environment's kustomization.yaml into exactly the objects we synthesized outside Argo CD's
 * charts, and `dist/<env>/argocd/` (applied once, to bootstrap) into exactly Argo CD's objects.
 * CI installs kubectl (.ci/run); elsewhere this skips with a loud notice.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { parse, parseAllDocuments } from 'yaml';
import { buildApp } from '../../charts/build-app';
import { synthesizeEnvironment } from '../../charts/synthesize';
import { Manifest } from '../../lib/core';
import { ARGOCD_FOLDER, ArgoCdChart } from '../../lib/gitops';
import { ENVIRONMENTS, environment } from '../helpers';

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const haveKubectl = kubectl.status === 0;
if (!haveKubectl) console.warn('\n!!! SKIPPED: kustomize build of dist/: kubectl is not installed (CI installs it) !!!\n');

let out: string;
beforeAll(() => {
  out = mkdtempSync(path.join(tmpdir(), 'pronto-kustomize-'));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The objects of the charts that are not Argo CD's, and of those that are, from a build of their own. */
function synthesized(env: string): { applied: Manifest[]; argocd: Manifest[] } {
  const app = Testing.app();
  buildApp(app, environment(env));
  const of = (argo: boolean) => app.charts.filter((c) => ArgoCdChart.isArgoCdChart(c) === argo).flatMap((c) => c.toJson());
  return { applied: of(false), argocd: of(true) };
}

/** The `*.yaml` files directly in `dir`. */
const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

(haveKubectl ? describe : describe.skip)('kubectl kustomize dist/<env> and dist/<env>/argocd', () => {
  test.each(ENVIRONMENTS)('%s builds into exactly the synthesized objects, Argo CD\'s apart', (env) => {
    const dir = path.join(out, 'dist', env);
    const summary = synthesizeEnvironment(environment(env), dir);
    const expected = synthesized(env);
    expect(expected.applied.length).toBeGreaterThan(0);
    // Every manifest file written is in its folder's kustomization, so nothing synthesized is left out of an
    // apply; capability files (vault/) and INVENTORY.md are never read by kustomize.
    const resources = parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')).resources as string[];
    expect([...resources, 'kustomization.yaml'].sort()).toEqual(yamlFiles(dir));
    expect([...resources, 'kustomization.yaml']).toEqual(summary.files.filter((f) => !f.includes(path.sep) && f.endsWith('.yaml')));
    const argo = expected.argocd.length > 0;
    const argoResources: string[] = argo ? parse(readFileSync(path.join(dir, ARGOCD_FOLDER, 'kustomization.yaml'), 'utf8')).resources : [];
    if (argo) {
      expect([...argoResources, 'kustomization.yaml'].sort()).toEqual(yamlFiles(path.join(dir, ARGOCD_FOLDER)));
      expect(summary.files.filter((f) => f.startsWith(`${ARGOCD_FOLDER}${path.sep}`))).toEqual([...argoResources, 'kustomization.yaml'].map((f) => path.join(ARGOCD_FOLDER, f)));
    } else {
      expect(readdirSync(dir)).not.toContain(ARGOCD_FOLDER);
    }

    // Each folder as `kubectl apply -k` builds it. One kustomization listing both folders would save the
    // second (cheap) run, but Debian's kubectl (1.20, kustomize 2.0.3: what CI installs) refuses folders
    // as resources and buildMetadata.
    const build = (folder: string): Manifest[] => {
      const run = spawnSync('kubectl', ['kustomize', folder], { encoding: 'utf8' });
      expect([folder, run.stderr, run.status]).toEqual([folder, '', 0]);
      return parseAllDocuments(run.stdout).map((d) => d.toJS());
    };
    const built = { applied: build(dir), argocd: argo ? build(path.join(dir, ARGOCD_FOLDER)) : [] };
    // Exactly the synthesized objects, field for field (kustomize sorts them by kind).
    const ref = (m: Manifest) => `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;
    const sorted = (list: Manifest[]) => [...list].sort((a, b) => ref(a).localeCompare(ref(b)));
    expect(sorted(built.applied)).toEqual(sorted(expected.applied));
    expect(sorted(built.argocd)).toEqual(sorted(expected.argocd));
  });
});
