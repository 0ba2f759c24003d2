/**
 * Adds log shipping to one service's pods: the shared emptyDir, the shipper sidecar
 * (Promtail or Alloy) that tails the app's log file and pushes it to Loki, and, by capture
 * mode, either the app's stdout captured into the file (its command wrapped) or the file's
 * path given to the app. The shipper's configuration is rendered here; the caller puts it
 * in the ConfigMap {@link LogShipperProps.configMapName} ({@link LogShipperConfig}).
 */
import { ComputeResources, PinnedImage, configChecksum } from '../core';
import { PodExtensionPoint, SidecarSpec } from '../workload';
import { renderAlloyConfig } from './alloy-config';
import { stdoutCaptureWrapper } from './capture-command';
import { CaptureMode, LogPipeline, LogShipperKind, LokiPush, STATIC_LABELS } from './model';
import { renderPromtailConfig } from './promtail-config';

/** The pod volume both containers share: the log file, its rotated predecessor and the shipper's positions. */
export const LOG_VOLUME = 'app-logs';
/** Where the shared volume is mounted, in the app and in the shipper. */
export const LOG_DIR = '/var/log/pronto';
/** The file the app's lines are in. */
export const LOG_FILE = `${LOG_DIR}/app.log`;
/** The pod volume of the shipper's configuration (the ConfigMap). */
export const LOG_SHIPPER_CONFIG_VOLUME = 'log-shipper-config';
/** Pod annotation with the checksum of the shipper's configuration: a change rolls the pods. */
export const ANNOTATION_LOG_SHIPPER_CHECKSUM = 'pronto.io/log-shipper-config-checksum';
/** Env vars of the app container in `file` mode. */
export const LOG_FILE_ENV = 'LOG_FILE';
export const LOG_FILE_MAX_BYTES_ENV = 'LOG_FILE_MAX_BYTES';
/**
 * Room on the shared volume besides the two log files: the shipper's positions (Alloy's
 * whole storage folder) and the line that crosses the rotation size. MiB.
 */
export const LOG_VOLUME_HEADROOM_MI = 16;
/** Alloy's storage folder (its read positions among them), on the shared volume. */
const ALLOY_STORAGE = `${LOG_DIR}/alloy`;
/** Container port name of the shipper's HTTP server. */
export const LOG_SHIPPER_PORT_NAME = 'shipper-http';

/** How each shipper runs: binary, configuration file, HTTP port and readiness path. */
export const SHIPPERS: Readonly<Record<LogShipperKind, {
  readonly configDir: string;
  readonly configFile: string;
  readonly httpPort: number;
  readonly readinessPath: string;
  /** Positions file (Promtail) or storage folder (Alloy), on the shared volume. */
  readonly positionsPath: string;
  readonly command: (configPath: string, httpPort: number) => string[];
  readonly render: (pipeline: LogPipeline) => string;
}>> = {
  promtail: {
    configDir: '/etc/promtail', configFile: 'promtail.yaml', httpPort: 9080, readinessPath: '/ready',
    positionsPath: `${LOG_DIR}/promtail-positions.yaml`,
    command: (config) => ['/usr/bin/promtail', `-config.file=${config}`],
    render: renderPromtailConfig,
  },
  alloy: {
    configDir: '/etc/alloy', configFile: 'config.alloy', httpPort: 12345, readinessPath: '/-/ready',
    positionsPath: ALLOY_STORAGE,
    // Listens on every address (the kubelet probes the pod IP); no usage reports to grafana.com (egress is denied anyway).
    command: (config, port) => ['/bin/alloy', 'run', `--server.http.listen-addr=0.0.0.0:${port}`, `--storage.path=${ALLOY_STORAGE}`, '--disable-reporting', config],
    render: renderAlloyConfig,
  },
};

export interface LogShipperProps {
  /** Promtail (end of life since March 2026) or Grafana Alloy, its successor. */
  readonly shipper: LogShipperKind;
  /** The shipper's pinned image: grafana/promtail 3.x or grafana/alloy 1.x. */
  readonly image: PinnedImage;
  /** Requests and limits of the sidecar; counted by the capacity guard like any container. */
  readonly resources: ComputeResources;
  /** How the app's lines reach the file. */
  readonly capture: CaptureMode;
  /** The app's own command (entrypoint and arguments); wrapped in `stdout` mode. */
  readonly appCommand: readonly string[];
  /** Size at which the log file is renamed to `<file>.1` (by the wrapper in `stdout` mode, by the app in `file` mode). Bytes. */
  readonly rotateBytes: number;
  /** Loki's push API and tenant. */
  readonly push: LokiPush;
  /** Stream labels set from the pod: the service, its namespace and environment. */
  readonly labels: Readonly<Record<typeof STATIC_LABELS[number], string>>;
  /** Name of the ConfigMap holding {@link LogShipperFiles.files}. */
  readonly configMapName: string;
  /**
   * UID and GID of the shipper when they are not the pod's: the Vault agent's, so that it
   * alone (not the app) reads its password file, rendered with mode 0400. @default - the pod's
   */
  readonly runAs?: { readonly user: number; readonly group: number };
  /**
   * The CA bundle the shipper verifies Loki's certificate with (https push URL): the pod
   * volume that holds it (lib/tls's mountCaBundle adds it), the folder the shipper mounts it
   * at and the CA file there. @default - the image's system roots, or plain HTTP
   */
  readonly caBundle?: { readonly volume: string; readonly dir: string; readonly file: string };
}

/** What the ConfigMap must hold. */
export interface LogShipperFiles {
  /** File name → content: the shipper's configuration. */
  readonly files: Readonly<Record<string, string>>;
}

/** Size of the shared emptyDir: the live file and one rotated file at the rotation size, plus the headroom. MiB. */
export function logVolumeSizeMi(rotateBytes: number): number {
  return 2 * Math.ceil(rotateBytes / (1024 * 1024)) + LOG_VOLUME_HEADROOM_MI;
}

/** The shipper's configuration files for `props`; the same text {@link addLogShipper} checksums. */
export function logShipperFiles(props: Pick<LogShipperProps, 'shipper' | 'push' | 'labels' | 'caBundle'>): LogShipperFiles {
  const s = SHIPPERS[props.shipper];
  const push = props.caBundle ? { ...props.push, caFile: props.caBundle.file } : props.push;
  return { files: { [s.configFile]: s.render({ logFile: LOG_FILE, positionsPath: s.positionsPath, push, labels: props.labels, httpPort: s.httpPort }) } };
}

/** Adds the shared volume, the shipper sidecar and the capture to `pod`; returns the files its ConfigMap must hold. */
export function addLogShipper(pod: PodExtensionPoint, props: LogShipperProps): LogShipperFiles {
  const s = SHIPPERS[props.shipper];
  const rendered = logShipperFiles(props);

  pod.addVolume({ name: LOG_VOLUME, emptyDir: { sizeLimit: `${logVolumeSizeMi(props.rotateBytes)}Mi` } });
  pod.addVolume({ name: LOG_SHIPPER_CONFIG_VOLUME, configMap: { name: props.configMapName, defaultMode: 0o444 } });
  pod.addAppMount({ volume: LOG_VOLUME, path: LOG_DIR });
  pod.addPodAnnotation(ANNOTATION_LOG_SHIPPER_CHECKSUM, configChecksum(rendered.files));
  if (props.capture === 'stdout') {
    pod.wrapAppCommand({ by: 'logs', wrapper: stdoutCaptureWrapper(LOG_FILE, props.rotateBytes), command: props.appCommand });
  } else {
    pod.addAppEnv({ name: LOG_FILE_ENV, value: LOG_FILE });
    pod.addAppEnv({ name: LOG_FILE_MAX_BYTES_ENV, value: String(props.rotateBytes) });
  }
  const sidecar: SidecarSpec = {
    name: props.shipper,
    ...(props.runAs ? { runAs: props.runAs } : {}),
    image: props.image,
    resources: props.resources,
    command: s.command(`${s.configDir}/${s.configFile}`, s.httpPort),
    ports: [{ name: LOG_SHIPPER_PORT_NAME, number: s.httpPort }],
    mounts: [
      { volume: LOG_VOLUME, path: LOG_DIR },
      { volume: LOG_SHIPPER_CONFIG_VOLUME, path: s.configDir, readOnly: true },
      ...(props.caBundle ? [{ volume: props.caBundle.volume, path: props.caBundle.dir, readOnly: true }] : []),
    ],
    probes: {
      // Promtail is ready once it tails the file (the wrapper creates it at start; in file mode the app must).
      readiness: { httpGet: { path: s.readinessPath, port: LOG_SHIPPER_PORT_NAME }, periodSeconds: 10, failureThreshold: 3 },
      // The process only: a Loki outage must not restart the shipper (it retries and keeps its position).
      liveness: { tcpSocket: { port: LOG_SHIPPER_PORT_NAME }, periodSeconds: 20, failureThreshold: 3 },
    },
  };
  pod.addSidecar(sidecar);
  return rendered;
}
