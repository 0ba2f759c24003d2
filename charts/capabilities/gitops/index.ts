/**
 * The gitops capability: the Argo CD objects that deliver an environment, kept apart from
 * what they sync (synth writes them to `dist/<env>/argocd/`, outside the environment's
 * kustomization). Per environment, four AppProjects, each fenced to what its purpose needs:
 * the root (Applications in Argo CD's namespace only), the guardrails (the namespace Pronto
 * owns, with its Pod Security labels, quota, limits and admission policies), Pronto's (the
 * namespaced kinds the application folder renders, nothing cluster-scoped) and the platform
 * add-ons' (their Helm repositories, the kinds their contracts list). The projects are in
 * `argocd/projects/`, which no Application syncs: an Argo CD administrator applies them. An
 * Application may name any project, so their whitelists are the boundary of what a commit
 * to the GitOps repository can do. The Applications are in `argocd/applications/`, which
 * the root Application (app of apps) syncs.
 *
 * The projects of Pronto and of its guardrails are derived from the objects the other
 * capabilities built: gitops is the last entry of SECTIONS, so its charts are made after all others.
 */
import { ApiObject, App, Chart } from 'cdk8s';
import { EnvironmentConfig } from '../../../config/load';
import { CLIENT_SIDE_APPLY_LIMIT_BYTES, GUARDRAILS_FOLDER, Manifest, jsonBytes, renderApiObject, resourceName } from '../../../lib/core';
import { ARGOCD_APPLICATIONS_FOLDER, ArgoCdChart, Destination, GitOpsApplication, GroupKind, uniqueGroupKinds, IgnoredDifference, Project, SyncPolicy } from '../../../lib/gitops';
import { WAIVER_PREFIX, appProjectPrivileges, isNamespaced } from '../../../lib/validation';
import { Capability } from '../capability';
import { SectionValue } from '../../../config/sections';
import { AddonContract } from '../../../lib/addons';
import { addonApplications, addonContracts, addonProblems, addonVaultReaders } from './addons';
import { GitopsSection } from '../../../config/sections/gitops';

export * from './addons';
export * from '../../../config/sections/gitops';
export * from './sync-waves';

type Section = SectionValue<'gitops'>;

/** Argo CD's own cluster, where its Applications and AppProjects are. */
export const IN_CLUSTER = 'https://kubernetes.default.svc';
/** Client-side apply's limit (lib/core), as this capability decides on `ServerSideApply=true`. */
export { CLIENT_SIDE_APPLY_LIMIT_BYTES };

/**
 * Waves of the root Application's sync: the root itself, the guardrails (the namespace,
 * its quota and limits, before anything lives in it), the add-ons (Istio's CRDs first), then
 * Pronto. The AppProjects have none: no Application syncs them.
 */
export const ROOT_WAVES = { root: -2, guardrails: -1, addons: 0, pronto: 10 } as const;

/** The rule the AppProjects' waivers name (lib/validation). */
export const PROJECT_RULE = 'appproject-least-privilege';

/** Names of an environment's Argo CD objects. */
export function argoNames(config: EnvironmentConfig) {
  const base = `pronto-${config.name}`;
  return {
    project: resourceName(base),
    guardrailsProject: resourceName(base, 'guardrails'),
    platformProject: resourceName(base, 'platform'),
    rootProject: resourceName(base, 'root'),
    application: resourceName(base),
    guardrails: resourceName(base, 'guardrails'),
    root: resourceName(base, 'root'),
    addon: (name: string) => resourceName(base, name),
  };
}

/** What the Pronto Application deploys, learned from the objects the other charts hold. */
export interface EmittedObjects {
  /** Cluster-scoped kinds (`group` "" for the core group). */
  readonly clusterKinds: GroupKind[];
  /** Namespaced kinds. */
  readonly namespacedKinds: GroupKind[];
  /** Namespaces objects go into. */
  readonly namespaces: string[];
  /** Workloads whose replicas an HPA sets. */
  readonly scaledByHpa: IgnoredDifference[];
  /** Some object is too large for client-side apply. */
  readonly needsServerSideApply: boolean;
  /** Some object is a custom resource (its CRD may come with an add-on in the same bootstrap). */
  readonly hasCustomResources: boolean;
}

const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');

/** Reads what the Application will deploy from `manifests` (the environment's workload objects). */
export function emittedObjects(manifests: readonly Manifest[]): EmittedObjects {
  const kinds = (namespaced: boolean) => uniqueGroupKinds(manifests.filter((o) => isNamespaced(o) === namespaced).map((m) => ({ group: groupOf(m.apiVersion), kind: m.kind })));
  const scaledByHpa = manifests.filter((m) => m.kind === 'HorizontalPodAutoscaler').map((hpa): IgnoredDifference => {
    const target = (hpa.spec as { scaleTargetRef: { apiVersion: string; kind: string; name: string } }).scaleTargetRef;
    return { group: groupOf(target.apiVersion), kind: target.kind, name: target.name, namespace: hpa.metadata.namespace, jsonPointers: ['/spec/replicas'] };
  }).sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`));
  return {
    clusterKinds: kinds(false),
    namespacedKinds: kinds(true),
    namespaces: [...new Set(manifests.filter(isNamespaced).map((m) => m.metadata.namespace as string))].sort(),
    scaledByHpa,
    needsServerSideApply: manifests.some((m) => jsonBytes(m) > CLIENT_SIDE_APPLY_LIMIT_BYTES),
    hasCustomResources: manifests.some((m) => {
      const group = groupOf(m.apiVersion);
      return group.includes('.') && !group.endsWith('.k8s.io');
    }),
  };
}

/** Every object of `charts`, rendered as {@link outline} says. */
function objectsOf(charts: readonly Chart[]): Manifest[] {
  return charts.flatMap((chart) => chart.node.findAll().filter(ApiObject.isApiObject).map(outline));
}

/** The charts of `app` outside Argo CD's: the guardrails (the namespace chart) and the environment's folder. */
function workloadCharts(app: App, namespaceChart: Chart): { guardrails: Chart[]; applied: Chart[] } {
  const charts = app.node.findAll().filter((c): c is Chart => Chart.isChart(c) && !ArgoCdChart.isArgoCdChart(c));
  return { guardrails: charts.filter((c) => c === namespaceChart), applied: charts.filter((c) => c !== namespaceChart) };
}

/** The kinds of a whitelist, for a waiver's reason. */
const kindList = (kinds: readonly GroupKind[]) => kinds.map((k) => k.kind).join(', ');

/** The kinds of a project's whitelists that {@link PROJECT_RULE} objects to: every cluster-scoped one, RBAC, AppProject. */
function privilegedKinds(spec: { clusterResources?: readonly GroupKind[]; namespaceResources: readonly GroupKind[] }): GroupKind[] {
  return [...(spec.clusterResources ?? []), ...spec.namespaceResources.filter((k) => appProjectPrivileges({ namespaceResourceWhitelist: [k] }).length > 0)];
}

/**
 * The waiver of {@link PROJECT_RULE} on a project whose whitelists need it (the gate's
 * own test of them), with `reason`; none when the project is least-privilege already.
 */
function waiverIfNeeded(spec: { clusterResources?: readonly GroupKind[]; namespaceResources: readonly GroupKind[] }, reason: string): Record<string, string> {
  const privileges = appProjectPrivileges({
    clusterResourceWhitelist: spec.clusterResources && spec.clusterResources.length > 0 ? spec.clusterResources : undefined,
    namespaceResourceWhitelist: spec.namespaceResources,
  });
  return privileges.length > 0 ? { [`${WAIVER_PREFIX}${PROJECT_RULE}`]: reason } : {};
}

/**
 * Kinds whose size grows with the data they carry (dashboards, rules), so only they can
 * pass the client-side apply limit, and the HPAs, whose targets are read. Rendering just
 * these keeps the project's derivation from resolving every object twice.
 */
export const RENDERED_KINDS = new Set(['ConfigMap', 'PrometheusRule', 'HorizontalPodAutoscaler']);

/** An object as {@link emittedObjects} reads it: whole for {@link RENDERED_KINDS}, else its kind, name and namespace. */
function outline(o: ApiObject): Manifest {
  if (RENDERED_KINDS.has(o.kind)) return renderApiObject(o);
  return { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) } };
}

function syncPolicy(section: GitopsSection, options: string[]): SyncPolicy {
  const { automated, retry } = section.sync;
  return { automated: automated === false ? undefined : automated, options, retry: { limit: retry.limit, ...retry.backoff } };
}

/** The union of what `contracts` write: the platform project's destinations and kinds. */
export function contractWrites(contracts: readonly AddonContract[]): { namespaces: string[]; clusterScoped: GroupKind[]; namespaced: GroupKind[] } {
  return {
    namespaces: [...new Set(contracts.flatMap((c) => c.writes.namespaces))].sort(),
    clusterScoped: uniqueGroupKinds(contracts.flatMap((c) => c.writes.clusterScoped)),
    namespaced: uniqueGroupKinds(contracts.flatMap((c) => c.writes.namespaced)),
  };
}

export const gitops: Capability<Section> & { readonly id: 'gitops' } = {
  id: 'gitops',

  addons(section) {
    return addonContracts(section);
  },

  check(_section, config, ports) {
    return addonProblems(config, ports);
  },

  // Grafana (kube-prometheus-stack) reads its admin password from Vault: the secrets capability writes its role and policy.
  vaultReaders(_section, _config, ports) {
    return addonVaultReaders(ports);
  },

  charts(app, section, context) {
    const { config } = context;
    const names = argoNames(config);
    const argocd = section.argocd.namespace;
    const repo = section.repository;
    const server = section.argocd.destination;
    const charts = workloadCharts(app, context.namespaceChart);
    const appObjects = objectsOf(charts.applied);
    const emitted = emittedObjects(appObjects);
    const guardrails = emittedObjects(objectsOf(charts.guardrails));
    if (emitted.clusterKinds.length > 0) {
      throw new Error(`cluster-scoped ${kindList(emitted.clusterKinds)} outside the namespace chart: the Pronto AppProject allows no cluster-scoped kind; `
        + `put cluster-scoped objects in the namespace chart (${GUARDRAILS_FOLDER}/, its own project)`);
    }
    const addons = addonApplications(section, config, context.ports, context.graph);
    const writes = contractWrites(addons.map((a) => a.contract));
    const chartProps = { namespace: argocd, disableResourceNameHashes: true };
    const destinations = (namespaces: readonly string[]) => namespaces.map((namespace): Destination => ({ server, namespace }));

    // AppProjects: applied by an Argo CD administrator, never synced. An Application may name any project, so each
    // whitelist is the boundary of what a commit can do through it.
    const projects = new ArgoCdChart(app, 'argocd-projects', { ...chartProps, folder: 'projects' });
    const root = { namespaceResources: [{ group: 'argoproj.io', kind: 'Application' }] };
    new Project(projects, 'Root', {
      name: names.rootProject, namespace: argocd,
      description: `Pronto ${config.name}: the root Application (app of apps): Applications in Argo CD's namespace, from ${repo.path}/${ARGOCD_APPLICATIONS_FOLDER}`,
      sourceRepos: [repo.url],
      destinations: [{ server: IN_CLUSTER, namespace: argocd }],
      ...root,
    });
    const guarded = { clusterResources: guardrails.clusterKinds, namespaceResources: guardrails.namespacedKinds };
    new Project(projects, 'Guardrails', {
      name: names.guardrailsProject, namespace: argocd,
      description: `Pronto ${config.name}: the namespace ${config.namespace.name} with its Pod Security labels, quota and limits, from ${repo.path}/${GUARDRAILS_FOLDER}`,
      sourceRepos: [repo.url],
      destinations: destinations(guardrails.namespaces),
      ...guarded,
      annotations: waiverIfNeeded(guarded, `the namespace ${config.namespace.name} and its guardrails need the cluster-scoped kinds ${kindList(guardrails.clusterKinds)}; `
        + `synced only from ${repo.path}/${GUARDRAILS_FOLDER}, which the platform team reviews (the application folder's project allows no cluster-scoped kind)`),
    });
    const pronto = { namespaceResources: emitted.namespacedKinds };
    const rbac = privilegedKinds(pronto);
    const rbacObjects = appObjects.filter((m) => rbac.some((k) => k.kind === m.kind && k.group === groupOf(m.apiVersion))).map((m) => `${m.kind} ${m.metadata.namespace}/${m.metadata.name}`);
    new Project(projects, 'Pronto', {
      name: names.project, namespace: argocd,
      description: `Pronto ${config.name}: exactly the namespaced kinds and namespaces the application folder (${repo.path}) renders`,
      sourceRepos: [repo.url],
      destinations: destinations(emitted.namespaces),
      ...pronto,
      annotations: waiverIfNeeded(pronto, `the application folder renders ${kindList(rbac)}, namespaced in ${emitted.namespaces.join(', ')} `
        + `(${rbacObjects.join(', ')}); no cluster-scoped kind, no ClusterRole or ClusterRoleBinding`),
    });
    if (addons.length > 0) {
      const platform = { clusterResources: writes.clusterScoped, namespaceResources: writes.namespaced };
      new Project(projects, 'Platform', {
        name: names.platformProject, namespace: argocd,
        // Exactly what the add-ons' contracts say their charts write (lib/addons), from their Helm repositories only.
        description: `Pronto ${config.name}: the platform add-ons (Helm charts at pinned versions; the kinds and namespaces their contracts list)`,
        sourceRepos: [...new Set(addons.map((a) => a.source.repoURL))],
        destinations: destinations(writes.namespaces),
        ...platform,
        annotations: waiverIfNeeded(platform, `the add-ons' charts render ${kindList(privilegedKinds(platform))}, as their contracts list (lib/addons: `
          + `${[...new Set(addons.map((a) => a.contract.chart.name))].join(', ')}); sources are their Helm repositories only, never the GitOps repository`),
      });
    }

    // Applications: the root syncs argocd/applications (this chart); the others what they deliver.
    const applications = new ArgoCdChart(app, 'argocd-applications', { ...chartProps, folder: 'applications' });
    new GitOpsApplication(applications, 'Root', {
      name: names.root, namespace: argocd, project: names.rootProject, component: 'gitops',
      source: { kind: 'git', repoURL: repo.url, revision: repo.revision, path: `${repo.path}/${ARGOCD_APPLICATIONS_FOLDER}` },
      destination: { server: IN_CLUSTER, namespace: argocd },
      syncPolicy: syncPolicy(section, ['CreateNamespace=false', 'PruneLast=true']),
      syncWave: ROOT_WAVES.root,
    });
    new GitOpsApplication(applications, 'Guardrails', {
      name: names.guardrails, namespace: argocd, project: names.guardrailsProject, component: 'gitops',
      source: { kind: 'git', repoURL: repo.url, revision: repo.revision, path: `${repo.path}/${GUARDRAILS_FOLDER}` },
      destination: { server, namespace: config.namespace.name },
      // It ships the namespace itself, with its Pod Security labels.
      syncPolicy: syncPolicy(section, ['CreateNamespace=false', 'PruneLast=true', 'RespectIgnoreDifferences=true']),
      syncWave: ROOT_WAVES.guardrails,
    });
    for (const addon of addons) {
      new GitOpsApplication(applications, `Addon-${addon.name}`, {
        name: names.addon(addon.name), namespace: argocd, project: names.platformProject, component: 'platform-addon',
        source: addon.source,
        destination: { server, namespace: addon.namespace },
        syncPolicy: syncPolicy(section, ['CreateNamespace=true', ...(addon.serverSideApply ? ['ServerSideApply=true'] : []), 'RespectIgnoreDifferences=true']),
        ignoreDifferences: addon.ignoreDifferences,
        syncWave: ROOT_WAVES.addons + addon.order,
      });
    }
    new GitOpsApplication(applications, 'Pronto', {
      name: names.application, namespace: argocd, project: names.project, component: 'gitops',
      source: { kind: 'git', repoURL: repo.url, revision: repo.revision, path: repo.path },
      destination: { server, namespace: config.namespace.name },
      syncPolicy: syncPolicy(section, [
        // The guardrails Application ships the namespace, with the Pod Security labels and the quota.
        'CreateNamespace=false',
        'PrunePropagationPolicy=foreground',
        'PruneLast=true',
        'RespectIgnoreDifferences=true',
        ...(emitted.needsServerSideApply ? ['ServerSideApply=true'] : []),
        ...(emitted.hasCustomResources ? ['SkipDryRunOnMissingResource=true'] : []),
      ]),
      ignoreDifferences: emitted.scaledByHpa,
      syncWave: ROOT_WAVES.pronto,
    });
    return [projects, applications];
  },
};
