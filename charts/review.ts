/**
 * What a new output of one environment does to the output a cluster already holds: the
 * object summary, the updates the API server would refuse (lib/changes), the objects left
 * behind where nothing prunes, the workloads that restart, the field diff of every changed
 * object, and what administrators must apply first: the Vault files, and the Argo CD
 * AppProjects (no Application syncs them). `npm run diff`, `npm run synth` and `npm run
 * publish` all report through here.
 */
import { Dirent, existsSync, readFileSync, readdirSync } from 'fs';
import * as path from 'path';
import { parseAllDocuments, stringify } from 'yaml';
import { EnvironmentConfig } from '../config/load';
import {
  ApplyRefusal, OutputChanges, Removal, Restart, applyRefusals, compareOutputs, objectRef, removals, restarts, unifiedDiff,
} from '../lib/changes';
import { ARGOCD_PROJECTS_FOLDER, Manifest } from '../lib/core';
import { PGBOUNCER_FILES, poolSettingsOf } from '../lib/database';
import { RenderedEnvironment } from './synthesize';

/** The folder of files for Vault's administrators inside an environment's output (capability files). */
const VAULT_FOLDER = 'vault';

/** An environment's output as written: its objects, and its Vault files by relative path. */
export interface WrittenOutput {
  readonly manifests: Manifest[];
  readonly vaultFiles: ReadonlyMap<string, string>;
}

/** Every file under `dir` (recursively), by its `/`-separated path relative to `dir`, in name order; none when `dir` does not exist. */
function filesUnder(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a: Dirent, b: Dirent) => a.name.localeCompare(b.name))) {
      const file = path.join(at, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.isFile()) out.set(path.relative(dir, file).split(path.sep).join('/'), readFileSync(file, 'utf8'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

const isVaultFile = (name: string) => name.startsWith(`${VAULT_FOLDER}/`);
/** A file of manifests kustomize applies (a `*.yaml` that is neither a kustomization nor a Vault file). */
const isManifestFile = (name: string) => name.endsWith('.yaml') && !name.endsWith('kustomization.yaml') && !isVaultFile(name);

/** The objects of YAML text (one file, many documents). */
function parseObjects(text: string): Manifest[] {
  return parseAllDocuments(text).map((doc) => doc.toJS() as Manifest | null)
    .filter((value): value is Manifest => value !== null && typeof value === 'object' && typeof value.kind === 'string');
}

/** Every object of the YAML manifests under `dir` (recursively; kustomizations aside) and its Vault files; empty when `dir` does not exist. */
export function readOutput(dir: string): WrittenOutput {
  const files = [...filesUnder(dir)];
  return {
    manifests: files.filter(([name]) => isManifestFile(name)).flatMap(([, text]) => parseObjects(text)),
    vaultFiles: new Map(files.filter(([name]) => isVaultFile(name))),
  };
}

/**
 * What `rendered` changes in the environment folder `dir` (the previous synth), or undefined
 * when there is none. Only the files whose text differs are parsed: an object in a file
 * that did not change did not change.
 */
export function changesSince(dir: string, rendered: RenderedEnvironment): OutputChanges | undefined {
  if (!existsSync(path.join(dir, 'kustomization.yaml'))) return undefined;
  const now = new Map(rendered.files.filter((f) => isManifestFile(f.name)).map((f) => [f.name, f.text]));
  const was = new Map([...filesUnder(dir)].filter(([name]) => isManifestFile(name)));
  const differing = [...new Set([...now.keys(), ...was.keys()])].filter((f) => now.get(f) !== was.get(f));
  return compareOutputs(differing.flatMap((f) => parseObjects(was.get(f) ?? '')), differing.flatMap((f) => parseObjects(now.get(f) ?? '')));
}

/** The output {@link renderEnvironment} made, in the shape {@link readOutput} reads back. */
export function renderedOutput(rendered: RenderedEnvironment): WrittenOutput {
  return {
    manifests: rendered.manifests,
    vaultFiles: new Map(rendered.files.filter((f) => isVaultFile(f.name)).map((f) => [f.name, f.text])),
  };
}

/**
 * True when the cluster deletes objects that leave the output: Argo CD with automated
 * prune. A hand sync, and `kubectl apply -k` (no gitops), leave them live.
 */
export function prunes(config: EnvironmentConfig): boolean {
  const automated = config.capabilities.gitops?.sync.automated;
  return automated !== undefined && automated !== false && automated.prune;
}

/** Vault files added, changed and removed. */
export interface VaultChanges {
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
}

/** Everything a reviewer needs before the new output goes to the cluster. */
export interface Review {
  readonly changes: OutputChanges;
  /** Updates the API server refuses: the output must not be applied as it is. */
  readonly refusals: readonly ApplyRefusal[];
  /** Objects no longer in the output, with the command that deletes each; listed when nothing prunes them. */
  readonly leftBehind: readonly Removal[];
  readonly restarts: readonly Restart[];
  readonly vault: VaultChanges;
  /**
   * AppProjects added (`+`), changed (`~`) or removed (`-`), as `<mark><namespace>/<name>`: no
   * Application syncs them, so an Argo CD administrator applies them.
   */
  readonly projects: readonly string[];
  readonly prunes: boolean;
  /** PgBouncer's pool settings that change (a service added or removed resizes every pool), as `name before → after`. */
  readonly pools: readonly string[];
}

/** The pool settings of every changed pgbouncer.ini, `<ConfigMap>: name before → after`. */
export function poolChanges(changes: OutputChanges): string[] {
  return changes.changed.filter((c) => c.after.kind === 'ConfigMap' && typeof c.after.data?.[PGBOUNCER_FILES.ini] === 'string').flatMap((c) => {
    const [was, now] = [poolSettingsOf(c.before.data?.[PGBOUNCER_FILES.ini] ?? ''), poolSettingsOf(c.after.data[PGBOUNCER_FILES.ini])];
    return (Object.keys(now) as Array<keyof typeof now>).filter((k) => was[k] !== now[k]).map((k) => `${c.ref}: ${k} ${was[k] ?? '(none)'} → ${now[k]}`);
  });
}

/** Reviews `after` against `before`, the output the cluster holds. */
export function review(config: EnvironmentConfig, before: WrittenOutput, after: WrittenOutput): Review {
  const changes = compareOutputs(before.manifests, after.manifests);
  const files = (m: ReadonlyMap<string, string>) => [...m.keys()].sort();
  return {
    changes,
    refusals: applyRefusals(changes),
    leftBehind: prunes(config) ? [] : removals(changes),
    restarts: restarts(changes),
    vault: {
      added: files(after.vaultFiles).filter((f) => !before.vaultFiles.has(f)),
      changed: files(after.vaultFiles).filter((f) => before.vaultFiles.has(f) && before.vaultFiles.get(f) !== after.vaultFiles.get(f)),
      removed: files(before.vaultFiles).filter((f) => !after.vaultFiles.has(f)),
    },
    projects: projectChanges(changes),
    prunes: prunes(config),
    pools: poolChanges(changes),
  };
}

/** The AppProjects that change, `+`/`~`/`-` and `<namespace>/<name>`. */
export function projectChanges(changes: OutputChanges): string[] {
  const name = (m: Manifest) => `${m.metadata?.namespace}/${m.metadata?.name}`;
  const isProject = (m: Manifest) => m.kind === 'AppProject' && String(m.apiVersion).startsWith('argoproj.io/');
  return [
    ...changes.added.filter(isProject).map((m) => `+${name(m)}`),
    ...changes.changed.filter((c) => isProject(c.after)).map((c) => `~${name(c.after)}`),
    ...changes.removed.filter(isProject).map((m) => `-${name(m)}`),
  ];
}

/** The object summary: totals, then a line per kind (`+` added, `~` changed, `-` removed). */
export function formatSummary(changes: OutputChanges): string[] {
  const total = changes.added.length + changes.changed.length + changes.removed.length;
  if (total === 0) return ['no object changed'];
  const byKind = new Map<string, string[]>();
  const note = (refs: string[], mark: string) => {
    for (const ref of refs) {
      const [kind, ...rest] = ref.split('/');
      byKind.set(kind, [...(byKind.get(kind) ?? []), `${mark}${rest.join('/')}`]);
    }
  };
  note(changes.added.map(objectRef), '+');
  note(changes.changed.map((c) => c.ref), '~');
  note(changes.removed.map(objectRef), '-');
  return [
    `${changes.added.length} added, ${changes.changed.length} changed, ${changes.removed.length} removed`,
    ...[...byKind.keys()].sort().map((kind) => `  ${kind}: ${byKind.get(kind)!.join(', ')}`),
  ];
}

/** What must happen before or after the sync: refusals, objects left behind, restarts, Vault files, AppProjects. */
export function formatActions(r: Review): string[] {
  const out: string[] = [];
  if (r.refusals.length > 0) {
    out.push(`REFUSED by the API server on update (${r.refusals.length}): the sync would fail; do this instead:`);
    for (const x of r.refusals) out.push(`  ${x.ref}: ${x.change}`, `    why: ${x.rule}`, `    do:  ${x.remedy}`);
  }
  if (r.leftBehind.length > 0) {
    out.push(`LEFT BEHIND (${r.leftBehind.length}): no longer in the output, and this environment's sync does not prune; once the sync is done, delete them:`);
    for (const x of r.leftBehind) out.push(`  ${x.command}`);
  } else if (r.changes.removed.length > 0) {
    out.push(`${r.changes.removed.length} object(s) leave the output; Argo CD prunes them on sync.`);
  }
  if (r.restarts.length > 0) {
    out.push(`RESTARTS (${r.restarts.length}): the pod template changes:`);
    for (const x of r.restarts) out.push(`  ${x.ref}${x.stateful ? ' (stateful: its pods restart one by one, with their volumes)' : ''}: ${x.paths.join(', ')}`);
  }
  if (r.pools.length > 0) {
    out.push(`POOLS (${r.pools.length}): PgBouncer's per-replica pools change (max_connections is shared by every database):`, ...r.pools.map((p) => `  ${p}`));
  }
  const vault = [...r.vault.added.map((f) => `+${f}`), ...r.vault.changed.map((f) => `~${f}`), ...r.vault.removed.map((f) => `-${f}`)];
  if (vault.length > 0) {
    out.push(`VAULT (${vault.length}): policies and roles change; a Vault administrator applies them (vault/apply.sh) BEFORE the sync, or the new pods cannot read their secrets:`,
      `  ${vault.join(', ')}`);
  }
  if (r.projects.length > 0) {
    out.push(`PROJECTS (${r.projects.length}): Argo CD AppProjects change, and no Application syncs them; an Argo CD administrator reviews and applies them `
      + `(kubectl apply -k ${ARGOCD_PROJECTS_FOLDER} of this folder; a removed one: kubectl delete appproject <name> -n <namespace>) BEFORE the sync, `
      + 'or Argo CD refuses the objects of kinds they newly allow:', `  ${r.projects.join(', ')}`);
  }
  return out;
}

/** Every changed object's YAML as a unified diff, each hunk naming the object. */
export function formatFieldDiffs(changes: OutputChanges): string[] {
  return changes.changed.flatMap((c) => unifiedDiff(stringify(c.before, { lineWidth: 0 }), stringify(c.after, { lineWidth: 0 }), c.ref));
}
