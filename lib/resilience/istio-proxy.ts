import { ComputeResources, cpuMillis, resourcesProblems } from '../core';
import { PodExtensionPoint } from '../workload';

/** Pod label that asks Istio's injector for a sidecar (the label, not the deprecated annotation). */
export const LABEL_ISTIO_INJECT = 'sidecar.istio.io/inject';
/** Names the injector gives the proxy and, with the Istio CNI plugin, its init container. */
export const ISTIO_PROXY_CONTAINERS = { sidecar: 'istio-proxy', init: 'istio-validation' } as const;
/** The injector's resource annotations, each with the amount it sets. */
export const ISTIO_PROXY_ANNOTATIONS = {
  cpuRequest: 'sidecar.istio.io/proxyCPU',
  cpuLimit: 'sidecar.istio.io/proxyCPULimit',
  memoryRequest: 'sidecar.istio.io/proxyMemory',
  memoryLimit: 'sidecar.istio.io/proxyMemoryLimit',
} as const;

/** Pod annotation listing outbound ports the Istio CNI plugin does not redirect to the proxy (comma-separated). */
export const ANNOTATION_EXCLUDE_OUTBOUND_PORTS = 'traffic.sidecar.istio.io/excludeOutboundPorts';

export interface IstioProxyProps {
  /**
   * Requests and limits of the injected istio-proxy, which the injector also gives its
   * istio-validation init container. CPU and memory reach the injector through the
   * `sidecar.istio.io/proxy*` annotations; Istio has no annotation for ephemeral storage,
   * so that amount is only declared (the capacity guard does not count it).
   */
  readonly resources: ComputeResources;
  /**
   * Outbound ports left out of the redirection (`traffic.sidecar.istio.io/excludeOutboundPorts`).
   * The CNI plugin redirects the init containers' traffic too, to an istio-proxy that has not
   * started yet: an init container that must reach a service (the Vault agent's, on Vault's
   * port) needs its port here. None by default.
   */
  readonly excludeOutboundPorts?: readonly number[];
}

/**
 * Asks Istio to inject its sidecar into the pods (CNI data plane: the Istio CNI plugin
 * redirects the traffic, so the pod gets no istio-init and no NET_ADMIN), with exactly the
 * resources given, and declares the injected istio-proxy and istio-validation containers so
 * that the capacity guard counts them.
 */
export function addIstioProxy(pod: PodExtensionPoint, props: IstioProxyProps): void {
  const problems = resourcesProblems(props.resources, `${pod.owner}/${ISTIO_PROXY_CONTAINERS.sidecar} (injected)`);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  const { requests, limits } = props.resources;
  const excluded = [...new Set(props.excludeOutboundPorts ?? [])];
  const badPort = excluded.find((p) => !Number.isInteger(p) || p < 1 || p > 65535);
  if (badPort !== undefined) throw new Error(`${pod.owner}: excludeOutboundPorts: expected ports 1 to 65535, found ${badPort}`);
  pod.addPodLabel(LABEL_ISTIO_INJECT, 'true');
  if (excluded.length > 0) pod.addPodAnnotation(ANNOTATION_EXCLUDE_OUTBOUND_PORTS, excluded.sort((a, b) => a - b).join(','));
  pod.addPodAnnotation(ISTIO_PROXY_ANNOTATIONS.cpuRequest, `${cpuMillis(requests.cpu)}m`);
  pod.addPodAnnotation(ISTIO_PROXY_ANNOTATIONS.cpuLimit, `${cpuMillis(limits.cpu)}m`);
  pod.addPodAnnotation(ISTIO_PROXY_ANNOTATIONS.memoryRequest, requests.memory);
  pod.addPodAnnotation(ISTIO_PROXY_ANNOTATIONS.memoryLimit, limits.memory);
  pod.declareInjected({ name: ISTIO_PROXY_CONTAINERS.init, kind: 'init', resources: props.resources });
  pod.declareInjected({ name: ISTIO_PROXY_CONTAINERS.sidecar, kind: 'sidecar', resources: props.resources });
}
