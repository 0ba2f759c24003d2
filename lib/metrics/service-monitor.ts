import { Construct } from 'constructs';
import { ServiceMonitor, ServiceMonitorSpecEndpointsScheme } from '../../imports/monitoring.coreos.com';
import { objectSelectorLabels, recommendedLabels, resourceName } from '../core';

export interface ScrapeTargetProps {
  /**
   * Object name, and the `app.kubernetes.io/name` of the Services it scrapes: they are
   * selected by {@link objectSelectorLabels} (name and part-of), never by
   * `app.kubernetes.io/instance`, which Argo CD's label tracking rewrites.
   */
  readonly name: string;
  /** `app.kubernetes.io/component`. @default 'monitoring' */
  readonly component?: string;
  /** Name of the Service port to scrape. */
  readonly port: string;
  /** @default '/metrics' */
  readonly path?: string;
  /** @default '30s' */
  readonly interval?: string;
  /** At most `interval`. @default '10s' */
  readonly scrapeTimeout?: string;
  /** Labels the Prometheus Operator selects ServiceMonitors by (`serviceMonitorSelector`). @default - none */
  readonly selectorLabels?: Readonly<Record<string, string>>;
}

/**
 * A `ServiceMonitor` (monitoring.coreos.com/v1) that scrapes one named port of the
 * Services of one name, selected by labels no GitOps tool rewrites. Every value is stated.
 */
export class ScrapeTarget extends Construct {
  public readonly resource: ServiceMonitor;

  public constructor(scope: Construct, id: string, props: ScrapeTargetProps) {
    super(scope, id);
    const name = resourceName(props.name);
    this.resource = new ServiceMonitor(this, 'Resource', {
      metadata: { name, labels: { ...recommendedLabels({ name, component: props.component ?? 'monitoring' }), ...props.selectorLabels } },
      spec: {
        selector: { matchLabels: objectSelectorLabels(props.name) },
        endpoints: [{
          port: props.port,
          path: props.path ?? '/metrics',
          scheme: ServiceMonitorSpecEndpointsScheme.HTTP,
          interval: props.interval ?? '30s',
          scrapeTimeout: props.scrapeTimeout ?? '10s',
          honorLabels: false,
        }],
      },
    });
  }
}
