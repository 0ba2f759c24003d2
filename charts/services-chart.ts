import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../config/load';
import { Microservice, PodExtensionPoint } from '../lib/workload';

/** The Pronto microservices, one {@link Microservice} per catalog entry. */
export class ServicesChart extends Chart {
  /** Every service, by name. */
  public readonly services = new Map<string, Microservice>();

  /**
   * @param extensions what the enabled capabilities add to each service's pods, by service name
   */
  public constructor(scope: Construct, id: string, config: EnvironmentConfig, extensions: ReadonlyMap<string, PodExtensionPoint>) {
    super(scope, id, { namespace: config.namespace.name, disableResourceNameHashes: true });
    for (const svc of config.services) {
      this.services.set(svc.name, new Microservice(this, svc.name, {
        name: svc.name,
        component: svc.catalog.component,
        container: {
          port: { name: 'http', number: svc.catalog.port },
          resources: svc.resources,
          shutdown: { drainSeconds: svc.catalog.drainSeconds },
        },
        release: svc.release,
        extension: extensions.get(svc.name),
      }));
    }
  }
}
