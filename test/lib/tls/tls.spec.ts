/**
 * The TLS foundation every capability's servers and clients share: ServiceCertificate (a
 * cert-manager Certificate for a Service's names, its stable Secret, the volume pods mount
 * it by) with each documented default and refusal, valid against the cert-manager CRD the
 * gate checks with; the CA bundle mount (one volume per bundle, declared as the cluster's,
 * which the gate's config-map-exists rule then accepts, and only it); the shared config shape.
 */
import { ApiObject, Chart, JsonPatch, Testing } from 'cdk8s';
import { ServiceTls, serviceTlsSchema, serviceTlsSettingSchema } from '../../../config/sections/schemas';
import { UpstreamImage, clusterConfigMapAnnotation } from '../../../lib/core';
import {
  CA_BUNDLE_DIR, CERTIFICATE_FILES, CERTIFICATE_FILE_MODE, ServiceCertificate, ServiceCertificateProps, caBundleFile, mountCaBundle,
} from '../../../lib/tls';
import { runGate } from '../../../lib/validation';
import { PodExtensionPoint, Workload } from '../../../lib/workload';
import { gateFindingsInNamespace, named } from '../../helpers';

const issuer = { kind: 'ClusterIssuer', name: 'internal-ca' } as const;

function certificate(props: Partial<ServiceCertificateProps> = {}, namespace: string | null = 'pronto') {
  const app = Testing.app();
  const chart = new Chart(app, 'c', { namespace: namespace ?? undefined, disableResourceNameHashes: true });
  const cert = new ServiceCertificate(chart, 'Tls', { service: { name: 'pgbouncer' }, issuer, ...props });
  return { cert, chart, out: Testing.synth(chart) };
}

describe('ServiceCertificate', () => {
  test('minimal props: every in-cluster name of the Service, a stable Secret, an ECDSA P-256 key made anew at each renewal, server auth', () => {
    const { cert, out } = certificate();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      apiVersion: 'cert-manager.io/v1', kind: 'Certificate',
      metadata: { name: 'pgbouncer-tls', labels: { 'app.kubernetes.io/name': 'pgbouncer', 'app.kubernetes.io/component': 'tls' } },
      spec: {
        secretName: 'pgbouncer-tls',
        secretTemplate: { labels: { 'app.kubernetes.io/name': 'pgbouncer' } },
        issuerRef: { kind: 'ClusterIssuer', name: 'internal-ca', group: 'cert-manager.io' },
        dnsNames: ['pgbouncer', 'pgbouncer.pronto', 'pgbouncer.pronto.svc', 'pgbouncer.pronto.svc.cluster.local'],
        privateKey: { algorithm: 'ECDSA', size: 256, encoding: 'PKCS8', rotationPolicy: 'Always' },
        usages: ['server auth', 'digital signature'],
      },
    });
    expect(cert.dnsNames).toEqual(out[0].spec.dnsNames);
    expect(cert.secretName).toBe('pgbouncer-tls');
    // Valid against the cert-manager CRD (imports/crds/cert-manager.io.yaml) and every other rule.
    expect(gateFindingsInNamespace(out)).toEqual([]);
  });

  test.each([
    ['duration', {}, (o: any) => o.spec.duration, '2160h'],
    ['renewBefore', {}, (o: any) => o.spec.renewBefore, '720h'],
    ['secretName', {}, (o: any) => o.spec.secretName, 'pgbouncer-tls'],
    ['issuer.group', {}, (o: any) => o.spec.issuerRef.group, 'cert-manager.io'],
    ['component', {}, (o: any) => o.metadata.labels['app.kubernetes.io/component'], 'tls'],
    ['extraDnsNames', {}, (o: any) => o.spec.dnsNames.length, 4],
  ])('default of %s', (_name, props, read, expected) => {
    expect(read(certificate(props).out[0])).toEqual(expected);
  });

  test('all props: its Secret, issuer, lifetime and extra names as given', () => {
    const all: Required<ServiceCertificateProps> = {
      service: { name: 'postgres' }, issuer: { kind: 'Issuer', name: 'ns-ca', group: 'awspca.cert-manager.io' }, secretName: 'pg-server-tls',
      extraDnsNames: ['postgres-headless.pronto.svc.cluster.local'], duration: '720h', renewBefore: '240h', component: 'database',
    };
    const { out } = certificate(all);
    expect(out[0].spec).toMatchObject({
      secretName: 'pg-server-tls', issuerRef: { kind: 'Issuer', name: 'ns-ca', group: 'awspca.cert-manager.io' }, duration: '720h', renewBefore: '240h',
    });
    expect(out[0].spec.dnsNames).toContain('postgres-headless.pronto.svc.cluster.local');
    expect(out[0].metadata.labels['app.kubernetes.io/component']).toBe('database');
  });

  test('its volume: the Secret\'s certificate and key only, mode 0440, rendered as a secret volume of the pod', () => {
    const { cert, chart } = certificate();
    expect(cert.volume('tls')).toEqual({
      name: 'tls',
      certificate: { secretName: 'pgbouncer-tls', items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }], defaultMode: CERTIFICATE_FILE_MODE },
    });
    expect(CERTIFICATE_FILE_MODE).toBe(0o440);
    expect(Object.values(CERTIFICATE_FILES)).toEqual(['tls.crt', 'tls.key']);
    const pod = new PodExtensionPoint('web');
    pod.addVolume(cert.volume('tls'));
    pod.addAppMount({ volume: 'tls', path: '/etc/web/tls', readOnly: true });
    new Workload(chart, 'Web', {
      name: 'web', component: 'web', scaling: { kind: 'fixed', replicas: 2 }, extension: pod,
      containers: [{ name: 'web', image: new UpstreamImage({ repository: 'registry.example.com/web', tag: '1.0.0' }), ports: [{ name: 'http', number: 8080 }],
        resources: { requests: { cpu: '10m', memory: '16Mi', ephemeralStorage: '16Mi' }, limits: { cpu: '50m', memory: '32Mi', ephemeralStorage: '32Mi' } },
        probes: { readiness: { tcpSocket: { port: 'http' } }, liveness: { tcpSocket: { port: 'http' } } } }],
    });
    const spec = named(Testing.synth(chart), 'Deployment', 'web').spec.template.spec;
    expect(spec.volumes).toContainEqual({ name: 'tls', secret: { secretName: 'pgbouncer-tls', items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }], defaultMode: 0o440 } });
  });

  test('a volume with two sources is refused, the certificate counted among them', () => {
    const { cert } = certificate();
    expect(() => new PodExtensionPoint('web').addVolume({ ...cert.volume('tls'), emptyDir: { sizeLimit: '1Mi' } }))
      .toThrow('web: volume "tls": expected exactly one source (emptyDir, configMap, projected, persistentVolumeClaim, certificate), found 2');
  });

  test.each([
    ['a chart without a namespace', {}, null, 'the chart has no namespace'],
    ['a Service name that is not a DNS label', { service: { name: 'PgBouncer' } }, 'pronto', 'service: expected a Service name (a DNS label), found "PgBouncer"'],
    ['an issuer name that is not a DNS subdomain', { issuer: { kind: 'ClusterIssuer', name: 'Internal CA' } }, 'pronto', 'issuer.name: expected an issuer name (a DNS subdomain), found "Internal CA"'],
    ['an extra name that is not a DNS name', { extraDnsNames: ['*bad*'] }, 'pronto', 'extraDnsNames: expected DNS names, found "*bad*"'],
    ['a renewal not before expiry', { duration: '720h', renewBefore: '720h' }, 'pronto', 'renewBefore (720h) must be shorter than duration (720h)'],
    ['a duration cert-manager does not take', { duration: '90d' }, 'pronto', 'expected a duration such as 2160h or 1h30m, found "90d"'],
  ] as const)('fails on %s', (_name, props, namespace, message) => {
    expect(() => certificate(props as Partial<ServiceCertificateProps>, namespace)).toThrow(message);
  });

  test('the gate checks it against the cert-manager CRD: an unknown usage or field is a finding', () => {
    const { chart } = certificate();
    const resource = chart.node.findChild('Tls').node.findChild('Resource') as ApiObject;
    resource.addJsonPatch(JsonPatch.add('/spec/usages/-', 'world domination'), JsonPatch.add('/spec/keyUsage', ['x']));
    const findings = runGate(Testing.synth(chart).map((m: any) => ({ ...m, metadata: { ...m.metadata, namespace: 'pronto' } }))).findings;
    expect(findings.map((f) => `${f.rule} ${f.path}`)).toEqual(expect.arrayContaining([expect.stringMatching(/^schema spec\.usages/), expect.stringMatching(/^schema spec/)]));
  });
});

describe('the CA bundle', () => {
  test('mounted read-only at its own folder, declared as the cluster\'s, once per pod however many clients trust it', () => {
    const pod = new PodExtensionPoint('order-service');
    const file = mountCaBundle(pod, { configMap: 'internal-ca' });
    expect(file).toBe(`${CA_BUNDLE_DIR}/internal-ca/ca.crt`);
    expect(caBundleFile({ configMap: 'internal-ca', key: 'bundle.pem' })).toBe(`${CA_BUNDLE_DIR}/internal-ca/bundle.pem`);
    expect(mountCaBundle(pod, { configMap: 'internal-ca', key: 'ca.crt' })).toBe(file);
    expect(pod.volumes).toEqual([{ name: 'ca-internal-ca', configMap: { name: 'internal-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 0o444 } }]);
    expect(pod.appMounts).toEqual([{ volume: 'ca-internal-ca', path: `${CA_BUNDLE_DIR}/internal-ca`, readOnly: true }]);
    expect(pod.podAnnotations[clusterConfigMapAnnotation('internal-ca')]).toMatch(/kept in the namespace by the platform team/);
  });

  test('fails on a name that is no ConfigMap name, a bad key, or a volume of that name holding something else', () => {
    expect(() => mountCaBundle(new PodExtensionPoint('a'), { configMap: 'Internal_CA' })).toThrow('a: CA bundle: expected a ConfigMap name (a DNS label), found "Internal_CA"');
    expect(() => mountCaBundle(new PodExtensionPoint('a'), { configMap: 'ca', key: 'a/b' })).toThrow('a: CA bundle ca: expected a ConfigMap key, found "a/b"');
    const pod = new PodExtensionPoint('a');
    pod.addVolume({ name: 'ca-internal-ca', emptyDir: { sizeLimit: '1Mi' } });
    expect(() => mountCaBundle(pod, { configMap: 'internal-ca' })).toThrow('a: volume "ca-internal-ca" exists and is not CA bundle internal-ca (key ca.crt)');
  });

  test('the gate\'s config-map-exists rule accepts the declared bundle, and nothing else that is missing', () => {
    const pod = (annotations: Record<string, string>, configMaps: string[]) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'pronto', annotations },
      spec: { containers: [{ name: 'c', image: 'x:1' }], volumes: configMaps.map((name) => ({ name, configMap: { name } })) },
    });
    const rule = (m: any) => runGate([m]).findings.filter((f) => f.rule === 'config-map-exists').map((f) => f.message);
    const declared = { [clusterConfigMapAnnotation('internal-ca')]: 'kept by the platform team' };
    expect(rule(pod(declared, ['internal-ca']))).toEqual([]);
    expect(rule(pod(declared, ['internal-ca', 'other']))).toEqual(['ConfigMap "other" is not in the output']);
    expect(rule(pod({}, ['internal-ca']))).toEqual(['ConfigMap "internal-ca" is not in the output']);
    expect(rule(pod({ [clusterConfigMapAnnotation('internal-ca')]: ' ' }, ['internal-ca']))).toEqual(['ConfigMap "internal-ca" is not in the output']);
  });
});

describe('the shared config shape', () => {
  test('defaults: a ClusterIssuer of cert-manager.io, the bundle\'s key ca.crt; false is plaintext on purpose', () => {
    const parsed: ServiceTls = serviceTlsSchema.parse({ issuer: { name: 'internal-ca' }, caBundle: { configMap: 'internal-ca' } });
    expect(parsed).toEqual({ issuer: { kind: 'ClusterIssuer', name: 'internal-ca', group: 'cert-manager.io' }, caBundle: { configMap: 'internal-ca', key: 'ca.crt' } });
    expect(serviceTlsSettingSchema.parse(false)).toBe(false);
  });

  test.each([
    ['an issuer kind cert-manager has not', { issuer: { kind: 'CA', name: 'x' }, caBundle: { configMap: 'c' } }, ['issuer', 'kind']],
    ['no issuer name', { issuer: {}, caBundle: { configMap: 'c' } }, ['issuer', 'name']],
    ['a CA bundle name that is no ConfigMap name', { issuer: { name: 'x' }, caBundle: { configMap: 'CA Bundle' } }, ['caBundle', 'configMap']],
    ['an unknown field', { issuer: { name: 'x' }, caBundle: { configMap: 'c' }, mode: 'strict' }, []],
  ])('fails on %s, naming the field', (_name, input, path) => {
    const result = serviceTlsSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0].path).toEqual(path);
  });
});
