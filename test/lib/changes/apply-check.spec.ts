/**
 * The apply check's rules, one by one: each refuses exactly the update Kubernetes 1.28
 * refuses (lib/changes/apply-check.ts cites where) and lets the mutable fields through.
 */
import {
  FROZEN_FIELD_RULES, STATEFULSET_MUTABLE, applyRefusals, compareOutputs, objectRef, removals, restarts, unifiedDiff,
} from '../../../lib/changes';
import { Manifest } from '../../../lib/core';

const meta = (name: string, namespace = 'pronto') => ({ name, namespace, labels: { 'app.kubernetes.io/name': name } });
const statefulSet = (over: Record<string, unknown> = {}): Manifest => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta('postgres'),
  spec: {
    replicas: 1, serviceName: 'postgres-headless', selector: { matchLabels: { app: 'postgres' } }, podManagementPolicy: 'OrderedReady',
    template: { metadata: { labels: { app: 'postgres' } }, spec: { containers: [{ name: 'postgres', image: 'postgres:16.4' }] } },
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: '20Gi' } } } }],
    ...over,
  },
});

/** The refused object refs and the paths each names, for `before` → `after`. */
const refused = (before: Manifest[], after: Manifest[]) => applyRefusals(compareOutputs(before, after)).map((r) => [r.ref, r.change]);

describe('StatefulSet: only replicas, ordinals, template, updateStrategy, the PVC retention policy and minReadySeconds change', () => {
  test.each([
    ['replicas', { replicas: 2 }],
    ['template', { template: { metadata: { labels: { app: 'postgres' } }, spec: { containers: [{ name: 'postgres', image: 'postgres:16.5' }] } } }],
    ['updateStrategy', { updateStrategy: { type: 'OnDelete' } }],
    ['minReadySeconds', { minReadySeconds: 10 }],
    ['persistentVolumeClaimRetentionPolicy', { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain' } }],
  ])('%s applies', (_field, over) => {
    expect(refused([statefulSet()], [statefulSet(over)])).toEqual([]);
  });

  test.each([
    ['volumeClaimTemplates', { volumeClaimTemplates: [{ metadata: { name: 'data', labels: { 'app.kubernetes.io/version': '16.5' } }, spec: { resources: { requests: { storage: '20Gi' } } } }] }],
    ['serviceName', { serviceName: 'postgres' }],
    ['selector', { selector: { matchLabels: { app: 'db' } } }],
    ['podManagementPolicy', { podManagementPolicy: 'Parallel' }],
  ])('%s is refused, with the orphaning delete that keeps pods and claims', (field, over) => {
    const [r] = applyRefusals(compareOutputs([statefulSet()], [statefulSet(over)]));
    expect(r.ref).toBe('StatefulSet.apps/pronto/postgres');
    expect(r.change).toContain(`spec.${field}`);
    expect(r.rule).toContain('ValidateStatefulSetUpdate');
    expect(r.remedy).toContain('kubectl delete statefulset.apps postgres -n pronto --cascade=orphan');
  });

  test('the mutable list is what the rule lets through', () => {
    for (const field of STATEFULSET_MUTABLE) expect(FROZEN_FIELD_RULES[0].frozen({ ref: 'x', before: statefulSet(), after: statefulSet(), paths: [`spec.${field}`] })).toEqual([]);
  });
});

describe('the other frozen fields', () => {
  const deployment = (selector: string): Manifest => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('web'), spec: { replicas: 2, selector: { matchLabels: { app: selector } } } });
  const job = (image: string): Manifest => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: meta('migrate'), spec: { template: { spec: { containers: [{ name: 'm', image }] } } } });
  const cronJob = (image: string): Manifest => ({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: meta('backup'), spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'b', image }] } } } } } });
  const claim = (storage: string, storageClassName = 'gp3'): Manifest => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta('data'), spec: { storageClassName, resources: { requests: { storage } } } });
  const binding = (role: string): Manifest => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: meta('reader'), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role }, subjects: [] });
  const configMap = (data: string, immutable?: boolean): Manifest => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('conf'), data: { a: data }, ...(immutable === undefined ? {} : { immutable }) });
  const service = (clusterIP?: string): Manifest => ({ apiVersion: 'v1', kind: 'Service', metadata: meta('db'), spec: { ...(clusterIP ? { clusterIP } : {}), ports: [{ port: 5432 }] } });

  test.each([
    ['a Deployment\'s selector', [deployment('a')], [deployment('b')], 'Deployment.apps/pronto/web', 'spec.selector'],
    ['a Job\'s template', [job('a:1')], [job('a:2')], 'Job.batch/pronto/migrate', 'spec.template'],
    ['a claim that shrinks', [claim('20Gi')], [claim('10Gi')], 'PersistentVolumeClaim/pronto/data', 'spec.resources.requests.storage'],
    ['a claim\'s StorageClass', [claim('20Gi')], [claim('20Gi', 'io2')], 'PersistentVolumeClaim/pronto/data', 'spec.storageClassName'],
    ['a binding\'s roleRef', [binding('a')], [binding('b')], 'RoleBinding.rbac.authorization.k8s.io/pronto/reader', 'roleRef'],
    ['an immutable ConfigMap\'s data', [configMap('1', true)], [configMap('2', true)], 'ConfigMap/pronto/conf', 'data'],
    ['an immutable ConfigMap made mutable', [configMap('1', true)], [configMap('1')], 'ConfigMap/pronto/conf', 'immutable'],
    ['a headless Service made a ClusterIP one', [service('None')], [service()], 'Service/pronto/db', 'spec.clusterIP'],
  ])('%s is refused', (_what, before, after, ref, field) => {
    const found = refused(before, after);
    expect(found).toHaveLength(1);
    expect(found[0][0]).toBe(ref);
    expect(found[0][1]).toContain(field);
  });

  test.each([
    ['a claim that grows', [claim('20Gi')], [claim('30Gi')]],
    ['a CronJob\'s job template', [cronJob('a:1')], [cronJob('a:2')]],
    ['a mutable ConfigMap\'s data', [configMap('1')], [configMap('2')]],
    ['a Deployment\'s replicas', [deployment('a')], [{ ...deployment('a'), spec: { ...deployment('a').spec, replicas: 3 } }]],
  ])('%s applies', (_what, before, after) => {
    expect(refused(before, after)).toEqual([]);
  });

  test('a kind that changes under the same name leaves the old object running beside the new one', () => {
    const deploymentRedis: Manifest = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('redis'), spec: {} };
    const statefulRedis: Manifest = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta('redis'), spec: {} };
    const [r] = applyRefusals(compareOutputs([statefulRedis], [deploymentRedis]));
    expect(r.ref).toBe('StatefulSet.apps/pronto/redis');
    expect(r.change).toBe('becomes Deployment.apps/pronto/redis under the same name');
    expect(r.remedy).toContain('kubectl delete statefulset.apps redis -n pronto --cascade=orphan');
    // Different kinds that merely share a name are not a change of kind.
    const cm: Manifest = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('redis') };
    expect(applyRefusals(compareOutputs([cm], [deploymentRedis]))).toEqual([]);
  });
});

describe('removals, restarts, the field diff', () => {
  test('every removed object comes with the command that deletes it, cluster-scoped ones without a namespace', () => {
    const role: Manifest = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'pronto-otel-collector' } };
    const cm: Manifest = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('old') };
    expect(removals(compareOutputs([role, cm], []))).toEqual([
      { ref: 'ClusterRole.rbac.authorization.k8s.io/pronto-otel-collector', command: 'kubectl delete clusterrole.rbac.authorization.k8s.io pronto-otel-collector' },
      { ref: 'ConfigMap/pronto/old', command: 'kubectl delete configmap old -n pronto' },
    ]);
  });

  test('a workload restarts when its pod template changes, and a StatefulSet is called out', () => {
    const next = statefulSet({ template: { metadata: { labels: { app: 'postgres' } }, spec: { containers: [{ name: 'postgres', image: 'postgres:16.5' }] } } });
    expect(restarts(compareOutputs([statefulSet()], [next]))).toEqual([{ ref: 'StatefulSet.apps/pronto/postgres', stateful: true, paths: ['spec.template.spec.containers'] }]);
    expect(restarts(compareOutputs([statefulSet()], [statefulSet({ replicas: 3 })]))).toEqual([]);
  });

  test('every hunk of the field diff names its object', () => {
    const before = Array.from({ length: 40 }, (_, i) => `line ${i}`);
    const after = before.map((l, i) => (i === 2 || i === 30 ? `${l} changed` : l));
    const diff = unifiedDiff(before.join('\n'), after.join('\n'), 'Deployment.apps/pronto/web');
    const headers = diff.filter((l) => l.startsWith('@@'));
    expect(headers).toEqual(['@@ Deployment.apps/pronto/web -1,6 +1,6 @@', '@@ Deployment.apps/pronto/web -28,7 +28,7 @@']);
    expect(diff).toContain('-line 2');
    expect(diff).toContain('+line 2 changed');
    expect(unifiedDiff('same', 'same', 'x')).toEqual([]);
  });

  test('objectRef names the API group, so kinds of different groups never collide', () => {
    expect(objectRef({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('a') })).toBe('NetworkPolicy.networking.k8s.io/pronto/a');
    expect(objectRef({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'pronto' } })).toBe('Namespace/pronto');
  });
});
