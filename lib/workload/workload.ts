import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  LABEL_SLOT, RollingUpdateSpec, RunAsIds, Scaling, recommendedLabels, resolveRollingUpdate, resolveRunAsIds, resourceName,
  scalingProblem, selectorLabels, withoutReleaseLabels,
} from '../core';
import { ContainerSpec } from './container';
import { PodExtensionPoint, PodVolumeSpec } from './pod-extension';
import { DEFAULT_TERMINATION_GRACE_SECONDS, renderPodTemplate } from './pod-template';
import { renderServicePorts } from './service-ports';

const k8s = kplus.k8s;

/** A PersistentVolumeClaim template of a StatefulSet: one claim per replica. */
export interface VolumeClaimTemplateSpec {
  /** Claim name; the pod mounts it as a volume of this name. */
  readonly name: string;
  /** Requested size, e.g. `20Gi`. */
  readonly size: string;
  /** Storage class. @default - the cluster's default storage class (field not emitted) */
  readonly storageClassName?: string;
}

/** One port of a Service that fronts a {@link Workload}. */
export interface WorkloadServicePort {
  /** Name of a container port of the pods; the Service targets it by name and reuses the name. */
  readonly targetPort: string;
  /** Port the Service listens on. @default - the container port's number */
  readonly port?: number;
}

export interface WorkloadServiceProps {
  /** Service name. @default - the workload's `appName` */
  readonly name?: string;
  /** Ports, by container port name. */
  readonly ports: readonly WorkloadServicePort[];
  /** A headless Service (`clusterIP: None`) for a StatefulSet's stable pod DNS names. @default false */
  readonly headless?: boolean;
}

export interface WorkloadProps {
  /** Object name of the workload, its PodDisruptionBudget and HorizontalPodAutoscaler. */
  readonly name: string;
  /** `app.kubernetes.io/name` and `instance`: what selects the pods. @default - `name` */
  readonly appName?: string;
  /** Blue-green slot of these pods, added to the selector. @default - no slot */
  readonly slot?: string;
  /** `app.kubernetes.io/component`, e.g. `api`, `gateway`, `database`. */
  readonly component: string;
  /** @default 'Deployment' */
  readonly kind?: 'Deployment' | 'StatefulSet';
  /** Containers; the first is the main one: its image gives the version label and build annotations. */
  readonly containers: readonly ContainerSpec[];
  /** Plain init containers. @default - none */
  readonly initContainers?: readonly ContainerSpec[];
  /** Pod volumes. @default - none */
  readonly volumes?: readonly PodVolumeSpec[];
  /** What capabilities add to the pods. @default - nothing */
  readonly extension?: PodExtensionPoint;
  /** Pod count, fixed or autoscaled on CPU. */
  readonly scaling: Scaling;
  /** Rollout settings of a Deployment. @default - see {@link RollingUpdateSpec} */
  readonly rollingUpdate?: RollingUpdateSpec;
  /** Name of an existing ServiceAccount to run as. @default - a ServiceAccount of its own, named `name`, that mounts no token */
  readonly serviceAccountName?: string;
  /** Numeric identity of the containers. @default - the extension's, else the workload's own (derived from `appName`, see {@link RunAsIds}) */
  readonly runAs?: RunAsIds;
  /** Seconds from SIGTERM (after any preStop) to SIGKILL. @default 30 */
  readonly terminationGracePeriodSeconds?: number;
  /** Claims per replica (StatefulSet only). @default - none */
  readonly volumeClaimTemplates?: readonly VolumeClaimTemplateSpec[];
}

/**
 * A long-running workload with Pronto's discipline, for anything that is not a catalog
 * service (the gateway, the OpenTelemetry collector, PgBouncer, PostgreSQL, Redis) and
 * as the base of {@link Microservice}: a Deployment or StatefulSet whose pods run
 * restricted with required resources, a PodDisruptionBudget (`maxUnavailable: 1`), an
 * autoscaling/v2 HPA when autoscaled, spread over zones and hosts, the recommended
 * labels, and selectors from the stable name only.
 */
export class Workload extends Construct {
  /** The Deployment or StatefulSet (escape hatch: `ApiObject.of(...)` patches). */
  public readonly resource: ApiObject;
  /** Labels that select exactly these pods. */
  public readonly selector: Record<string, string>;
  /** Metadata labels of every object of this workload. */
  public readonly labels: Record<string, string>;
  /** The ServiceAccount the pods run as. */
  public readonly serviceAccountName: string;
  /** The HPA, when the scaling is automatic. */
  public readonly autoscaler?: kplus.k8s.KubeHorizontalPodAutoscalerV2;
  /** The pod template, as rendered. */
  public readonly podTemplate: kplus.k8s.PodTemplateSpec;

  private readonly appName: string;
  private readonly props: WorkloadProps;

  public constructor(scope: Construct, id: string, props: WorkloadProps) {
    super(scope, id);
    this.props = props;
    const name = resourceName(props.name);
    this.appName = props.appName ?? name;
    const problem = scalingProblem(props.scaling, name);
    if (problem) throw new Error(problem);
    const kind = props.kind ?? 'Deployment';
    if (kind === 'Deployment' && props.volumeClaimTemplates?.length) {
      throw new Error(`${name}: volumeClaimTemplates need kind StatefulSet (a Deployment's replicas would share one claim)`);
    }
    const image = props.containers[0].image;
    this.selector = selectorLabels(this.appName, props.slot);
    this.labels = {
      ...recommendedLabels({ name: this.appName, component: props.component, version: image.version }),
      ...(props.slot ? { [LABEL_SLOT]: props.slot } : {}),
    };
    const annotations = { ...image.annotations };
    this.serviceAccountName = props.serviceAccountName ?? this.createServiceAccount(name);
    // The workload's own ids (its name's), or those of the extension the capabilities already used.
    const ids = props.extension ? props.extension.runAsFor(this.appName, props.runAs) : resolveRunAsIds(this.appName, props.runAs);
    this.podTemplate = renderPodTemplate({
      owner: name,
      labels: { ...this.labels, ...this.selector },
      annotations,
      serviceAccountName: this.serviceAccountName,
      containers: props.containers,
      initContainers: props.initContainers,
      volumes: props.volumes,
      claimNames: props.volumeClaimTemplates?.map((c) => c.name),
      extension: props.extension,
      runAs: ids,
      terminationGracePeriodSeconds: props.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_SECONDS,
      spreadSelector: this.selector,
    });
    const metadata = { name, labels: this.labels, annotations: Object.keys(annotations).length ? annotations : undefined };
    const replicas = props.scaling.kind === 'fixed' ? props.scaling.replicas : undefined;
    this.resource = kind === 'Deployment'
      ? new k8s.KubeDeployment(this, 'Resource', { metadata, spec: this.deploymentSpec(replicas) })
      : new k8s.KubeStatefulSet(this, 'Resource', { metadata, spec: this.statefulSetSpec(name, replicas) });
    this.createDisruptionBudget(name);
    if (props.scaling.kind === 'autoscaling') this.autoscaler = this.createAutoscaler(name, kind, props.scaling);
    if (kind === 'StatefulSet') {
      // The governing Service that gives each replica its stable DNS name.
      const ports = (props.containers[0].ports ?? []).map((p) => ({ targetPort: p.name }));
      this.addService('HeadlessService', { name: headlessName(name), headless: true, ports });
    }
  }

  /**
   * A ClusterIP Service selecting these pods, each port targeting a container port by
   * name. Throws when a port names no container port of the pods.
   */
  public addService(id: string, props: WorkloadServiceProps): kplus.k8s.KubeService {
    const declared = new Map((this.podTemplate.spec?.containers ?? []).flatMap((c) => c.ports ?? []).map((p) => [p.name, p]));
    const ports = props.ports.map((p) => {
      const target = declared.get(p.targetPort);
      if (!target) throw new Error(`${this.props.name}: Service port targets "${p.targetPort}", not a port of the pods (${[...declared.keys()].join(', ')})`);
      return { name: p.targetPort, port: p.port ?? target.containerPort, protocol: (target.protocol ?? 'TCP') as 'TCP' | 'UDP' };
    });
    const name = resourceName(props.name ?? this.appName);
    return new k8s.KubeService(this, id, {
      metadata: { name, labels: this.labels },
      spec: { type: 'ClusterIP', clusterIp: props.headless ? 'None' : undefined, selector: this.selector, ports: renderServicePorts(name, ports) },
    });
  }

  private deploymentSpec(replicas: number | undefined): kplus.k8s.DeploymentSpec {
    const rollout = resolveRollingUpdate(this.props.rollingUpdate);
    return {
      replicas,
      minReadySeconds: rollout.minReadySeconds,
      progressDeadlineSeconds: rollout.progressDeadlineSeconds,
      selector: { matchLabels: this.selector },
      strategy: {
        type: 'RollingUpdate',
        // Never take a pod down before its replacement is ready.
        rollingUpdate: { maxSurge: intOrString(rollout.maxSurge), maxUnavailable: k8s.IntOrString.fromNumber(0) },
      },
      template: this.podTemplate,
    };
  }

  private statefulSetSpec(name: string, replicas: number | undefined): kplus.k8s.StatefulSetSpec {
    const claims = this.props.volumeClaimTemplates ?? [];
    return {
      replicas,
      serviceName: headlessName(name),
      selector: { matchLabels: this.selector },
      updateStrategy: { type: 'RollingUpdate' },
      podManagementPolicy: 'OrderedReady',
      template: this.podTemplate,
      // A StatefulSet's claim templates are frozen (the API server refuses any change to them):
      // no label that changes with a release (the version) goes there, or every upgrade is refused.
      volumeClaimTemplates: claims.length ? claims.map((c) => ({
        metadata: { name: c.name, labels: withoutReleaseLabels(this.labels) },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: c.storageClassName,
          resources: { requests: { storage: k8s.Quantity.fromString(c.size) } },
        },
      })) : undefined,
    };
  }

  private createServiceAccount(name: string): string {
    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name, labels: recommendedLabels({ name: this.appName, component: this.props.component, version: this.props.containers[0].image.version }) },
      automountServiceAccountToken: false,
    });
    return name;
  }

  /**
   * `maxUnavailable: 1` lets a drain evict one pod at a time and never blocks it, even at
   * one replica (unlike `minAvailable: 1`). `AlwaysAllow` lets a drain evict pods that are
   * already unhealthy instead of waiting on them.
   */
  private createDisruptionBudget(name: string): void {
    new k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name, labels: this.labels },
      spec: {
        maxUnavailable: k8s.IntOrString.fromNumber(1),
        selector: { matchLabels: this.selector },
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  }

  private createAutoscaler(name: string, kind: string, scaling: Extract<Scaling, { kind: 'autoscaling' }>): kplus.k8s.KubeHorizontalPodAutoscalerV2 {
    return new k8s.KubeHorizontalPodAutoscalerV2(this, 'Autoscaler', {
      metadata: { name, labels: this.labels },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind, name },
        minReplicas: scaling.minReplicas,
        maxReplicas: scaling.maxReplicas,
        metrics: [{
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: scaling.targetCpuUtilizationPercent } },
        }],
      },
    });
  }
}

function headlessName(name: string): string {
  return resourceName(name, 'headless');
}

function intOrString(value: number | string): kplus.k8s.IntOrString {
  return typeof value === 'number' ? k8s.IntOrString.fromNumber(value) : k8s.IntOrString.fromString(value);
}
