import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import {
  Certificate, CertificateSpecPrivateKeyAlgorithm, CertificateSpecPrivateKeyEncoding, CertificateSpecPrivateKeyRotationPolicy, CertificateSpecUsages,
} from '../../imports/cert-manager.io';
import { isDnsLabel, isDnsSubdomain, recommendedLabels, resourceName, serviceHost } from '../core';
import { PodVolumeSpec } from '../workload';

/**
 * The cert-manager issuer that signs a certificate: an `Issuer` of the namespace or a
 * `ClusterIssuer`, of cert-manager's own API group or an external issuer's.
 */
export interface CertificateIssuer {
  readonly kind: 'Issuer' | 'ClusterIssuer';
  readonly name: string;
  /** API group of the issuer kind. @default 'cert-manager.io' */
  readonly group?: string;
}

/** Files of the Secret cert-manager writes (`kubernetes.io/tls`), as a volume of this construct lays them out. */
export const CERTIFICATE_FILES = { cert: 'tls.crt', key: 'tls.key' } as const;

/**
 * Mode of the certificate files in a pod: owner (root, the kubelet) and group (the pod's
 * fsGroup) read. PostgreSQL accepts a key owned by root with no more than u=rw,g=r
 * (be-secure-common.c, check_ssl_key_file_permissions); the kubelet adds group read for the
 * fsGroup to a read-only volume anyway.
 */
export const CERTIFICATE_FILE_MODE = 0o440;

export interface ServiceCertificateProps {
  /**
   * The Service the certificate is for (a `KubeService`, or the name of an add-on's). The
   * certificate covers every name a client in the cluster may use for it: `<name>`,
   * `<name>.<namespace>`, `<name>.<namespace>.svc` and `<name>.<namespace>.svc.cluster.local`;
   * the namespace is the chart's, where the Certificate, its Secret and the pods are.
   */
  readonly service: { readonly name: string };
  /** Who signs it. */
  readonly issuer: CertificateIssuer;
  /** The Secret cert-manager writes the key and certificate to. @default `<service>-tls` */
  readonly secretName?: string;
  /** More DNS names (a StatefulSet's headless Service, its pods' names). @default - none */
  readonly extraDnsNames?: readonly string[];
  /** Lifetime, as a Go duration. @default '2160h' (90 days, cert-manager's own default, stated) */
  readonly duration?: string;
  /**
   * How long before expiry cert-manager renews it, as a Go duration. The servers pick the
   * new files up on reload, so it must leave them days to do so. @default '720h' (30 days)
   */
  readonly renewBefore?: string;
  /** `app.kubernetes.io/component` of the Certificate and its Secret. @default 'tls' */
  readonly component?: string;
}

/**
 * A cert-manager `Certificate` (cert-manager.io/v1) for a Service's in-cluster DNS names: a
 * server certificate (`server auth`) with an ECDSA P-256 key that is made anew at every
 * renewal, signed by the configured issuer, written to a Secret whose name never changes
 * (pods mount it by name: {@link ServiceCertificate.volume}). Clients verify it against the
 * issuer's CA (lib/tls's CA bundle), never against the Secret.
 *
 * The Secret is cert-manager's, never in the output: the key is made in the cluster and
 * passes through neither Git nor Vault.
 */
export class ServiceCertificate extends Construct {
  public readonly resource: Certificate;
  /** The Secret the key and certificate are in. */
  public readonly secretName: string;
  /** Every DNS name the certificate covers. */
  public readonly dnsNames: readonly string[];
  public readonly duration: string;
  public readonly renewBefore: string;

  public constructor(scope: Construct, id: string, props: ServiceCertificateProps) {
    super(scope, id);
    const where = `${this.node.path}`;
    const service = props.service.name;
    const namespace = Chart.of(this).namespace;
    if (!namespace) throw new Error(`${where}: the chart has no namespace: the certificate's DNS names (${service}.<namespace>…) need one`);
    if (!isDnsLabel(service)) throw new Error(`${where}: service: expected a Service name (a DNS label), found "${service}"`);
    if (!isDnsSubdomain(props.issuer.name)) throw new Error(`${where}: issuer.name: expected an issuer name (a DNS subdomain), found "${props.issuer.name}"`);
    const extra = props.extraDnsNames ?? [];
    const badName = extra.find((n) => !isDnsSubdomain(n));
    if (badName !== undefined) throw new Error(`${where}: extraDnsNames: expected DNS names, found "${badName}"`);
    this.secretName = resourceName(props.secretName ?? `${service}-tls`);
    this.duration = props.duration ?? '2160h';
    this.renewBefore = props.renewBefore ?? '720h';
    if (hours(this.renewBefore) >= hours(this.duration)) {
      throw new Error(`${where}: renewBefore (${this.renewBefore}) must be shorter than duration (${this.duration})`);
    }
    const fqdn = serviceHost(service, namespace);
    this.dnsNames = [...new Set([service, `${service}.${namespace}`, `${service}.${namespace}.svc`, fqdn, ...extra])];
    const labels = recommendedLabels({ name: service, component: props.component ?? 'tls' });
    this.resource = new Certificate(this, 'Resource', {
      metadata: { name: this.secretName, labels },
      spec: {
        secretName: this.secretName,
        // The Secret carries the workload's labels, so `kubectl get secret -l` finds it beside its pods.
        secretTemplate: { labels },
        issuerRef: { kind: props.issuer.kind, name: props.issuer.name, group: props.issuer.group ?? 'cert-manager.io' },
        dnsNames: [...this.dnsNames],
        duration: this.duration,
        renewBefore: this.renewBefore,
        // ECDSA P-256: what every client here verifies (libpq, PgBouncer, Go, Python), and a cheap handshake.
        // Always: a renewal makes a new key, so a key that leaked stops working within one lifetime (cert-manager ≥ 1.18's default, stated).
        privateKey: {
          algorithm: CertificateSpecPrivateKeyAlgorithm.ECDSA, size: 256,
          encoding: CertificateSpecPrivateKeyEncoding.PKCS8, rotationPolicy: CertificateSpecPrivateKeyRotationPolicy.ALWAYS,
        },
        usages: [CertificateSpecUsages.SERVER_AUTH, CertificateSpecUsages.DIGITAL_SIGNATURE],
      },
    });
  }

  /**
   * The pod volume `name` that holds the certificate and key ({@link CERTIFICATE_FILES}),
   * mode {@link CERTIFICATE_FILE_MODE}. Mount it read-only.
   */
  public volume(name: string): PodVolumeSpec {
    return {
      name,
      certificate: {
        secretName: this.secretName,
        items: [{ key: CERTIFICATE_FILES.cert, path: CERTIFICATE_FILES.cert }, { key: CERTIFICATE_FILES.key, path: CERTIFICATE_FILES.key }],
        defaultMode: CERTIFICATE_FILE_MODE,
      },
    };
  }
}

/** Hours in a Go duration of hours, minutes and seconds (`2160h`, `1h30m`): what cert-manager takes. */
function hours(duration: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  if (!m || duration === '') throw new Error(`expected a duration such as 2160h or 1h30m, found "${duration}"`);
  return Number(m[1] ?? 0) + Number(m[2] ?? 0) / 60 + Number(m[3] ?? 0) / 3600;
}
