/**
 * The `logs` capability: every catalog service's pods get a log-shipper sidecar (Promtail,
 * or Grafana Alloy, its successor) that tails the app's JSON log file on a shared emptyDir
 * and pushes it to Loki, with low-cardinality labels (service, namespace, environment,
 * level) and the session, user and trace as structured metadata. The app is unchanged: in
 * `stdout` mode (the default) its command, from the catalog, is wrapped to copy its output
 * into the file; in `file` mode it writes the file named by LOG_FILE itself.
 *
 * With basic auth (logs.loki.basicAuth; always with the Loki add-on) each service's shipper
 * logs in as its service, with a password the pod's Vault agent renders for the shipper alone
 * (mode 0400, owned by the agent's UID, which the shipper runs as and the app does not), and
 * Grafana as `grafana`: the Loki port lists the logins, the add-on's gateway checks them.
 */
import { Chart } from 'cdk8s';
import { ConfigError, EnvironmentConfig, ServiceModel } from '../../../config/load';
import { ForeignEndpoint, UpstreamImage, resolveRunAsIds, resourceName, workloadEndpoint } from '../../../lib/core';
import { CaptureMode, LogShipperConfig, LogShipperProps, addLogShipper, logShipperFiles } from '../../../lib/logs';
import { AddonContracts, GRAFANA_LOKI_READER, LOKI_PATHS, podLabelsProblem, serviceOf, servesTls } from '../../../lib/addons';
import { CaBundle, caBundleFile, caBundleVolume, mountCaBundle } from '../../../lib/tls';
import { Capability, ServiceSecret } from '../capability';
import { LokiLogin, LokiPort, Ports, portProblem } from '../ports';
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

/**
 * The login of a catalog service's shipper: the service's name as user, push only, its
 * password the field `password` of the KV entry `<service>/loki-push`, rendered into the file
 * {@link LOKI_PUSH_FILE} of the pod's secret folder.
 */
export function pusherLogin(service: string): LokiLogin {
  return { user: service, access: 'push', password: { path: `${service}/${LOKI_PUSH_FILE}`, field: 'password' } };
}

/** File name of a shipper's password (and the name of its KV entry below `<service>/`). */
export const LOKI_PUSH_FILE = 'loki-push';

/**
 * Whether the shippers and Grafana log in: `logs.loki.basicAuth`, else on exactly when the
 * Loki add-on's gateway requires a login (its contract).
 */
export function lokiBasicAuth(section: Section, addons: AddonContracts): boolean {
  return section.loki.basicAuth ?? (addons.loki !== undefined && serviceOf(addons.loki, 'gateway').login === 'basic');
}

/**
 * The Vault entry of `service`'s shipper password, for its pod's agent: a file for the
 * shipper container alone (mode 0400: the agent's UID, which the shipper runs as).
 */
export function pusherSecret(section: Section, service: string): ServiceSecret {
  const login = pusherLogin(service);
  return {
    path: login.password.path, file: LOKI_PUSH_FILE, template: `{{ .Data.data.${login.password.field} }}`,
    container: section.logShipper, mode: '0400', declaredBy: 'logs',
  };
}

/** Everything one service's shipper and capture are made of; with logins, the Vault port says where the password is and whose UID reads it. */
export function logShipperProps(section: Section, service: ServiceModel, config: EnvironmentConfig, ports: Pick<Ports, 'loki' | 'vault'>): LogShipperProps {
  const shipper = section[section.logShipper];
  const vault = ports.vault;
  const login = ports.loki?.logins ? pusherLogin(service.name) : undefined;
  if (login && !vault) throw new Error(`logs: ${service.name}: the shipper logs in to Loki, but no Vault port renders its password`);
  return {
    shipper: section.logShipper,
    image: new UpstreamImage(shipper.image),
    resources: shipper.resources,
    capture: captureMode(section, service.name),
    appCommand: service.catalog.command,
    rotateBytes: section.capture.rotateAtMi * MI,
    push: {
      url: section.loki.url, ...(section.loki.tenant ? { tenant: section.loki.tenant } : {}),
      ...(login && vault ? { basicAuth: { username: login.user, passwordFile: `${vault.secretDir}/${LOKI_PUSH_FILE}` } } : {}),
    },
    labels: { service: service.name, namespace: config.namespace.name, environment: config.name },
    configMapName: logShipperConfigName(service.name),
    ...(login && vault ? { runAs: vault.agentRunAs(service.name, resolveRunAsIds(service.name, service.catalog.runAs)) } : {}),
    ...(ports.loki?.tls ? { caBundle: shipperCaBundle(ports.loki.tls.caBundle) } : {}),
  };
}

/** The CA bundle as the shipper mounts it: the pod volume lib/tls's mountCaBundle adds, its folder and file. */
function shipperCaBundle(bundle: CaBundle): NonNullable<LogShipperProps['caBundle']> {
  const file = caBundleFile(bundle);
  return { volume: caBundleVolume(bundle), dir: file.slice(0, file.lastIndexOf('/')), file };
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
  const tls = section.loki.tls ? section.loki.tls : undefined;
  if (tls && !contract) {
    problems.push(`${at('tls')}: expected no tls: the issuer signs the certificate of the Loki add-on's gateway, and no Loki add-on is installed (gitops.addons.loki); ` +
      'a Loki of the cluster\'s behind an https URL is verified against the shippers\' system roots');
  }
  if (contract) {
    // With TLS the gateway's Service serves HTTPS on its own port (the contract's gatewayTls).
    const role = tls ? 'gatewayTls' : 'gateway';
    const gateway = serviceOf(contract, role);
    const scheme = servesTls(contract, role) ? 'https' : 'http';
    const parsed = new URL(url);
    const [host, namespace] = parsed.hostname.split('.');
    const port = parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
    const defaultPort = scheme === 'https' ? 443 : 80;
    const expected = `${scheme}://${gateway.name}.${contract.namespace}.svc.cluster.local${gateway.port === defaultPort ? '' : `:${gateway.port}`}${LOKI_PATHS.push}`;
    if (host !== gateway.name || namespace !== contract.namespace || port !== gateway.port || parsed.protocol !== `${scheme}:`) {
      problems.push(`${at('url')}: expected the gateway of the Loki add-on (gitops.addons.loki, chart ${contract.chart.version}${tls ? ', logs.loki.tls on' : ''}): ${expected}, found "${url}"`);
    }
    const labels = podLabelsProblem(contract, 'gateway', section.loki.podLabels);
    if (labels) problems.push(`${at('podLabels')}: ${labels} (the Loki add-on, gitops.addons.loki)`);
    if (section.loki.port !== gateway.targetPort) {
      problems.push(`${at('port')}: expected ${gateway.targetPort}, the port the Loki add-on's gateway pods listen on, found ${section.loki.port}`);
    }
    if (contract.tenantHeader && tenant === undefined) {
      problems.push(`${at('tenant')}: expected a tenant: the Loki add-on (gitops.addons.loki) runs multi-tenant and answers 401 without ${contract.tenantHeader}`);
    }
    if (gateway.login === 'basic' && section.loki.basicAuth === false) {
      problems.push(`${at('basicAuth')}: expected true or absent: the gateway of the Loki add-on (gitops.addons.loki) lets no one in without a login ` +
        '(without logins any pod could read, forge or delete every tenant\'s logs), found false');
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  // Grafana's read login only for the Grafana Pronto installs, the one Vault renders the password into;
  // a cluster's own Grafana logs in to its Loki with credentials of its own (docs/capabilities/logs.md, "Loki's logins").
  const logins = lokiBasicAuth(section, addons) ? [
    ...config.services.map((svc) => pusherLogin(svc.name)),
    ...(addons.kubePrometheusStack ? [{ user: GRAFANA_LOKI_READER.user, access: 'read' as const, password: { path: GRAFANA_LOKI_READER.vaultPath, field: GRAFANA_LOKI_READER.field } }] : []),
  ] : undefined;
  // The query API sits beside the push API on the same Service.
  return {
    pushUrl: url, queryUrl: url.slice(0, url.length - LOKI_PATHS.push.length), ...(tenant ? { tenant } : {}), ...(logins ? { logins } : {}), ...(tls ? { tls } : {}),
  };
}

/** The section's problems that need the other ports: logins need Vault, where their passwords are. */
function portProblems(section: Section, config: EnvironmentConfig, ports: Ports): string[] {
  if (!ports.loki?.logins) return [];
  const at = section.loki.basicAuth === undefined ? ['logs', 'loki'] : ['logs', 'loki', 'basicAuth'];
  const problem = portProblem(ports, 'vault', config, at,
    'the shippers and Grafana log in to Loki with passwords from Vault, rendered into their pods by the Vault agent');
  return problem ? [problem] : [];
}

export const logs: Capability<Section> & { readonly id: 'logs' } = {
  id: 'logs',
  provides(section, config, addons) {
    return { loki: lokiPort(section, config, addons) };
  },
  check: (section, config, ports) => [...sectionProblems(section, config), ...portProblems(section, config, ports)],
  serviceSecrets(service, section, _config, ports) {
    return ports.loki?.logins ? [pusherSecret(section, service.name)] : [];
  },
  extendPod(pod, service, section, config, ports) {
    // With TLS, the CA bundle's volume (mounted read-only into the app too, as lib/tls mounts it once per pod) for the shipper.
    if (ports.loki?.tls) mountCaBundle(pod, ports.loki.tls.caBundle);
    addLogShipper(pod, logShipperProps(section, service, config, ports));
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
      const props = logShipperProps(section, svc, context.config, context.ports);
      new LogShipperConfig(chart, svc.name, { name: props.configMapName, service: svc.name, files: logShipperFiles(props).files });
    }
    return [chart];
  },
};
