/**
 * The gitops capability: the Argo CD objects that deliver an environment, kept apart from
 * what they sync (synth writes them to `dist/<env>/argocd/`, outside the environment's
 * kustomization). Per environment: an AppProject fenced to exactly what Pronto emits, the
 * Pronto Application, the platform add-ons as Helm Applications, and a root Application
 * (app of apps) that keeps all of them in sync with the GitOps repository.
 *
 * The Pronto project and Application are derived from the objects the other capabilities
 * built: gitops is the last entry of SECTIONS, so its charts are made after all others.
 */
import { ApiObject, App, Chart } from 'cdk8s';
import { EnvironmentConfig } from '../../../config/load';
import { Manifest, resourceName } from '../../../lib/core';
import { ARGOCD_FOLDER, ArgoCdChart, Destination, GitOpsApplication, GroupKind, uniqueGroupKinds, IgnoredDifference, Project, SyncPolicy } from '../../../lib/gitops';
import { isNamespaced } from '../../../lib/validation';
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
/**
 * Client-side apply keeps the whole object in the `last-applied-configuration` annotation,
 * and all annotations of an object together may not exceed 256 KiB: objects above this
 * size (a large dashboard ConfigMap) need server-side apply.
 */
export const CLIENT_SIDE_APPLY_LIMIT_BYTES = 256 * 1024 - 16 * 1024;

/** Waves of the root Application: projects, then the add-ons (Istio's CRDs first), then Pronto. */
export const ROOT_WAVES = { projects: -2, root: -1, addons: 0, pronto: 10 } as const;

/** Names of an environment's Argo CD objects. */
export function argoNames(config: EnvironmentConfig) {
  const base = `pronto-${config.name}`;
  return {
    project: resourceName(base),
    platformProject: resourceName(base, 'platform'),
    application: resourceName(base),
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
    needsServerSideApply: manifests.some((m) => Buffer.byteLength(JSON.stringify(m)) > CLIENT_SIDE_APPLY_LIMIT_BYTES),
    hasCustomResources: manifests.some((m) => {
      const group = groupOf(m.apiVersion);
      return group.includes('.') && !group.endsWith('.k8s.io');
    }),
  };
}

/** Every object of `app` outside the Argo CD charts, rendered. */
function workloadObjects(app: App): Manifest[] {
  return app.node.findAll()
    .filter((c): c is Chart => Chart.isChart(c) && !ArgoCdChart.isArgoCdChart(c))
    .flatMap((chart) => chart.node.findAll().filter(ApiObject.isApiObject).map(outline));
}

/**
 * Kinds whose size grows with the data they carry (dashboards, rules), so only they can
 * pass the client-side apply limit, and the HPAs, whose targets are read. Rendering just
 * these keeps the project's derivation from resolving every object twice.
 */
const RENDERED_KINDS = new Set(['ConfigMap', 'PrometheusRule', 'HorizontalPodAutoscaler']);

/** An object as {@link emittedObjects} reads it: whole for {@link RENDERED_KINDS}, else its kind, name and namespace. */
function outline(o: ApiObject): Manifest {
  if (RENDERED_KINDS.has(o.kind)) return o.toJson() as Manifest;
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
    const emitted = emittedObjects(workloadObjects(app));
    const addons = addonApplications(section, config, context.ports);
    const writes = contractWrites(addons.map((a) => a.contract));
    const chartProps = { namespace: argocd, disableResourceNameHashes: true };

    const projects = new ArgoCdChart(app, 'argocd-projects', chartProps);
    new Project(projects, 'Pronto', {
      name: names.project, namespace: argocd,
      description: `Pronto ${config.name}: exactly the kinds and namespaces synth emits`,
      sourceRepos: [section.repository.url],
      destinations: emitted.namespaces.map((namespace): Destination => ({ server: section.argocd.destination, namespace })),
      clusterResources: emitted.clusterKinds,
      namespaceResources: emitted.namespacedKinds,
      syncWave: ROOT_WAVES.projects,
    });
    new Project(projects, 'Platform', {
      name: names.platformProject, namespace: argocd,
      // Exactly what the add-ons' contracts say their charts write (lib/addons), and the Applications themselves.
      description: `Pronto ${config.name}: the root Application and the platform add-ons (Helm charts at pinned versions; the kinds and namespaces their contracts list)`,
      sourceRepos: [section.repository.url, ...new Set(addons.map((a) => a.source.repoURL))],
      destinations: [{ server: IN_CLUSTER, namespace: argocd }, ...writes.namespaces.map((namespace) => ({ server: section.argocd.destination, namespace }))],
      clusterResources: writes.clusterScoped.length > 0 ? writes.clusterScoped : undefined,
      namespaceResources: [{ group: 'argoproj.io', kind: 'Application' }, { group: 'argoproj.io', kind: 'AppProject' }, ...writes.namespaced],
      syncWave: ROOT_WAVES.projects,
    });

    const applications = new ArgoCdChart(app, 'argocd-applications', chartProps);
    new GitOpsApplication(applications, 'Root', {
      name: names.root, namespace: argocd, project: names.platformProject, component: 'gitops',
      source: { kind: 'git', repoURL: section.repository.url, revision: section.repository.revision, path: `${section.repository.path}/${ARGOCD_FOLDER}` },
      destination: { server: IN_CLUSTER, namespace: argocd },
      syncPolicy: syncPolicy(section, ['CreateNamespace=false', 'PruneLast=true']),
      syncWave: ROOT_WAVES.root,
    });
    for (const addon of addons) {
      new GitOpsApplication(applications, `Addon-${addon.name}`, {
        name: names.addon(addon.name), namespace: argocd, project: names.platformProject, component: 'platform-addon',
        source: addon.source,
        destination: { server: section.argocd.destination, namespace: addon.namespace },
        syncPolicy: syncPolicy(section, ['CreateNamespace=true', ...(addon.serverSideApply ? ['ServerSideApply=true'] : []), 'RespectIgnoreDifferences=true']),
        ignoreDifferences: addon.ignoreDifferences,
        syncWave: ROOT_WAVES.addons + addon.order,
      });
    }
    new GitOpsApplication(applications, 'Pronto', {
      name: names.application, namespace: argocd, project: names.project, component: 'gitops',
      source: { kind: 'git', repoURL: section.repository.url, revision: section.repository.revision, path: section.repository.path },
      destination: { server: section.argocd.destination, namespace: config.namespace.name },
      syncPolicy: syncPolicy(section, [
        // Pronto ships its namespace, with the Pod Security labels and the quota.
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
