import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ContainerImage, RunAsIds, recommendedLabels, resourceName, selectorLabels } from '../core';
import { AppContainerSpec } from './app-container';
import { BlueGreenRelease, Release, SLOTS, Slot, idleScaling, otherSlot } from './release';
import { RollingUpdateSpec } from './rolling-update';
import { Scaling } from './scaling';
import { ServiceWorkload } from './service-workload';

export interface MicroserviceProps {
  /** Service name: the DNS name other services call, e.g. `order-service`. */
  readonly name: string;
  /** `app.kubernetes.io/component`, e.g. `web` or `api`. */
  readonly component: string;
  /** The app container every pod runs. */
  readonly container: AppContainerSpec;
  /** Rolling or blue-green, with images and pod counts. */
  readonly release: Release;
  /** Rollout settings of every Deployment. @default - see {@link RollingUpdateSpec} */
  readonly rollingUpdate?: RollingUpdateSpec;
  /** Port the Service listens on; it forwards to the container port by name. @default 80 */
  readonly servicePort?: number;
  /** Numeric identity of the containers. @default - see {@link RunAsIds} */
  readonly runAs?: RunAsIds;
}

/**
 * A Pronto microservice: ServiceAccount, the Service named after it, and its
 * Deployment(s) with PodDisruptionBudget and HorizontalPodAutoscaler. A blue-green
 * service adds a second slot and a `<name>-preview` Service that selects the idle slot.
 */
export class Microservice extends Construct {
  /** The Service other workloads call; selects the active pods. */
  public readonly service: kplus.k8s.KubeService;
  /** Selects the idle slot of a blue-green service. */
  public readonly previewService?: kplus.k8s.KubeService;
  public readonly serviceAccount: kplus.ServiceAccount;
  /** Every Deployment of the service (one, or one per slot). */
  public readonly workloads: ServiceWorkload[] = [];
  /** Port the Service listens on. */
  public readonly servicePort: number;

  private readonly props: Omit<MicroserviceProps, 'release'>;

  public constructor(scope: Construct, id: string, props: MicroserviceProps) {
    super(scope, id);
    this.props = props;
    this.servicePort = props.servicePort ?? 80;
    const release = props.release;
    const activeVersion = release.strategy === 'rolling'
      ? release.image.version : release.images[release.activeSlot].version;

    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name: resourceName(props.name), labels: this.labels(activeVersion) },
      automountToken: false,
    });

    if (release.strategy === 'rolling') {
      this.workloads.push(this.addWorkload('Workload', resourceName(props.name), undefined, release.image, release.scaling));
      this.service = this.addService('Service', props.name, selectorLabels(props.name), activeVersion);
      return;
    }
    this.addSlots(release);
    const idle = otherSlot(release.activeSlot);
    this.service = this.addService('Service', props.name, selectorLabels(props.name, release.activeSlot), activeVersion);
    this.previewService = this.addService('PreviewService', resourceName(props.name, 'preview'),
      selectorLabels(props.name, idle), release.images[idle].version);
  }

  private addSlots(release: BlueGreenRelease): void {
    const idle = otherSlot(release.activeSlot);
    const scalingOf = (slot: Slot) => (slot === idle ? idleScaling(release) : release.scaling);
    for (const slot of SLOTS) {
      const id = slot === 'blue' ? 'Blue' : 'Green';
      this.workloads.push(this.addWorkload(id, resourceName(this.props.name, slot), slot, release.images[slot], scalingOf(slot)));
    }
  }

  private addWorkload(id: string, name: string, slot: Slot | undefined, image: ContainerImage, scaling: Scaling): ServiceWorkload {
    return new ServiceWorkload(this, id, {
      name,
      serviceName: this.props.name,
      slot,
      component: this.props.component,
      image,
      serviceAccount: this.serviceAccount,
      container: this.props.container,
      scaling,
      rollingUpdate: this.props.rollingUpdate,
      runAs: this.props.runAs,
    });
  }

  /** A ClusterIP Service forwarding the service port to the container port, by name. */
  private addService(id: string, name: string, selector: Record<string, string>, version: string): kplus.k8s.KubeService {
    const port = this.props.container.port;
    return new kplus.k8s.KubeService(this, id, {
      metadata: { name, labels: this.labels(version) },
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{
          name: port.name,
          port: this.servicePort,
          targetPort: kplus.k8s.IntOrString.fromString(port.name),
          protocol: 'TCP',
        }],
      },
    });
  }

  private labels(version: string): Record<string, string> {
    return recommendedLabels({ name: this.props.name, component: this.props.component, version });
  }
}
