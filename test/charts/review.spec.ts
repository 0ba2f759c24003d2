/**
 * Every change applies: the apply check (lib/changes, charts/review.ts) on the shipped
 * environments. A release of every image passes it; the changes Kubernetes refuses are
 * found with their remedy; objects left behind where nothing prunes are listed with their
 * command; `npm run diff` and `npm run publish` report all of it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { run as diff } from '../../charts/diff';
import { changesSince, formatActions, prunes, readOutput, renderedOutput, review } from '../../charts/review';
import { renderEnvironment, writeEnvironment } from '../../charts/synthesize';
import { EnvironmentConfig, parseEnvironment } from '../../config/load';
import { Document, parseDocument } from 'yaml';
import { promote } from '../../config/promote';
import { compareOutputs, objectRef } from '../../lib/changes';
import { Release } from '../../lib/core/release';
import { CONFIG_DIR, ENVIRONMENTS, renderText } from '../helpers';

const text = (env: string) => readFileSync(path.join(CONFIG_DIR, `${env}.yaml`), 'utf8');
const load = (env: string, body: string): EnvironmentConfig => parseEnvironment(body, `config/${env}.yaml`);
/** One render per environment text (shared with the other suites of the registry): the suite compares many changes against the same shipped outputs. */
const rendered = (env: string, body: string) => renderText(body, `config/${env}.yaml`);
const output = (config: EnvironmentConfig) => renderedOutput(renderEnvironment(config, { gate: false }));
/** The shipped environment's output, rendered once for the suite. */
const shippedOutput = (env: string) => renderedOutput(rendered(env, text(env)));

/** The next release: every image tag's last version number + 1, every git SHA another. */
function nextRelease(body: string): string {
  // The last number of the leading version: 16.4-walg3.0.9 → 16.5-walg3.0.9, 1.4.2 → 1.4.3.
  const bump = (tag: string) => tag.replace(/^(v?(?:\d+\.)*)(\d+)/, (_m, head: string, last: string) => `${head}${Number(last) + 1}`);
  return body
    .replace(/(\btag:\s*)([^\s,}]+)/g, (_m, key: string, tag: string) => `${key}${bump(tag)}`)
    .replace(/(\bgitSha:\s*)([0-9a-f]{7,40})/g, (_m, key: string, sha: string) => `${key}${[...sha].reverse().join('')}`);
}

describe.each(ENVIRONMENTS)('%s', (env) => {
  const config = load(env, text(env));
  const before = shippedOutput(env);

  test('a release of every image (tags and git SHAs) applies: nothing frozen changes, and every catalog service restarts', () => {
    const next = load(env, nextRelease(text(env)));
    expect(JSON.stringify(next.services.map((s) => s.release))).not.toEqual(JSON.stringify(config.services.map((s) => s.release)));
    const r = review(next, before, output(next));
    expect(r.refusals).toEqual([]);
    const restarted = r.restarts.map((x) => x.ref);
    for (const svc of next.services) expect(restarted.some((ref) => ref.startsWith('Deployment.apps/') && ref.split('/').pop()!.startsWith(svc.name))).toBe(true);
    // The data tier's StatefulSets restart with their new images, and apply.
    expect(r.restarts.filter((x) => x.stateful).length).toBeGreaterThan(0);
    // A release changes no AppProject: nothing for an Argo CD administrator to apply.
    expect(r.projects).toEqual([]);
  });

  test('objects that leave the output are listed with their delete command exactly when the sync does not prune them', () => {
    const off = load(env, text(env).replace(/^backups:\n(?: .*\n|\n)*/m, 'backups: false\n'));
    const r = review(off, before, output(off));
    const gone = r.changes.removed.map(objectRef);
    expect(gone.filter((ref) => ref.startsWith('CronJob.batch/')).length).toBe(config.capabilities.backups ? 5 - (config.capabilities.backups.heartbeat === false ? 1 : 0) : 0);
    if (prunes(off)) expect(r.leftBehind).toEqual([]);
    else expect(r.leftBehind.map((x) => x.ref)).toEqual(gone);
    for (const x of r.leftBehind) expect(x.command).toMatch(/^kubectl delete [a-z0-9.]+ [a-z0-9-]+( -n [a-z0-9-]+)?$/);
  });
});

test('the shipped environments say whether their sync prunes: prod does not', () => {
  expect(prunes(load('prod', text('prod')))).toBe(false);
  expect(prunes(load('staging', text('staging')))).toBe(true);
});

test('Redis turned from a StatefulSet into a Deployment is refused: the old one would keep running beside the new', () => {
  const config = load('prod', text('prod'));
  expect(config.capabilities.database!.redis.persistence).not.toBe(false);
  const cache = load('prod', text('prod').replace(/^(\s+persistence:).*$/m, '$1 false'));
  const r = review(cache, shippedOutput('prod'), output(cache));
  expect(r.refusals.map((x) => [x.ref, x.change])).toContainEqual(['StatefulSet.apps/pronto/redis', 'becomes Deployment.apps/pronto/redis under the same name']);
});

test('Vault policies that change are reported for the administrators to apply before the sync', () => {
  const moved = load('staging', text('staging').replace(/(\bprefix:\s*)(\S+)/, '$1moved'));
  const r = review(moved, shippedOutput('staging'), output(moved));
  expect(r.vault.changed.length + r.vault.added.length).toBeGreaterThan(0);
  expect([...r.vault.changed, ...r.vault.added].every((f) => f.startsWith('vault/'))).toBe(true);
});

test('AppProjects that change are reported for an Argo CD administrator to apply before the sync (no Application syncs them)', () => {
  // Without tracing the application folder renders no Role or RoleBinding: the Pronto project no longer allows them.
  const untraced = load('staging', text('staging').replace(/^tracing:\n(?: .*\n|\n)*/m, 'tracing: false\n'));
  expect(untraced.capabilities.tracing).toBeUndefined();
  const r = review(untraced, shippedOutput('staging'), output(untraced));
  expect(r.projects).toEqual(['~argocd/pronto-staging']);
  const actions = formatActions(r).join('\n');
  expect(actions).toContain('PROJECTS (1): Argo CD AppProjects change, and no Application syncs them; an Argo CD administrator reviews and applies them (kubectl apply -k argocd/projects of this folder;');
  expect(actions).toContain('\n  ~argocd/pronto-staging');
});

describe('npm run diff', () => {
  let work: string;
  beforeAll(() => { work = mkdtempSync(path.join(tmpdir(), 'pronto-diff-')); });
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const capture = () => {
    const io = { out: [] as string[], err: [] as string[] };
    return { io, sink: { out: (t: string) => io.out.push(t), err: (t: string) => io.err.push(t) } };
  };
  /** A config folder with the prod file as `body`, and the folder the shipped prod renders into. */
  const setUp = (name: string, body: string) => {
    const dir = path.join(work, name);
    mkdirSync(path.join(dir, 'config'), { recursive: true });
    writeFileSync(path.join(dir, 'config', 'prod.yaml'), body);
    writeEnvironment(rendered('prod', text('prod')), path.join(dir, 'live'));
    return dir;
  };

  test('the same output: nothing changed, exit 0', () => {
    const dir = setUp('same', text('prod'));
    const { io, sink } = capture();
    expect(diff(['--env', 'prod', '--config', path.join(dir, 'config'), '--against', path.join(dir, 'live')], sink)).toBe(0);
    expect(io.out.join('\n')).toContain('no object changed');
  });

  test('a refused change: exit 1, the remedy, and every hunk of the field diff names its object', () => {
    const dir = setUp('refused', text('prod').replace(/^(\s+persistence:).*$/m, '$1 false'));
    const { io, sink } = capture();
    expect(diff(['--env', 'prod', '--config', path.join(dir, 'config'), '--against', path.join(dir, 'live')], sink)).toBe(1);
    const out = io.out.join('\n');
    expect(out).toContain('REFUSED by the API server on update');
    expect(out).toContain('kubectl delete statefulset.apps redis -n pronto --cascade=orphan');
    expect(out).toContain('LEFT BEHIND');
    const hunks = out.split('\n').filter((l) => l.startsWith('@@'));
    expect(hunks.length).toBeGreaterThan(0);
    for (const h of hunks) expect(h).toMatch(/^@@ [A-Za-z.]+\/[a-z0-9-]+(\/[a-z0-9-]+)? -\d+,\d+ \+\d+,\d+ @@$/);
  });

  test('a folder that does not exist, or no --env: exit 1 with the reason', () => {
    const { io, sink } = capture();
    expect(diff(['--env', 'prod', '--config', CONFIG_DIR, '--against', path.join(work, 'nowhere')], sink)).toBe(1);
    expect(io.err.join('\n')).toContain('does not exist');
    expect(diff([], sink)).toBe(1);
    expect(io.err.join('\n')).toContain('--env is required');
  });

  test('synth\'s "since the last synth": nothing before a first synth, no change over the same output, the changed objects otherwise', () => {
    const dir = path.join(work, 'since');
    const shipped = rendered('prod', text('prod'));
    expect(changesSince(dir, shipped)).toBeUndefined();
    writeEnvironment(shipped, dir);
    const same = changesSince(dir, shipped)!;
    expect(same.added.length + same.changed.length + same.removed.length).toBe(0);
    const next = load('prod', nextRelease(text('prod')));
    const nextRendered = renderEnvironment(next);
    const changed = changesSince(dir, nextRendered)!;
    expect(changed.changed.map((c) => c.ref)).toEqual(compareOutputs(shipped.manifests, nextRendered.manifests).changed.map((c) => c.ref));
  });

  test('readOutput reads back exactly what was written', () => {
    const dir = path.join(work, 'roundtrip');
    const rendered = renderEnvironment(load('dev', text('dev')));
    writeEnvironment(rendered, dir);
    const back = readOutput(dir);
    const byRef = (ms: readonly object[]) => [...ms].sort((a, b) => objectRef(a).localeCompare(objectRef(b)));
    expect(byRef(back.manifests)).toEqual(byRef(rendered.manifests));
    expect([...back.vaultFiles.keys()].sort()).toEqual(rendered.files.filter((f) => f.name.startsWith('vault/')).map((f) => f.name).sort());
  });
});

describe('the blue-green procedure fits the shipped quotas and applies, end to end (warm, preview, promote, park)', () => {
  const blueGreen = ENVIRONMENTS.flatMap((env) => load(env, text(env)).services
    .filter((s) => s.release.strategy === 'blueGreen').map((s) => [env, s.name] as [string, string]));

  test('some shipped environment uses it', () => expect(blueGreen.length).toBeGreaterThan(0));

  test.each(blueGreen)('%s: %s', (env, service) => {
    let body = text(env);
    const config = load(env, body);
    const live = shippedOutput(env);
    const release = config.services.find((s) => s.name === service)!.release as Extract<Release, { strategy: 'blueGreen' }>;
    const idle = release.activeSlot === 'blue' ? 'green' : 'blue';
    const activeMinimum = release.scaling.kind === 'autoscaling' ? release.scaling.minReplicas : release.scaling.replicas;

    // 1. Warm: the new release on the idle slot, as many pods as the active minimum (the promotion's step 1).
    body = edit(body, (doc) => {
      doc.setIn(['services', service, 'rollout', 'idleReplicas'], activeMinimum);
      doc.setIn(['services', service, 'rollout', 'slots', idle, 'image'], doc.createNode({ tag: '9.9.9', gitSha: 'abcdef1' }, { flow: true }));
    });
    const warm = load(env, body);
    const warmOut = output(warm); // renderEnvironment runs the capacity guard: it throws when the quota is too small
    expect(review(warm, live, warmOut).refusals).toEqual([]);
    // 2. Preview: <svc>-preview selects the warm slot's pods.
    const preview = warmOut.manifests.find((m) => m.kind === 'Service' && m.metadata.name === `${service}-preview`)!;
    const idleDeployment = warmOut.manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === `${service}-${idle}`)!;
    expect(idleDeployment.spec.replicas ?? activeMinimum).toBeGreaterThanOrEqual(activeMinimum);
    for (const [k, v] of Object.entries(preview.spec.selector as Record<string, string>)) expect(idleDeployment.spec.template.metadata.labels[k]).toBe(v);

    // 3. Promote.
    body = promote(body, `config/${env}.yaml`, service).text;
    const promoted = load(env, body);
    const promotedOut = output(promoted);
    expect(review(promoted, warmOut, promotedOut).refusals).toEqual([]);

    // 4. Park the old slot: its HPA leaves the output; where nothing prunes it, the review says to delete it.
    body = edit(body, (doc) => doc.setIn(['services', service, 'rollout', 'idleReplicas'], 0));
    const parked = load(env, body);
    const r = review(parked, promotedOut, output(parked));
    expect(r.refusals).toEqual([]);
    const hpas = r.changes.removed.filter((m) => m.kind === 'HorizontalPodAutoscaler').map((m) => m.metadata.name);
    if (release.scaling.kind === 'autoscaling') expect(hpas).toEqual([`${service}-${release.activeSlot}`]);
    if (!prunes(parked)) for (const name of hpas) expect(r.leftBehind.map((x) => x.command)).toContain(`kubectl delete horizontalpodautoscaler.autoscaling ${name} -n ${parked.namespace.name}`);
  });
});

/** `body` (YAML) edited through its document, comments kept. */
function edit(body: string, change: (doc: Document) => void): string {
  const doc = parseDocument(body);
  change(doc);
  return doc.toString();
}
