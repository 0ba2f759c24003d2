/**
 * Every rule of the validation gate, on a known-good document set (the prod output plus
 * a StatefulSet, a CronJob and their companions): one change that breaks the rule makes
 * exactly that rule fire, at the right object and field; without it the rule is quiet.
 */
import { ALL_RULES, Manifest, OBJECT_SIZE_LIMITS, runGate } from '../../../lib/validation';
import { environment, synthEnvironment } from '../../helpers';

const NS = 'pronto';
const restrictedContainer = {
  name: 'db', image: 'registry.example.com/pronto/postgres:16.4.0', imagePullPolicy: 'IfNotPresent',
  ports: [{ name: 'postgres', containerPort: 5432, protocol: 'TCP' }],
  resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  readinessProbe: { exec: { command: ['pg_isready'] } },
  livenessProbe: { tcpSocket: { port: 5432 } },
  securityContext: {
    allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true,
    runAsUser: 10001, runAsGroup: 10001, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
  },
};
const podSpec = (extra: object = {}) => ({
  serviceAccountName: 'db', automountServiceAccountToken: false,
  securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [structuredClone(restrictedContainer)],
  ...extra,
});
const meta = (name: string, extra: object = {}) => ({ name, namespace: NS, ...extra });
const dbLabels = { 'app.kubernetes.io/name': 'db', 'app.kubernetes.io/instance': 'db' };

/** Objects the prod output lacks, so that every rule has a subject. */
function extras(): Manifest[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('db'), automountServiceAccountToken: false },
    { apiVersion: 'v1', kind: 'Service', metadata: meta('db'), spec: { clusterIP: 'None', selector: dbLabels, ports: [{ name: 'postgres', port: 5432, targetPort: 'postgres' }] } },
    {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta('db'),
      spec: {
        serviceName: 'db', replicas: 2, selector: { matchLabels: dbLabels },
        template: { metadata: { labels: dbLabels }, spec: podSpec({ topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: dbLabels } }] }) },
      },
    },
    { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta('db'), spec: { maxUnavailable: 1, selector: { matchLabels: dbLabels }, unhealthyPodEvictionPolicy: 'AlwaysAllow' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('backup'), data: { 'backup.sh': 'echo' } },
    {
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: meta('backup'),
      spec: {
        schedule: '0 3 * * *', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 300,
        jobTemplate: { spec: { backoffLimit: 2, activeDeadlineSeconds: 3600, template: { metadata: { labels: { 'app.kubernetes.io/name': 'backup' } },
          // Its own ids: no two workloads share one (distinct-run-as-ids).
          spec: { ...podSpec(), securityContext: { ...podSpec().securityContext, runAsUser: 10002, runAsGroup: 10002, fsGroup: 10002 },
            restartPolicy: 'Never', volumes: [{ name: 'scripts', configMap: { name: 'backup' } }],
            containers: [{ ...structuredClone(restrictedContainer), name: 'backup', ports: undefined, readinessProbe: undefined, livenessProbe: undefined,
              securityContext: { ...structuredClone(restrictedContainer.securityContext), runAsUser: 10002, runAsGroup: 10002 } }] } } } },
      },
    },
  ];
}

let base: Manifest[];
beforeAll(() => {
  // Prod's catalog services without its capabilities: each capability's output is gated by its own tests,
  // and a known-good set that does not change when a capability is switched on keeps these cases exact.
  base = [...synthEnvironment({ ...environment('prod'), capabilities: {} }), ...extras()];
});

const get = (set: Manifest[], kind: string, name: string) => set.find((m) => m.kind === kind && m.metadata?.name === name)!;
const deployment = (set: Manifest[]) => get(set, 'Deployment', 'order-service');
const container = (set: Manifest[]) => deployment(set).spec.template.spec.containers[0];
const pod = (set: Manifest[]) => deployment(set).spec.template.spec;
const C = 'spec.template.spec.containers[0]';

/** An Argo CD AppProject in Argo CD's namespace (not Pronto's: marked so), allowing `spec` beyond a destination and a source. */
function appProject(spec: Record<string, unknown>, annotations: Record<string, string> = {}): Manifest {
  return {
    apiVersion: 'argoproj.io/v1alpha1', kind: 'AppProject',
    metadata: { name: 'pronto-test', namespace: 'argocd', annotations: { 'pronto.io/foreign-namespace': 'Argo CD', ...annotations } },
    spec: { sourceRepos: ['https://git.example.com/gitops.git'], destinations: [{ server: 'https://kubernetes.default.svc', namespace: NS }], ...spec },
  };
}

/** [rule, what breaks it, the change, the path the finding names, the object it names]. */
type Case = [string, string, (set: Manifest[]) => Manifest[] | void, string, string?];

const CASES: Case[] = [
  ['schema', 'an unknown field in a probe', (s) => { container(s).livenessProbe.httpGet.pth = '/x'; }, `${C}.livenessProbe.httpGet.pth`],
  ['secret-without-data', 'a Secret with data', (s) => [...s, { apiVersion: 'v1', kind: 'Secret', metadata: meta('db-password'), data: { password: 'cGFzcw==' } }], 'data', 'Secret pronto/db-password'],
  ['namespace-set', 'an object without namespace', (s) => [...s, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'orphan' }, data: {} }], 'metadata.namespace', 'ConfigMap orphan'],
  ['namespace-guardrails', 'a namespace without restricted enforcement', (s) => { get(s, 'Namespace', NS).metadata.labels['pod-security.kubernetes.io/enforce'] = 'baseline'; }, 'metadata.labels.pod-security.kubernetes.io/enforce', 'Namespace pronto'],
  ['name-without-hash', 'a hashed name', (s) => { get(s, 'ConfigMap', 'backup').metadata.name = 'backup-c84cba63'; get(s, 'CronJob', 'backup').spec.jobTemplate.spec.template.spec.volumes[0].configMap.name = 'backup-c84cba63'; }, 'metadata.name', 'ConfigMap pronto/backup-c84cba63'],
  ['object-metadata', 'a 64-character label value', (s) => { deployment(s).metadata.labels['app.kubernetes.io/version'] = `1.0.0-${'a'.repeat(58)}`; }, 'metadata.labels.app.kubernetes.io/version'],
  ['object-size', 'annotations over the API server\'s limit', (s) => { deployment(s).metadata.annotations['pronto.io/notes'] = 'x'.repeat(OBJECT_SIZE_LIMITS.annotationsBytes); }, 'metadata.annotations'],
  ['resources-set', 'no memory limit', (s) => { delete container(s).resources.limits.memory; }, `${C}.resources.limits.memory`],
  ['requests-within-limits', 'a request above its limit', (s) => { container(s).resources.requests.cpu = '2'; }, `${C}.resources.requests.cpu`],
  ['image-pinned', 'the latest tag', (s) => { container(s).image = 'registry.example.com/pronto/order-service:latest'; }, `${C}.image`],
  ['read-only-root-filesystem', 'a writable root filesystem', (s) => { container(s).securityContext.readOnlyRootFilesystem = false; }, `${C}.securityContext.readOnlyRootFilesystem`],
  // The workload met later is the one named: db, after the catalog services.
  ['distinct-run-as-ids', 'a workload running under another\'s UID', (s) => { get(s, 'StatefulSet', 'db').spec.template.spec.containers[0].securityContext.runAsUser = container(s).securityContext.runAsUser; },
    `${C}.securityContext.runAsUser`, 'StatefulSet pronto/db'],
  ['run-as-non-root', 'a low user id', (s) => { container(s).securityContext.runAsUser = 1000; pod(s).securityContext.runAsUser = 1000; }, `${C}.securityContext.runAsUser`],
  ['no-privilege-escalation', 'privilege escalation left unset', (s) => { delete container(s).securityContext.allowPrivilegeEscalation; }, `${C}.securityContext.allowPrivilegeEscalation`],
  ['not-privileged', 'a privileged container', (s) => { container(s).securityContext.privileged = true; }, `${C}.securityContext.privileged`],
  ['capabilities-restricted', 'an added capability', (s) => { container(s).securityContext.capabilities.add = ['NET_ADMIN']; }, `${C}.securityContext.capabilities.add`],
  ['seccomp-profile', 'an unconfined seccomp profile', (s) => { container(s).securityContext.seccompProfile = { type: 'Unconfined' }; }, `${C}.securityContext.seccompProfile.type`],
  ['no-host-port', 'a host port', (s) => { container(s).ports[0].hostPort = 8080; }, `${C}.ports[0].hostPort`],
  ['readiness-probe', 'no readiness probe', (s) => { delete container(s).readinessProbe; }, `${C}.readinessProbe`],
  ['liveness-probe', 'no liveness probe', (s) => { delete container(s).livenessProbe; }, `${C}.livenessProbe`],
  ['probes-differ', 'identical probes', (s) => { container(s).livenessProbe = structuredClone(container(s).readinessProbe); }, `${C}.livenessProbe`],
  ['probe-ports-declared', 'a probe on an undeclared port', (s) => { container(s).startupProbe.httpGet.port = 9999; }, `${C}.startupProbe.httpGet.port`],
  ['unique-env-names', 'a duplicate env name', (s) => { container(s).env = [{ name: 'A', value: '1' }, { name: 'A', value: '2' }]; }, `${C}.env[1].name`],
  ['port-names', 'an over-long port name', (s) => { container(s).ports.push({ name: 'metrics-endpoint-x', containerPort: 9090, protocol: 'TCP' }); }, `${C}.ports[1].name`],
  ['no-literal-secrets', 'a literal password in env', (s) => { container(s).env = [{ name: 'DB_PASSWORD', value: 'hunter2' }]; }, `${C}.env[0].value`],
  ['no-host-namespaces', 'host networking', (s) => { pod(s).hostNetwork = true; }, 'spec.template.spec.hostNetwork'],
  ['restricted-volume-types', 'a hostPath volume', (s) => { pod(s).volumes.push({ name: 'host', hostPath: { path: '/var/run' } }); }, 'spec.template.spec.volumes[1]'],
  ['safe-sysctls', 'an unsafe sysctl', (s) => { pod(s).securityContext.sysctls = [{ name: 'net.core.somaxconn', value: '1024' }]; }, 'spec.template.spec.securityContext.sysctls[0].name'],
  ['dedicated-service-account', 'the default ServiceAccount', (s) => { delete pod(s).serviceAccountName; }, 'spec.template.spec.serviceAccountName'],
  ['no-service-account-token', 'a mounted token', (s) => { pod(s).automountServiceAccountToken = true; }, 'spec.template.spec.automountServiceAccountToken'],
  ['pdb-covers-workload', 'a replicated workload without PDB', (s) => s.filter((m) => !(m.kind === 'PodDisruptionBudget' && m.metadata.name === 'order-service')), 'spec.selector'],
  ['pdb-allows-eviction', 'a PDB that blocks every eviction', (s) => { get(s, 'PodDisruptionBudget', 'order-service').spec.maxUnavailable = 0; }, 'spec.maxUnavailable', 'PodDisruptionBudget pronto/order-service'],
  ['spread-or-anti-affinity', 'no spread', (s) => { delete pod(s).topologySpreadConstraints; delete pod(s).affinity; }, 'spec.template.spec.topologySpreadConstraints'],
  ['hpa-target-exists', 'an HPA without target', (s) => { get(s, 'HorizontalPodAutoscaler', 'order-service').spec.scaleTargetRef.name = 'orders'; }, 'spec.scaleTargetRef', 'HorizontalPodAutoscaler pronto/order-service'],
  ['hpa-replica-bounds', 'one pod minimum in production', (s) => { get(s, 'HorizontalPodAutoscaler', 'order-service').spec.minReplicas = 1; }, 'spec.minReplicas', 'HorizontalPodAutoscaler pronto/order-service'],
  ['hpa-target-has-no-replicas', 'replicas on an autoscaled Deployment', (s) => { deployment(s).spec.replicas = 3; }, 'spec.replicas'],
  ['rolling-update', 'a rollout that takes pods down first', (s) => { deployment(s).spec.strategy.rollingUpdate.maxUnavailable = 1; }, 'spec.strategy.rollingUpdate.maxUnavailable'],
  ['statefulset-headless-service', 'a StatefulSet with a normal Service', (s) => { delete get(s, 'Service', 'db').spec.clusterIP; }, 'spec.serviceName', 'StatefulSet pronto/db'],
  ['cronjob-limits', 'a CronJob without deadline', (s) => { delete get(s, 'CronJob', 'backup').spec.startingDeadlineSeconds; }, 'spec.startingDeadlineSeconds', 'CronJob pronto/backup'],
  ['service-selects-pods', 'a Service selecting nothing', (s) => { get(s, 'Service', 'order-service').spec.selector['app.kubernetes.io/name'] = 'orders'; }, 'spec.selector', 'Service pronto/order-service'],
  ['service-target-ports', 'a Service targeting an undeclared port', (s) => { get(s, 'Service', 'order-service').spec.ports[0].targetPort = 'web'; }, 'spec.ports[0].targetPort', 'Service pronto/order-service'],
  ['no-node-port', 'a NodePort Service', (s) => { get(s, 'Service', 'order-service').spec.type = 'NodePort'; }, 'spec.type', 'Service pronto/order-service'],
  ['service-account-exists', 'a missing ServiceAccount', (s) => s.filter((m) => !(m.kind === 'ServiceAccount' && m.metadata.name === 'order-service')), 'spec.template.spec.serviceAccountName'],
  ['config-map-exists', 'a missing ConfigMap', (s) => s.filter((m) => m.kind !== 'ConfigMap'), 'spec.jobTemplate.spec.template.spec.volumes[0].configMap', 'CronJob pronto/backup'],
  ['network-policy-coverage', 'a namespace with policies that miss a pod', (s) => [...s, {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('db'),
    spec: { podSelector: { matchLabels: dbLabels }, policyTypes: ['Ingress', 'Egress'], ingress: [{}], egress: [{}] },
  }], 'spec.template.metadata.labels'],
  ['network-policy-selects-pods', 'a policy selecting no pod', (s) => [...s, {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('nothing'),
    spec: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ghost' } }, policyTypes: ['Ingress', 'Egress'] },
  }, {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('all'),
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{}], egress: [{}] },
  }], 'spec.podSelector', 'NetworkPolicy pronto/nothing'],
  ['appproject-least-privilege', 'an AppProject allowing every namespaced kind', (s) => [...s, appProject({ namespaceResourceWhitelist: [{ group: '*', kind: '*' }] })],
    'spec.namespaceResourceWhitelist[0]', 'AppProject argocd/pronto-test'],
  ['waiver-reason', 'a waiver without reason', (s) => { deployment(s).metadata.annotations['pronto.io/waive-rolling-update'] = ' '; }, 'metadata.annotations.pronto.io/waive-rolling-update'],
];

describe('validation gate rules', () => {
  test('the known-good document set has no findings', () => {
    expect(runGate(base).findings).toEqual([]);
  });

  test('every rule has a case', () => {
    expect(CASES.map((c) => c[0]).sort()).toEqual(ALL_RULES.map((r) => r.id).sort());
  });

  test.each(CASES)('%s fires on %s, and only it', (rule, _what, change, path, object = 'Deployment pronto/order-service') => {
    const set = structuredClone(base);
    const changed = change(set) ?? set;
    const findings = runGate(changed).findings;
    expect(findings.map((f) => f.rule)).toEqual(findings.map(() => rule));
    expect(findings).toContainEqual(expect.objectContaining({ rule, object, path }));
  });

  test('every rule states what it requires and how to fix it, under a unique kebab-case id', () => {
    for (const rule of ALL_RULES) {
      expect(rule.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(rule.requires.length).toBeGreaterThan(10);
      expect(rule.fix.length).toBeGreaterThan(10);
    }
    expect(new Set(ALL_RULES.map((r) => r.id)).size).toBe(ALL_RULES.length);
  });
});

/** One change, the one finding it must cause (the same rule only), and part of its message. */
type DetailedCase = [string, string, (set: Manifest[]) => Manifest[] | void, string, string, string];

/** Runs the gate over a changed copy of the known-good set. */
function findingsAfter(change: (set: Manifest[]) => Manifest[] | void) {
  const set = structuredClone(base);
  return runGate(change(set) ?? set).findings;
}

const OBJECT_METADATA_CASES: DetailedCase[] = [
  ['object-metadata', 'a 64-character label value', (s) => { deployment(s).metadata.labels['app.kubernetes.io/version'] = 'a'.repeat(64); },
    'metadata.labels.app.kubernetes.io/version', 'Deployment pronto/order-service',
    `label value "${'a'.repeat(64)}" (key "app.kubernetes.io/version") is not a valid label value: too long (64 characters, at most 63)`],
  ['object-metadata', 'a label value ending in -', (s) => { deployment(s).metadata.labels['app.kubernetes.io/component'] = 'api-'; },
    'metadata.labels.app.kubernetes.io/component', 'Deployment pronto/order-service',
    'label value "api-" (key "app.kubernetes.io/component") is not a valid label value: bad characters'],
  ['object-metadata', 'a label key with two slashes', (s) => { deployment(s).metadata.labels['pronto.io/team/owner'] = 'payments'; },
    'metadata.labels.pronto.io/team/owner', 'Deployment pronto/order-service',
    'label key "pronto.io/team/owner" (value "payments") is not a qualified name: bad characters (2 "/"'],
  ['object-metadata', 'an annotation key with a space', (s) => { deployment(s).metadata.annotations['pronto.io/git sha'] = 'abcdef1'; },
    'metadata.annotations.pronto.io/git sha', 'Deployment pronto/order-service',
    'annotation key "pronto.io/git sha" is not a qualified name: bad characters'],
  ['object-metadata', 'an upper-case Service name', (s) => { get(s, 'Service', 'order-service').metadata.name = 'Order-service'; },
    'metadata.name', 'Service pronto/Order-service', '"Order-service" is not a DNS-1035 label'],
  ['object-metadata', 'a Service name starting with a digit', (s) => { get(s, 'Service', 'order-service').metadata.name = '1order-service'; },
    'metadata.name', 'Service pronto/1order-service', 'starting with a letter'],
  ['object-metadata', 'a malformed label in a pod template', (s) => { deployment(s).spec.template.metadata.labels['app.kubernetes.io/version'] = '1.0.0_'; },
    'spec.template.metadata.labels.app.kubernetes.io/version', 'Deployment pronto/order-service', 'label value "1.0.0_"'],
  ['object-metadata', 'a malformed annotation key in a CronJob\'s pod template', (s) => { get(s, 'CronJob', 'backup').spec.jobTemplate.spec.template.metadata.annotations = { '/backup': 'x' }; },
    'spec.jobTemplate.spec.template.metadata.annotations./backup', 'CronJob pronto/backup', 'annotation key "/backup" is not a qualified name: prefix "" is not a DNS-1123 subdomain: empty'],
  ['object-metadata', 'an underscore in a ConfigMap name', (s) => { get(s, 'ConfigMap', 'backup').metadata.name = 'backup_scripts'; get(s, 'CronJob', 'backup').spec.jobTemplate.spec.template.spec.volumes[0].configMap.name = 'backup_scripts'; },
    'metadata.name', 'ConfigMap pronto/backup_scripts', '"backup_scripts" is not a DNS-1123 subdomain: bad characters'],
];

describe('object-metadata', () => {
  test.each(OBJECT_METADATA_CASES)('%s fires on %s, and only it', (rule, _what, change, path, object, message) => {
    expect(findingsAfter(change)).toEqual([expect.objectContaining({ rule, object, path, message: expect.stringContaining(message) })]);
  });

  test('accepts what Kubernetes accepts: dotted names, empty and 63-character values, prefixed keys, free-text annotation values', () => {
    expect(findingsAfter((s) => [...s, {
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: meta(`scripts.v1.${'a'.repeat(230)}`, {
        labels: { tier: '', 'example.com/Mixed_Case.name': 'A_b.c-9', 'app.kubernetes.io/version': `1.0.0-${'a'.repeat(57)}` },
        annotations: { note: 'free text: with spaces / slashes', [`${'a'.repeat(63)}.example.com/${'b'.repeat(63)}`]: '' },
      }),
      data: {},
    }])).toEqual([]);
  });
});

/** `bytes` bytes of key and value in one annotation (or data key), as the API server counts them. */
const filler = (key: string, bytes: number) => ({ [key]: 'x'.repeat(bytes - key.length) });
const L = OBJECT_SIZE_LIMITS;
/** A ConfigMap of the namespace, besides the known-good set. */
const configMap = (name: string, data: Record<string, string>, annotations?: Record<string, string>) => ({
  apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(name, annotations ? { annotations } : {}), data,
});

describe('object-size', () => {
  /** The annotations of the order-service Deployment's pod template, besides its own, up to `bytes`. */
  const podAnnotations = (s: Manifest[], bytes: number) => {
    const annotations = deployment(s).spec.template.metadata.annotations;
    annotations['pronto.io/filler'] = '';
    Object.assign(annotations, filler('pronto.io/filler', bytes - Object.entries(annotations).reduce((n, [k, v]) => n + k.length + String(v).length, 0) + 'pronto.io/filler'.length));
  };

  test.each<DetailedCase>([
    ['object-size', 'an object\'s annotations one byte over', (s) => [...s, configMap('big-annotations', {}, filler('pronto.io/big', L.annotationsBytes + 1))],
      'metadata.annotations', 'ConfigMap pronto/big-annotations', `annotations: ${L.annotationsBytes + 1} bytes, over the ${L.annotationsBytes} bytes`],
    ['object-size', 'a pod template\'s annotations one byte over', (s) => podAnnotations(s, L.annotationsBytes + 1),
      'spec.template.metadata.annotations', 'Deployment pronto/order-service', `the pods' annotations: ${L.annotationsBytes + 1} bytes`],
    ['object-size', 'a ConfigMap\'s data one byte over (values only, binaryData decoded)', (s) => [...s, {
      ...configMap('big-data', { a: 'x'.repeat(600_000) }),
      binaryData: { b: Buffer.alloc(L.configMapDataBytes - 600_000 + 1).toString('base64') },
    }], 'data', 'ConfigMap pronto/big-data', `the ConfigMap's data and binaryData: ${L.configMapDataBytes + 1} bytes`],
    ['object-size', 'an object too large for etcd', (s) => { container(s).env = [{ name: 'HUGE', value: 'x'.repeat(L.objectBytes) }]; },
      'metadata.name', 'Deployment pronto/order-service', `over the ${L.objectBytes} bytes`],
  ])('%s fires on %s, and only it', (rule, _what, change, path, object, message) => {
    expect(findingsAfter(change)).toEqual([expect.objectContaining({ rule, object, path, message: expect.stringContaining(message) })]);
  });

  test('accepts every limit exactly: annotations, pod annotations and ConfigMap data at their limit', () => {
    expect(findingsAfter((s) => {
      podAnnotations(s, L.annotationsBytes);
      // The keys do not count; base64 counts as the bytes it holds.
      return [...s, { ...configMap('at-limit', { [`${'k'.repeat(200)}`]: 'x'.repeat(L.configMapDataBytes - 300_000) }, filler('pronto.io/big', L.annotationsBytes)),
        binaryData: { bin: Buffer.alloc(300_000).toString('base64') } }];
    })).toEqual([]);
  });
});

const FOREIGN = 'pronto.io/foreign-namespace';
/** A ConfigMap Pronto ships into another team's namespace (Grafana dashboards). */
const dashboards = (annotations?: Record<string, string>) => ({
  apiVersion: 'v1', kind: 'ConfigMap',
  metadata: { name: 'pronto-dashboards', namespace: 'monitoring', ...(annotations ? { annotations } : {}) },
  data: { 'pronto.json': '{}' },
});

describe('namespace-guardrails: owned and foreign namespaces', () => {
  test('(a) an owned namespace in use needs a ResourceQuota and a LimitRange', () => {
    expect(findingsAfter((s) => s.filter((m) => m.kind !== 'LimitRange'))).toEqual([{
      rule: 'namespace-guardrails', object: 'Namespace pronto', path: 'metadata.name', message: 'no LimitRange in this namespace',
    }]);
    expect(findingsAfter((s) => s.filter((m) => m.kind !== 'ResourceQuota'))).toEqual([expect.objectContaining({
      rule: 'namespace-guardrails', object: 'Namespace pronto', message: 'no ResourceQuota in this namespace',
    })]);
  });

  test('(a) an owned namespace with restricted labels, quota and limits passes', () => {
    expect(findingsAfter(() => undefined)).toEqual([]);
  });

  test('(b) an object in a namespace not in the output must be marked foreign', () => {
    expect(findingsAfter((s) => [...s, dashboards()])).toEqual([{
      rule: 'namespace-guardrails', object: 'ConfigMap monitoring/pronto-dashboards', path: 'metadata.namespace',
      message: `namespace "monitoring" is not in the output: either add the Namespace to the output, or mark this object as living in a namespace Pronto does not own with ${FOREIGN}: "<who owns it>"`,
    }]);
  });

  test('(b) the foreign-namespace note must say who owns the namespace', () => {
    expect(findingsAfter((s) => [...s, dashboards({ [FOREIGN]: ' ' })])).toEqual([expect.objectContaining({
      rule: 'namespace-guardrails', object: 'ConfigMap monitoring/pronto-dashboards', path: `metadata.annotations.${FOREIGN}`,
      message: expect.stringContaining('(found an empty value)'),
    })]);
  });

  test('(b) an object marked as living in another team\'s namespace passes', () => {
    expect(findingsAfter((s) => [...s, dashboards({ [FOREIGN]: 'kube-prometheus-stack' }), {
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: 'pronto-dns-stub', namespace: 'kube-system', annotations: { [FOREIGN]: 'cluster DNS (platform team)' } },
      data: {},
    }])).toEqual([]);
  });

  test('(c) an object in an owned namespace must not claim the namespace is foreign', () => {
    expect(findingsAfter((s) => { deployment(s).metadata.annotations[FOREIGN] = 'kube-prometheus-stack'; })).toEqual([{
      rule: 'namespace-guardrails', object: 'Deployment pronto/order-service', path: `metadata.annotations.${FOREIGN}`,
      message: 'says namespace "pronto" belongs to someone else ("kube-prometheus-stack"), but Pronto owns it: the Namespace is in the output; remove the annotation, or the Namespace',
    }]);
  });

  test('(c) objects in owned namespaces without the annotation pass (the known-good set)', () => {
    expect(base.filter((m) => m.metadata?.annotations?.[FOREIGN] !== undefined)).toEqual([]);
    expect(runGate(base).findings).toEqual([]);
  });

  const restrictedNamespace = (name: string) => ({
    apiVersion: 'v1', kind: 'Namespace',
    metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/audit': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' } },
  });

  test.each(['default', 'kube-system', 'kube-public', 'kube-node-lease'])('(d) the output never holds the namespace %s', (name) => {
    expect(findingsAfter((s) => [...s, restrictedNamespace(name)])).toEqual([{
      rule: 'namespace-guardrails', object: `Namespace ${name}`, path: 'metadata.name',
      message: `"${name}" is a namespace Kubernetes runs: never emit it; mark the objects in it with ${FOREIGN} instead`,
    }]);
  });

  test('(d) every kube-* namespace is Kubernetes\' own, not only the well-known ones', () => {
    expect(findingsAfter((s) => [...s, restrictedNamespace('kube-systems')]).map((f) => [f.rule, f.object, f.path]))
      .toEqual([['namespace-guardrails', 'Namespace kube-systems', 'metadata.name']]);
    expect(findingsAfter((s) => [...s, restrictedNamespace('kubernetes-tools')])).toEqual([]);
  });
});

describe('appproject-least-privilege: what a commit to the GitOps repository can reach through a project', () => {
  const RULE = 'appproject-least-privilege';
  const LEAST = { namespaceResourceWhitelist: [{ group: 'apps', kind: 'Deployment' }, { group: '', kind: 'Service' }] };
  const findingsOf = (project: Manifest) => runGate([...structuredClone(base), project]).findings.map((f) => `${f.rule} ${f.path}: ${f.message}`);

  test('a project listing only the namespaced kinds it needs passes (an empty list allows nothing, and passes too)', () => {
    expect(findingsOf(appProject(LEAST))).toEqual([]);
    expect(findingsOf(appProject({ namespaceResourceWhitelist: [] }))).toEqual([]);
  });

  test.each([
    ['every kind ("*")', { namespaceResourceWhitelist: [{ group: '*', kind: '*' }] },
      ['spec.namespaceResourceWhitelist[0]: allows the pattern */*: list the kinds, one by one']],
    ['a pattern in the group', { namespaceResourceWhitelist: [{ group: '*', kind: 'Deployment' }] },
      ['spec.namespaceResourceWhitelist[0]: allows the pattern */Deployment: list the kinds, one by one']],
    ['a ClusterRoleBinding', { ...LEAST, clusterResourceWhitelist: [{ group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' }] },
      ['spec.clusterResourceWhitelist[0]: allows the cluster-scoped kind rbac.authorization.k8s.io/ClusterRoleBinding: every object of it, whatever its name, reaches past the project\'s destinations']],
    ['a Namespace (any cluster-scoped kind)', { ...LEAST, clusterResourceWhitelist: [{ group: '', kind: 'Namespace' }] },
      ['spec.clusterResourceWhitelist[0]: allows the cluster-scoped kind core/Namespace: every object of it, whatever its name, reaches past the project\'s destinations']],
    ['an absent namespaced whitelist (Argo CD: every kind)', {},
      ['spec.namespaceResourceWhitelist: is absent: Argo CD then allows every namespaced kind (Role, RoleBinding, AppProject, Application included)']],
    ['a Role and a RoleBinding', { namespaceResourceWhitelist: [{ group: 'rbac.authorization.k8s.io', kind: 'Role' }, { group: 'rbac.authorization.k8s.io', kind: 'RoleBinding' }] },
      ['spec.namespaceResourceWhitelist[0]: allows rbac.authorization.k8s.io/Role: RBAC lets a commit grant permissions',
        'spec.namespaceResourceWhitelist[1]: allows rbac.authorization.k8s.io/RoleBinding: RBAC lets a commit grant permissions']],
    ['AppProject itself', { namespaceResourceWhitelist: [{ group: 'argoproj.io', kind: 'AppProject' }] },
      ['spec.namespaceResourceWhitelist[0]: allows argoproj.io/AppProject: a project that may write projects can widen itself and every other']],
  ])('fires on a project allowing %s', (_what, spec, messages) => {
    expect(findingsOf(appProject(spec))).toEqual(messages.map((m) => `${RULE} ${m}`));
  });

  test('a waiver with a reason silences it, and is reported with its reason and what it silenced', () => {
    const project = appProject({ clusterResourceWhitelist: [{ group: '', kind: 'Namespace' }], namespaceResourceWhitelist: [{ group: '', kind: 'ResourceQuota' }] },
      { [`pronto.io/waive-${RULE}`]: 'the namespace and its guardrails, from their own reviewed folder' });
    const result = runGate([...structuredClone(base), project]);
    expect(result.findings).toEqual([]);
    expect(result.waivers).toEqual([{ rule: RULE, object: 'AppProject argocd/pronto-test', reason: 'the namespace and its guardrails, from their own reviewed folder', waived: 1 }]);
  });

  test('a waiver without a reason is refused, and silences nothing', () => {
    const project = appProject({ namespaceResourceWhitelist: [{ group: '*', kind: '*' }] }, { [`pronto.io/waive-${RULE}`]: '  ' });
    const result = runGate([...structuredClone(base), project]);
    expect(result.findings.map((f) => `${f.rule} ${f.object} ${f.path}: ${f.message}`).sort()).toEqual([
      `${RULE} AppProject argocd/pronto-test spec.namespaceResourceWhitelist[0]: allows the pattern */*: list the kinds, one by one`,
      `waiver-reason AppProject argocd/pronto-test metadata.annotations.pronto.io/waive-${RULE}: has no reason`,
    ]);
    expect(result.waivers).toEqual([]);
  });
});
