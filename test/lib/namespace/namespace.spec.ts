import { Testing } from 'cdk8s';
import { stringify } from 'yaml';
import { ProntoNamespace } from '../../../lib/namespace';
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
    expect(out.map((m) => stringify(m)).join('---\n')).toMatchSnapshot();
  });

  test('adds a requests.storage line when the quota limits claim storage', () => {
    const chart = Testing.chart();
    new ProntoNamespace(chart, 'ns', { ...props, quota: { ...props.quota, requests: { ...props.quota.requests, storage: '50Gi' } } });
    expect(named(Testing.synth(chart), 'ResourceQuota', 'pronto-quota').spec.hard['requests.storage']).toBe('50Gi');
  });

  test('fails on a name that is not a DNS label', () => {
    expect(() => new ProntoNamespace(Testing.chart(), 'ns', { ...props, name: 'Pronto' })).toThrow('"Pronto" is not a valid object name');
  });

  test('takes another Pod Security version', () => {
    const chart = Testing.chart();
    new ProntoNamespace(chart, 'ns', { ...props, podSecurityVersion: 'v1.30' });
    expect(named(Testing.synth(chart), 'Namespace', 'pronto').metadata.labels['pod-security.kubernetes.io/warn-version']).toBe('v1.30');
  });
});

describe('ProntoNamespace extra labels', () => {
  test('adds the labels a capability needs, and refuses to replace its own', () => {
    const chart = Testing.chart();
    new ProntoNamespace(chart, 'ns', { ...props, extraLabels: { 'istio.io/dataplane-mode': 'ambient' } });
    expect(named(Testing.synth(chart), 'Namespace', 'pronto').metadata.labels['istio.io/dataplane-mode']).toBe('ambient');
    expect(() => new ProntoNamespace(Testing.chart(), 'ns', { ...props, extraLabels: { 'pod-security.kubernetes.io/enforce': 'privileged' } }))
      .toThrow('namespace label "pod-security.kubernetes.io/enforce" is set by ProntoNamespace and cannot be replaced');
  });
});
