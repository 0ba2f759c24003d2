/**
 * The `circuitBreakers` capability: every dependency edge of the catalog (`calls`) gets
 * breaker settings, those of its callee. With `mesh` (Istio), one DestinationRule per
 * called service enforces them for every caller, and the apps keep only their client
 * timeouts; with the CNI data plane the pods ask for the injected istio-proxy (declared, so
 * the capacity guard counts it). Without a mesh, each calling app gets the settings as env
 * vars for its in-process breaker (lib/resilience `breakerEnv`).
 */
import { Chart } from 'cdk8s';
import { EnvironmentConfig, ServiceModel } from '../../../config/load';
import { ForeignEndpoint, workloadEndpoint } from '../../../lib/core';
import { CircuitBreakerRule, Dependency, addIstioProxy, breakerEnv } from '../../../lib/resilience';
import { Capability } from '../capability';
import { Ports } from '../ports';
import { SectionValue } from '../../../config/sections';
import { breakerSettings } from '../../../config/sections/circuit-breakers';

type Section = SectionValue<'circuitBreakers'>;

/** The services some catalog service calls, in catalog order (each once). */
export function calledServices(config: EnvironmentConfig): string[] {
  const called = new Set(config.services.flatMap((s) => s.catalog.calls));
  return config.services.map((s) => s.name).filter((name) => called.has(name));
}

/** The dependencies of `service`: each service it calls, with the settings of that callee. */
export function dependenciesOf(service: ServiceModel, section: Section): Dependency[] {
  return service.catalog.calls.map((callee) => ({ callee, limits: breakerSettings(section, callee) }));
}

/** Config problems only the catalog reveals: an override for a service that is unknown or that nobody calls. */
export function sectionProblems(section: Section, config: EnvironmentConfig, ports: Ports): string[] {
  const called = calledServices(config);
  const isCalled = new Set(called);
  const problems = Object.keys(section.callees).filter((svc) => !isCalled.has(svc)).map((svc) => {
    const at = ['circuitBreakers', 'callees', svc];
    const known = config.services.some((s) => s.name === svc);
    return `${config.file}:${config.lineOf(at)}: ${at.join('.')}: expected a catalog service that another one calls (${called.join(', ')}), ` +
      `found "${svc}"${known ? ' (no catalog service calls it, so it has no breaker)' : ' (not in the catalog)'}`;
  });
  // Ambient under default-deny policies: ztunnel wraps pod-to-pod traffic in HBONE (TCP 15008), the kubelet's probes
  // arrive from the SNAT address 169.254.7.127, and L7 traffic goes through the waypoint, which the mesh team runs:
  // the policies allow none of these yet, so every pod would fail its probes and every call.
  if (section.mesh?.dataPlane === 'ambient' && ports.networkPolicies) {
    const at = ['circuitBreakers', 'mesh', 'dataPlane'];
    problems.push(`${config.file}:${config.lineOf(at)}: ${at.join('.')}: "ambient" together with the networkPolicies capability is not supported yet: ` +
      `${AMBIENT_POLICIES_MISSING}; use "cni", or turn networkPolicies off`);
  }
  return problems;
}

/** What the network policies would have to allow for the ambient data plane; part of the error message. */
export const AMBIENT_POLICIES_MISSING = 'the network policies do not allow HBONE (TCP 15008) between the pods, the kubelet\'s probes from the ambient ' +
  'SNAT address 169.254.7.127/32, nor the traffic to and from the namespace\'s waypoint (run by the mesh team, not by Pronto)';

/** The istiod pods, in their own namespace. */
export function istiod(mesh: NonNullable<Section['mesh']>): ForeignEndpoint {
  return { kind: 'foreign', name: 'istiod', namespace: mesh.controlPlane.namespace, podLabels: mesh.controlPlane.podLabels };
}

export const circuitBreakers: Capability<Section> & { readonly id: 'circuitBreakers' } = {
  id: 'circuitBreakers',
  provides(section) {
    return section.mesh ? { mesh: { namespace: section.mesh.controlPlane.namespace, dataPlane: section.mesh.dataPlane } } : {};
  },
  // Ambient enrols the namespace, and names its waypoint: ztunnel is L4 only, the DestinationRules act in the waypoint.
  namespaceLabels(section): Record<string, string> {
    const mesh = section.mesh;
    return mesh?.dataPlane === 'ambient' ? { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': mesh.waypoint } : {};
  },
  check: sectionProblems,
  extendPod(pod, service, section, _config, ports) {
    if (section.mesh?.dataPlane === 'cni') {
      // The CNI plugin also redirects the init containers' traffic, to an istio-proxy that has not started yet:
      // vault-agent-init would never reach Vault, so Vault's port bypasses the proxy (the agent speaks TLS to it itself).
      addIstioProxy(pod, { resources: section.mesh.proxy.resources, excludeOutboundPorts: ports.vault ? [ports.vault.serverPort] : [] });
    }
    for (const entry of breakerEnv(dependenciesOf(service, section), section.mesh ? 'mesh' : 'in-process')) pod.addAppEnv(entry);
  },
  flows(graph, section, config) {
    // The injected proxies fetch their configuration and certificates from istiod; ambient pods talk to nobody new (ztunnel does).
    if (section.mesh?.dataPlane !== 'cni') return;
    const to = istiod(section.mesh);
    for (const svc of config.services) {
      graph.addFlow({
        from: workloadEndpoint(svc.name, config.namespace.name), to, ports: [{ port: section.mesh.controlPlane.port, protocol: 'TCP' }],
        purpose: 'the injected istio-proxy fetches its configuration and certificates from istiod', declaredBy: 'circuitBreakers',
      });
    }
  },
  charts(app, section, context) {
    if (!section.mesh) return [];
    const { config } = context;
    const chart = new Chart(app, 'circuit-breakers', { namespace: config.namespace.name, disableResourceNameHashes: true });
    for (const callee of calledServices(config)) {
      new CircuitBreakerRule(chart, callee, { service: callee, namespace: config.namespace.name, limits: breakerSettings(section, callee) });
    }
    return [chart];
  },
};
