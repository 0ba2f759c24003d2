import { Construct } from 'constructs';
import { Application, ApplicationSpecIgnoreDifferences, ApplicationSpecSource } from '../../imports/argoproj.io';
import { ANNOTATION_FOREIGN_NAMESPACE, recommendedLabels } from '../core';
import { Destination } from './app-project';
import { setSyncWave } from './sync-wave';

/** A folder of a Git repository (plain YAML or a kustomization). */
export interface GitSource {
  readonly kind: 'git';
  readonly repoURL: string;
  /** Branch, tag or commit. */
  readonly revision: string;
  /** Folder inside the repository. */
  readonly path: string;
}

/** A Helm chart at a pinned version, with values. */
export interface HelmSource {
  readonly kind: 'helm';
  /** Helm repository URL. */
  readonly repoURL: string;
  readonly chart: string;
  /** Exact chart version. */
  readonly version: string;
  /** Helm release name (names most objects the chart makes). */
  readonly releaseName: string;
  /** Helm values (`helm.valuesObject`). @default - the chart's defaults */
  readonly values?: Readonly<Record<string, unknown>>;
}

/** How Argo CD syncs: automated (with or without prune) or by hand, options, and retries. */
export interface SyncPolicy {
  /** Automated sync; `undefined` means an operator syncs by hand. */
  readonly automated?: { readonly prune: boolean; readonly selfHeal: boolean };
  /** `syncOptions`, e.g. `CreateNamespace=false`. */
  readonly options: readonly string[];
  /** Retry of a failed sync with exponential backoff. */
  readonly retry: { readonly limit: number; readonly duration: string; readonly factor: number; readonly maxDuration: string };
}

/** A field Argo CD must not compare, e.g. the replicas an HPA sets. */
export interface IgnoredDifference {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  /** JSON pointers of the ignored fields. */
  readonly jsonPointers?: readonly string[];
  /** jq paths of the ignored fields, for fields inside lists. */
  readonly jqPathExpressions?: readonly string[];
}

export interface GitOpsApplicationProps {
  /** Application name, unique in Argo CD's namespace. */
  readonly name: string;
  /** Argo CD's namespace. */
  readonly namespace: string;
  /** AppProject it belongs to. */
  readonly project: string;
  /** `app.kubernetes.io/component` of the Application object. */
  readonly component: string;
  readonly source: GitSource | HelmSource;
  readonly destination: Destination;
  readonly syncPolicy: SyncPolicy;
  /** @default - none */
  readonly ignoreDifferences?: readonly IgnoredDifference[];
  /** Sync wave in the root Application. @default 0 */
  readonly syncWave?: number;
}

/**
 * An Argo CD Application. It carries no `resources-finalizer`: deleting the Application
 * leaves what it deployed running (deleting workloads is a decision, not a side effect).
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/application-specification/
 */
export class GitOpsApplication extends Construct {
  public readonly name: string;
  public readonly syncWave: number;
  public readonly resource: Application;

  public constructor(scope: Construct, id: string, props: GitOpsApplicationProps) {
    super(scope, id);
    this.name = props.name;
    this.syncWave = props.syncWave ?? 0;
    const { syncPolicy: sync } = props;
    this.resource = new Application(this, 'Resource', {
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: recommendedLabels({ name: props.name, component: props.component }),
        annotations: { [ANNOTATION_FOREIGN_NAMESPACE]: 'Argo CD' },
      },
      spec: {
        project: props.project,
        source: renderSource(props.source),
        destination: { server: props.destination.server, namespace: props.destination.namespace },
        syncPolicy: {
          automated: sync.automated ? { prune: sync.automated.prune, selfHeal: sync.automated.selfHeal } : undefined,
          syncOptions: sync.options.length > 0 ? [...sync.options] : undefined,
          retry: { limit: sync.retry.limit, backoff: { duration: sync.retry.duration, factor: sync.retry.factor, maxDuration: sync.retry.maxDuration } },
        },
        ignoreDifferences: props.ignoreDifferences && props.ignoreDifferences.length > 0
          ? props.ignoreDifferences.map((d): ApplicationSpecIgnoreDifferences => ({
            group: d.group, kind: d.kind, name: d.name, namespace: d.namespace,
            jsonPointers: d.jsonPointers ? [...d.jsonPointers] : undefined,
            jqPathExpressions: d.jqPathExpressions ? [...d.jqPathExpressions] : undefined,
          }))
          : undefined,
      },
    });
    setSyncWave(this.resource, this.syncWave);
  }
}

function renderSource(source: GitSource | HelmSource): ApplicationSpecSource {
  if (source.kind === 'git') return { repoUrl: source.repoURL, targetRevision: source.revision, path: source.path };
  return {
    repoUrl: source.repoURL, chart: source.chart, targetRevision: source.version,
    helm: { releaseName: source.releaseName, valuesObject: source.values && Object.keys(source.values).length > 0 ? source.values : undefined },
  };
}
