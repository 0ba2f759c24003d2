/**
 * Generated documentation cannot drift: the architecture diagram (docs/architecture.md) and the
 * configuration reference (docs/configuration.md) are regenerated and compared with the
 * committed files, and each environment's INVENTORY.md is regenerated from the manifests
 * synth writes beside it.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { ARCHITECTURE_DOC, BEGIN_MARKER, DIAGRAM_ENVIRONMENT, architectureDiagram, readmeBlock, replaceBlock } from '../../charts/docs';
import { INVENTORY_FILE } from '../../charts/synthesize';
import { CONFIGURATION_REFERENCE } from '../../config/reference';
import { GUARDRAILS_FOLDER, Manifest } from '../../lib/core';
import { mermaidId, parseImage, renderInventory } from '../../lib/docs';
import { ARGOCD_FOLDER } from '../../lib/gitops';
import { ENVIRONMENTS, buildEnvironment, environment, shippedReference, renderShipped } from '../helpers';

const DOC = path.join(__dirname, '..', '..', ARCHITECTURE_DOC);

describe('the architecture diagram', () => {
  const config = environment(DIAGRAM_ENVIRONMENT);
  const diagram = architectureDiagram(config);

  test(`${ARCHITECTURE_DOC} holds the block npm run docs generates (run npm run docs after changing the catalog or prod.yaml)`, () => {
    const doc = readFileSync(DOC, 'utf8');
    expect(doc).toContain(BEGIN_MARKER);
    expect(replaceBlock(doc, readmeBlock(config))).toBe(doc);
  });

  test('shows every catalog service and every flow of the graph but DNS, once per pair of ends', () => {
    const { charts } = buildEnvironment(config);
    const running = new Set(charts.graph.workloads.map((w) => w.name));
    for (const svc of config.services) expect(diagram).toContain(`["${svc.name}"]`);
    const key = (e: any) => (e.kind === 'external' ? `external:${e.name}` : `${e.kind}:${e.namespace}/${e.name}`);
    const pairs = new Set(charts.graph.flows.filter((f) => f.declaredBy !== 'cluster')
      .filter((f) => [f.from, f.to].every((e) => e.kind !== 'workload' || running.has(e.name)))
      .map((f) => `${mermaidId(key(f.from))} ${mermaidId(key(f.to))}`));
    const edges = diagram.split('\n').filter((l) => /--?\.?->/.test(l)).map((l) => l.trim().replace(/ -\.?->\|"[^"]*"\| /, ' ').replace(/ -->\|"[^"]*"\| /, ' '));
    expect(edges.sort()).toEqual([...pairs].sort());
  });

  test('replaceBlock refuses a page without the markers, naming the page', () => {
    expect(() => replaceBlock('# no markers\n', readmeBlock(config))).toThrow(`${ARCHITECTURE_DOC}: expected the markers`);
  });
});

describe('the configuration reference', () => {
  test(`${CONFIGURATION_REFERENCE} is what npm run docs generates (run npm run docs after changing a schema or a description)`, () => {
    // configurationReferenceText(), rendered once for this suite and the reference's.
    expect(readFileSync(path.join(__dirname, '..', '..', CONFIGURATION_REFERENCE), 'utf8')).toBe(shippedReference());
  });
});

describe.each(ENVIRONMENTS)('INVENTORY.md of %s', (env) => {
  const rendered = renderShipped(env);
  const file = (name: string) => rendered.files.find((f) => f.name === name)!.text;
  const inventory = file(INVENTORY_FILE);

  test('is regenerated identically from the manifests the kustomizations apply (guardrails/, the environment\'s, argocd/), and is not applied itself', () => {
    const kustomization = parseYaml(file('kustomization.yaml'));
    expect(kustomization.resources).not.toContain(INVENTORY_FILE);
    const read = (names: string[]) => names.flatMap((n) => parseAllDocuments(file(n)).map((d) => d.toJS() as Manifest));
    const under = (folder: string) => rendered.files.filter((f) => f.name.startsWith(`${folder}/`) && f.name.endsWith('.k8s.yaml')).map((f) => f.name);
    const { file: configFile } = environment(env);
    const source = path.isAbsolute(configFile) || configFile.startsWith('..') ? path.basename(configFile) : configFile;
    expect(renderInventory({ environment: env, source, guardrails: read(under(GUARDRAILS_FOLDER)), applied: read(kustomization.resources), argocd: read(under(ARGOCD_FOLDER)) }))
      .toBe(inventory);
  });

  test('counts every kind and names every image with its version', () => {
    const applied = rendered.manifests.filter((m) => !m.apiVersion.startsWith('argoproj.io/'));
    const counts = new Map<string, number>();
    for (const m of applied) counts.set(m.kind, (counts.get(m.kind) ?? 0) + 1);
    for (const [kind, n] of counts) expect(inventory).toMatch(new RegExp(`\\| ${kind} \\| [^|]+ \\| ${n} \\|`));
    const images = JSON.stringify(applied).match(/"image":"[^"]+"/g) ?? [];
    expect(images.length).toBeGreaterThan(0);
    for (const image of images.map((i) => i.slice('"image":"'.length, -1))) {
      const { repository, tag } = parseImage(image);
      expect(inventory).toContain(`| ${repository} | ${tag} |`);
    }
  });
});
