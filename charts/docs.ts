/**
 * Documentation generated from the code, so it cannot drift:
 * - the architecture diagram (Mermaid) drawn from the connection graph of one environment
 *   (the catalog's flows, the gateway, the data tier and the observability flows of the
 *   capabilities that are on), the block between the markers of {@link ARCHITECTURE_DOC};
 * - the configuration reference, docs/configuration.md (config/reference.ts), from the zod
 *   schemas of the environment file and the catalog.
 *
 * `npm run docs` rewrites both; `--check` only says whether either is stale (tests do the
 * same). The per-environment inventory is written by synth (`dist/<env>/INVENTORY.md`,
 * lib/docs/inventory.ts).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { App } from 'cdk8s';
import { parseArgs } from 'util';
import { DATA_STORES, GATEWAY } from '../config/catalog';
import { ConfigError, EnvironmentConfig, loadEnvironment } from '../config/load';
import { CONFIGURATION_REFERENCE, configurationReferenceText } from '../config/reference';
import { Endpoint, endpointKey } from '../lib/core';
import { DiagramEdge, DiagramGroup, DiagramNode, renderMermaid } from '../lib/docs';
import { buildApp } from './build-app';

/** The page the architecture diagram is drawn into. */
export const ARCHITECTURE_DOC = 'docs/architecture.md';
export const BEGIN_MARKER = '<!-- BEGIN GENERATED: architecture (npm run docs) -->';
export const END_MARKER = '<!-- END GENERATED: architecture -->';
/** The environment the architecture diagram is drawn from: the one with the most capabilities on. */
export const DIAGRAM_ENVIRONMENT = 'prod';

/** Capabilities whose flows are telemetry (dashed), not the request path. */
const TELEMETRY = new Set(['metrics', 'logs', 'tracing']);
/** Capabilities whose workloads are the data tier. */
const DATA_TIER = new Set(['database', 'backups']);

/** The Mermaid flowchart of `config`'s connection graph (without fences). DNS flows are left out: every pod has them. */
export function architectureDiagram(config: EnvironmentConfig): string {
  const graph = buildApp(new App({ outdir: '.', recordConstructMetadata: false }), config).graph;
  const flows = graph.flows.filter((f) => f.declaredBy !== 'cluster');
  const services = new Set(config.services.map((s) => s.name));
  const running = new Set(graph.workloads.map((w) => w.name));
  const stores = new Set([...Object.values(DATA_STORES).map((d) => d.host),
    ...flows.filter((f) => DATA_TIER.has(f.declaredBy)).flatMap((f) => [f.from, f.to]).filter((e) => e.kind === 'workload' && !services.has(e.name)).map((e) => e.name)]);
  // A flow toward a workload that does not run in this environment (the data tier while the database is off) is not drawn.
  const drawn = flows.filter((f) => [f.from, f.to].every((e) => e.kind !== 'workload' || running.has(e.name)));

  const groups: DiagramGroup[] = [
    { key: 'outside', title: 'Outside the cluster' },
    { key: 'edge', title: 'Gateway' },
    { key: 'services', title: `Pronto services (namespace ${config.namespace.name})` },
    { key: 'data', title: 'Data tier' },
    { key: 'platform', title: 'Platform workloads' },
  ];
  const nodes = new Map<string, DiagramNode>();
  const place = (e: Endpoint): string => {
    const key = endpointKey(e);
    if (nodes.has(key)) return key;
    if (e.kind === 'external') nodes.set(key, { key, label: e.name, group: 'outside', shape: 'external' });
    else if (e.kind === 'foreign') {
      if (!groups.some((g) => g.key === `ns-${e.namespace}`)) groups.push({ key: `ns-${e.namespace}`, title: `namespace ${e.namespace} (not Pronto's)` });
      nodes.set(key, { key, label: e.name, group: `ns-${e.namespace}`, shape: 'workload' });
    } else {
      const group = e.name === GATEWAY ? 'edge' : services.has(e.name) ? 'services' : stores.has(e.name) ? 'data' : 'platform';
      nodes.set(key, { key, label: e.name, group, shape: group === 'data' ? 'store' : 'workload' });
    }
    return key;
  };
  const edges = new Map<string, DiagramEdge & { ports: string[] }>();
  for (const f of drawn) {
    const from = place(f.from);
    const to = place(f.to);
    const id = `${from} ${to}`;
    const port = `${f.ports[0].port}${f.ports[0].protocol === 'UDP' ? '/udp' : ''}`;
    const edge = edges.get(id) ?? { from, to, label: '', dashed: TELEMETRY.has(f.declaredBy), ports: [] };
    if (!edge.ports.includes(port)) edge.ports.push(port);
    edges.set(id, edge);
  }
  return renderMermaid(groups, [...nodes.values()],
    [...edges.values()].map(({ ports, ...e }) => ({ ...e, label: ports.sort((a, b) => parseInt(a) - parseInt(b)).join(', ') })));
}

/** The block of {@link ARCHITECTURE_DOC}: markers, a note saying where it comes from, and the diagram. */
export function readmeBlock(config: EnvironmentConfig): string {
  return [
    BEGIN_MARKER,
    `<!-- Drawn from the connection graph of the ${config.name} environment (the flows the NetworkPolicies allow, DNS aside); do not edit, run npm run docs. -->`,
    '```mermaid',
    architectureDiagram(config),
    '```',
    'Solid arrows: requests and data; dashed: telemetry (scraping, logs, traces). Labels: destination ports.',
    END_MARKER,
  ].join('\n');
}

/** `readme` with its generated block replaced by `block`; throws when the markers are missing or out of order. */
export function replaceBlock(readme: string, block: string): string {
  const begin = readme.indexOf(BEGIN_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error(`${ARCHITECTURE_DOC}: expected the markers "${BEGIN_MARKER}" and "${END_MARKER}", in that order`);
  return readme.slice(0, begin) + block + readme.slice(end + END_MARKER.length);
}

/** One generated file: where it goes, what it holds now, and what it should hold. */
interface GeneratedFile {
  readonly file: string;
  readonly what: string;
  readonly current: string | undefined;
  readonly wanted: string;
}

/** Reports each stale file (`--check`), or writes it; returns false when `check` found one stale. */
function refresh(files: readonly GeneratedFile[], check: boolean): boolean {
  let fresh = true;
  for (const f of files) {
    if (f.current === f.wanted) {
      process.stdout.write(`${f.file}: up to date\n`);
    } else if (check) {
      process.stdout.write(`${f.file}: the ${f.what} is stale: run npm run docs\n`);
      fresh = false;
    } else {
      mkdirSync(path.dirname(f.file), { recursive: true });
      writeFileSync(f.file, f.wanted);
      process.stdout.write(`${f.file}: ${f.what} updated\n`);
    }
  }
  return fresh;
}

if (require.main === module) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { check: { type: 'boolean' }, file: { type: 'string' }, reference: { type: 'string' }, config: { type: 'string' } },
  });
  const readmeFile = values.file ?? ARCHITECTURE_DOC;
  const referenceFile = values.reference ?? CONFIGURATION_REFERENCE;
  try {
    const readme = readFileSync(readmeFile, 'utf8');
    const files: GeneratedFile[] = [
      { file: readmeFile, what: 'architecture diagram', current: readme,
        wanted: replaceBlock(readme, readmeBlock(loadEnvironment(values.config ?? 'config', DIAGRAM_ENVIRONMENT))) },
      { file: referenceFile, what: 'configuration reference', current: existsSync(referenceFile) ? readFileSync(referenceFile, 'utf8') : undefined,
        wanted: configurationReferenceText() },
    ];
    if (!refresh(files, values.check ?? false)) process.exitCode = 1;
  } catch (err) {
    process.stderr.write(`docs: ${err instanceof ConfigError ? err.problems.join('\n') : (err as Error).message}\n`);
    process.exitCode = 1;
  }
}
