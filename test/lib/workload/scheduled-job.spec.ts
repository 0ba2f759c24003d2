/** ScheduledJob: a CronJob with bounded concurrency and deadlines, and the pod discipline of every workload. */
import { Testing } from 'cdk8s';
import { stringify } from 'yaml';
import { UpstreamImage, workloadRunAsId } from '../../../lib/core';
import { checkCapacity } from '../../../lib/namespace';
import { ContainerSpec, PodExtensionPoint, ScheduledJob, ScheduledJobProps } from '../../../lib/workload';
import { gateFindingsInNamespace, named } from '../../helpers';

const backup: ContainerSpec = {
  name: 'backup',
  image: new UpstreamImage({ repository: 'registry.example.com/walg', tag: '3.0.9' }),
  resources: { requests: { cpu: '250m', memory: '256Mi', ephemeralStorage: '1Gi' }, limits: { cpu: '1', memory: '512Mi', ephemeralStorage: '2Gi' } },
  command: ['wal-g', 'backup-push'],
};
const minimal: ScheduledJobProps = { name: 'base-backup', component: 'backup', schedule: '17 3 * * *', containers: [backup], activeDeadlineSeconds: 3600 };

function synth(props: Partial<ScheduledJobProps> = {}): any[] {
  const chart = Testing.chart();
  new ScheduledJob(chart, 'job', { ...minimal, ...props });
  return Testing.synth(chart);
}

describe('ScheduledJob', () => {
  test('minimal props: a ServiceAccount and a CronJob, as reviewed', () => {
    const out = synth();
    expect(out.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(['ServiceAccount/base-backup', 'CronJob/base-backup']);
    expect(out.map((m) => stringify(m)).join('---\n')).toMatchSnapshot();
  });

  test('documented defaults: Forbid, 300 s starting deadline, 2 retries, 3 + 3 history, UTC, never restarted in place', () => {
    const spec = named(synth(), 'CronJob', 'base-backup').spec;
    expect(spec).toMatchObject({ concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 300, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3, timeZone: 'Etc/UTC' });
    expect(spec.jobTemplate.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 3600 });
    const pod = spec.jobTemplate.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.terminationGracePeriodSeconds).toBe(30);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.topologySpreadConstraints).toBeUndefined();
  });

  test('all props reach the YAML', () => {
    const chart = Testing.chart();
    // Its ids given to the extension too: the capabilities that extend the pod (its Vault agent) run under them.
    const extension = new PodExtensionPoint('backups', { user: 10002 });
    extension.addPodAnnotation('vault.hashicorp.com/agent-pre-populate-only', 'true');
    const props: Required<ScheduledJobProps> = {
      name: 'restore-test', appName: 'backups', component: 'backup', schedule: '0 4 1 * *', timeZone: 'Europe/Madrid',
      containers: [backup], initContainers: [{ ...backup, name: 'fetch' }], volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '10Gi' } }],
      extension, concurrencyPolicy: 'Replace', startingDeadlineSeconds: 600, activeDeadlineSeconds: 7200, backoffLimit: 0,
      successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 5, serviceAccountName: 'backups', runAs: { user: 10002 }, terminationGracePeriodSeconds: 60,
    };
    new ScheduledJob(chart, 'job', props);
    const out = Testing.synth(chart);
    expect(out.map((m) => m.kind)).toEqual(['CronJob']);
    const spec = out[0].spec;
    expect(spec).toMatchObject({ schedule: '0 4 1 * *', timeZone: 'Europe/Madrid', concurrencyPolicy: 'Replace', startingDeadlineSeconds: 600, successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 5 });
    expect(spec.jobTemplate.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 7200 });
    const template = spec.jobTemplate.spec.template;
    expect(template.metadata.labels['app.kubernetes.io/name']).toBe('backups');
    expect(template.metadata.annotations['vault.hashicorp.com/agent-pre-populate-only']).toBe('true');
    expect(template.spec).toMatchObject({ serviceAccountName: 'backups', terminationGracePeriodSeconds: 60 });
    expect(template.spec.initContainers.map((c: any) => c.name)).toEqual(['fetch']);
    expect(template.spec.containers[0].securityContext.runAsUser).toBe(10002);
  });

  test('documented default ids: the job\'s own (from its app name), user, group and fsGroup alike', () => {
    const chart = Testing.chart();
    new ScheduledJob(chart, 'job', { name: 'restore-test-1', appName: 'restore-test', component: 'backup', schedule: '0 4 1 * *', containers: [backup], activeDeadlineSeconds: 600 });
    const id = workloadRunAsId('restore-test');
    expect((Testing.synth(chart)[1] as any).spec.jobTemplate.spec.template.spec.securityContext).toMatchObject({ runAsUser: id, runAsGroup: id, fsGroup: id });
  });

  test('fails when runAs differs from the ids of its pod extension (which its capabilities used)', () => {
    expect(() => new ScheduledJob(Testing.chart(), 'job', { name: 'restore-test', component: 'backup', schedule: '0 4 1 * *', containers: [backup],
      activeDeadlineSeconds: 600, extension: new PodExtensionPoint('restore-test'), runAs: { user: 10002 } }))
      .toThrow(/restore-test: runAs \{"user":10002,"group":10002,"fsGroup":10002,"agentUser":\d+\} differs from the ids of its pod extension/);
  });

  test('passes every rule of the gate, and the capacity guard counts one run at a time', () => {
    const out = synth();
    expect(gateFindingsInNamespace(out)).toEqual([]);
    const inNs = out.map((m) => ({ ...m, metadata: { ...m.metadata, namespace: 'pronto' } }));
    const quota = { kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'pronto' }, spec: { hard: { 'requests.cpu': '249m' } } };
    expect(checkCapacity([quota, ...inNs], 'pronto').map((v) => [v.resource, v.demand])).toEqual([['requests.cpu', 250]]);
  });

  test('fails on a name its Jobs could not carry, and on a missing deadline', () => {
    expect(() => synth({ name: 'a'.repeat(53) })).toThrow('a CronJob name may have at most 52 characters, found 53');
    expect(() => synth({ activeDeadlineSeconds: 0 })).toThrow('activeDeadlineSeconds must be > 0');
  });
});
