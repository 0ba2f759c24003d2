import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';

/**
 * What every pod of one Pronto service runs, whatever its Deployment or slot:
 * the app container's port, resources, probes and shutdown timing.
 */
export interface AppContainerSpec {
  /** Named container port the app listens on. */
  readonly port: ContainerPortSpec;
  /**
   * CPU, memory and ephemeral-storage requests and limits. Every field is required:
   * cdk8s-plus would otherwise fill in its own 1000m/512Mi defaults.
   */
  readonly resources: kplus.ContainerResources;
  /** Probe paths and timings. @default - see {@link ProbeSpec} */
  readonly probes?: ProbeSpec;
  /** Graceful-shutdown timing. @default - see {@link ShutdownSpec} */
  readonly shutdown?: ShutdownSpec;
  /** Plain (non-secret) environment variables. @default - none */
  readonly env?: Record<string, string>;
}

export interface ContainerPortSpec {
  /** IANA-style port name (≤ 15 characters), referenced by the Service's targetPort. */
  readonly name: string;
  /** Port number inside the container. */
  readonly number: number;
}

/**
 * Probe paths and timings. Liveness checks the process only; readiness checks the
 * service's dependencies (database, Redis), so a dependency outage takes pods out of
 * rotation without restarting them.
 */
export interface ProbeSpec {
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
export function resolveProbes(spec: ProbeSpec = {}): Required<ProbeSpec> {
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
    drainSeconds: spec.drainSeconds ?? 30,
  };
}

/** Seconds between startup-probe attempts. */
const STARTUP_PERIOD_SECONDS = 5;

/**
 * The three probes of the app container. They are never identical: liveness and
 * startup hit the liveness path, readiness the readiness path, all on the declared port.
 */
export function appProbes(port: number, spec: Required<ProbeSpec>): Pick<kplus.ContainerProps, 'startup' | 'liveness' | 'readiness'> {
  const timing = (periodSeconds: number, failureThreshold: number): kplus.HttpGetProbeOptions => ({
    port,
    periodSeconds: Duration.seconds(periodSeconds),
    timeoutSeconds: Duration.seconds(2),
    failureThreshold,
    successThreshold: 1,
  });
  return {
    startup: kplus.Probe.fromHttpGet(spec.livenessPath,
      timing(STARTUP_PERIOD_SECONDS, Math.ceil(spec.startupSeconds / STARTUP_PERIOD_SECONDS))),
    liveness: kplus.Probe.fromHttpGet(spec.livenessPath, timing(10, 3)),
    readiness: kplus.Probe.fromHttpGet(spec.readinessPath, timing(5, 3)),
  };
}
