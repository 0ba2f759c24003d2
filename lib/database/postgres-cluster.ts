import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ComputeResources, PinnedImage, RunAsIds, recommendedLabels, resourceName, ANNOTATION_CONFIG_CHECKSUM, configChecksum } from '../core';
import { CertificateIssuer, SERVER_TLS_DIR, ServiceCertificate } from '../tls';
import { ContainerSpec, EnvEntry, PodExtensionPoint, PodVolumeSpec, Workload } from '../workload';
import { EXPORTER_LOGIN } from './exporter-login';

const k8s = kplus.k8s;

/** Where things are in the PostgreSQL container. */
export const POSTGRES_PATHS = {
  /** The ConfigMap: postgresql.conf, pg_hba.conf, start.sh, restore-wal.sh, platform-roles.sql. */
  configDir: '/etc/postgresql',
  /** Mount point of the data volume (the PVC). */
  volumeDir: '/var/lib/postgresql/data',
  /** PGDATA: a folder below the mount point, so the volume's lost+found never confuses initdb. */
  dataDir: '/var/lib/postgresql/data/pgdata',
  /** Unix socket folder (writable emptyDir), the postgres container's only: no sidecar reaches the socket. */
  socketDir: '/var/run/postgresql',
  /** The server's certificate and key (cert-manager's Secret), when TLS is on. */
  tlsDir: SERVER_TLS_DIR,
} as const;

/** Files of the ConfigMap, by name. */
export const POSTGRES_FILES = {
  conf: 'postgresql.conf',
  hba: 'pg_hba.conf',
  start: 'start.sh',
  restore: 'restore-wal.sh',
  /** The platform bootstrap: the platform's own roles (the apps' are the pg-roles job's). */
  roles: 'platform-roles.sql',
} as const;


export interface PostgresClusterProps {
  /** Workload name: StatefulSet, ServiceAccount, client Service, ConfigMap. @default 'postgres' */
  readonly name?: string;
  /** Image with PostgreSQL and WAL-G. */
  readonly image: PinnedImage;
  /** Requests and limits of the postgres container. */
  readonly resources: ComputeResources;
  /** Size of the data volume, e.g. `20Gi`. */
  readonly storageSize: string;
  /** StorageClass of the data volume. @default - the cluster default */
  readonly storageClassName?: string;
  /** Size of the in-memory /dev/shm, in MiB (counted against the memory limit). @default 256 */
  readonly sharedMemoryMi?: number;
  /** Contents of the ConfigMap ({@link POSTGRES_FILES}); every key is required. */
  readonly files: Readonly<Record<typeof POSTGRES_FILES[keyof typeof POSTGRES_FILES], string>>;
  /** Env of the postgres container (WAL-G's, without credentials). @default - none */
  readonly env?: readonly EnvEntry[];
  /** What capabilities add (the Vault agent). @default - nothing */
  readonly extension?: PodExtensionPoint;
  /**
   * Sidecars beside PostgreSQL (postgres_exporter). They may mount the `exporter-login` volume
   * (read-only), where start.sh leaves the exporter's login; never the socket. @default - none
   */
  readonly sidecars?: readonly ContainerSpec[];
  /**
   * TLS: a cert-manager certificate from `issuer` for the client Service's names, mounted at
   * {@link POSTGRES_PATHS.tlsDir} (postgresql.conf's ssl_cert_file and ssl_key_file point there).
   * @default - none: no certificate (ssl = off)
   */
  readonly tls?: { readonly issuer: CertificateIssuer };
  /** Server port. @default 5432 */
  readonly port?: number;
  /** Numeric identity. @default - see RunAsIds */
  readonly runAs?: RunAsIds;
  /**
   * Seconds from SIGTERM to SIGKILL: the start script turns SIGTERM into a fast shutdown
   * (SIGINT: disconnect clients, checkpoint), which a busy server needs time for. @default 120
   */
  readonly terminationGracePeriodSeconds?: number;
}

/**
 * PostgreSQL as a one-replica StatefulSet (a {@link Workload}): its ConfigMap (checksum
 * annotation), a data PVC per replica, writable paths on volumes only (the PVC, the socket
 * folder, /tmp, an in-memory /dev/shm), probes that never restart a server busy with a
 * checkpoint or a long recovery, the headless Service and the client Service.
 */
export class PostgresCluster extends Construct {
  public readonly workload: Workload;
  public readonly configMap: kplus.k8s.KubeConfigMap;
  /** The client Service (the primary). */
  public readonly service: kplus.k8s.KubeService;
  public readonly name: string;
  public readonly port: number;
  public readonly sharedMemoryMi: number;
  public readonly terminationGracePeriodSeconds: number;
  /** The server's certificate, when TLS is on. */
  public readonly certificate?: ServiceCertificate;

  public constructor(scope: Construct, id: string, props: PostgresClusterProps) {
    super(scope, id);
    this.name = resourceName(props.name ?? 'postgres');
    this.port = props.port ?? 5432;
    this.sharedMemoryMi = props.sharedMemoryMi ?? 256;
    this.terminationGracePeriodSeconds = props.terminationGracePeriodSeconds ?? 120;
    const missing = Object.values(POSTGRES_FILES).filter((f) => !(f in props.files));
    if (missing.length > 0) throw new Error(`${this.name}: files: expected ${missing.join(', ')}`);
    const files = Object.fromEntries(Object.values(POSTGRES_FILES).map((f) => [f, props.files[f]]));

    const extension = props.extension ?? new PodExtensionPoint(this.name, props.runAs);
    extension.addPodAnnotation(ANNOTATION_CONFIG_CHECKSUM, configChecksum(files));

    this.configMap = new k8s.KubeConfigMap(this, 'Config', {
      metadata: { name: this.name, labels: recommendedLabels({ name: this.name, component: 'database', version: props.image.version }) },
      data: files,
    });
    const volumes: PodVolumeSpec[] = [
      { name: 'config', configMap: { name: this.name, defaultMode: 0o555 } },
      { name: 'socket', emptyDir: { sizeLimit: '16Mi' } },
      { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
      { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: `${this.sharedMemoryMi}Mi` } },
      { name: EXPORTER_LOGIN.volume, emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
    ];
    // The client Service's name is known before the Service: the Certificate covers it (and the names below it).
    this.certificate = props.tls ? new ServiceCertificate(this, 'Certificate', { service: { name: this.name }, issuer: props.tls.issuer, component: 'database' }) : undefined;
    if (this.certificate) volumes.push(this.certificate.volume('tls'));
    const isReady = ['pg_isready', `--host=${POSTGRES_PATHS.socketDir}`, `--port=${this.port}`, '--quiet'];
    this.workload = new Workload(this, 'Workload', {
      name: this.name,
      kind: 'StatefulSet',
      component: 'database',
      scaling: { kind: 'fixed', replicas: 1 },
      runAs: props.runAs,
      terminationGracePeriodSeconds: this.terminationGracePeriodSeconds,
      extension,
      volumes,
      volumeClaimTemplates: [{ name: 'data', size: props.storageSize, storageClassName: props.storageClassName }],
      containers: [{
        name: 'postgres',
        image: props.image,
        resources: props.resources,
        command: ['sh', `${POSTGRES_PATHS.configDir}/${POSTGRES_FILES.start}`],
        ports: [{ name: 'postgres', number: this.port }],
        env: [
          { name: 'PGDATA', value: POSTGRES_PATHS.dataDir },
          { name: 'PGHOST', value: POSTGRES_PATHS.socketDir },
          { name: 'PGPORT', value: String(this.port) },
          ...(props.env ?? []),
        ],
        mounts: [
          { volume: 'data', path: POSTGRES_PATHS.volumeDir },
          { volume: 'config', path: POSTGRES_PATHS.configDir, readOnly: true },
          { volume: 'socket', path: POSTGRES_PATHS.socketDir },
          { volume: 'tmp', path: '/tmp' },
          { volume: 'shm', path: '/dev/shm' },
          { volume: EXPORTER_LOGIN.volume, path: EXPORTER_LOGIN.dir },
          ...(this.certificate ? [{ volume: 'tls', path: POSTGRES_PATHS.tlsDir, readOnly: true }] : []),
        ],
        probes: {
          // Crash recovery or replaying WAL after a restore can take long: up to an hour before liveness counts.
          startup: { exec: { command: isReady }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 360 },
          // Accepting connections: out of the Service while starting, shutting down or in recovery.
          readiness: { exec: { command: isReady }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
          // The process only: the postmaster accepts TCP even during a long checkpoint, so a slow
          // disk never gets the database killed; a minute of refused connects means it is gone.
          liveness: { tcpSocket: { port: 'postgres' }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
        },
      }, ...(props.sidecars ?? [])],
    });
    const sidecarPorts = (props.sidecars ?? []).flatMap((s) => s.ports ?? []).map((p) => ({ targetPort: p.name }));
    this.service = this.workload.addService('Service', { name: this.name, ports: [{ targetPort: 'postgres' }, ...sidecarPorts] });
  }
}
