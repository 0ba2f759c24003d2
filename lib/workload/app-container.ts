import { ComputeResources, DEFAULT_DRAIN_SECONDS, PinnedImage } from '../core';
import { ContainerPortSpec, ContainerProbes, ContainerSpec } from './container';
import { PodVolumeSpec } from './pod-extension';

/**
 * What every pod of one Pronto service runs, whatever its Deployment or slot:
 * the app container's port, resources, probes and shutdown timing.
 */
export interface AppContainerSpec {
  /** Named container port the app listens on. */
  readonly port: ContainerPortSpec;
  /** CPU, memory and ephemeral-storage requests and limits; every field is required. */
  readonly resources: ComputeResources;
  /** Probe paths and timings. @default - see {@link AppProbeSpec} */
  readonly probes?: AppProbeSpec;
  /** Graceful-shutdown timing. @default - see {@link ShutdownSpec} */
  readonly shutdown?: ShutdownSpec;
  /** Plain (non-secret) environment variables. @default - none */
  readonly env?: Record<string, string>;
}

/**
 * Probe paths and timings. Liveness checks the process only; readiness checks the
 * service's dependencies (database, Redis), so a dependency outage takes pods out of
 * rotation without restarting them.
 */
export interface AppProbeSpec {
  /** Liveness and startup path. @default '/health/live' */
  readonly livenessPath?: string;
  /** Readiness path. @default '/health/ready' */
  readonly readinessPath?: string;
  /** Seconds the app may take to start before liveness applies (startup probe budget). @default 120 */
  readonly startupSeconds?: number;
}

/**
 * Graceful shutdown. On deletion the pod first sleeps in `preStop` while the endpoint
 * controllers and kube-proxy remove it from Services, then the app gets SIGTERM and
 * drains in-flight requests.
 */
export interface ShutdownSpec {
  /** Seconds `preStop` waits before SIGTERM, so endpoints drain first. @default 10 */
  readonly preStopSleepSeconds?: number;
  /** Seconds the app may take to finish in-flight requests after SIGTERM. @default 30 */
  readonly drainSeconds?: number;
}

/** Resolved probe settings. */
export function resolveProbes(spec: AppProbeSpec = {}): Required<AppProbeSpec> {
  return {
    livenessPath: spec.livenessPath ?? '/health/live',
    readinessPath: spec.readinessPath ?? '/health/ready',
    startupSeconds: spec.startupSeconds ?? 120,
  };
}

/** Resolved shutdown settings. */
export function resolveShutdown(spec: ShutdownSpec = {}): Required<ShutdownSpec> {
  return {
    preStopSleepSeconds: spec.preStopSleepSeconds ?? 10,
    drainSeconds: spec.drainSeconds ?? DEFAULT_DRAIN_SECONDS,
  };
}

/** Seconds between startup-probe attempts. */
const STARTUP_PERIOD_SECONDS = 5;
/** Writable scratch space: the root filesystem is read-only and gunicorn needs `/tmp`. */
const TMP_SIZE_LIMIT = '64Mi';

/**
 * The three probes of the app container. They are never identical: liveness and
 * startup hit the liveness path, readiness the readiness path, all on the declared port.
 */
export function appProbes(port: number, spec: Required<AppProbeSpec>): ContainerProbes {
  return {
    startup: { httpGet: { path: spec.livenessPath, port }, periodSeconds: STARTUP_PERIOD_SECONDS,
      failureThreshold: Math.ceil(spec.startupSeconds / STARTUP_PERIOD_SECONDS) },
    liveness: { httpGet: { path: spec.livenessPath, port }, periodSeconds: 10, failureThreshold: 3 },
    readiness: { httpGet: { path: spec.readinessPath, port }, periodSeconds: 5, failureThreshold: 3 },
  };
}

/** The `/tmp` volume every Pronto service pod gets. */
export const APP_TMP_VOLUME: PodVolumeSpec = { name: 'tmp', emptyDir: { sizeLimit: TMP_SIZE_LIMIT } };

/** The app container of a Pronto service pod: named after the service, probes on the Flask health paths. */
export function appContainer(name: string, image: PinnedImage, spec: AppContainerSpec): ContainerSpec {
  const shutdown = resolveShutdown(spec.shutdown);
  return {
    name,
    image,
    resources: spec.resources,
    ports: [{ name: spec.port.name, number: spec.port.number }],
    env: Object.entries(spec.env ?? {}).map(([key, value]) => ({ name: key, value })),
    mounts: [{ volume: APP_TMP_VOLUME.name, path: '/tmp' }],
    probes: appProbes(spec.port.number, resolveProbes(spec.probes)),
    preStopSleepSeconds: shutdown.preStopSleepSeconds,
  };
}

/** Seconds the pod needs to stop gracefully: the preStop pause plus the drain. */
export function gracePeriodSeconds(spec: AppContainerSpec): number {
  const shutdown = resolveShutdown(spec.shutdown);
  return shutdown.preStopSleepSeconds + shutdown.drainSeconds;
}
