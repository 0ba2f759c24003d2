import * as kplus from 'cdk8s-plus-28';
import {
  ComputeResources, PinnedImage, isIanaPortName, renderResources, resourcesProblems, restrictedContainerSecurityContext,
} from '../core';

const k8s = kplus.k8s;

/** A named port a container listens on. */
export interface ContainerPortSpec {
  /** IANA-style name (≤ 15 characters, a-z, 0-9, -), referenced by Services and probes. */
  readonly name: string;
  /** Port number inside the container, 1-65535. */
  readonly number: number;
  /** @default 'TCP' */
  readonly protocol?: 'TCP' | 'UDP';
}

/**
 * One probe. Exactly one handler: `httpGet`, `tcpSocket` or `exec`. Network handlers
 * name a port the container declares (by name or number), so a probe can never check a
 * port nothing listens on.
 */
export interface ProbeSpec {
  /** HTTP GET on a declared port. */
  readonly httpGet?: { readonly path: string; readonly port: string | number };
  /** TCP connect to a declared port. */
  readonly tcpSocket?: { readonly port: string | number };
  /** A command in the container; exit 0 is success. */
  readonly exec?: { readonly command: readonly string[] };
  /** Seconds between attempts. @default 10 */
  readonly periodSeconds?: number;
  /** Seconds one attempt may take. @default 2 */
  readonly timeoutSeconds?: number;
  /** Consecutive failures before the probe fails. @default 3 */
  readonly failureThreshold?: number;
  /** Seconds after start before the first attempt. @default 0 (not emitted) */
  readonly initialDelaySeconds?: number;
}

/** The probes of a long-running container; each optional, but the gate requires liveness and readiness. */
export interface ContainerProbes {
  /** Holds off liveness until the process started. @default - none */
  readonly startup?: ProbeSpec;
  /** Restarts a hung process: check the process only, never its dependencies. @default - none */
  readonly liveness?: ProbeSpec;
  /** Takes the pod out of Service endpoints while it cannot serve. @default - none */
  readonly readiness?: ProbeSpec;
}

/**
 * One environment variable. Order is kept: a literal may refer to variables defined
 * before it with `$(NAME)`, which Kubernetes expands only for earlier entries.
 */
export type EnvEntry =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly fieldRef: string };

/** A volume mounted into a container. */
export interface MountSpec {
  /** Name of a pod volume. */
  readonly volume: string;
  /** Absolute path inside the container. */
  readonly path: string;
  /** @default false */
  readonly readOnly?: boolean;
  /** Mount only this file or folder of the volume. @default - the whole volume */
  readonly subPath?: string;
}

/**
 * A container with Pronto's discipline: resources required, the restricted security
 * context applied, probes only on declared ports, `IfNotPresent` pulls of a pinned image.
 */
export interface ContainerSpec {
  /** Container name, a DNS label. */
  readonly name: string;
  /** Pinned image. */
  readonly image: PinnedImage;
  /** Requests and limits of CPU, memory and ephemeral storage; all required. */
  readonly resources: ComputeResources;
  /** Entrypoint override. @default - the image's ENTRYPOINT */
  readonly command?: readonly string[];
  /** Arguments. @default - the image's CMD */
  readonly args?: readonly string[];
  /** Ports the container listens on. @default - none */
  readonly ports?: readonly ContainerPortSpec[];
  /** Environment, in order. @default - none */
  readonly env?: readonly EnvEntry[];
  /** Volume mounts. @default - none */
  readonly mounts?: readonly MountSpec[];
  /** Probes. @default - none (the gate then requires them for long-running containers) */
  readonly probes?: ContainerProbes;
  /** Seconds `preStop` sleeps before SIGTERM, so Service endpoints drop the pod first. @default - no preStop hook */
  readonly preStopSleepSeconds?: number;
  /** Working directory. @default - the image's WORKDIR */
  readonly workingDir?: string;
}

/** Numeric identity every container of a pod runs as. */
export interface ContainerIdentity {
  readonly user: number;
  readonly group: number;
}

/** An environment variable name Kubernetes accepts. */
export const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const VAR_REFERENCE = /\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)/g;

/** Every reason `spec` is not a valid container; `where` names it (`order-service/metrics-exporter`). */
export function containerProblems(spec: ContainerSpec, where: string): string[] {
  const problems = resourcesProblems(spec.resources, where);
  problems.push(...portProblems(spec.ports ?? [], where));
  problems.push(...envProblems(spec.env ?? [], where));
  const declared = new Set((spec.ports ?? []).flatMap((p) => [p.name, String(p.number)]));
  for (const [kind, probe] of Object.entries(spec.probes ?? {})) {
    if (!probe) continue;
    const handlers = ['httpGet', 'tcpSocket', 'exec'].filter((h) => (probe as any)[h] !== undefined);
    if (handlers.length !== 1) problems.push(`${where}: ${kind} probe: expected exactly one of httpGet, tcpSocket, exec, found ${handlers.length}`);
    const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
    if (port !== undefined && !declared.has(String(port))) {
      problems.push(`${where}: ${kind} probe: port ${JSON.stringify(port)} is not a declared port (declared: ${[...(spec.ports ?? [])].map((p) => p.name).join(', ') || 'none'})`);
    }
  }
  for (const m of spec.mounts ?? []) {
    if (!m.path.startsWith('/')) problems.push(`${where}: mount of "${m.volume}": expected an absolute path, found "${m.path}"`);
  }
  return problems;
}

function portProblems(ports: readonly ContainerPortSpec[], where: string): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const p of ports) {
    if (!isIanaPortName(p.name)) problems.push(`${where}: port name "${p.name}": expected an IANA service name (≤ 15 characters, a-z, 0-9, -)`);
    if (!Number.isInteger(p.number) || p.number < 1 || p.number > 65535) problems.push(`${where}: port "${p.name}": expected a number 1-65535, found ${p.number}`);
    for (const key of [p.name, String(p.number)]) {
      if (seen.has(key)) problems.push(`${where}: port ${key} is declared twice`);
      seen.add(key);
    }
  }
  return problems;
}

/** Names are unique, and `$(VAR)` in a literal refers to an entry defined before it. */
export function envProblems(env: readonly EnvEntry[], where: string): string[] {
  const problems: string[] = [];
  const defined = new Set<string>();
  for (const entry of env) {
    if (!ENV_NAME.test(entry.name)) problems.push(`${where}: env "${entry.name}": expected a C identifier-like name`);
    if (defined.has(entry.name)) problems.push(`${where}: env "${entry.name}" is defined twice`);
    if ('value' in entry) {
      for (const [, ref] of entry.value.matchAll(VAR_REFERENCE)) {
        if (!defined.has(ref)) {
          problems.push(`${where}: env "${entry.name}" refers to $(${ref}), which is not defined before it (Kubernetes would leave it unexpanded)`);
        }
      }
    }
    defined.add(entry.name);
  }
  return problems;
}

/** Throws one error listing every problem of `spec`. */
export function assertContainer(spec: ContainerSpec, where: string): void {
  const problems = containerProblems(spec, where);
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

/** The Kubernetes container for `spec`; `restartPolicy: 'Always'` makes an init container a native sidecar. */
export function renderContainer(spec: ContainerSpec, ids: ContainerIdentity, restartPolicy?: 'Always'): kplus.k8s.Container {
  const resources = renderResources(spec.resources);
  const quantities = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, k8s.Quantity.fromString(v)]));
  return {
    name: spec.name,
    image: spec.image.reference,
    imagePullPolicy: 'IfNotPresent',
    command: spec.command ? [...spec.command] : undefined,
    args: spec.args ? [...spec.args] : undefined,
    workingDir: spec.workingDir,
    restartPolicy,
    ports: spec.ports?.length ? spec.ports.map((p) => ({ name: p.name, containerPort: p.number, protocol: p.protocol ?? 'TCP' })) : undefined,
    env: spec.env?.length ? spec.env.map(renderEnv) : undefined,
    resources: { requests: quantities(resources.requests), limits: quantities(resources.limits) },
    securityContext: restrictedContainerSecurityContext(ids),
    startupProbe: renderProbe(spec.probes?.startup),
    livenessProbe: renderProbe(spec.probes?.liveness),
    readinessProbe: renderProbe(spec.probes?.readiness),
    lifecycle: spec.preStopSleepSeconds === undefined ? undefined
      : { preStop: { exec: { command: ['sleep', String(spec.preStopSleepSeconds)] } } },
    volumeMounts: spec.mounts?.length ? spec.mounts.map((m) => ({
      name: m.volume, mountPath: m.path, readOnly: m.readOnly, subPath: m.subPath,
    })) : undefined,
  };
}

function renderEnv(entry: EnvEntry): kplus.k8s.EnvVar {
  if ('value' in entry) return { name: entry.name, value: entry.value };
  return { name: entry.name, valueFrom: { fieldRef: { fieldPath: entry.fieldRef } } };
}

function renderProbe(probe: ProbeSpec | undefined): kplus.k8s.Probe | undefined {
  if (!probe) return undefined;
  const port = (p: string | number) => (typeof p === 'number' ? k8s.IntOrString.fromNumber(p) : k8s.IntOrString.fromString(p));
  return {
    httpGet: probe.httpGet ? { path: probe.httpGet.path, port: port(probe.httpGet.port), scheme: 'HTTP' } : undefined,
    tcpSocket: probe.tcpSocket ? { port: port(probe.tcpSocket.port) } : undefined,
    exec: probe.exec ? { command: [...probe.exec.command] } : undefined,
    initialDelaySeconds: probe.initialDelaySeconds,
    periodSeconds: probe.periodSeconds ?? 10,
    timeoutSeconds: probe.timeoutSeconds ?? 2,
    failureThreshold: probe.failureThreshold ?? 3,
    successThreshold: 1,
  };
}
