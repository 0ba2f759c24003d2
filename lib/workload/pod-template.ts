import * as kplus from 'cdk8s-plus-28';
import { ANNOTATION_INJECTED, formatInjected, restrictedPodSecurityContext } from '../core';
import { ContainerSpec, assertContainer, envProblems, renderContainer } from './container';
import { AppCommandWrapper, PodExtensionPoint, PodVolumeSpec, escapeExpansion } from './pod-extension';

const k8s = kplus.k8s;

/** Everything one pod template is made of; the workload constructs fill it in. */
export interface PodTemplateSpec {
  /** Names the owner in error messages. */
  readonly owner: string;
  /** Pod labels (the selector labels included). */
  readonly labels: Record<string, string>;
  /** Pod annotations. */
  readonly annotations: Record<string, string>;
  /** ServiceAccount the pods run as. */
  readonly serviceAccountName: string;
  /** Containers; the first is the app container that extensions add env, mounts and ports to. */
  readonly containers: readonly ContainerSpec[];
  /** Plain init containers, run to completion before the app starts. */
  readonly initContainers?: readonly ContainerSpec[];
  /** Volumes. */
  readonly volumes?: readonly PodVolumeSpec[];
  /** Names of a StatefulSet's volume claim templates, which containers mount like volumes. */
  readonly claimNames?: readonly string[];
  /** What capabilities add. */
  readonly extension?: PodExtensionPoint;
  /** UID, GID and fsGroup of every container. */
  readonly runAs: { readonly user: number; readonly group: number; readonly fsGroup: number };
  /** Seconds between SIGTERM (after preStop) and SIGKILL. */
  readonly terminationGracePeriodSeconds: number;
  /** `Never`/`OnFailure` for Jobs. @default - not emitted (Kubernetes: Always) */
  readonly restartPolicy?: 'Never' | 'OnFailure';
  /** Spread pods over zones and hosts and prefer other hosts than their siblings'. @default - no spread */
  readonly spreadSelector?: Record<string, string>;
}

/** Seconds Kubernetes would give anyway; stated so nothing in the output is implicit. */
export const DEFAULT_TERMINATION_GRACE_SECONDS = 30;

/** Zones first, then hosts. `ScheduleAnyway` keeps a one-zone, two-node cluster schedulable. */
const SPREAD_KEYS = ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'];

/**
 * The Kubernetes pod template for `spec`, with the restricted security contexts, the
 * extension applied, and no field left to a library default. Throws on any container
 * problem (missing resources, probes on undeclared ports, duplicate names).
 */
export function renderPodTemplate(spec: PodTemplateSpec): kplus.k8s.PodTemplateSpec {
  const ext = spec.extension ?? new PodExtensionPoint(spec.owner);
  const app = withExtension(spec.containers[0], ext);
  const sidecars = ext.sidecars;
  const ids = { user: spec.runAs.user, group: spec.runAs.group };
  for (const c of [app, ...spec.containers.slice(1), ...(spec.initContainers ?? [])]) assertContainer(c, `${spec.owner}/${c.name}`);
  assertUnique(spec.owner, 'container', [...spec.containers, ...(spec.initContainers ?? []), ...sidecars].map((c) => c.name)
    .concat(ext.injected.map((c) => c.name)));
  const volumes = [...(spec.volumes ?? []), ...ext.volumes];
  assertUnique(spec.owner, 'volume', volumes.map((v) => v.name));
  assertMountsResolve(spec.owner, [...volumes.map((v) => v.name), ...(spec.claimNames ?? [])], [app, ...spec.containers.slice(1), ...(spec.initContainers ?? []), ...sidecars]);

  assertNotReplaced(spec.owner, 'annotation', spec.annotations, ext.podAnnotations);
  assertNotReplaced(spec.owner, 'label', spec.labels, ext.podLabels);
  const annotations = { ...spec.annotations, ...ext.podAnnotations };
  if (ext.injected.length > 0) annotations[ANNOTATION_INJECTED] = formatInjected(ext.injected);
  // Native sidecars come first among the init containers, so plain init containers can use them.
  const initContainers = [
    ...sidecars.filter((s) => s.native).map((s) => renderContainer(s, s.runAs ?? ids, 'Always')),
    ...(spec.initContainers ?? []).map((c) => renderContainer(c, ids)),
  ];
  return {
    metadata: { labels: { ...spec.labels, ...ext.podLabels }, annotations: Object.keys(annotations).length ? annotations : undefined },
    spec: {
      serviceAccountName: spec.serviceAccountName,
      automountServiceAccountToken: false,
      securityContext: restrictedPodSecurityContext(spec.runAs),
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
      restartPolicy: spec.restartPolicy,
      initContainers: initContainers.length ? initContainers : undefined,
      containers: [
        renderContainer(app, ids),
        ...spec.containers.slice(1).map((c) => renderContainer(c, ids)),
        ...sidecars.filter((s) => !s.native).map((s) => renderContainer(s, s.runAs ?? ids)),
      ],
      volumes: volumes.length ? volumes.map(renderVolume) : undefined,
      topologySpreadConstraints: spec.spreadSelector ? SPREAD_KEYS.map((topologyKey) => ({
        maxSkew: 1, topologyKey, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: spec.spreadSelector },
      })) : undefined,
      // Preferred, never required: kube-score and kube-linter look for it, and it must not block scheduling.
      affinity: spec.spreadSelector ? {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [{
            weight: 100,
            podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: spec.spreadSelector } },
          }],
        },
      } : undefined,
    },
  };
}

/** The app container with the extension's env, mounts and ports appended, and its command wrapped. */
function withExtension(app: ContainerSpec, ext: PodExtensionPoint): ContainerSpec {
  const env = [...(app.env ?? []), ...ext.appEnv];
  const problems = envProblems(env, `${ext.owner}/${app.name}`);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return {
    ...app,
    ...(ext.appCommand ? wrappedCommand(app, ext.appCommand, ext.owner) : {}),
    env,
    mounts: [...(app.mounts ?? []), ...ext.appMounts],
    ports: [...(app.ports ?? []), ...ext.appPorts.map(({ name, number, protocol }) => ({ name, number, protocol }))],
  };
}

/**
 * The app's command under its wrapper, taken literally (see {@link AppCommandWrapper}). When
 * the container states its own command, the wrapper must run exactly that one.
 */
function wrappedCommand(app: ContainerSpec, wrap: AppCommandWrapper, owner: string): Pick<ContainerSpec, 'command' | 'args'> {
  const own = [...(app.command ?? []), ...(app.args ?? [])];
  if (own.length > 0 && JSON.stringify(own) !== JSON.stringify(wrap.command)) {
    throw new Error(`${owner}/${app.name}: ${wrap.by} wraps the command ${JSON.stringify(wrap.command)}, but the container runs ${JSON.stringify(own)}`);
  }
  return { command: [...wrap.wrapper, ...wrap.command].map(escapeExpansion), args: undefined };
}

/** An extension adds metadata; it never replaces what the workload states (version, git SHA, component). */
function assertNotReplaced(owner: string, what: string, own: Record<string, string>, added: Readonly<Record<string, string>>): void {
  const replaced = Object.keys(added).find((key) => key in own);
  if (replaced) throw new Error(`${owner}: pod ${what} "${replaced}" is the workload's own and cannot be replaced by an extension`);
}

function assertUnique(owner: string, what: string, names: string[]): void {
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length > 0) throw new Error(`${owner}: ${what} "${twice[0]}" is defined twice in the pod`);
}

function assertMountsResolve(owner: string, volumes: readonly string[], containers: readonly ContainerSpec[]): void {
  const names = new Set(volumes);
  for (const c of containers) {
    for (const m of c.mounts ?? []) {
      if (!names.has(m.volume)) throw new Error(`${owner}/${c.name}: mounts volume "${m.volume}", which the pod does not have (volumes: ${[...names].join(', ') || 'none'})`);
    }
  }
}

function renderVolume(v: PodVolumeSpec): kplus.k8s.Volume {
  return {
    name: v.name,
    emptyDir: v.emptyDir ? { medium: v.emptyDir.medium, sizeLimit: k8s.Quantity.fromString(v.emptyDir.sizeLimit) } : undefined,
    configMap: v.configMap ? { name: v.configMap.name, items: v.configMap.items?.map((i) => ({ ...i })), defaultMode: v.configMap.defaultMode } : undefined,
    projected: v.projected,
    persistentVolumeClaim: v.persistentVolumeClaim,
    secret: v.certificate
      ? { secretName: v.certificate.secretName, items: v.certificate.items.map((i) => ({ ...i })), defaultMode: v.certificate.defaultMode }
      : undefined,
  };
}
