import { validateSchema } from '../../../lib/validation';
import { environment, named, synthEnvironment } from '../../helpers';

const deployment = () => structuredClone(named(synthEnvironment(environment('dev')), 'Deployment', 'order-service'));
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
  test('accepts what we synthesize and well-formed custom resources', () => {
    for (const m of synthEnvironment(environment('prod'))) expect([m.kind, validateSchema(m)]).toEqual([m.kind, []]);
    expect(validateSchema(serviceMonitor())).toEqual([]);
    expect(validateSchema(instrumentation())).toEqual([]);
  });

  describe('in a core object', () => {
    test.each([
      ['an unknown field', (d: any) => { d.spec.template.spec.containers[0].livenessProbe.httpGet.pth = '/x'; }, `${C}.livenessProbe.httpGet.pth`, 'unknown field "pth"'],
      ['a field at the wrong level', (d: any) => { d.spec.template.spec.readOnlyRootFilesystem = true; }, 'spec.template.spec.readOnlyRootFilesystem', 'unknown field'],
      ['a wrong type', (d: any) => { d.spec.replicas = 'two'; }, 'spec.replicas', 'must be number'],
      ['a malformed quantity', (d: any) => { d.spec.template.spec.containers[0].resources.requests.cpu = '10 cores'; }, `${C}.resources.requests.cpu`, 'expected a Kubernetes quantity'],
      ['a bad int-or-string', (d: any) => { d.spec.strategy.rollingUpdate.maxSurge = true; }, 'spec.strategy.rollingUpdate.maxSurge', 'expected an integer or a string'],
      ['a missing required field', (d: any) => { delete d.spec.template.spec.containers[0].name; }, `${C}.name`, 'required field missing'],
      ['a wrong apiVersion', (d: any) => { d.apiVersion = 'apps/v1beta1'; }, 'apiVersion', 'unknown apiVersion/kind "apps/v1beta1/Deployment"'],
    ])('catches %s', (_, change, path, message) => {
      const d = deployment();
      change(d);
      expect(validateSchema(d)).toContainEqual({ path, message: expect.stringContaining(message) });
    });
  });

  describe('in a custom resource', () => {
    test.each([
      ['an unknown field in spec', (m: any) => { m.spec.endpoint = []; }, 'spec.endpoint', 'unknown field "endpoint"'],
      ['an unknown field in a list item', (m: any) => { m.spec.endpoints[0].intervall = '30s'; }, 'spec.endpoints[0].intervall', 'unknown field "intervall"'],
      ['an unknown metadata field', (m: any) => { m.metadata.lables = {}; }, 'metadata.lables', 'unknown field "lables"'],
      ['a wrong type', (m: any) => { m.spec.endpoints[0].honorLabels = 'yes'; }, 'spec.endpoints[0].honorLabels', 'must be boolean'],
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
