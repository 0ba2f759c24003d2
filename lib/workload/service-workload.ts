import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  ANNOTATION_GIT_SHA, ContainerImage, LABEL_SLOT, POD_SECCOMP_PROFILE, RunAsIds, recommendedLabels, resolveRunAsIds,
  restrictedContainerSecurityContext, restrictedPodSecurityContext, selectorLabels,
} from '../core';
import { AppContainerSpec, appProbes, resolveProbes, resolveShutdown } from './app-container';
import { RollingUpdateSpec, resolveRollingUpdate, rollingUpdateProps } from './rolling-update';
import { Scaling, validateScaling } from './scaling';

export interface ServiceWorkloadProps {
  /** Object name of the Deployment, PDB and HPA, e.g. `order-service` or `clients-app-blue`. */
  readonly name: string;
  /** Service the pods belong to; their selector labels derive from it. */
  readonly serviceName: string;
  /** Blue-green slot of these pods. @default - no slot (a rolling service) */
  readonly slot?: string;
  /** `app.kubernetes.io/component` of every object. */
  readonly component: string;
  /** Image of the app container. */
  readonly image: ContainerImage;
  /** Identity the pods run as. */
  readonly serviceAccount: kplus.IServiceAccount;
  /** The app container. */
  readonly container: AppContainerSpec;
  /** Pod count, fixed or autoscaled. */
  readonly scaling: Scaling;
  /** Rollout settings. @default - see {@link RollingUpdateSpec} */
  readonly rollingUpdate?: RollingUpdateSpec;
  /** Numeric identity of the containers. @default - see {@link RunAsIds} */
  readonly runAs?: RunAsIds;
}

/** Writable scratch space: the root filesystem is read-only and gunicorn needs `/tmp`. */
const TMP_SIZE_LIMIT_MIB = 64;

/**
 * One set of identical pods of a service: a Deployment with its PodDisruptionBudget and,
 * when autoscaled, its HorizontalPodAutoscaler. A rolling service has one; a blue-green
 * service has one per slot.
 */
export class ServiceWorkload extends Construct {
  /** The Deployment (escape hatch: `ApiObject.of(workload.deployment)`). */
  public readonly deployment: kplus.Deployment;
  /** Labels that select exactly these pods. */
  public readonly selector: Record<string, string>;
  /** The HPA, when the scaling is automatic. */
  public readonly autoscaler?: kplus.k8s.KubeHorizontalPodAutoscalerV2;

  public constructor(scope: Construct, id: string, props: ServiceWorkloadProps) {
    super(scope, id);
    validateScaling(props.scaling, props.name);
    this.selector = selectorLabels(props.serviceName, props.slot);
    const labels = {
      ...recommendedLabels({ name: props.serviceName, component: props.component, version: props.image.version }),
      ...(props.slot ? { [LABEL_SLOT]: props.slot } : {}),
    };
    const annotations = { [ANNOTATION_GIT_SHA]: props.image.gitSha };

    this.deployment = this.createDeployment(props, labels, annotations);
    this.createDisruptionBudget(props.name, labels);
    if (props.scaling.kind === 'autoscaling') {
      this.deployment.markHasAutoscaler();
      this.autoscaler = new kplus.k8s.KubeHorizontalPodAutoscalerV2(this, 'Autoscaler', {
        metadata: { name: props.name, labels },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: props.name },
          minReplicas: props.scaling.minReplicas,
          maxReplicas: props.scaling.maxReplicas,
          metrics: [{
            type: 'Resource',
            resource: {
              name: 'cpu',
              target: { type: 'Utilization', averageUtilization: props.scaling.targetCpuUtilizationPercent },
            },
          }],
        },
      });
    }
  }

  private createDeployment(props: ServiceWorkloadProps, labels: Record<string, string>,
    annotations: Record<string, string>): kplus.Deployment {
    const ids = resolveRunAsIds(props.runAs);
    const shutdown = resolveShutdown(props.container.shutdown);
    const port = props.container.port;
    const tmp = kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp', { sizeLimit: Size.mebibytes(TMP_SIZE_LIMIT_MIB) });

    const deployment = new kplus.Deployment(this, 'Resource', {
      metadata: { name: props.name, labels, annotations },
      select: false,
      podMetadata: { labels: { ...labels, ...this.selector }, annotations },
      replicas: props.scaling.kind === 'fixed' ? props.scaling.replicas : undefined,
      ...rollingUpdateProps(resolveRollingUpdate(props.rollingUpdate)),
      serviceAccount: props.serviceAccount,
      automountServiceAccountToken: false,
      securityContext: restrictedPodSecurityContext(ids),
      terminationGracePeriod: Duration.seconds(shutdown.preStopSleepSeconds + shutdown.drainSeconds),
      containers: [{
        name: props.serviceName,
        image: props.image.reference,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        ports: [{ name: port.name, number: port.number, protocol: kplus.Protocol.TCP }],
        resources: props.container.resources,
        securityContext: restrictedContainerSecurityContext(ids),
        ...appProbes(port.number, resolveProbes(props.container.probes)),
        lifecycle: { preStop: kplus.Handler.fromCommand(['sleep', String(shutdown.preStopSleepSeconds)]) },
        envVariables: toEnv(props.container.env),
        volumeMounts: [{ path: '/tmp', volume: tmp }],
      }],
    });
    deployment.select(kplus.LabelSelector.of({ labels: this.selector }));
    const pod = ApiObject.of(deployment);
    // cdk8s-plus always labels pods with their construct path; a pure refactor would then
    // roll every pod. Selection uses only the stable labels above.
    pod.addJsonPatch(JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'));
    // cdk8s-plus-28 has no props for these pod fields.
    pod.addJsonPatch(JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', POD_SECCOMP_PROFILE));
    pod.addJsonPatch(JsonPatch.add('/spec/template/spec/topologySpreadConstraints', this.spreadConstraints()));
    pod.addJsonPatch(JsonPatch.add('/spec/template/spec/affinity', this.hostAntiAffinity()));
    return deployment;
  }

  /**
   * Spread across zones, then hosts. `ScheduleAnyway` keeps small clusters (one zone,
   * two nodes) schedulable; the scheduler still prefers the spread.
   */
  private spreadConstraints(): kplus.k8s.TopologySpreadConstraint[] {
    return ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].map((topologyKey) => ({
      maxSkew: 1,
      topologyKey,
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: this.selector },
    }));
  }

  /** Preferred (never required) anti-affinity on hostname, which kube-score and kube-linter look for. */
  private hostAntiAffinity(): kplus.k8s.Affinity {
    return {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{
          weight: 100,
          podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: this.selector } },
        }],
      },
    };
  }

  /**
   * `maxUnavailable: 1` lets a drain evict one pod at a time and never blocks it, even at
   * one replica (unlike `minAvailable: 1`). `AlwaysAllow` lets a drain evict pods that are
   * already unhealthy instead of waiting on them.
   */
  private createDisruptionBudget(name: string, labels: Record<string, string>): void {
    new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name, labels },
      spec: {
        maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
        selector: { matchLabels: this.selector },
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  }
}

function toEnv(env: Record<string, string> = {}): Record<string, kplus.EnvValue> | undefined {
  const entries = Object.entries(env);
  if (entries.length === 0) return undefined;
  return Object.fromEntries(entries.map(([key, value]) => [key, kplus.EnvValue.fromValue(value)]));
}
