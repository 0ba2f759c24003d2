import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';

/** The folder of an environment's output (and of its published copy) that holds the Argo CD charts. */
export const ARGOCD_FOLDER = 'argocd';

/** Marks an {@link ArgoCdChart}; a symbol, because cdk8s's Chart answers `instanceof` for every chart. */
const ARGO_CD_CHART = Symbol.for('pronto.ArgoCdChart');

/**
 * A chart of Argo CD objects (AppProjects, Applications). Synth writes it apart from the
 * workloads, in `argocd/` with a kustomization of its own, so that `kubectl apply -k
 * dist/<env>` applies the workloads only and Argo CD's objects are applied once, to
 * bootstrap, into Argo CD's namespace.
 */
export class ArgoCdChart extends Chart {
  /** True for charts made by this class. */
  public static isArgoCdChart(x: unknown): x is ArgoCdChart {
    return typeof x === 'object' && x !== null && ARGO_CD_CHART in x;
  }

  public constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    Object.defineProperty(this, ARGO_CD_CHART, { value: true });
  }
}
