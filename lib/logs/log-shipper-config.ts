import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { recommendedLabels } from '../core';

export interface LogShipperConfigProps {
  /** ConfigMap name, the one the pods mount (`LogShipperProps.configMapName`). */
  readonly name: string;
  /** `app.kubernetes.io/name` of the service whose pods read it. */
  readonly service: string;
  /** File name → content (`LogShipperFiles.files`). */
  readonly files: Readonly<Record<string, string>>;
}

/** The ConfigMap of one service's log shipper. */
export class LogShipperConfig extends Construct {
  public readonly configMap: kplus.k8s.KubeConfigMap;

  public constructor(scope: Construct, id: string, props: LogShipperConfigProps) {
    super(scope, id);
    this.configMap = new kplus.k8s.KubeConfigMap(this, 'Resource', {
      metadata: { name: props.name, labels: recommendedLabels({ name: props.service, component: 'logging' }) },
      data: { ...props.files },
    });
  }
}
