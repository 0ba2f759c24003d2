import { Chart } from 'cdk8s';
import { ConfigError } from '../../../config/load';
import { ConnectionGraphPolicies, unresolvedExternalHosts } from '../../../lib/network';
import { Capability } from '../capability';
import { SectionValue } from '../../../config/sections';

/**
 * NetworkPolicies rendered from the finished connection graph, in a chart of their own
 * (`network-policies`, applied after the namespace): a default deny for the namespace,
 * then one policy per running workload allowing exactly its declared flows (callers and
 * the gateway in, dependencies, DNS and the capabilities' backends out). External hosts
 * are reached through the address blocks of the section, since a policy cannot name a host.
 */
export const networkPolicies: Capability<SectionValue<'networkPolicies'>> & { readonly id: 'networkPolicies' } = {
  id: 'networkPolicies',
  provides: () => ({ networkPolicies: { defaultDeny: true } }),
  // Hosts without blocks are a problem of the finished graph (every capability's flows), so they are found here, not in a check.
  charts(app, section, context) {
    const { config, graph } = context;
    const missing = unresolvedExternalHosts(graph, section.externalHosts);
    if (missing.length > 0) {
      const at = ['networkPolicies', 'externalHosts'];
      const configured = Object.keys(section.externalHosts);
      throw new ConfigError(missing.map((m) => `${config.file}:${config.lineOf(at)}: ${at.join('.')}: ` +
        `expected the CIDR blocks of "${m.host}" (a NetworkPolicy cannot name a host; ${m.flows.join('; ')}), ` +
        `found ${configured.length > 0 ? `only ${configured.map((h) => `"${h}"`).join(', ')}` : 'none'}`));
    }
    const chart = new Chart(app, 'network-policies', { namespace: config.namespace.name, disableResourceNameHashes: true });
    new ConnectionGraphPolicies(chart, 'Policies', { graph, namespaces: config.namespaces.owned, externalBlocks: section.externalHosts });
    return [chart];
  },
};
