import { Construct } from 'constructs';
import { ServiceMonitor, ServiceMonitorSpecEndpointsScheme } from '../../imports/monitoring.coreos.com';
import { recommendedLabels, resourceName } from '../core';

export interface ScrapeTargetProps {
  /** Object name: the scraped Service's name. */
  readonly name: string;
  /** `app.kubernetes.io/component`. @default 'monitoring' */
  readonly component?: string;
  /** Labels of the Service(s) to scrape: stable ones (`app.kubernetes.io/name`), never a slot. */
  readonly serviceSelector: Readonly<Record<string, string>>;
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
 * Services selected by stable labels. Every value is stated.
 */
export class ScrapeTarget extends Construct {
  public readonly resource: ServiceMonitor;

  public constructor(scope: Construct, id: string, props: ScrapeTargetProps) {
    super(scope, id);
    const name = resourceName(props.name);
    this.resource = new ServiceMonitor(this, 'Resource', {
      metadata: { name, labels: { ...recommendedLabels({ name, component: props.component ?? 'monitoring' }), ...props.selectorLabels } },
      spec: {
        selector: { matchLabels: { ...props.serviceSelector } },
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
