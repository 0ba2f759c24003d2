/**
 * `npm run publish`: against a temporary GitOps checkout. In process; the one child process
 * is real git, telling a dirty folder apart (everything else gets a stub of `git status`).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { GitStatus, gitStatus, run } from '../../charts/publish';
import { formatSummary } from '../../charts/review';
import { compareOutputs, objectRef } from '../../lib/changes';
import { renderEnvironment } from '../../charts/synthesize';
import { loadEnvironment } from '../../config/load';
import { CONFIG_DIR, stripSection, withOwnAddons } from '../helpers';

const ENV = 'dev';
const GITOPS = loadEnvironment(CONFIG_DIR, ENV).capabilities.gitops!;
/** Where the environment is published: its gitops.repository.path (the shipped one has gitops on). */
const FOLDER = GITOPS.repository.path;
const clean: GitStatus = () => '';

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'pronto-publish-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every file under `dir`, path → contents. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string) => {
    for (const name of readdirSync(at).sort()) {
      const file = path.join(at, name);
      if (statSync(file).isDirectory()) walk(file);
      else out[path.relative(dir, file)] = readFileSync(file, 'utf8');
    }
  };
  walk(dir);
  return out;
}

function capture() {
  const io = { out: [] as string[], err: [] as string[] };
  return { io, sink: { out: (t: string) => io.out.push(t), err: (t: string) => io.err.push(t) } };
}

/** A config folder holding a copy of the shipped `env`, edited by `edit`. */
function configCopy(name: string, edit: (text: string) => string = (t) => t): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${ENV}.yaml`), edit(readFileSync(path.join(CONFIG_DIR, `${ENV}.yaml`), 'utf8')));
  return dir;
}

describe('npm run publish', () => {
  const checkout = () => mkdtempSync(path.join(work, 'checkout-'));
  /**
   * The shipped environment published once into a checkout of its own, what it printed and its
   * exit code: the first test checks it; the tests that need an earlier publish start from a copy
   * of it (the same files `run` writes) instead of rendering and writing it again.
   */
  let first: { to: string; io: { out: string[]; err: string[] }; code: number } | undefined;
  const firstPublish = () => {
    if (!first) {
      const to = checkout();
      const { io, sink } = capture();
      first = { to, io, code: run(['--env', ENV, '--to', to, '--config', CONFIG_DIR], sink, clean) };
    }
    return first;
  };
  /** `to` holding what the first publish wrote, as though published there; checked to be a successful publish. */
  const publishedInto = (to: string) => {
    const { to: from, code } = firstPublish();
    expect(code).toBe(0);
    cpSync(from, to, { recursive: true });
  };

  test('writes exactly what synth renders into the environment\'s folder and reports every object as added', () => {
    const { to, io, code } = firstPublish();
    expect(code).toBe(0);
    const rendered = renderEnvironment(loadEnvironment(CONFIG_DIR, ENV));
    const written = snapshot(path.join(to, FOLDER));
    expect(Object.keys(written).sort()).toEqual(rendered.files.map((f) => f.name).sort());
    for (const f of rendered.files) expect(written[f.name]).toBe(f.text);
    // Argo CD's objects (argocd/) are published too, and counted.
    expect(io.out.join('\n')).toContain(`published ${ENV} to ${path.join(to, FOLDER)}/:\n  ${rendered.manifests.length} added, 0 changed, 0 removed`);
    expect(io.out.join('\n')).toContain(`\n    Application.argoproj.io: +${GITOPS.argocd.namespace}/`);
    // Nothing left beside it: the staging folder is gone.
    expect(readdirSync(to)).toEqual([FOLDER.split('/')[0]]);
    expect(readdirSync(path.join(to, path.dirname(FOLDER)))).toEqual([path.basename(FOLDER)]);
  });

  test('without gitops, publishes to the folder named after the environment', () => {
    const to = checkout();
    const plain = configCopy('plain', (t) => withOwnAddons(stripSection(t, 'gitops')));
    const { io, sink } = capture();
    expect(run(['--env', ENV, '--to', to, '--config', plain], sink, clean)).toBe(0);
    expect(readdirSync(to)).toEqual([ENV]);
    expect(io.out.join('\n')).toContain(`published ${ENV} to ${path.join(to, ENV)}/:`);
    expect(readdirSync(path.join(to, ENV))).not.toContain('argocd');
  });

  test('replaces the folder: changed and removed objects are reported by kind and name, stale files disappear', () => {
    const to = checkout();
    publishedInto(to);
    // A file of an older publish, with an object synth no longer makes.
    writeFileSync(path.join(to, FOLDER, 'old.k8s.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leftover\n  namespace: pronto\n');
    const bumped = configCopy('bumped', (t) => t.replace(/(order-service:\n(?:.*\n)*?\s+image: \{ tag: )[^,]+/, '$1 9.9.9'));
    const { io, sink } = capture();
    expect(run(['--env', ENV, '--to', to, '--config', bumped], sink, clean)).toBe(0);
    const out = io.out.join('\n');
    expect(out).toMatch(/0 added, \d+ changed, 1 removed/);
    expect(out).toContain('  ConfigMap: -pronto/leftover');
    expect(out).toMatch(/ {2}Deployment\.apps: .*~pronto\/order-service/);
    expect(readdirSync(path.join(to, FOLDER))).not.toContain('old.k8s.yaml');
    expect(readFileSync(path.join(to, FOLDER, 'services.k8s.yaml'), 'utf8')).toContain('order-service:9.9.9');
  });

  test('an update the API server refuses is refused, with its remedy, until the operator says it is done (--remedied)', () => {
    const to = checkout();
    publishedInto(to);
    const before = snapshot(to);
    // Redis from an in-memory Deployment to a StatefulSet with a volume: the same name, another kind.
    const persistent = configCopy('persistent', (t) => t.replace(/^( {2}redis:\n {4}image: .*\n)/m, '$1    persistence: { size: 1Gi }\n'));
    const { io, sink } = capture();
    expect(run(['--env', ENV, '--to', to, '--config', persistent], sink, clean)).toBe(1);
    const err = io.err.join('\n');
    expect(err).toContain('Deployment.apps/pronto/redis: becomes StatefulSet.apps/pronto/redis under the same name');
    expect(err).toContain('kubectl delete deployment.apps redis -n pronto');
    expect(err).toContain('--remedied');
    expect(snapshot(to)).toEqual(before);
    const done = capture();
    expect(run(['--env', ENV, '--to', to, '--config', persistent, '--remedied'], done.sink, clean)).toBe(0);
    expect(done.io.out.join('\n')).toContain('REFUSED by the API server on update (1)');
    expect(readFileSync(path.join(to, FOLDER, 'redis.k8s.yaml'), 'utf8')).toContain('kind: StatefulSet');
  });

  test('a first publish shows how to review files git does not track yet', () => {
    const { to, io } = firstPublish();
    expect(io.out.join('\n')).toContain(`Next: review with git -C ${to} add -N ${FOLDER} && git -C ${to} diff -- ${FOLDER}`);
  });

  test('a failed synth or a bad config changes nothing in the checkout', () => {
    const to = checkout();
    publishedInto(to);
    const before = snapshot(to);
    const broken = configCopy('broken', (t) => t.replace(/requests: \{ cpu: "[^"]+"/, 'requests: { cpu: "10m"'));
    const { io, sink } = capture();
    expect(run(['--env', ENV, '--to', to, '--config', broken], sink, clean)).toBe(1);
    expect(io.err.join('\n')).toContain('publish refused, nothing changed');
    expect(io.err.join('\n')).toMatch(/dev\.yaml:\d+: namespace\.quota/);
    expect(snapshot(to)).toEqual(before);
  });

  test('refuses a folder Pronto did not write, and a missing checkout', () => {
    const to = checkout();
    mkdirSync(path.join(to, FOLDER), { recursive: true });
    writeFileSync(path.join(to, FOLDER, 'README.md'), 'hand-written\n');
    const { io, sink } = capture();
    expect(run(['--env', ENV, '--to', to, '--config', CONFIG_DIR], sink, clean)).toBe(1);
    expect(io.err.join('\n')).toContain('exists and was not written by Pronto');
    expect(readdirSync(path.join(to, FOLDER))).toEqual(['README.md']);
    expect(run(['--env', ENV, '--to', path.join(work, 'nowhere'), '--config', CONFIG_DIR], sink, clean)).toBe(1);
    expect(run(['--env', ENV], sink, clean)).toBe(1);
  });

  test('refuses when the folder has uncommitted changes (real git status), and changes nothing', () => {
    const to = checkout();
    // An empty repository, made by hand (what git init writes), so git runs only once.
    mkdirSync(path.join(to, '.git', 'objects'), { recursive: true });
    mkdirSync(path.join(to, '.git', 'refs', 'heads'), { recursive: true });
    writeFileSync(path.join(to, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(path.join(to, '.git', 'config'), '[core]\n\trepositoryformatversion = 0\n\tbare = false\n');
    // An earlier publish that was never committed: untracked, so publishing again would lose it.
    publishedInto(to);
    writeFileSync(path.join(to, FOLDER, 'services.k8s.yaml'), 'edited by hand\n');
    const before = snapshot(to);
    const { io, sink } = capture();
    expect(run(['--env', ENV, '--to', to, '--config', CONFIG_DIR], sink, gitStatus)).toBe(1);
    const err = io.err.join('\n');
    expect(err).toContain('has uncommitted changes');
    expect(err).toContain(`?? ${FOLDER}/services.k8s.yaml`);
    expect(snapshot(to)).toEqual(before);
  });
});

describe('the diff summary', () => {
  const cm = (name: string, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'pronto' }, data });
  test('tells added, changed and removed objects apart, by kind', () => {
    const diff = compareOutputs([cm('a', { x: '1' }), cm('b', { x: '1' }), cm('c', {})], [cm('a', { x: '1' }), cm('b', { x: '2' }), cm('d', {})]);
    expect({ added: diff.added.map(objectRef), changed: diff.changed.map((c) => [c.ref, c.paths]), removed: diff.removed.map(objectRef) })
      .toEqual({ added: ['ConfigMap/pronto/d'], changed: [['ConfigMap/pronto/b', ['data.x']]], removed: ['ConfigMap/pronto/c'] });
    expect(formatSummary(diff)).toEqual(['1 added, 1 changed, 1 removed', '  ConfigMap: +pronto/d, ~pronto/b, -pronto/c']);
    expect(formatSummary(compareOutputs([cm('a', {})], [cm('a', {})]))).toEqual(['no object changed']);
  });
});
