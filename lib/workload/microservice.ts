import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  BlueGreenRelease, ContainerImage, ImageRef, Release, RunAsIds, SLOTS, Scaling, Slot, activeImage, idleScaling, otherSlot,
  recommendedLabels, resourceName, selectorLabels,
} from '../core';
import { APP_TMP_VOLUME, AppContainerSpec, appContainer, gracePeriodSeconds } from './app-container';
import { PodExtensionPoint } from './pod-extension';
import { renderServicePorts } from './service-ports';
import { Workload } from './workload';

/** Port a Microservice's Service listens on unless `servicePort` says otherwise; it forwards to the container port by name. */
export const DEFAULT_SERVICE_PORT = 80;

export interface MicroserviceProps {
  /** Service name: the DNS name other services call, e.g. `order-service`. */
  readonly name: string;
  /** `app.kubernetes.io/component`, e.g. `web` or `api`. */
  readonly component: string;
  /** The app container every pod runs. */
  readonly container: AppContainerSpec;
  /** Rolling or blue-green, with images (semantic version and git SHA), pod counts and rollout settings. */
  readonly release: Release;
  /** Port the Service listens on; it forwards to the container port by name. @default 80 */
  readonly servicePort?: number;
  /** Numeric identity of the containers, the same in every slot. @default - the extension's, else the service's own (derived from `name`, see {@link RunAsIds}) */
  readonly runAs?: RunAsIds;
  /**
   * What capabilities add to the pods (sidecars, volumes, env, ports, annotations,
   * injected containers), applied identically to every blue-green slot. Ports added here
   * also become ports of the Service(s). @default - nothing
   */
  readonly extension?: PodExtensionPoint;
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
  /** Name of the ServiceAccount every slot runs as. */
  public readonly serviceAccountName: string;
  /** Every Deployment of the service (one, or one per slot). */
  public readonly workloads: Workload[] = [];
  /** Port the Service listens on. */
  public readonly servicePort: number;
  /** What capabilities added to the pods. */
  public readonly extension: PodExtensionPoint;

  private readonly props: MicroserviceProps;

  public constructor(scope: Construct, id: string, props: MicroserviceProps) {
    super(scope, id);
    this.props = props;
    this.servicePort = props.servicePort ?? DEFAULT_SERVICE_PORT;
    // One identity for every slot: the service's own (its name's), which its capabilities' containers use too.
    this.extension = props.extension ?? new PodExtensionPoint(props.name, props.runAs);
    const release = props.release;
    const activeVersion = ourImage(activeImage(release)).version;

    this.serviceAccountName = resourceName(props.name);
    new kplus.k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name: this.serviceAccountName, labels: this.labels(activeVersion) },
      automountServiceAccountToken: false,
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
      selectorLabels(props.name, idle), ourImage(release.images[idle]).version);
  }

  private addSlots(release: BlueGreenRelease): void {
    const idle = otherSlot(release.activeSlot);
    const scalingOf = (slot: Slot) => (slot === idle ? idleScaling(release) : release.scaling);
    for (const slot of SLOTS) {
      const id = slot === 'blue' ? 'Blue' : 'Green';
      this.workloads.push(this.addWorkload(id, resourceName(this.props.name, slot), slot, release.images[slot], scalingOf(slot)));
    }
  }

  private addWorkload(id: string, name: string, slot: Slot | undefined, image: ImageRef, scaling: Scaling): Workload {
    return new Workload(this, id, {
      name,
      appName: this.props.name,
      slot,
      component: this.props.component,
      containers: [appContainer(this.props.name, ourImage(image), this.props.container)],
      volumes: [APP_TMP_VOLUME],
      extension: this.extension,
      scaling,
      rollingUpdate: this.props.release.rollingUpdate,
      serviceAccountName: this.serviceAccountName,
      runAs: this.props.runAs,
      terminationGracePeriodSeconds: gracePeriodSeconds(this.props.container),
    });
  }

  /** A ClusterIP Service forwarding the service port (and every extension port) to the container ports, by name. */
  private addService(id: string, name: string, selector: Record<string, string>, version: string): kplus.k8s.KubeService {
    const port = this.props.container.port;
    const ports = [
      { name: port.name, port: this.servicePort, protocol: 'TCP' as const },
      ...this.extension.appPorts.map((p) => ({ name: p.name, port: p.servicePort ?? p.number, protocol: p.protocol ?? 'TCP' })),
    ];
    return new kplus.k8s.KubeService(this, id, {
      metadata: { name, labels: this.labels(version) },
      spec: { type: 'ClusterIP', selector, ports: renderServicePorts(name, ports) },
    });
  }

  private labels(version: string): Record<string, string> {
    return recommendedLabels({ name: this.props.name, component: this.props.component, version });
  }
}

/** A Pronto image: validated semantic version tag and the git SHA it was built from. */
function ourImage(ref: ImageRef): ContainerImage {
  if (!ref.gitSha) throw new Error(`image ${ref.repository}:${ref.tag}: a Pronto service image needs the gitSha it was built from`);
  return new ContainerImage({ repository: ref.repository, tag: ref.tag, gitSha: ref.gitSha, digest: ref.digest });
}
