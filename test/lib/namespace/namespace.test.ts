import { Testing } from 'cdk8s';
import { Manifest } from '../../../lib/core';
import { ProntoNamespace, checkCapacity, podCompute, workloadPeaks } from '../../../lib/namespace';
import { named } from '../../helpers';

const compute = { cpu: '500m', memory: '256Mi' };
const props = {
  name: 'pronto',
  quota: { requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '4', memory: '8Gi' }, pods: 10, persistentVolumeClaims: 2 },
  limitRange: { default: compute, defaultRequest: compute, max: { cpu: '2', memory: '2Gi' } },
};

describe('ProntoNamespace', () => {
  test('pins Pod Security restricted at v1.28 by default, with quota and limit range in the namespace', () => {
    const chart = Testing.chart();
    new ProntoNamespace(chart, 'ns', props);
    const out = Testing.synth(chart);
    const ns = named(out, 'Namespace', 'pronto');
    expect(ns.spec).toBeUndefined();
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce-version']).toBe('v1.28');
    expect(named(out, 'ResourceQuota', 'pronto-quota').spec.hard).toEqual({
      'requests.cpu': '2', 'requests.memory': '4Gi', 'limits.cpu': '4', 'limits.memory': '8Gi', 'pods': 10, 'persistentvolumeclaims': 2 });
    expect(named(out, 'LimitRange', 'pronto-limits').metadata.namespace).toBe('pronto');
  });

  test('takes another Pod Security version', () => {
    const chart = Testing.chart();
    new ProntoNamespace(chart, 'ns', { ...props, podSecurityVersion: 'v1.30' });
    expect(named(Testing.synth(chart), 'Namespace', 'pronto').metadata.labels['pod-security.kubernetes.io/warn-version']).toBe('v1.30');
  });
});

const container = (cpu: string, memory: string, extra: object = {}) => ({
  resources: { requests: { cpu, memory }, limits: { cpu, memory } }, ...extra,
});
const deployment = (name: string, spec: object, pod: object): Manifest => ({
  kind: 'Deployment', metadata: { name, namespace: 'pronto' }, spec: { ...spec, template: { spec: pod } },
});
const quota = (hard: object): Manifest => ({ kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'pronto' }, spec: { hard } });

describe('capacity guard', () => {
  test('a pod counts its containers and native sidecars, or its largest init container if larger', () => {
    const pod = {
      containers: [container('100m', '100Mi')],
      initContainers: [container('50m', '50Mi', { restartPolicy: 'Always' }), container('1', '10Mi')],
    };
    expect(podCompute(pod)).toEqual({ requestsCpu: 1050, requestsMemory: 150 * 2 ** 20, limitsCpu: 1050, limitsMemory: 150 * 2 ** 20 });
  });

  test('peak pods are the HPA maximum (else replicas) plus the rollout surge', () => {
    const manifests: Manifest[] = [
      deployment('a', { replicas: 3, strategy: { rollingUpdate: { maxSurge: 1 } } }, { containers: [container('100m', '1Mi')] }),
      deployment('b', { strategy: { rollingUpdate: { maxSurge: '50%' } } }, { containers: [container('100m', '1Mi')] }),
      { kind: 'HorizontalPodAutoscaler', metadata: { name: 'b' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'b' }, maxReplicas: 5 } },
      deployment('parked', { replicas: 0, strategy: { rollingUpdate: { maxSurge: 1 } } }, { containers: [container('100m', '1Mi')] }),
    ];
    expect(workloadPeaks(manifests).map((p) => [p.workload, p.pods])).toEqual([
      ['Deployment/a', 4], ['Deployment/b', 8], ['Deployment/parked', 0]]);
  });

  test('reports each quota line the peak exceeds, largest workload first', () => {
    const manifests: Manifest[] = [
      quota({ 'requests.cpu': '1', 'requests.memory': '1Gi', 'pods': 3 }),
      deployment('small', { replicas: 1, strategy: { rollingUpdate: { maxSurge: 1 } } }, { containers: [container('100m', '1Mi')] }),
      deployment('big', { replicas: 2, strategy: { rollingUpdate: { maxSurge: 1 } } }, { containers: [container('300m', '1Mi')] }),
    ];
    const violations = checkCapacity(manifests, 'pronto');
    expect(violations.map((v) => [v.resource, v.demand, v.allowed])).toEqual([['requests.cpu', 1100, 1000], ['pods', 5, 3]]);
    expect(violations[0].peaks.map((p) => p.workload)).toEqual(['Deployment/big', 'Deployment/small']);
  });

  test('is quiet when everything fits, or when there is no quota', () => {
    const manifests: Manifest[] = [
      deployment('a', { replicas: 2, strategy: { rollingUpdate: { maxSurge: 1 } } }, { containers: [container('100m', '1Mi')] }),
    ];
    expect(checkCapacity([quota({ 'requests.cpu': '300m' }), ...manifests], 'pronto')).toEqual([]);
    expect(checkCapacity(manifests, 'pronto')).toEqual([]);
  });
});
