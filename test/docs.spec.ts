/**
 * The documentation says what the code does, and can be followed: every relative link and
 * `#anchor` of README.md, CONTRIBUTING.md and docs/ resolves (GitHub's heading slugs), every
 * repository path they name exists, every `npm run` script they give is in package.json, the
 * README stays short and names the Debian packages CI installs, and the statements about the
 * structure (the hooks, the call order, the ports, the registries a capability touches, the
 * sync waves, the files that know a capability, the alerts on each page, the gate's rules) are
 * compared with the code, never with a copy of it; every test docs/security.md names exists, and
 * the README's threat model names the attackers that page defends against.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'fs';
import * as path from 'path';
import { App } from 'cdk8s';
import { z } from 'zod';
import { buildApp } from '../charts/build-app';
import { CAPABILITIES, Capability, CapabilityUnits, PORT_PROVIDERS, SECTIONS, SectionSpec } from '../charts/capabilities';
import { CHART_WAVES, SYNC_WAVES } from '../charts/capabilities/gitops/sync-waves';
import { CATALOG } from '../config/catalog';
import { parseEnvironment } from '../config/load';
import { ADDONS } from '../config/sections/gitops';
import { BACKUP_ALERTS } from '../lib/backups';
import * as metricsLib from '../lib/metrics';
import { DATABASE_ALERTS } from '../lib/database';
import { ALL_RULES } from '../lib/validation';
import { PodExtensionPoint } from '../lib/workload';
import { FIXTURE_SECTIONS, FIXTURE_UNITS } from './fixtures/capabilities';
import { VALID_ENV } from './fixtures/environments';

const ROOT = path.join(__dirname, '..');
const texts = new Map<string, string>();
/** A file of the repository, read once. */
const read = (rel: string) => {
  if (!texts.has(rel)) texts.set(rel, readFileSync(path.join(ROOT, rel), 'utf8'));
  return texts.get(rel)!;
};
const exists = (rel: string) => existsSync(path.join(ROOT, rel));

/** Pages of docs-gen's that may not exist yet (the runbooks move and the generated reference): checked once they do. */
const PENDING = ['docs/configuration.md', 'docs/runbooks'];
/** The README's length limit (issue 18). */
const README_MAX_LINES = 300;

/** README.md, CONTRIBUTING.md and every page under docs/. */
function markdownFiles(): string[] {
  const walk = (dir: string): string[] => readdirSync(path.join(ROOT, dir)).sort().flatMap((name) => {
    const rel = `${dir}/${name}`;
    return statSync(path.join(ROOT, rel)).isDirectory() ? walk(rel) : rel.endsWith('.md') ? [rel] : [];
  });
  return ['README.md', 'CONTRIBUTING.md', ...walk('docs')];
}

/** `text` without its fenced code blocks (their lines kept empty, so line numbers stay). */
export function withoutFences(text: string): string {
  let fenced = false;
  return text.split('\n').map((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  }).join('\n');
}

/** What GitHub drops from a heading's text to make its anchor: anything but letters, marks, numbers, `_`, `-` and spaces. */
const NOT_IN_ANCHOR = /[^\p{L}\p{M}\p{N}\p{Pc} -]/gu;

/** The characters the HTML entities a heading may hold stand for (GitHub slugs the rendered text). */
const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', '#39': "'" };

/** GitHub's anchor for a heading: the rendered text lower-cased, punctuation dropped, spaces as hyphens. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/(\*\*|__)(.*?)\1/g, '$2')
    .replace(/<[^>]+>/g, '')
    .replace(/&(lt|gt|amp|quot|#39);/g, (_, name: string) => ENTITIES[name]);
  return text.trim().toLowerCase().replace(NOT_IN_ANCHOR, '').replace(/ /g, '-');
}

/** Every anchor of a markdown text's headings, duplicates numbered as GitHub numbers them. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of withoutFences(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The relative links of a markdown text, outside code: `[text](target)`. */
function relativeLinks(text: string): string[] {
  const prose = withoutFences(text).replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]).filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

const anchorsOf = new Map<string, Set<string>>();

/** What is wrong with `target` linked from `from`, or undefined; `pending` collects links into docs-gen's pages that do not exist yet. */
function linkProblem(from: string, target: string, pending: Set<string>): string | undefined {
  const [file, anchor] = target.split('#', 2) as [string, string | undefined];
  const rel = file === '' ? from : path.posix.normalize(path.posix.join(path.posix.dirname(from), file));
  const resolved = rel.replace(/\/$/, '');
  if (!exists(resolved)) {
    const waiting = PENDING.find((p) => resolved === p || resolved.startsWith(`${p}/`));
    if (waiting !== undefined && !exists(waiting)) {
      pending.add(`${from} → ${target}`);
      return undefined;
    }
    return `${from}: link "${target}": no file ${resolved}`;
  }
  if (file.endsWith('/') !== statSync(path.join(ROOT, resolved)).isDirectory()) return `${from}: link "${target}": ${resolved} is ${file.endsWith('/') ? 'not a folder' : 'a folder: end the link with /'}`;
  if (anchor === undefined) return undefined;
  if (!resolved.endsWith('.md')) return `${from}: link "${target}": an anchor into ${resolved}, which has no headings`;
  if (!anchorsOf.has(resolved)) anchorsOf.set(resolved, anchors(read(resolved)));
  return anchorsOf.get(resolved)!.has(anchor) ? undefined : `${from}: link "${target}": no heading of ${resolved} has the anchor #${anchor}`;
}

/** Inline-code spans outside fenced blocks. */
function codeSpans(text: string): string[] {
  return [...withoutFences(text).matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
}

/** Files at the top of the repository that a doc may name bare. */
const TOP_FILES = ['main.ts', 'cdk8s.yaml', 'eslint.config.js', 'package.json', 'package-lock.json', 'tsconfig.json', 'jest.config.js', 'README.md', 'CONTRIBUTING.md'];

/** The repository paths a code span names: a top-level folder of ours and a path below it, without placeholders. */
function namedPaths(text: string): string[] {
  return codeSpans(text).map((s) => s.trim()).filter((s) => TOP_FILES.includes(s)
    || /^(\.ci|config|charts|lib|test|imports|docs|__snapshots__)\/[\w./-]*$/.test(s));
}

/** The section of `text` under the heading `heading` (up to the next heading of its level or above). */
function section(text: string, heading: string): string {
  const level = heading.match(/^#+/)![0].length;
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l === heading);
  if (start < 0) throw new Error(`no heading "${heading}"`);
  const end = lines.findIndex((l, i) => i > start && new RegExp(`^#{1,${level}} `).test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** The backticked names of a markdown table's first column. */
function firstColumn(table: string): string[] {
  return table.split('\n').filter((l) => /^\| `/.test(l)).flatMap((l) => [...l.split('|')[1].matchAll(/`([^`(]+)[^`]*`/g)].map((m) => m[1]));
}

const ids = Object.keys(SECTIONS);
/** A capability id as its file and folder names write it: networkPolicies → network-policies. */
const kebab = (id: string) => id.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const sorted = <T>(xs: Iterable<T>) => [...new Set(xs)].sort();
const page = (id: string) => read(`docs/capabilities/${id}.md`);
/** The backticked names on a page's `**<label>:**` line, after `after` when given (up to `until`). */
function labelled(text: string, label: string, after?: string, until?: string): string[] {
  const line = text.split('\n').find((l) => l.startsWith(`**${label}:**`));
  if (!line) throw new Error(`no **${label}:** line`);
  let part = after === undefined ? line : line.slice(line.indexOf(after) + after.length);
  if (until !== undefined && part.includes(until)) part = part.slice(0, part.indexOf(until));
  return [...part.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

describe('links and paths', () => {
  const files = markdownFiles();
  const pending = new Set<string>();

  test('every relative link and #anchor of README.md, CONTRIBUTING.md and docs/ points to an existing file and heading', () => {
    const problems = files.flatMap((f) => relativeLinks(read(f)).map((t) => linkProblem(f, t, pending))).filter((p) => p !== undefined);
    expect(problems).toEqual([]);
    if (pending.size > 0) console.warn(`docs: ${pending.size} link(s) into docs-gen's pages, not merged yet, left unchecked: ${[...pending].join('; ')}`);
  });

  test('the anchor rules are GitHub\'s', () => {
    expect([...anchors('# Secrets (`secrets`, HashiCorp Vault)\n## A\n## A\n```\n# not a heading\n```\n### Grafana\'s admin login\n## File (config/&lt;env&gt;.yaml)\n')])
      .toEqual(['secrets-secrets-hashicorp-vault', 'a', 'a-1', 'grafanas-admin-login', 'file-configenvyaml']);
    expect(linkProblem('README.md', 'docs/architecture.md#no-such-heading', new Set())).toMatch(/no heading of docs\/architecture.md has the anchor/);
    expect(linkProblem('README.md', 'docs/nothing.md', new Set())).toMatch(/no file docs\/nothing.md/);
  });

  test('every repository path the docs name in code exists', () => {
    const missing = files.flatMap((f) => namedPaths(read(f)).filter((p) => {
      const rel = p.replace(/\/$/, '');
      return !exists(rel) && !PENDING.some((x) => rel === x || rel.startsWith(`${x}/`));
    }).map((p) => `${f}: ${p}`));
    expect(missing).toEqual([]);
  });

  test('every npm script the docs give exists, and snapshots are updated one suite at a time', () => {
    const scripts = Object.keys(JSON.parse(read('package.json')).scripts);
    for (const f of files) {
      const text = read(f);
      for (const m of text.matchAll(/npm run ([\w:-]+)/g)) expect(`${f}: npm run ${m[1]}`).toBe(scripts.includes(m[1]) ? `${f}: npm run ${m[1]}` : 'a script of package.json');
      for (const line of text.split('\n').filter((l) => /npx jest[^`\n]* -u\b/.test(l))) {
        const suite = line.match(/npx jest ((?:test\/\S+\.test\.ts ?)+)-u/);
        if (suite) for (const s of suite[1].trim().split(' ')) expect(exists(s)).toBe(true);
        else expect(`${f}: ${line.trim()}`).toMatch(/[Nn]ever (run )?`npx jest -u`/);
      }
    }
  });
});

describe('README.md', () => {
  const readme = read('README.md');

  test(`has at most ${README_MAX_LINES} lines (the runbooks, which move to docs/runbooks/, excepted until they have)`, () => {
    let counted = readme;
    const start = readme.indexOf('\n## Runbooks\n');
    if (!exists('docs/runbooks') && start >= 0) {
      const next = readme.indexOf('\n## ', start + 1);
      counted = readme.slice(0, start + 1) + (next < 0 ? '' : readme.slice(next + 1));
    }
    expect(counted.trimEnd().split('\n').length).toBeLessThanOrEqual(README_MAX_LINES);
  });

  test('names the Node.js version of package.json\'s engines', () => {
    expect(readme).toContain(`**Node.js ${JSON.parse(read('package.json')).engines.node}**`);
  });

  test('names exactly the Debian packages CI installs (.ci/run), in one install command', () => {
    const ci = read('.ci/run');
    const fromCi = [
      ...[...ci.matchAll(/apt-get install ([^\n]*)/g)].flatMap((m) => m[1].split(/\s+/).filter((w) => /^[a-z0-9][a-z0-9.+-]+$/.test(w))),
      ...[...ci.matchAll(/missing\+=\(([^)]+)\)/g)].map((m) => m[1]),
    ];
    const commands = readme.split('\n').filter((l) => /apt-get install /.test(l));
    expect(commands).toHaveLength(1);
    const named = commands[0].slice(commands[0].indexOf('apt-get install ') + 'apt-get install '.length).split(/\s+/).filter((w) => w !== '' && !w.startsWith('-'));
    expect(sorted(named)).toEqual(sorted(fromCi));
  });

  test('names the catalog\'s services, in catalog order', () => {
    const sentence = readme.slice(readme.indexOf('(`config/catalog.ts`):'), readme.indexOf(', with PostgreSQL'));
    expect([...sentence.matchAll(/`([a-z][a-z-]+)`/g)].map((m) => m[1])).toEqual(Object.keys(CATALOG));
  });

  test('its layout names existing paths, and every top-level entry of the repository', () => {
    const block = section(readme, '## Layout').split('```')[1];
    const parents: string[] = [];
    const named: string[] = [];
    for (const line of block.split('\n').filter((l) => /\S/.test(l))) {
      const m = line.match(/^( *)(\S+)/)!;
      const depth = m[1].length / 2;
      if (m[1].length % 2 !== 0 || depth > parents.length) continue; // a description wrapped onto the next line
      parents.length = depth;
      const rel = [...parents, m[2]].join('');
      named.push(rel);
      if (m[2].endsWith('/')) parents.push(m[2]);
    }
    expect(named.filter((p) => !exists(p.replace(/\/$/, '')))).toEqual([]);
    const ignored = ['node_modules', 'dist', '.cdk8s.out', '.git', 'coverage'];
    const top = readdirSync(ROOT).filter((e) => !ignored.includes(e) && (!e.startsWith('.') || e === '.ci')).map((e) => statSync(path.join(ROOT, e)).isDirectory() ? `${e}/` : e);
    expect(top.filter((e) => !named.includes(e))).toEqual([]);
  });

  test('links every capability\'s page, the architecture, CONTRIBUTING.md and the docs-gen pages', () => {
    for (const id of ids) expect(readme).toContain(`(docs/capabilities/${id}.md)`);
    for (const target of ['docs/architecture.md', 'CONTRIBUTING.md', 'docs/configuration.md', 'docs/runbooks/', 'docs/security.md', 'docs/decisions.md']) expect(readme).toContain(`](${target})`);
  });
});

describe('the capability pages', () => {
  const units = CAPABILITIES as unknown as Record<string, Capability<unknown>>;
  const portNames = Object.keys(PORT_PROVIDERS);
  /** The capability that provides a port: the first word of its provider in PORT_PROVIDERS. */
  const providerOf = (port: string) => (PORT_PROVIDERS as Record<string, string>)[port].split(/[ .]/)[0];
  /** The ports a unit's folder reads: `ports.x`, `requirePort(ports, 'x')`, `portProblem(ports, 'x')`, `{ x } = …ports`. */
  function portsRead(id: string): string[] {
    const dir = `charts/capabilities/${kebab(id)}`;
    const text = readdirSync(path.join(ROOT, dir)).map((f) => read(`${dir}/${f}`)).join('\n');
    const names = [
      ...[...text.matchAll(/\bports\.(\w+)/g)].map((m) => m[1]),
      ...[...text.matchAll(/(?:requirePort|portProblem)\(\s*ports,\s*'(\w+)'/g)].map((m) => m[1]),
      ...[...text.matchAll(/\{([^}]*)\}\s*=\s*(?:\w+\.)*ports\b/g)].flatMap((m) => m[1].split(',').map((n) => n.trim().split(':')[0].trim())),
    ];
    return sorted(names.filter((n) => portNames.includes(n) && providerOf(n) !== id));
  }

  test('one page per capability of config/sections/index.ts, and none for anything else', () => {
    expect(sorted(readdirSync(path.join(ROOT, 'docs/capabilities')).map((f) => f.replace(/\.md$/, '')))).toEqual(sorted(ids));
  });

  test.each(ids)('%s: its configuration link, the four parts, its spec, and the hooks its unit implements', (id) => {
    const text = page(id);
    expect(text).toContain(`](../configuration.md#${id.toLowerCase()})`);
    expect(text.split('\n').filter((l) => l.startsWith('## '))).toEqual(['## What it emits', '## What it needs', '## Add-ons', '## How it is tested']);
    expect(section(text, '## How it is tested')).toContain(`\`test/charts/capabilities/${kebab(id)}.spec.ts\``);
    expect(sorted(labelled(text, 'Hooks'))).toEqual(sorted(Object.keys(units[id]).filter((k) => k !== 'id')));
  });

  test.each(ids)('%s: the ports it provides (PORT_PROVIDERS) and reads (its folder\'s code), and its sync wave', (id) => {
    const text = page(id);
    expect(sorted(labelled(text, 'Ports', 'provides', ';'))).toEqual(sorted(portNames.filter((p) => providerOf(p) === id)));
    expect(sorted(labelled(text, 'Ports', 'reads', '.'))).toEqual(portsRead(id));
    const wave = (CHART_WAVES as Record<string, string>)[id];
    if (wave === undefined) expect(text).toMatch(/^\*\*Sync wave:\*\* none/m);
    else expect(labelled(text, 'Sync wave')[0]).toBe(wave);
  });

  test('every alert of lib/ is named on its capability\'s page, and every alert a page\'s tables name exists', () => {
    const byPage: Record<string, string[]> = {
      metrics: Object.entries(metricsLib).filter(([k]) => k.startsWith('ALERT_')).map(([, v]) => v as string),
      database: Object.values(DATABASE_ALERTS),
      backups: Object.values(BACKUP_ALERTS),
    };
    const all = Object.values(byPage).flat();
    expect(byPage.metrics.length).toBeGreaterThan(0);
    for (const [id, alerts] of Object.entries(byPage)) for (const alert of alerts) expect(`${id}: ${page(id).includes(`\`${alert}\``)}`).toBe(`${id}: true`);
    for (const id of ids) {
      // The alert tables' rows and the **Alerts** paragraphs (construct names such as PostgresCluster are elsewhere).
      const alertText = [...page(id).split('\n\n').filter((p) => p.startsWith('**Alerts**')), ...page(id).split('\n').filter((l) => l.startsWith('| `'))].join('\n');
      for (const m of alertText.matchAll(/`((?:Pronto|Postgres|PgBouncer)[A-Z]\w+)`/g)) expect(all).toContain(m[1]);
    }
  });

  test('the gitops page\'s sync-wave table is SYNC_WAVES and CHART_WAVES', () => {
    const rows = section(page('gitops'), '## What it emits').split('\n').filter((l) => /^\| \d+ \| `/.test(l));
    expect(rows.map((r) => r.split('|')[2].trim().replace(/`/g, ''))).toEqual(Object.keys(SYNC_WAVES));
    for (const row of rows) {
      const [, wave, name, what] = row.split('|').map((c) => c.trim());
      const key = name.replace(/`/g, '') as keyof typeof SYNC_WAVES;
      expect(Number(wave)).toBe(SYNC_WAVES[key]);
      const charts = [...what.matchAll(/`(\w+)`/g)].map((m) => m[1]).filter((c) => c in CHART_WAVES);
      expect(sorted(charts)).toEqual(sorted(Object.entries(CHART_WAVES).filter(([, w]) => w === key).map(([c]) => c)));
    }
  });

  test('the gitops page\'s add-on table: every add-on with its chart at the pinned version', () => {
    const rows = section(page('gitops'), '## Add-ons').split('\n').filter((l) => /^\| `\w+` \| `/.test(l));
    expect(rows.map((r) => r.split('|')[1].trim().replace(/`/g, ''))).toEqual(Object.keys(ADDONS));
    for (const row of rows) {
      const { chart } = ADDONS[row.split('|')[1].trim().replace(/`/g, '') as keyof typeof ADDONS];
      expect(row.split('|')[2]).toContain(`\`${chart.name}\` ${chart.version}`);
    }
  });

  test('the review page names the output file of every chart the code adds', () => {
    const text = read('docs/review-and-publish.md');
    const sources = readdirSync(path.join(ROOT, 'charts'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => read(`charts/${f}`)).join('\n');
    const chartIds = [...sources.matchAll(/new (?:Chart|ServicesChart)\(app, '([\w-]+)'|\bchart\('([\w-]+)'\)/g)].map((m) => m[1] ?? m[2]);
    expect(chartIds.length).toBeGreaterThan(Object.keys(CAPABILITIES).length);
    expect(chartIds.map((id) => `${id}.k8s.yaml`).filter((f) => !text.includes(`\`${f}\``))).toEqual([]);
    // The namespace chart is written to guardrails/, the Argo CD charts to argocd/projects/ and argocd/applications/.
    expect(sources).toContain("new NamespaceChart(app, 'namespace'");
    for (const file of ['guardrails/namespace.k8s.yaml', 'argocd/projects/', 'argocd/applications/']) expect(text).toContain(`\`${file}\``);
  });
});

describe('docs/architecture.md', () => {
  const doc = read('docs/architecture.md');
  const plugs = section(doc, '## How a capability plugs in');

  /** The hooks of the Capability interface, read from charts/capabilities/capability.ts. */
  function interfaceHooks(): string[] {
    const source = read('charts/capabilities/capability.ts');
    const body = source.slice(source.indexOf('export interface Capability<'), source.indexOf('\n}\n', source.indexOf('export interface Capability<')));
    return [...body.matchAll(/^ {2}(\w+)\?\(/gm)].map((m) => m[1]);
  }

  test('its hook table is the Capability interface', () => {
    expect(sorted(firstColumn(plugs.split('### ')[0]))).toEqual(sorted(interfaceHooks()));
  });

  test('the call order it states is the order buildApp calls the hooks in', () => {
    const calls: string[] = [];
    const hooks = interfaceHooks();
    const recorder = Object.fromEntries(hooks.map((h) => [h, () => {
      if (!calls.includes(h)) calls.push(h);
      return ({ addons: {}, provides: {}, check: [], vaultReaders: [], namespaceLabels: {}, charts: [], files: [] } as Record<string, unknown>)[h];
    }]));
    const sections: Record<string, SectionSpec> = { ...SECTIONS, recorder: { description: 'records the hooks (test)', schema: z.strictObject({}) } };
    const config = parseEnvironment(`${VALID_ENV}recorder: {}\n`, 'config/test.yaml', CATALOG, sections);
    buildApp(new App({ outdir: '.' }), config, { recorder: { id: 'recorder', ...recorder } } as unknown as CapabilityUnits);
    const stated = plugs.slice(plugs.indexOf('in this order:')).split('.')[0];
    expect([...stated.matchAll(/`(\w+)`/g)].map((m) => m[1])).toEqual(calls);
    expect(sorted(calls)).toEqual(sorted(hooks));
  });

  test('the files outside the units that know a particular capability are the ones it lists', () => {
    const units = readdirSync(path.join(ROOT, 'charts/capabilities'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    const walk = (dir: string): string[] => readdirSync(path.join(ROOT, dir)).flatMap((f) => {
      const rel = `${dir}/${f}`;
      return statSync(path.join(ROOT, rel)).isDirectory() ? walk(rel) : rel.endsWith('.ts') ? [rel] : [];
    });
    const sources = ['main.ts', ...readdirSync(path.join(ROOT, 'charts')).filter((f) => f.endsWith('.ts')).map((f) => `charts/${f}`),
      ...readdirSync(path.join(ROOT, 'config')).filter((f) => f.endsWith('.ts')).map((f) => `config/${f}`), ...walk('lib')];
    const alt = ids.join('|');
    const found: Record<string, string[]> = {};
    for (const file of sources) {
      const text = read(file);
      const known = [
        ...[...text.matchAll(new RegExp(`capabilities\\??\\.(${alt})\\b`, 'g'))].map((m) => m[1]),
        ...[...text.matchAll(new RegExp(`\\[\\s*'(?:${alt})'(?:\\s*,\\s*'(?:${alt})')+\\s*\\]`, 'g'))].flatMap((m) => [...m[0].matchAll(/'(\w+)'/g)].map((x) => x[1])),
        // A unit's folder or a capability's lib/ folder imported by a file outside the units.
        ...(file.startsWith('lib/') ? [] : [...text.matchAll(/from '(?:\.\.?\/)+(?:lib|charts\/capabilities|capabilities)\/([\w-]+)/g)].map((m) => m[1]).filter((u) => units.includes(u))
          .map((u) => ids.find((id) => kebab(id) === u)!)),
      ];
      if (known.length > 0) found[file] = sorted(known);
    }
    const table = section(doc, '### Where a particular capability is known outside its unit').split('\n').filter((l) => /^\| `/.test(l));
    const listed = Object.fromEntries(table.map((row) => {
      const [, file, knows] = row.split('|');
      return [file.trim().replace(/`/g, ''), sorted([...knows.matchAll(/`(\w+)`/g)].map((m) => m[1]))];
    }));
    expect(listed).toEqual(found);
  });

  test('its ports table is PORT_PROVIDERS, and the add-on contracts', () => {
    const rows = section(doc, '### Ports').split('\n').filter((l) => /^\| `/.test(l)).map((r) => r.split('|').map((c) => c.trim()));
    expect(Object.fromEntries(rows.map(([, port, provider]) => [port.replace(/`/g, ''), provider])))
      .toEqual({ ...PORT_PROVIDERS, addons: 'gitops' });
  });

  test('its pod extension point table is every method that extends a pod', () => {
    const methods = Object.getOwnPropertyNames(PodExtensionPoint.prototype).filter((m) => /^(add|declare|wrap)/.test(m));
    expect(sorted(firstColumn(section(doc, '## The pod extension point')))).toEqual(sorted(methods));
  });

  test('no shipped capability is planned (its section would accept only false)', () => {
    expect(ids.filter((id) => (SECTIONS as Record<string, SectionSpec>)[id].schema === undefined)).toEqual([]);
    expect(plugs).toContain('no shipped capability is planned');
  });
});

describe('CONTRIBUTING.md, "Add a capability": the recipe is checked against the code', () => {
  const recipe = section(read('CONTRIBUTING.md'), '## Add a capability');
  const items = recipe.split('\n').reduce<string[]>((acc, line) => {
    if (/^\d+\. /.test(line)) acc.push(line);
    else if (acc.length > 0 && /^ {2,}\S/.test(line)) acc[acc.length - 1] += ` ${line.trim()}`;
    return acc;
  }, []);
  /** The paths an item names, and the registries written `path` (`NAME`). */
  const pathsOf = (item: string) => [...item.matchAll(/`([\w./<>-]+\/[\w./<>-]*)`/g)].map((m) => m[1]);
  const registries = items.flatMap((item) => [...item.matchAll(/`([\w./-]+\.ts)` \(`(\w+)`/g)].map((m) => ({ file: m[1], name: m[2], conditional: item.includes('only when') })));
  /** The objects keyed by capability id, by registry name. */
  const KEYED: Record<string, object> = { SECTIONS, CAPABILITIES, CHART_WAVES };

  test('the worked example is the fixture capability: a section and a unit beyond the real ones', () => {
    expect(recipe).toContain('`test/fixtures/capabilities.ts`');
    const extra = Object.keys(FIXTURE_SECTIONS).filter((id) => !ids.includes(id));
    expect(extra.length).toBeGreaterThan(0);
    expect(recipe).toContain(`\`${extra[0]}\``);
    const unit = (FIXTURE_UNITS as unknown as Record<string, Capability<unknown>>)[extra[0]];
    expect(unit.id).toBe(extra[0]);
    for (const hook of ['extendPod', 'flows', 'charts'] as const) expect(typeof unit[hook]).toBe('function');
  });

  test('every registry it names exists and exports what it names; those keyed by capability hold every registered capability', () => {
    expect(registries.length).toBeGreaterThan(0);
    for (const { file, name } of registries) expect(read(file)).toMatch(new RegExp(`export (const|interface|type) ${name}\\b`));
    for (const { name } of registries.filter((r) => r.name in KEYED)) {
      const keys = Object.keys(KEYED[name]);
      // CHART_WAVES leaves gitops out on purpose: its type is Exclude<CapabilityId, 'gitops'> (its charts are the Argo CD objects).
      const expected = name === 'CHART_WAVES' ? ids.filter((id) => id !== 'gitops') : ids;
      expect({ name, missing: expected.filter((id) => !keys.includes(id)) }).toEqual({ name, missing: [] });
    }
    expect(read('charts/capabilities/gitops/sync-waves.ts')).toContain("Exclude<CapabilityId, 'gitops'>");
  });

  test('every registry the code keys by capability id is in the recipe', () => {
    const sources = ['config/sections/index.ts', ...readdirSync(path.join(ROOT, 'charts/capabilities'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts')).map((f) => `charts/capabilities/${f}`)];
    const inCode: string[] = [];
    for (const file of sources) {
      const text = read(file);
      for (const m of text.matchAll(/type CapabilityId = keyof typeof (\w+)/g)) inCode.push(`${file} ${m[1]}`);
      for (const m of text.matchAll(/export const (\w+)\s*:\s*([^=]+)=/g)) if (/\bCapability(Id|Units)\b/.test(m[2])) inCode.push(`${file} ${m[1]}`);
    }
    expect(inCode.length).toBeGreaterThanOrEqual(3);
    expect(inCode.filter((r) => !registries.some(({ file, name }) => `${file} ${name}` === r))).toEqual([]);
  });

  test('every per-capability file it names exists for every registered capability, and each spec is in an aggregator', () => {
    const templates = items.filter((item) => !item.includes('only when')).flatMap(pathsOf).filter((p) => /<(id|file)>/.test(p) && !/<(?!id>|file>)/.test(p));
    expect(templates.length).toBeGreaterThan(0);
    const missing = ids.flatMap((id) => templates.map((t) => t.replace(/<id>/g, id).replace(/<file>/g, kebab(id))).filter((p) => !exists(p.replace(/\/$/, ''))));
    expect(missing).toEqual([]);
    const aggregators = readdirSync(path.join(ROOT, 'test/charts/capabilities')).filter((f) => f.endsWith('.test.ts'))
      .map((f) => read(`test/charts/capabilities/${f}`)).join('\n');
    for (const id of ids) expect(aggregators).toContain(`require('./${kebab(id)}.spec')`);
  });

  test('every plain path it names exists', () => {
    const plain = items.flatMap(pathsOf).filter((p) => !p.includes('<'));
    expect(plain.filter((p) => !exists(p.replace(/\/$/, '')))).toEqual([]);
  });
});

describe('docs/validation.md', () => {
  test('its rule table is the gate\'s rules, in order, each with what it requires', () => {
    const rows = section(read('docs/validation.md'), '## Validation gate').split('\n').filter((l) => /^\| `[a-z-]+` \| /.test(l))
      .map((l) => { const [id, requires] = l.split(' | ').map((c) => c.replace(/^\| /, '').replace(/ \|$/, '')); return [id.replace(/`/g, ''), requires]; });
    expect(rows).toEqual(ALL_RULES.map((r) => [r.id, r.requires]));
  });
});

describe('docs/security.md', () => {
  const text = read('docs/security.md');
  /** The attackers of the threat model: the `### Against …` sections. */
  const attackers = [...text.matchAll(/^### Against (.+)$/gm)].map((m) => m[1]);

  test('every test it names exists: each quoted title after a test file is a title in that file', () => {
    const missing: string[] = [];
    let cited = 0;
    for (const line of withoutFences(text).split('\n')) {
      // A table cell (or a line of prose): a test file, then the titles of its tests (a trailing … cites the start of one).
      for (const cell of line.split('|')) {
        let file: string | undefined;
        for (const m of cell.matchAll(/`(test\/[^`\s]+\.ts)`|"([^"]+)"/g)) {
          if (m[1] !== undefined) {
            file = m[1];
            continue;
          }
          if (file === undefined) continue;
          cited += 1;
          const source = read(file).replace(/\\'/g, "'");
          if (!source.includes(`'${m[2].replace(/…$/, '')}`) && !source.includes(m[2].replace(/…$/, ''))) missing.push(`${file}: "${m[2]}"`);
        }
      }
    }
    expect(cited).toBeGreaterThan(40);
    expect(missing).toEqual([]);
  });

  test('a defence table per attacker of the threat model, each row with its file, config and test; then the residual risks', () => {
    expect(attackers).toHaveLength(4);
    for (const attacker of attackers) {
      const rows = section(text, `### Against ${attacker}`).split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| defence') && !l.startsWith('| ---'));
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        const cells = row.split(' | ');
        expect({ row: cells[0], cells: cells.length, where: /`(lib|config|charts)\//.test(cells[2]), test: /`test\//.test(cells[4]) })
          .toEqual({ row: cells[0], cells: 5, where: true, test: true });
      }
    }
    expect(text).toContain('\n## Residual risks\n');
  });

  test('the README\'s threat model names the same attackers, and links the page', () => {
    const model = section(read('README.md'), '## Threat model');
    expect(model).toContain('](docs/security.md)');
    for (const attacker of attackers) expect(model.toLowerCase()).toContain(`**${attacker.toLowerCase()}`);
  });
});
