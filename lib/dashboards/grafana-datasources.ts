import { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-28';
import { recommendedLabels, resourceName } from '../core';
import { GrafanaDatasource, renderDatasources } from './datasources';

/** The label the Grafana sidecar (kube-prometheus-stack: `sidecar.datasources.label`) loads datasources by. */
export const DATASOURCE_LABEL = 'grafana_datasource';

export interface GrafanaDatasourcesProps {
  /** ConfigMap name, e.g. `grafana-datasources`; also names the file (`<name>.yaml`). */
  readonly name: string;
  /** At least one; uids and names unique. */
  readonly datasources: readonly GrafanaDatasource[];
}

/**
 * Datasources shipped as a ConfigMap labelled `grafana_datasource: "1"`: the sidecar
 * writes the provisioning file into Grafana's datasources folder and reloads them.
 */
export class GrafanaDatasources extends Construct {
  public readonly configMap: kplus.k8s.KubeConfigMap;
  /** The provisioning file, as in the ConfigMap. */
  public readonly text: string;

  public constructor(scope: Construct, id: string, props: GrafanaDatasourcesProps) {
    super(scope, id);
    if (props.datasources.length === 0) throw new Error(`${this.node.path}: expected at least one datasource, found none`);
    for (const key of ['uid', 'name'] as const) {
      const seen = new Set<string>();
      for (const ds of props.datasources) {
        if (seen.has(ds[key])) throw new Error(`${this.node.path}: expected unique datasource ${key}s, found "${ds[key]}" twice`);
        seen.add(ds[key]);
      }
    }
    this.text = renderDatasources(props.datasources);
    const name = resourceName(props.name);
    this.configMap = new kplus.k8s.KubeConfigMap(this, 'Resource', {
      metadata: { name, labels: { ...recommendedLabels({ name, component: 'dashboards' }), [DATASOURCE_LABEL]: '1' } },
      data: { [`${name}.yaml`]: this.text },
    });
  }
}
