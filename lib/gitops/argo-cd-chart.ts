import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { ARGOCD_APPLICATIONS_FOLDER, ARGOCD_FOLDER, ARGOCD_PROJECTS_FOLDER } from '../core';

export { ARGOCD_APPLICATIONS_FOLDER, ARGOCD_FOLDER, ARGOCD_PROJECTS_FOLDER };

/** Marks an {@link ArgoCdChart}; a symbol, because cdk8s's Chart answers `instanceof` for every chart. */
const ARGO_CD_CHART = Symbol.for('pronto.ArgoCdChart');

/**
 * Where an Argo CD chart is written: `projects` (AppProjects, applied by an Argo CD
 * administrator and never by an Application) or `applications` (the Applications, which the
 * root Application syncs).
 */
export type ArgoCdFolder = 'projects' | 'applications';

export interface ArgoCdChartProps extends ChartProps {
  /** The folder of `argocd/` the chart is written to. */
  readonly folder: ArgoCdFolder;
}

/**
 * A chart of Argo CD objects (AppProjects, Applications). Synth writes it apart from the
 * workloads, in `argocd/projects/` or `argocd/applications/`, each with a kustomization of
 * its own, so that `kubectl apply -k dist/<env>` applies the workloads only, and no
 * Application ever syncs a project.
 */
export class ArgoCdChart extends Chart {
  /** True for charts made by this class. */
  public static isArgoCdChart(x: unknown): x is ArgoCdChart {
    return typeof x === 'object' && x !== null && ARGO_CD_CHART in x;
  }

  /** The folder of the environment's output it is written to, e.g. `argocd/projects`. */
  public readonly folder: string;

  public constructor(scope: Construct, id: string, props: ArgoCdChartProps) {
    super(scope, id, props);
    Object.defineProperty(this, ARGO_CD_CHART, { value: true });
    this.folder = props.folder === 'projects' ? ARGOCD_PROJECTS_FOLDER : ARGOCD_APPLICATIONS_FOLDER;
  }
}
