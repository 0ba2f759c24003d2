import * as kplus from 'cdk8s-plus-28';

/** One port of a Service, forwarding to the container port of the same name. */
export interface ServicePortSpec {
  /** Name of the container port targeted; the Service port takes the same name. */
  readonly name: string;
  /** Port the Service listens on. */
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
}

/**
 * The `ports` of a Service. The API server rejects two ports with one name, or with the
 * same number and protocol, so that is a construct error here, naming `owner`.
 */
export function renderServicePorts(owner: string, ports: readonly ServicePortSpec[]): kplus.k8s.ServicePort[] {
  const seen = new Map<string, string>();
  for (const p of ports) {
    for (const key of [`name ${p.name}`, `port ${p.port}/${p.protocol}`]) {
      if (seen.has(key)) throw new Error(`${owner}: Service ${key} is used twice (by "${seen.get(key)}" and "${p.name}")`);
      seen.set(key, p.name);
    }
  }
  return ports.map((p) => ({ name: p.name, port: p.port, targetPort: kplus.k8s.IntOrString.fromString(p.name), protocol: p.protocol }));
}
