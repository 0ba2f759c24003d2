import { AddonChart, AddonContract, KINDS } from './contract';

/** prometheus-community/helm-charts prometheus-pushgateway: the Pushgateway batch jobs push their results to. */
export const PUSHGATEWAY_CHART: AddonChart = { repoURL: 'https://prometheus-community.github.io/helm-charts', name: 'prometheus-pushgateway', version: '3.4.1' };

/** The release; the fullname is the release when it contains the chart name. */
export const PUSHGATEWAY_RELEASE = 'prometheus-pushgateway';

/** What the chart renders with {@link pushgatewayValues} in `namespace`. */
export function pushgatewayContract(namespace: string, chart: AddonChart = PUSHGATEWAY_CHART): AddonContract {
  return {
    chart, release: PUSHGATEWAY_RELEASE, namespace,
    services: {
      push: { name: PUSHGATEWAY_RELEASE, port: 9091, targetPort: 9091, protocol: 'http', podLabels: { 'app.kubernetes.io/name': 'prometheus-pushgateway' } },
    },
    writes: { namespaces: [namespace], clusterScoped: [], namespaced: [KINDS.ServiceAccount, KINDS.Service, KINDS.Deployment, KINDS.ServiceMonitor] },
    sources: [
      'prometheus-community/helm-charts@prometheus-pushgateway-3.4.1: charts/prometheus-pushgateway/Chart.yaml (appVersion v1.11.1), values.yaml (service.port 9091; serviceMonitor.enabled false, namespace monitoring)',
      'prometheus-community/helm-charts@prometheus-pushgateway-3.4.1: charts/prometheus-pushgateway/templates/_helpers.tpl (fullname, selector labels), templates/servicemonitor.yaml',
    ],
  };
}

export interface PushgatewayValuesProps {
  /** Labels the Prometheus Operator selects ServiceMonitors by, so the pushed metrics are scraped. @default - no ServiceMonitor */
  readonly selectorLabels?: Readonly<Record<string, string>>;
  /** The release namespace. */
  readonly namespace: string;
}

/** A ServiceMonitor Prometheus selects (honorLabels: the pushed job labels win), explicit resources. */
export function pushgatewayValues(props: PushgatewayValuesProps): Record<string, unknown> {
  return {
    // The chart puts its ServiceMonitor in serviceMonitor.namespace (default "monitoring"), not the release's: stated.
    ...(props.selectorLabels ? { serviceMonitor: { enabled: true, namespace: props.namespace, additionalLabels: { ...props.selectorLabels }, honorLabels: true } } : {}),
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
  };
}
