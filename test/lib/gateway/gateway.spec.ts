import { Testing } from 'cdk8s';
import { stringify } from 'yaml';
import { ANNOTATION_CONFIG_CHECKSUM, UpstreamImage, sha256Hex } from '../../../lib/core';
import { GATEWAY_TLS_DIR, Gateway, GatewayProps, renderModSecurityConf, renderNginxConf } from '../../../lib/gateway';
import { gateFindingsInNamespace } from '../../helpers';
import { MODEL } from './fixture';

const PROPS: GatewayProps = {
  name: 'gateway',
  image: new UpstreamImage({ repository: 'docker.io/owasp/modsecurity-crs', tag: '4.18.0-nginx-202509051009' }),
  resources: { requests: { cpu: '200m', memory: '256Mi', ephemeralStorage: '1Gi' }, limits: { cpu: '1', memory: '512Mi', ephemeralStorage: '2Gi' } },
  scaling: { kind: 'autoscaling', minReplicas: 2, maxReplicas: 4, targetCpuUtilizationPercent: 70 },
  model: MODEL,
  service: { externalTrafficPolicy: 'Local', httpPort: 80, httpsPort: 443 },
  writableSize: '64Mi',
  preStopSleepSeconds: 5,
  terminationGracePeriodSeconds: 70,
};

const synth = (props: GatewayProps) => {
  const chart = Testing.chart();
  new Gateway(chart, 'Gateway', props);
  return Testing.synth(chart);
};

describe('Gateway', () => {
  const out = synth(PROPS);
  const of = (kind: string) => out.find((m) => m.kind === kind);

  test('minimal snapshot', () => {
    expect(out.map((m) => stringify(m)).join('---\n')).toMatchSnapshot();
  });

  test('passes every rule of the gate', () => {
    expect(gateFindingsInNamespace(out)).toEqual([]);
  });

  test('its configuration is in the ConfigMap, and its checksum on the pods', () => {
    const data = of('ConfigMap').data;
    expect(data['nginx.conf']).toBe(renderNginxConf(MODEL));
    expect(data['modsecurity.conf']).toBe(renderModSecurityConf(MODEL));
    const checksum = of('Deployment').spec.template.metadata.annotations[ANNOTATION_CONFIG_CHECKSUM];
    expect(checksum).toBe(`sha256:${sha256Hex(`nginx.conf\n${data['nginx.conf']}\0modsecurity.conf\n${data['modsecurity.conf']}`)}`);
    const changed = synth({ ...PROPS, model: { ...MODEL, rateLimits: { ...MODEL.rateLimits, burst: 41 } } });
    expect(changed.find((m) => m.kind === 'Deployment').spec.template.metadata.annotations[ANNOTATION_CONFIG_CHECKSUM]).not.toBe(checksum);
  });

  test('a LoadBalancer Service targets the http port by name', () => {
    const svc = of('Service');
    expect(svc.spec.type).toBe('LoadBalancer');
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
  });

  test('TLS at the gateway: the certificate Secret is projected read-only and HTTPS is served on 443', () => {
    const tls = synth({ ...PROPS, tlsSecretName: 'shop-tls', model: { ...MODEL, tls: { mode: 'gateway', certificateFile: `${GATEWAY_TLS_DIR}/tls.crt`, keyFile: `${GATEWAY_TLS_DIR}/tls.key` } } });
    const pod = tls.find((m) => m.kind === 'Deployment').spec.template.spec;
    expect(pod.volumes.find((v: any) => v.name === 'tls').projected.sources[0].secret.name).toBe('shop-tls');
    expect(tls.find((m) => m.kind === 'Service').spec.ports.map((p: any) => [p.name, p.port])).toEqual([['http', 80], ['https', 443]]);
    expect(gateFindingsInNamespace(tls)).toEqual([]);
    expect(() => synth({ ...PROPS, model: { ...MODEL, tls: { mode: 'gateway', certificateFile: `${GATEWAY_TLS_DIR}/tls.crt`, keyFile: `${GATEWAY_TLS_DIR}/tls.key` } } }))
      .toThrow('TLS at the gateway needs tlsSecretName');
  });

  test('the writable emptyDir must fit under the ephemeral-storage limit (it counts against it)', () => {
    expect(() => synth({ ...PROPS, writableSize: '2Gi' })).toThrow('the writable emptyDir (2Gi) must fit under the container\'s ephemeral-storage limit (2Gi)');
    expect(() => synth({ ...PROPS, writableSize: '1920Mi' })).not.toThrow();
  });
});
