import { validateSchema } from '../../../lib/validation';
import { ENVIRONMENTS, cached, environment, named, synthEnvironment } from '../../helpers';

/** Each environment synthesized once (read only: the tests below change copies). */
const synthOf = cached((env: string) => synthEnvironment(environment(env)));
const deployment = () => structuredClone(named(synthOf('dev'), 'Deployment', 'order-service'));
const service = () => structuredClone(named(synthOf('dev'), 'Service', 'order-service'));
const C = 'spec.template.spec.containers[0]';

const serviceMonitor = () => ({
  apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor',
  metadata: { name: 'order-service', namespace: 'pronto' },
  spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'order-service' } }, endpoints: [{ port: 'http', interval: '30s', honorLabels: false }] },
});
const instrumentation = () => ({
  apiVersion: 'opentelemetry.io/v1alpha1', kind: 'Instrumentation',
  metadata: { name: 'python', namespace: 'pronto' },
  spec: { python: { resourceRequirements: { limits: { cpu: '500m', memory: '64Mi' } } }, propagators: ['tracecontext', 'baggage'] },
});

describe('schema validation (Kubernetes 1.28 and CRDs)', () => {
  test.each(ENVIRONMENTS)('accepts everything %s synthesizes', (env) => {
    for (const m of synthOf(env)) expect([m.kind, m.metadata?.name, validateSchema(m)]).toEqual([m.kind, m.metadata?.name, []]);
  });

  test('accepts well-formed custom resources', () => {
    expect(validateSchema(serviceMonitor())).toEqual([]);
    expect(validateSchema(instrumentation())).toEqual([]);
  });

  test('validates the other Kubernetes kinds too (a separate, lazily loaded module)', () => {
    const clusterRole: any = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] };
    expect(validateSchema(clusterRole)).toEqual([]);
    clusterRole.rules[0].verb = 'list';
    expect(validateSchema(clusterRole)).toEqual([{ path: 'rules[0].verb', message: 'unknown field "verb"' }]);
  });

  describe('in a core object', () => {
    test.each([
      ['an unknown field', (d: any) => { d.spec.template.spec.containers[0].livenessProbe.httpGet.pth = '/x'; }, `${C}.livenessProbe.httpGet.pth`, 'unknown field "pth"'],
      ['a field at the wrong level', (d: any) => { d.spec.template.spec.readOnlyRootFilesystem = true; }, 'spec.template.spec.readOnlyRootFilesystem', 'unknown field'],
      ['a wrong type', (d: any) => { d.spec.replicas = 'two'; }, 'spec.replicas', 'expected an integer, found "two"'],
      ['a malformed quantity', (d: any) => { d.spec.template.spec.containers[0].resources.requests.cpu = '10 cores'; }, `${C}.resources.requests.cpu`, 'expected a Kubernetes quantity'],
      ['a bad int-or-string', (d: any) => { d.spec.strategy.rollingUpdate.maxSurge = true; }, 'spec.strategy.rollingUpdate.maxSurge', 'expected an integer or a string'],
      ['a missing required field', (d: any) => { delete d.spec.template.spec.containers[0].name; }, `${C}.name`, 'required field missing'],
      ['a wrong apiVersion', (d: any) => { d.apiVersion = 'apps/v1beta1'; }, 'apiVersion', 'unknown apiVersion/kind "apps/v1beta1/Deployment"'],
    ])('catches %s', (_, change, path, message) => {
      const d = deployment();
      change(d);
      expect(validateSchema(d)).toContainEqual({ path, message: expect.stringContaining(message) });
    });

    // Integers, enumerations and ranges: not in the upstream OpenAPI types alone (see imports/generate/k8s-schema.ts).
    test.each([
      ['a fractional replica count', (d: any) => { d.spec.replicas = 1.5; }, 'spec.replicas', 'expected an integer, found 1.5'],
      ['a port number above 65535', (d: any) => { d.spec.template.spec.containers[0].ports[0].containerPort = 70000; }, `${C}.ports[0].containerPort`, 'expected a value ≤ 65535, found 70000'],
      ['an unknown imagePullPolicy', (d: any) => { d.spec.template.spec.containers[0].imagePullPolicy = 'Sometimes'; }, `${C}.imagePullPolicy`, 'expected one of "Always", "IfNotPresent", "Never", found "Sometimes"'],
      ['a negative terminationGracePeriodSeconds', (d: any) => { d.spec.template.spec.terminationGracePeriodSeconds = -5; }, 'spec.template.spec.terminationGracePeriodSeconds', 'expected a value ≥ 0, found -5'],
      ['an int32 overflow', (d: any) => { d.spec.progressDeadlineSeconds = 2 ** 31; }, 'spec.progressDeadlineSeconds', 'expected a value ≤ 2147483647 (the range of a 32-bit integer), found 2147483648'],
      ['a probe period of 0', (d: any) => { d.spec.template.spec.containers[0].readinessProbe.periodSeconds = 0; }, `${C}.readinessProbe.periodSeconds`, 'expected a value ≥ 1, found 0'],
      ['a probe port number out of range', (d: any) => { d.spec.template.spec.containers[0].livenessProbe.httpGet.port = 0; }, `${C}.livenessProbe.httpGet.port`, 'expected a value ≥ 1, found 0'],
      ['a negative maxSurge', (d: any) => { d.spec.strategy.rollingUpdate.maxSurge = -1; }, 'spec.strategy.rollingUpdate.maxSurge', 'expected a value ≥ 0, found -1'],
      ['an unknown strategy type', (d: any) => { d.spec.strategy.type = 'BlueGreen'; }, 'spec.strategy.type', 'expected one of "Recreate", "RollingUpdate", found "BlueGreen"'],
    ])('catches %s (Deployment)', (_, change, path, message) => {
      const d = deployment();
      change(d);
      expect(validateSchema(d)).toEqual([{ path, message }]);
    });

    test.each([
      ['an unknown Service type', (s: any) => { s.spec.type = 'Internal'; }, 'spec.type', 'expected one of "ClusterIP", "ExternalName", "LoadBalancer", "NodePort", found "Internal"'],
      ['an unknown port protocol', (s: any) => { s.spec.ports[0].protocol = 'HTTP'; }, 'spec.ports[0].protocol', 'expected one of "SCTP", "TCP", "UDP", found "HTTP"'],
      ['a numeric targetPort out of range', (s: any) => { s.spec.ports[0].targetPort = 70000; }, 'spec.ports[0].targetPort', 'expected a value ≤ 65535, found 70000'],
      ['a fractional port', (s: any) => { s.spec.ports[0].port = 80.5; }, 'spec.ports[0].port', 'expected an integer, found 80.5'],
    ])('catches %s (Service)', (_, change, path, message) => {
      const s = service();
      change(s);
      expect(validateSchema(s)).toEqual([{ path, message }]);
    });

    test.each([
      ['minReplicas of 0', (h: any) => { h.spec.minReplicas = 0; }, 'spec.minReplicas', 'expected a value ≥ 1, found 0'],
      ['a utilization target of 0', (h: any) => { h.spec.metrics[0].resource.target.averageUtilization = 0; }, 'spec.metrics[0].resource.target.averageUtilization', 'expected a value ≥ 1, found 0'],
    ])('catches %s (HorizontalPodAutoscaler)', (_, change, path, message) => {
      const h = structuredClone(synthOf('prod').find((m) => m.kind === 'HorizontalPodAutoscaler')) as any;
      change(h);
      expect(validateSchema(h)).toEqual([{ path, message }]);
    });

    test('accepts a named or numeric targetPort within range', () => {
      const s = service();
      s.spec.ports[0].targetPort = 8080;
      expect(validateSchema(s)).toEqual([]);
      s.spec.ports[0].targetPort = 'http';
      expect(validateSchema(s)).toEqual([]);
    });
  });

  describe('in a custom resource', () => {
    test.each([
      ['an unknown field in spec', (m: any) => { m.spec.endpoint = []; }, 'spec.endpoint', 'unknown field "endpoint"'],
      ['an unknown field in a list item', (m: any) => { m.spec.endpoints[0].intervall = '30s'; }, 'spec.endpoints[0].intervall', 'unknown field "intervall"'],
      ['an unknown metadata field', (m: any) => { m.metadata.lables = {}; }, 'metadata.lables', 'unknown field "lables"'],
      ['a wrong type', (m: any) => { m.spec.endpoints[0].honorLabels = 'yes'; }, 'spec.endpoints[0].honorLabels', 'expected a boolean, found "yes"'],
      ['a missing required field', (m: any) => { delete m.spec.selector; }, 'spec.selector', 'required field missing'],
    ])('catches %s (ServiceMonitor)', (_, change, path, message) => {
      const m = serviceMonitor();
      change(m);
      expect(validateSchema(m)).toContainEqual({ path, message: expect.stringContaining(message) });
    });

    test('catches a malformed quantity (Instrumentation)', () => {
      const m: any = instrumentation();
      m.spec.python.resourceRequirements.limits.cpu = '10 cores';
      expect(validateSchema(m)).toEqual([{ path: 'spec.python.resourceRequirements.limits.cpu', message: 'expected a Kubernetes quantity such as 250m, 1.5 or 256Mi' }]);
    });

    test('catches a value outside an enum (Instrumentation)', () => {
      const m: any = instrumentation();
      m.spec.propagators = ['w3c'];
      expect(validateSchema(m)).toContainEqual({ path: 'spec.propagators[0]', message: expect.stringContaining('expected one of "tracecontext"') });
    });
  });
});
