import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ComputeResources, PinnedImage, RunAsIds, recommendedLabels, resourceName, ANNOTATION_CONFIG_CHECKSUM, configChecksum } from '../core';
import { CaBundle, CertificateIssuer, SERVER_TLS_DIR, ServiceCertificate, mountCaBundle } from '../tls';
import { ContainerSpec, PodExtensionPoint, PodVolumeSpec, Workload } from '../workload';
import { EXPORTER_LOGIN } from './exporter-login';

const k8s = kplus.k8s;

/** Where things are in the PgBouncer container. */
export const PGBOUNCER_PATHS = {
  /** The ConfigMap: pgbouncer.ini, pg_hba.conf and start.sh. */
  configDir: '/etc/pgbouncer',
  /** The Unix socket (writable emptyDir); no pidfile (lib/database/pgbouncer-config.ts says why). */
  runDir: '/var/run/pgbouncer',
  /** PgBouncer's certificate and key (cert-manager's Secret), when TLS is on. */
  tlsDir: SERVER_TLS_DIR,
} as const;

export const PGBOUNCER_FILES = { ini: 'pgbouncer.ini', hba: 'pg_hba.conf', start: 'start.sh' } as const;

export interface PgBouncerProps {
  /** Workload and Service name. @default 'pgbouncer' */
  readonly name?: string;
  readonly image: PinnedImage;
  readonly resources: ComputeResources;
  /** Replicas (at least 2: one may be drained at a time). */
  readonly replicas: number;
  /** pgbouncer.ini, pg_hba.conf and the entrypoint start.sh, which ends in `exec pgbouncer` ({@link PGBOUNCER_FILES}). */
  readonly files: Readonly<Record<typeof PGBOUNCER_FILES[keyof typeof PGBOUNCER_FILES], string>>;
  /** `listen_port` of pgbouncer.ini; also the Service port. @default 6432 */
  readonly port?: number;
  /** What capabilities add (the Vault agent rendering auth_file). @default - nothing */
  readonly extension?: PodExtensionPoint;
  /** Sidecars (pgbouncer_exporter); they may mount the `exporter-login` volume read-only. @default - none */
  readonly sidecars?: readonly ContainerSpec[];
  /**
   * TLS: a cert-manager certificate from `issuer` for the Service's names, mounted at
   * {@link PGBOUNCER_PATHS.tlsDir}, and the CA bundle PostgreSQL's certificate is verified
   * against, mounted by lib/tls's mountCaBundle. @default - none (plaintext)
   */
  readonly tls?: { readonly issuer: CertificateIssuer; readonly caBundle: CaBundle };
  /** Seconds preStop sleeps so the Service endpoints drop the pod before SIGTERM. @default 10 */
  readonly preStopSleepSeconds?: number;
  /**
   * Seconds from SIGTERM to SIGKILL: longer than the apps' pooled connection lifetime, so
   * clients move to another replica before this one dies.
   */
  readonly terminationGracePeriodSeconds: number;
  readonly runAs?: RunAsIds;
}

/**
 * PgBouncer as a Deployment of at least two spread replicas (a {@link Workload}, PDB
 * `maxUnavailable: 1`), its configuration and entrypoint in a ConfigMap (checksum annotation), a TCP
 * readiness probe and a liveness probe on the process only (never on PostgreSQL: a database
 * outage must not restart every pooler), a preStop pause, and the Service `pgbouncer`. The image
 * must carry `pg_isready` (CloudNativePG's installs postgresql-client beside PgBouncer).
 */
export class PgBouncer extends Construct {
  public readonly workload: Workload;
  public readonly configMap: kplus.k8s.KubeConfigMap;
  public readonly service: kplus.k8s.KubeService;
  public readonly name: string;
  public readonly port: number;
  public readonly preStopSleepSeconds: number;
  /** PgBouncer's certificate, when TLS is on. */
  public readonly certificate?: ServiceCertificate;

  public constructor(scope: Construct, id: string, props: PgBouncerProps) {
    super(scope, id);
    this.name = resourceName(props.name ?? 'pgbouncer');
    this.port = props.port ?? 6432;
    this.preStopSleepSeconds = props.preStopSleepSeconds ?? 10;
    if (!Number.isInteger(props.replicas) || props.replicas < 2) throw new Error(`${this.name}: replicas: expected at least 2, found ${props.replicas}`);
    if (props.terminationGracePeriodSeconds <= this.preStopSleepSeconds) {
      throw new Error(`${this.name}: terminationGracePeriodSeconds (${props.terminationGracePeriodSeconds}) must exceed preStopSleepSeconds (${this.preStopSleepSeconds})`);
    }
    const missing = Object.values(PGBOUNCER_FILES).filter((f) => !(f in props.files));
    if (missing.length > 0) throw new Error(`${this.name}: files: expected ${missing.join(', ')}`);
    const files = Object.fromEntries(Object.values(PGBOUNCER_FILES).map((f) => [f, props.files[f]]));
    const extension = props.extension ?? new PodExtensionPoint(this.name, props.runAs);
    extension.addPodAnnotation(ANNOTATION_CONFIG_CHECKSUM, configChecksum(files));
    this.configMap = new k8s.KubeConfigMap(this, 'Config', {
      metadata: { name: this.name, labels: recommendedLabels({ name: this.name, component: 'database', version: props.image.version }) },
      data: files,
    });
    const volumes: PodVolumeSpec[] = [
      { name: 'config', configMap: { name: this.name, defaultMode: 0o444 } },
      { name: 'run', emptyDir: { sizeLimit: '16Mi' } },
      { name: EXPORTER_LOGIN.volume, emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
    ];
    this.certificate = props.tls ? new ServiceCertificate(this, 'Certificate', { service: { name: this.name }, issuer: props.tls.issuer, component: 'database' }) : undefined;
    if (this.certificate) volumes.push(this.certificate.volume('tls'));
    if (props.tls) mountCaBundle(extension, props.tls.caBundle);
    this.workload = new Workload(this, 'Workload', {
      name: this.name,
      component: 'database',
      scaling: { kind: 'fixed', replicas: props.replicas },
      runAs: props.runAs,
      terminationGracePeriodSeconds: props.terminationGracePeriodSeconds,
      extension,
      volumes,
      containers: [{
        name: 'pgbouncer',
        image: props.image,
        resources: props.resources,
        command: ['sh', `${PGBOUNCER_PATHS.configDir}/${PGBOUNCER_FILES.start}`],
        ports: [{ name: 'pgbouncer', number: this.port }],
        mounts: [
          { volume: 'config', path: PGBOUNCER_PATHS.configDir, readOnly: true },
          { volume: 'run', path: PGBOUNCER_PATHS.runDir },
          { volume: EXPORTER_LOGIN.volume, path: EXPORTER_LOGIN.dir },
          ...(this.certificate ? [{ volume: 'tls', path: PGBOUNCER_PATHS.tlsDir, readOnly: true }] : []),
        ],
        probes: {
          // PgBouncer answers the protocol on its socket (pg_isready counts any answer, a refused login included):
          // still the pooler only, never PostgreSQL.
          readiness: { exec: { command: ['pg_isready', '-q', '-h', PGBOUNCER_PATHS.runDir, '-p', String(this.port), '-d', 'pgbouncer'] }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
          // The process only, by its listener (PgBouncer accepts while PostgreSQL is down): never
          // PostgreSQL, and no pidfile, which a SIGKILLed PID 1 leaves behind on the emptyDir.
          liveness: { tcpSocket: { port: 'pgbouncer' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 6 },
        },
        preStopSleepSeconds: this.preStopSleepSeconds,
      }, ...(props.sidecars ?? [])],
    });
    const sidecarPorts = (props.sidecars ?? []).flatMap((s) => s.ports ?? []).map((p) => ({ targetPort: p.name }));
    this.service = this.workload.addService('Service', { name: this.name, ports: [{ targetPort: 'pgbouncer' }, ...sidecarPorts] });
  }
}
