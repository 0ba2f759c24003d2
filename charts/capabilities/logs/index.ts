/**
 * The `logs` capability: every catalog service's pods get a log-shipper sidecar (Promtail,
 * or Grafana Alloy, its successor) that tails the app's JSON log file on a shared emptyDir
 * and pushes it to Loki, with low-cardinality labels (service, namespace, environment,
 * level) and the session, user and trace as structured metadata. The app is unchanged: in
 * `stdout` mode (the default) its command, from the catalog, is wrapped to copy its output
 * into the file; in `file` mode it writes the file named by LOG_FILE itself.
 */
import { Chart } from 'cdk8s';
import { ConfigError, EnvironmentConfig, ServiceModel } from '../../../config/load';
import { ForeignEndpoint, UpstreamImage, resourceName, workloadEndpoint } from '../../../lib/core';
import { CaptureMode, LogShipperConfig, LogShipperProps, addLogShipper, logShipperFiles } from '../../../lib/logs';
import { AddonContracts, LOKI_PATHS, podLabelsProblem, serviceOf } from '../../../lib/addons';
import { Capability } from '../capability';
import { LokiPort } from '../ports';
import { SectionValue } from '../../../config/sections';

type Section = SectionValue<'logs'>;

/** Bytes in a MiB. */
const MI = 1024 * 1024;

/** The capture mode of `service`: its override, else the section's mode. */
export function captureMode(section: Section, service: string): CaptureMode {
  return section.capture.services[service] ?? section.capture.mode;
}

/** Name of the ConfigMap of `service`'s log shipper. */
export function logShipperConfigName(service: string): string {
  return resourceName(service, 'log-shipper');
}

/** Loki's pods, in their own namespace. */
export function lokiEndpoint(section: Section): ForeignEndpoint {
  return { kind: 'foreign', name: 'loki', namespace: section.loki.namespace, podLabels: section.loki.podLabels };
}

/** Config problems only the catalog can reveal: a capture override for a service it does not have. */
function sectionProblems(section: Section, config: EnvironmentConfig): string[] {
  const names = config.services.map((s) => s.name);
  return Object.entries(section.capture.services).filter(([svc]) => !names.includes(svc)).map(([svc, mode]) => {
    const at = ['logs', 'capture', 'services', svc];
    return `${config.file}:${config.lineOf(at)}: ${at.join('.')}: expected a catalog service (${names.join(', ')}), found "${svc}" (set to ${mode})`;
  });
}

/** Everything one service's shipper and capture are made of. */
export function logShipperProps(section: Section, service: ServiceModel, config: EnvironmentConfig): LogShipperProps {
  const shipper = section[section.logShipper];
  return {
    shipper: section.logShipper,
    image: new UpstreamImage(shipper.image),
    resources: shipper.resources,
    capture: captureMode(section, service.name),
    appCommand: service.catalog.command,
    rotateBytes: section.capture.rotateAtMi * MI,
    push: { url: section.loki.url, ...(section.loki.tenant ? { tenant: section.loki.tenant } : {}) },
    labels: { service: service.name, namespace: config.namespace.name, environment: config.name },
    configMapName: logShipperConfigName(service.name),
  };
}

/**
 * The Loki port: the shippers' push URL, the query base URL readers use, and the tenant both
 * send. With the Loki add-on (gitops.addons.loki) the URL must name its gateway Service and
 * port, and a tenant is required: the add-on's Loki is multi-tenant (its contract's header).
 */
export function lokiPort(section: Section, config: EnvironmentConfig, addons: AddonContracts): LokiPort {
  const { url, tenant } = section.loki;
  const contract = addons.loki;
  const problems: string[] = [];
  const at = (field: string) => `${config.file}:${config.lineOf(['logs', 'loki', field])}: logs.loki.${field}`;
  if (contract) {
    const gateway = serviceOf(contract, 'gateway');
    const parsed = new URL(url);
    const [host, namespace] = parsed.hostname.split('.');
    const port = parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
    const expected = `http://${gateway.name}.${contract.namespace}.svc.cluster.local${gateway.port === 80 ? '' : `:${gateway.port}`}${LOKI_PATHS.push}`;
    if (host !== gateway.name || namespace !== contract.namespace || port !== gateway.port || parsed.protocol !== 'http:') {
      problems.push(`${at('url')}: expected the gateway of the Loki add-on (gitops.addons.loki, chart ${contract.chart.version}): ${expected}, found "${url}"`);
    }
    const labels = podLabelsProblem(contract, 'gateway', section.loki.podLabels);
    if (labels) problems.push(`${at('podLabels')}: ${labels} (the Loki add-on, gitops.addons.loki)`);
    if (section.loki.port !== gateway.targetPort) {
      problems.push(`${at('port')}: expected ${gateway.targetPort}, the port the Loki add-on's gateway pods listen on, found ${section.loki.port}`);
    }
    if (contract.tenantHeader && tenant === undefined) {
      problems.push(`${at('tenant')}: expected a tenant: the Loki add-on (gitops.addons.loki) runs multi-tenant and answers 401 without ${contract.tenantHeader}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  // The query API sits beside the push API on the same Service.
  return { pushUrl: url, queryUrl: url.slice(0, url.length - LOKI_PATHS.push.length), ...(tenant ? { tenant } : {}) };
}

export const logs: Capability<Section> & { readonly id: 'logs' } = {
  id: 'logs',
  provides(section, config, addons) {
    return { loki: lokiPort(section, config, addons) };
  },
  check: sectionProblems,
  extendPod(pod, service, section, config) {
    addLogShipper(pod, logShipperProps(section, service, config));
  },
  flows(graph, section, config) {
    const to = lokiEndpoint(section);
    for (const svc of config.services) {
      graph.addFlow({
        from: workloadEndpoint(svc.name, config.namespace.name), to, ports: [{ port: section.loki.port, protocol: 'TCP' }],
        purpose: `ships its logs to Loki (the ${section.logShipper} sidecar)`, declaredBy: 'logs',
      });
    }
  },
  charts(app, section, context) {
    const chart = new Chart(app, 'logs', { namespace: context.config.namespace.name, disableResourceNameHashes: true });
    for (const svc of context.config.services) {
      const props = logShipperProps(section, svc, context.config);
      new LogShipperConfig(chart, svc.name, { name: props.configMapName, service: svc.name, files: logShipperFiles(props).files });
    }
    return [chart];
  },
};
