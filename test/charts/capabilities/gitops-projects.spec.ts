/**
 * The Argo CD AppProjects of every shipped environment, attacked. Threat: someone who can
 * write to the GitOps repository (a person, or a pipeline's token). Every object a commit
 * adds is applied by some Application, and an Application can name any project, so the
 * projects' whitelists are the boundary: each project is evaluated here the way Argo CD
 * evaluates it (argo-cd pkg/apis/application/v1alpha1 AppProject.IsGroupKindPermitted and
 * IsResourcePermitted) against objects an attacker would commit, and must permit exactly
 * what its purpose needs.
 */
import * as path from 'path';
import { parse, parseAllDocuments } from 'yaml';
import { RenderedEnvironment } from '../../../charts/synthesize';
import { Manifest } from '../../../lib/core';
import { ENVIRONMENTS, environment, renderShipped } from '../../helpers';

interface GroupKind { readonly group: string; readonly kind: string }
interface Destination { readonly server?: string; readonly name?: string; readonly namespace: string }
interface ProjectSpec {
  readonly sourceRepos: string[];
  readonly destinations: Destination[];
  readonly clusterResourceWhitelist?: GroupKind[];
  readonly clusterResourceBlacklist?: GroupKind[];
  readonly namespaceResourceWhitelist?: GroupKind[];
  readonly namespaceResourceBlacklist?: GroupKind[];
}

/**
 * Go's filepath.Match, as Argo CD applies it to whitelist entries and (through glob.Match)
 * to destinations, for the patterns it is used with: `*` (any run of characters) and `?`.
 * Character classes and `!` deny patterns are not modelled: the test asserts the shipped
 * projects use none, so the model is exact for them.
 */
function globMatch(pattern: string, value: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(value);
}
const inList = (gk: GroupKind, list: readonly GroupKind[] = []) => list.some((item) => globMatch(item.kind, gk.kind) && globMatch(item.group, gk.group));
const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');

/**
 * Argo CD's verdict on one object of an Application in `project` deployed to `server`:
 * namespaced objects against namespaceResourceWhitelist (absent: every kind; empty: none)
 * and the destinations; cluster-scoped ones against clusterResourceWhitelist (absent or
 * empty: none) only, whatever their name.
 */
function permits(project: ProjectSpec, object: Manifest, server: string): boolean {
  const gk = { group: groupOf(object.apiVersion), kind: object.kind };
  const namespace: string | undefined = object.metadata.namespace;
  if (namespace !== undefined) {
    const whitelist = project.namespaceResourceWhitelist;
    const whitelisted = whitelist === undefined || (whitelist.length > 0 && inList(gk, whitelist));
    if (!whitelisted || inList(gk, project.namespaceResourceBlacklist)) return false;
    return project.destinations.some((d) => globMatch(d.server ?? '', server) && globMatch(d.namespace, namespace));
  }
  const whitelisted = (project.clusterResourceWhitelist ?? []).length > 0 && inList(gk, project.clusterResourceWhitelist);
  // The Application itself needs a permitted destination on the cluster.
  return whitelisted && !inList(gk, project.clusterResourceBlacklist) && project.destinations.some((d) => globMatch(d.server ?? '', server));
}

/** What each AppProject of an environment is for, by its name. */
type Purpose = 'root' | 'application' | 'guardrails' | 'platform';
const purposeOf = (env: string, name: string): Purpose | undefined => ({
  [`pronto-${env}`]: 'application' as const,
  [`pronto-${env}-root`]: 'root' as const,
  [`pronto-${env}-guardrails`]: 'guardrails' as const,
  [`pronto-${env}-platform`]: 'platform' as const,
})[name];

/** What an attacker with a commit would add, in the environment's namespaces. */
function dangerousObjects(ns: string, argocd: string, repo: string, env: string): Record<string, Manifest> {
  const container = { name: 'x', image: 'docker.io/library/busybox:1.36' };
  return {
    'a ClusterRoleBinding to cluster-admin': {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'pwn' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'order-service', namespace: ns }],
    },
    'an AppProject': {
      apiVersion: 'argoproj.io/v1alpha1', kind: 'AppProject', metadata: { name: 'pwn', namespace: argocd },
      spec: { sourceRepos: ['*'], destinations: [{ server: '*', namespace: '*' }], clusterResourceWhitelist: [{ group: '*', kind: '*' }] },
    },
    'an Application in argocd': {
      apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'pwn', namespace: argocd },
      spec: { project: `pronto-${env}-platform`, source: { repoURL: repo, path: 'anywhere' }, destination: { server: 'https://kubernetes.default.svc', namespace: 'kube-system' } },
    },
    'a privileged Pod in pronto': {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', namespace: ns },
      spec: { containers: [{ ...container, securityContext: { privileged: true } }] },
    },
    'a hostPath Pod in pronto': {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'host', namespace: ns },
      spec: { volumes: [{ name: 'root', hostPath: { path: '/' } }], containers: [{ ...container, volumeMounts: [{ name: 'root', mountPath: '/host' }] }] },
    },
    'the pronto Namespace relabelled privileged': {
      apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } },
    },
    'a ResourceQuota in pronto': {
      apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: `${ns}-quota`, namespace: ns }, spec: { hard: { pods: '100000' } },
    },
    // Within the namespace the application team runs anyway; listed so that the matrix shows it.
    'a RoleBinding in pronto': {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'pwn', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'otel-collector' }, subjects: [{ kind: 'ServiceAccount', name: 'order-service', namespace: ns }],
    },
    // The application project must allow Deployments (its purpose). A privileged pod template is refused by
    // Pod Security admission, which the pronto Namespace enforces at restricted; only the guardrails path can
    // relabel it (see the guardrails row above and the last test below).
    'a Deployment with a privileged pod template in pronto': {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'pwn', namespace: ns },
      spec: { selector: { matchLabels: { app: 'pwn' } }, template: { metadata: { labels: { app: 'pwn' } }, spec: { containers: [{ ...container, securityContext: { privileged: true } }] } } },
    },
  };
}

const objectsOf = (text: string): Manifest[] => parseAllDocuments(text).map((d) => d.toJS() as Manifest).filter((m) => m && typeof m === 'object');

/** The objects `kubectl kustomize <folder>` builds (the folder's kustomization lists plain files). */
function folderObjects(rendered: RenderedEnvironment, folder: string): Manifest[] | undefined {
  const file = (name: string) => rendered.files.find((f) => f.name.split(path.sep).join('/') === (folder ? `${folder}/${name}` : name));
  const kustomization = file('kustomization.yaml');
  if (!kustomization) return undefined;
  return (parse(kustomization.text).resources as string[]).flatMap((r) => objectsOf(file(r)!.text));
}

describe.each(ENVIRONMENTS)('the AppProjects of %s, attacked', (env) => {
  const config = environment(env);
  const gitops = config.capabilities.gitops!;
  // The projects as rendered (the shared render of the suites: its gate, and the appproject rule, run too).
  const rendered = renderShipped(env);
  const projects = rendered.manifests.filter((m) => m.kind === 'AppProject') as Array<Manifest & { spec: ProjectSpec }>;
  const server = gitops.argocd.destination;
  const dangerous = dangerousObjects(config.namespace.name, gitops.argocd.namespace, gitops.repository.url, env);
  const permittedBy = (project: ProjectSpec) => Object.entries(dangerous).filter(([, m]) => permits(project, m, server)).map(([what]) => what);
  const rendersRoleBinding = rendered.manifests.some((m) => m.kind === 'RoleBinding' && m.metadata.namespace === config.namespace.name);

  test('there is a project for each purpose, and no other; none uses a pattern or a blacklist (so the model above is exact for them)', () => {
    expect(projects.map((p) => purposeOf(env, p.metadata.name)).sort()).toEqual(['application', 'guardrails', 'platform', 'root']);
    const patterns = projects.flatMap((p) => [...p.spec.destinations.flatMap((d) => [d.server, d.name, d.namespace]),
      ...[...p.spec.clusterResourceWhitelist ?? [], ...p.spec.namespaceResourceWhitelist ?? []].flatMap((e) => [e.group, e.kind])]
      .filter((v) => v !== undefined && /[*?[\]!\\]/.test(v)).map((v) => `${p.metadata.name}: ${v}`));
    expect(patterns).toEqual([]);
    for (const p of projects) expect([p.metadata.name, p.spec.clusterResourceBlacklist, p.spec.namespaceResourceBlacklist]).toEqual([p.metadata.name, undefined, undefined]);
  });

  test('each project permits exactly what its purpose needs of the dangerous objects', () => {
    const matrix = Object.fromEntries(projects.map((p) => [purposeOf(env, p.metadata.name) ?? p.metadata.name, permittedBy(p.spec)]));
    expect(matrix).toEqual({
      // The app of apps: Applications in Argo CD's namespace, nothing else.
      root: ['an Application in argocd'],
      // Only the namespaced kinds the application folder renders: no Pod (we render none directly), no
      // cluster-scoped kind, no quota. Its RoleBinding only where the output has one (the trace collector's).
      application: [...(rendersRoleBinding ? ['a RoleBinding in pronto'] : []), 'a Deployment with a privileged pod template in pronto'],
      // The namespace with its Pod Security labels, the quota and the limits: what this path is for.
      guardrails: ['the pronto Namespace relabelled privileged', 'a ResourceQuota in pronto'],
      // The add-ons' charts render cluster RBAC (their contracts): allowed, but only from their Helm repositories.
      platform: ['a ClusterRoleBinding to cluster-admin'],
    });
  });

  test('a commit reaches only the projects that read the GitOps repository, and none of them permits cluster RBAC or a project', () => {
    const readsGit = (p: ProjectSpec) => p.sourceRepos.some((r) => globMatch(r, gitops.repository.url));
    expect(Object.fromEntries(projects.map((p) => [purposeOf(env, p.metadata.name), readsGit(p.spec)]))).toEqual({
      root: true, application: true, guardrails: true, platform: false,
    });
    for (const p of projects.filter((x) => readsGit(x.spec))) {
      expect([p.metadata.name, permittedBy(p.spec)]).toEqual([p.metadata.name, expect.not.arrayContaining(['a ClusterRoleBinding to cluster-admin'])]);
      expect([p.metadata.name, permittedBy(p.spec)]).toEqual([p.metadata.name, expect.not.arrayContaining(['an AppProject'])]);
    }
    // Nothing whitelists AppProject, by any pattern.
    for (const p of projects) expect([p.metadata.name, permits(p.spec, dangerous['an AppProject'], server)]).toEqual([p.metadata.name, false]);
  });

  test('no Application syncs the projects; each Application\'s project permits every object of the folder it syncs', () => {
    const applications = rendered.manifests.filter((m) => m.kind === 'Application') as any[];
    const base = gitops.repository.path;
    for (const app of applications.filter((a) => a.spec.source.path !== undefined)) {
      const folder = path.posix.relative(base, app.spec.source.path);
      expect([app.metadata.name, folder.startsWith('..')]).toEqual([app.metadata.name, false]);
      const objects = folderObjects(rendered, folder);
      expect([app.metadata.name, objects?.length ?? 0]).toEqual([app.metadata.name, expect.any(Number)]);
      expect(objects!.length).toBeGreaterThan(0);
      expect([app.metadata.name, objects!.filter((m) => m.kind === 'AppProject').length]).toEqual([app.metadata.name, 0]);
      const project = projects.find((p) => p.metadata.name === app.spec.project)!;
      const refused = objects!.filter((m) => !permits(project.spec, m, app.spec.destination.server)).map((m) => `${m.kind}/${m.metadata.name}`);
      expect([app.metadata.name, refused]).toEqual([app.metadata.name, []]);
    }
  });

  test('a privileged pod template, which the application project must allow as a Deployment, is refused by the Namespace only the guardrails path ships', () => {
    const namespace = rendered.manifests.find((m) => m.kind === 'Namespace' && m.metadata.name === config.namespace.name)!;
    expect(namespace.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const owners = projects.filter((p) => permits(p.spec, namespace, server)).map((p) => purposeOf(env, p.metadata.name));
    expect(owners).toEqual(['guardrails']);
  });
});
