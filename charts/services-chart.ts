import { Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { EnvironmentConfig, ResolvedImage, ServiceModel } from '../config/load';
import { ContainerImage, bytes, cpuMillis } from '../lib/core';
import { Microservice, Release } from '../lib/workload';

/** The five Pronto microservices, one {@link Microservice} per catalog entry. */
export class ServicesChart extends Chart {
  /** Every service, by name. */
  public readonly services = new Map<string, Microservice>();

  public constructor(scope: Construct, id: string, config: EnvironmentConfig) {
    super(scope, id, { namespace: config.namespace.name, disableResourceNameHashes: true });
    for (const svc of config.services) {
      this.services.set(svc.name, new Microservice(this, svc.name, {
        name: svc.name,
        component: svc.catalog.component,
        container: {
          port: { name: 'http', number: svc.catalog.port },
          resources: containerResources(svc.resources),
          shutdown: { drainSeconds: svc.catalog.drainSeconds },
        },
        release: release(svc),
        rollingUpdate: svc.rollout,
      }));
    }
  }
}

function release(svc: ServiceModel): Release {
  const r = svc.rollout;
  if (r.strategy === 'rolling') return { strategy: 'rolling', image: image(r.image), scaling: svc.scaling };
  return {
    strategy: 'blueGreen',
    activeSlot: r.activeSlot,
    idleReplicas: r.idleReplicas,
    images: { blue: image(r.images.blue), green: image(r.images.green) },
    scaling: svc.scaling,
  };
}

function image(i: ResolvedImage): ContainerImage {
  return new ContainerImage(i);
}

/** Config quantities (validated as whole Mi/Gi) as cdk8s-plus resources. */
function containerResources(r: ServiceModel['resources']): kplus.ContainerResources {
  return {
    cpu: { request: kplus.Cpu.millis(cpuMillis(r.requests.cpu)), limit: kplus.Cpu.millis(cpuMillis(r.limits.cpu)) },
    memory: { request: mebibytes(r.requests.memory), limit: mebibytes(r.limits.memory) },
    ephemeralStorage: { request: gibibytes(r.requests.ephemeralStorage), limit: gibibytes(r.limits.ephemeralStorage) },
  };
}

function mebibytes(quantity: string): Size {
  return Size.mebibytes(bytes(quantity) / 2 ** 20);
}

function gibibytes(quantity: string): Size {
  return Size.gibibytes(bytes(quantity) / 2 ** 30);
}
