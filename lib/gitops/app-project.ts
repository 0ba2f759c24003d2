import { Construct } from 'constructs';
import { AppProject } from '../../imports/argoproj.io';
import { ANNOTATION_FOREIGN_NAMESPACE, recommendedLabels } from '../core';

/** An API group and kind, as an AppProject allows them (`group` is `""` for the core group). */
export interface GroupKind {
  readonly group: string;
  readonly kind: string;
}

/** Where an Application may deploy: a cluster and a namespace. */
export interface Destination {
  /** API server URL, e.g. `https://kubernetes.default.svc`. */
  readonly server: string;
  /** A namespace, or `*` for any. */
  readonly namespace: string;
}

export interface ProjectProps {
  /** AppProject name. */
  readonly name: string;
  /** Argo CD's namespace, where the AppProject lives. */
  readonly namespace: string;
  /** One line for the Argo CD UI. */
  readonly description: string;
  /** Git or Helm repositories its Applications may read. */
  readonly sourceRepos: readonly string[];
  /** Clusters and namespaces its Applications may deploy to. */
  readonly destinations: readonly Destination[];
  /**
   * Cluster-scoped kinds its Applications may create, whatever their name (Argo CD cannot
   * tell one Namespace from another). Argo CD refuses any other.
   * @default - none: namespaced objects only
   */
  readonly clusterResources?: readonly GroupKind[];
  /**
   * Namespaced kinds its Applications may create; Argo CD refuses any other. Required: an
   * absent list would allow every namespaced kind, RBAC and Argo CD's own included; an
   * empty one allows none.
   */
  readonly namespaceResources: readonly GroupKind[];
  /**
   * Report objects in the destination namespaces that no Application manages (hand-applied
   * YAML) as warnings in the UI.
   * @default true
   */
  readonly warnOnOrphanedResources?: boolean;
  /**
   * Annotations of the AppProject, such as the validation gate's waivers
   * (`pronto.io/waive-<rule>: "<why>"`).
   * @default - none
   */
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * An Argo CD AppProject: the boundary of what its Applications may read and create. An
 * Application may name any project, so this boundary holds only while no Application
 * syncs AppProjects: they carry no sync wave, and are applied by an Argo CD administrator.
 * Names and kinds are sorted, so the object does not change when the order they were
 * found in does.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/projects/
 */
export class Project extends Construct {
  public readonly name: string;
  public readonly warnOnOrphanedResources: boolean;
  public readonly resource: AppProject;

  public constructor(scope: Construct, id: string, props: ProjectProps) {
    super(scope, id);
    this.name = props.name;
    this.warnOnOrphanedResources = props.warnOnOrphanedResources ?? true;
    if (props.sourceRepos.length === 0) throw new Error(`${this.node.path}: an AppProject needs at least one source repository`);
    if (props.destinations.length === 0) throw new Error(`${this.node.path}: an AppProject needs at least one destination`);
    this.resource = new AppProject(this, 'Resource', {
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: recommendedLabels({ name: props.name, component: 'gitops' }),
        annotations: { [ANNOTATION_FOREIGN_NAMESPACE]: 'Argo CD', ...props.annotations },
      },
      spec: {
        description: props.description,
        sourceRepos: [...new Set(props.sourceRepos)].sort(),
        destinations: sortedUnique(props.destinations, (d) => `${d.server} ${d.namespace}`),
        clusterResourceWhitelist: props.clusterResources && props.clusterResources.length > 0 ? uniqueGroupKinds(props.clusterResources) : undefined,
        namespaceResourceWhitelist: uniqueGroupKinds(props.namespaceResources),
        orphanedResources: this.warnOnOrphanedResources ? { warn: true } : undefined,
      },
    });
  }
}

/** `kinds` without repeats, sorted by group and kind (as a whitelist lists them). */
export function uniqueGroupKinds(kinds: readonly GroupKind[]): GroupKind[] {
  return sortedUnique(kinds.map((k) => ({ group: k.group, kind: k.kind })), (g) => `${g.group}/${g.kind}`);
}

function sortedUnique<T>(items: readonly T[], key: (item: T) => string): T[] {
  const byKey = new Map(items.map((item) => [key(item), item]));
  return [...byKey.keys()].sort().map((k) => ({ ...byKey.get(k)! }));
}
