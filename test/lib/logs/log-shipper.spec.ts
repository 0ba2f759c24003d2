/** addLogShipper and LogShipperConfig: what one service's pods get, per capture mode and shipper. */
import { Testing } from 'cdk8s';
import { ComputeResources, UpstreamImage } from '../../../lib/core';
import {
  ANNOTATION_LOG_SHIPPER_CHECKSUM, LOG_DIR, LOG_FILE, LOG_VOLUME, LOG_VOLUME_HEADROOM_MI, LogShipperConfig, LogShipperProps, SHIPPERS,
  addLogShipper, logVolumeSizeMi,
} from '../../../lib/logs';
import { Microservice, PodExtensionPoint } from '../../../lib/workload';
import { gateFindingsInNamespace } from '../../helpers';

const resources: ComputeResources = {
  requests: { cpu: '20m', memory: '48Mi', ephemeralStorage: '32Mi' }, limits: { cpu: '100m', memory: '96Mi', ephemeralStorage: '64Mi' },
};
const props: LogShipperProps = {
  shipper: 'promtail', image: new UpstreamImage({ repository: 'docker.io/grafana/promtail', tag: '3.6.11' }), resources,
  capture: 'stdout', appCommand: ['gunicorn', 'app:app'], rotateBytes: 16 * 1024 * 1024,
  push: { url: 'http://loki-gateway.loki.svc/loki/api/v1/push' },
  labels: { service: 'order-service', namespace: 'pronto', environment: 'test' }, configMapName: 'order-service-log-shipper',
};

function synth(p: LogShipperProps): any[] {
  const chart = Testing.chart();
  const pod = new PodExtensionPoint('order-service');
  const { files } = addLogShipper(pod, p);
  new LogShipperConfig(chart, 'config', { name: p.configMapName, service: 'order-service', files });
  new Microservice(chart, 'svc', {
    name: 'order-service', component: 'api', extension: pod,
    container: { port: { name: 'http', number: 8080 }, resources: { requests: { cpu: '100m', memory: '128Mi', ephemeralStorage: '1Gi' }, limits: { cpu: '500m', memory: '256Mi', ephemeralStorage: '2Gi' } } },
    release: { strategy: 'rolling', scaling: { kind: 'fixed', replicas: 2 }, image: { repository: 'registry.example.com/pronto/order-service', tag: '1.0.0', gitSha: 'abc1234' } },
  });
  return Testing.synth(chart);
}
const podOf = (out: any[]) => out.find((m) => m.kind === 'Deployment').spec.template;

describe('addLogShipper', () => {
  test.each(['promtail', 'alloy'] as const)('%s: the sidecar mounts the shared volume and its ConfigMap, probes its HTTP port; everything passes the gate', (shipper) => {
    const out = synth({ ...props, shipper });
    const spec = podOf(out).spec;
    const sidecar = spec.containers.find((c: any) => c.name === shipper);
    expect(sidecar.volumeMounts).toEqual([{ name: LOG_VOLUME, mountPath: LOG_DIR }, { name: 'log-shipper-config', mountPath: SHIPPERS[shipper].configDir, readOnly: true }]);
    expect(sidecar.ports).toEqual([{ name: 'shipper-http', containerPort: SHIPPERS[shipper].httpPort, protocol: 'TCP' }]);
    expect(sidecar.readinessProbe.httpGet).toMatchObject({ path: SHIPPERS[shipper].readinessPath, port: 'shipper-http' });
    expect(sidecar.command.join(' ')).toContain(`${SHIPPERS[shipper].configDir}/${SHIPPERS[shipper].configFile}`);
    expect(out.find((m) => m.kind === 'ConfigMap').data).toHaveProperty([SHIPPERS[shipper].configFile]);
    expect(gateFindingsInNamespace(out)).toEqual([]);
  });

  test('the shared emptyDir holds two files at the rotation size plus the headroom', () => {
    expect(logVolumeSizeMi(16 * 1024 * 1024)).toBe(32 + LOG_VOLUME_HEADROOM_MI);
    expect(podOf(synth(props)).spec.volumes).toContainEqual({ name: LOG_VOLUME, emptyDir: { sizeLimit: `${32 + LOG_VOLUME_HEADROOM_MI}Mi` } });
  });

  test('stdout mode wraps the command and gives the app no LOG_FILE; file mode gives LOG_FILE and the rotation size, and keeps the image\'s command', () => {
    const stdout = podOf(synth(props)).spec.containers[0];
    expect(stdout.command.slice(0, 2)).toEqual(['bash', '-c']);
    expect(stdout.command.slice(-2)).toEqual(['gunicorn', 'app:app']);
    expect((stdout.env ?? []).map((e: any) => e.name)).not.toContain('LOG_FILE');
    const file = podOf(synth({ ...props, capture: 'file' })).spec.containers[0];
    expect(file.command).toBeUndefined();
    expect(file.env).toEqual([{ name: 'LOG_FILE', value: LOG_FILE }, { name: 'LOG_FILE_MAX_BYTES', value: String(16 * 1024 * 1024) }]);
    expect(file.volumeMounts).toContainEqual({ name: LOG_VOLUME, mountPath: LOG_DIR });
  });

  test('the checksum annotation follows the configuration', () => {
    const checksum = (p: LogShipperProps) => podOf(synth(p)).metadata.annotations[ANNOTATION_LOG_SHIPPER_CHECKSUM];
    expect(checksum(props)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(checksum({ ...props, push: { ...props.push, tenant: 'other' } })).not.toBe(checksum(props));
    expect(checksum({ ...props, capture: 'file' })).toBe(checksum(props));
  });
});
