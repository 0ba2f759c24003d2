/**
 * lib/resilience: the breaker env scheme, the DestinationRule construct (valid against the
 * CRD through the gate) and the injected istio-proxy declaration.
 */
import { Testing } from 'cdk8s';
import { ANNOTATION_INJECTED, BreakerLimits, ContainerImage, Manifest, parseInjected } from '../../../lib/core';
import { checkCapacity } from '../../../lib/namespace';
import {
  ANNOTATION_EXCLUDE_OUTBOUND_PORTS, BREAKER_ENV_SUFFIXES, CircuitBreakerRule, ISTIO_PROXY_ANNOTATIONS, ISTIO_PROXY_CONTAINERS, LABEL_ISTIO_INJECT,
  addIstioProxy, breakerEnv, breakerEnvName,
} from '../../../lib/resilience';
import { PodExtensionPoint, Workload } from '../../../lib/workload';
import { gateFindingsInNamespace } from '../../helpers';

const LIMITS: BreakerLimits = {
  consecutiveErrors: 3, ejectionSeconds: 60, maxPendingRequests: 8, maxConnections: 16,
  connectTimeoutMs: 500, requestTimeoutMs: 4000, intervalSeconds: 5, maxEjectionPercent: 100,
};
const resources = {
  requests: { cpu: '50m', memory: '64Mi', ephemeralStorage: '64Mi' },
  limits: { cpu: '500m', memory: '256Mi', ephemeralStorage: '256Mi' },
};

describe('breakerEnv', () => {
  const deps = [{ callee: 'payment-gateway', limits: LIMITS }, { callee: 'order-service', limits: { ...LIMITS, maxPendingRequests: 32 } }];

  test('in process: the mode, the callees, then every setting of every callee as BREAKER_<CALLEE>_<SETTING>', () => {
    const env = breakerEnv(deps, 'in-process');
    expect(env.slice(0, 2)).toEqual([{ name: 'BREAKER_MODE', value: 'in-process' }, { name: 'BREAKER_CALLEES', value: 'payment-gateway,order-service' }]);
    for (const d of deps) {
      for (const [suffix, field] of Object.entries(BREAKER_ENV_SUFFIXES)) {
        expect(env).toContainEqual({ name: breakerEnvName(d.callee, suffix as keyof typeof BREAKER_ENV_SUFFIXES), value: String(d.limits[field]) });
      }
    }
    expect(env.length).toBe(2 + deps.length * Object.keys(BREAKER_ENV_SUFFIXES).length);
    expect(env).toContainEqual({ name: 'BREAKER_PAYMENT_GATEWAY_MAX_PENDING', value: '8' });
    // Every limit reaches the app: none is left without its env var.
    expect(Object.values(BREAKER_ENV_SUFFIXES).sort()).toEqual(Object.keys(LIMITS).sort());
    expect(env).toContainEqual({ name: 'BREAKER_PAYMENT_GATEWAY_INTERVAL_SECONDS', value: '5' });
    expect(env).toContainEqual({ name: 'BREAKER_ORDER_SERVICE_MAX_EJECTION_PERCENT', value: '100' });
  });

  test('with a mesh: only the client timeouts', () => {
    const env = breakerEnv(deps, 'mesh');
    expect(env.map((e) => e.name)).toEqual([
      'BREAKER_MODE', 'BREAKER_CALLEES',
      'BREAKER_PAYMENT_GATEWAY_CONNECT_TIMEOUT_MS', 'BREAKER_PAYMENT_GATEWAY_REQUEST_TIMEOUT_MS',
      'BREAKER_ORDER_SERVICE_CONNECT_TIMEOUT_MS', 'BREAKER_ORDER_SERVICE_REQUEST_TIMEOUT_MS',
    ]);
    expect(env[0]).toEqual({ name: 'BREAKER_MODE', value: 'mesh' });
  });

  test('nothing for a service that calls nobody', () => {
    expect(breakerEnv([], 'in-process')).toEqual([]);
  });

  test.each<[string, Partial<BreakerLimits>, string]>([
    ['zero errors', { consecutiveErrors: 0 }, 'consecutiveErrors: expected a whole number ≥ 1, found 0'],
    ['a negative timeout', { requestTimeoutMs: -1 }, 'requestTimeoutMs: expected a whole number ≥ 1, found -1'],
    ['connect above request', { connectTimeoutMs: 5000 }, 'connectTimeoutMs (5000) exceeds requestTimeoutMs (4000)'],
    ['more than all hosts', { maxEjectionPercent: 101 }, 'maxEjectionPercent: expected at most 100'],
  ])('refuses %s', (_name, bad, message) => {
    expect(() => breakerEnv([{ callee: 'x', limits: { ...LIMITS, ...bad } }], 'in-process')).toThrow(message);
  });

  test('refuses two callees that would share env names', () => {
    expect(() => breakerEnv([{ callee: 'a-b', limits: LIMITS }, { callee: 'a.b', limits: LIMITS }], 'in-process')).toThrow('share the env key A_B');
  });
});

describe('CircuitBreakerRule', () => {
  const synth = (limits: BreakerLimits = LIMITS) => {
    const chart = Testing.chart();
    new CircuitBreakerRule(chart, 'PaymentGateway', { service: 'payment-gateway', namespace: 'pronto', limits });
    return Testing.synth(chart) as Manifest[];
  };

  test('a networking.istio.io/v1 DestinationRule for the service\'s cluster host, every value from the limits', () => {
    const [rule] = synth() as any[];
    expect(rule.apiVersion).toBe('networking.istio.io/v1');
    expect(rule.metadata.name).toBe('payment-gateway');
    expect(rule.spec.host).toBe('payment-gateway.pronto.svc.cluster.local');
    expect(rule.spec.trafficPolicy.connectionPool).toEqual({
      tcp: { maxConnections: LIMITS.maxConnections, connectTimeout: `${LIMITS.connectTimeoutMs}ms` },
      http: { http1MaxPendingRequests: LIMITS.maxPendingRequests, http2MaxRequests: LIMITS.maxConnections + LIMITS.maxPendingRequests },
    });
    expect(rule.spec.trafficPolicy.outlierDetection).toEqual({
      consecutive5xxErrors: LIMITS.consecutiveErrors, interval: `${LIMITS.intervalSeconds}s`, baseEjectionTime: `${LIMITS.ejectionSeconds}s`,
      maxEjectionPercent: LIMITS.maxEjectionPercent, minHealthPercent: 0,
    });
  });

  test('is valid against the CRD schema and every rule of the gate', () => {
    expect(gateFindingsInNamespace(synth())).toEqual([]);
  });

  test('the gate would catch a value the CRD refuses (the schema check is real)', () => {
    const bad = synth().map((m: any) => ({ ...m, spec: { ...m.spec, trafficPolicy: { ...m.spec.trafficPolicy, outlierDetection: { consecutive5xxErrors: -1 } } } }));
    expect(gateFindingsInNamespace(bad).some((f) => f.startsWith('schema'))).toBe(true);
  });

  test('refuses limits a breaker cannot use', () => {
    expect(() => synth({ ...LIMITS, maxPendingRequests: 0 })).toThrow('maxPendingRequests: expected a whole number ≥ 1, found 0');
  });

  test('snapshot', () => {
    expect(synth()).toMatchSnapshot();
  });
});

describe('addIstioProxy', () => {
  const image = new ContainerImage({ repository: 'registry.example.com/pronto/billing', tag: '1.0.0', gitSha: 'abcdef1' });
  const container = {
    name: 'billing', image, resources,
    ports: [{ name: 'http', number: 8080 }],
    probes: { liveness: { httpGet: { path: '/health/live', port: 'http' } }, readiness: { httpGet: { path: '/health/ready', port: 'http' } } },
  };
  const build = (excludeOutboundPorts?: number[]) => {
    const chart = Testing.chart();
    const ext = new PodExtensionPoint('billing');
    addIstioProxy(ext, { resources, excludeOutboundPorts });
    new Workload(chart, 'Billing', { name: 'billing', component: 'api', scaling: { kind: 'fixed', replicas: 2 }, containers: [container], extension: ext });
    const manifests = Testing.synth(chart) as Manifest[];
    return { manifests, pod: (manifests.find((m) => m.kind === 'Deployment') as any).spec.template };
  };

  test('asks for injection and gives the injector exactly the resources, declared for the capacity guard', () => {
    const { pod } = build();
    expect(pod.metadata.labels[LABEL_ISTIO_INJECT]).toBe('true');
    const a = pod.metadata.annotations;
    expect(a[ISTIO_PROXY_ANNOTATIONS.cpuRequest]).toBe('50m');
    expect(a[ISTIO_PROXY_ANNOTATIONS.cpuLimit]).toBe('500m');
    expect(a[ISTIO_PROXY_ANNOTATIONS.memoryRequest]).toBe('64Mi');
    expect(a[ISTIO_PROXY_ANNOTATIONS.memoryLimit]).toBe('256Mi');
    expect(parseInjected(a[ANNOTATION_INJECTED])).toEqual(expect.arrayContaining([
      { name: ISTIO_PROXY_CONTAINERS.sidecar, kind: 'sidecar', resources },
      { name: ISTIO_PROXY_CONTAINERS.init, kind: 'init', resources },
    ]));
    // No istio-init, no capability: nothing in the manifest asks for NET_ADMIN.
    expect(JSON.stringify(pod)).not.toContain('NET_ADMIN');
  });

  test('passes the gate, and the capacity guard counts the proxy', () => {
    const { manifests } = build();
    expect(gateFindingsInNamespace(manifests)).toEqual([]);
    const quota = { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'pronto' },
      spec: { hard: { 'requests.cpu': '300m', 'limits.cpu': '10', 'requests.memory': '10Gi', 'limits.memory': '10Gi', 'pods': '10' } } };
    // 2 replicas + 1 surge = 3 pods × (50m app + 50m proxy) = 300m fits; without counting the proxy it would be 150m.
    const inNs = manifests.map((m) => ({ ...m, metadata: { ...m.metadata, namespace: 'pronto' } }));
    expect(checkCapacity([quota as Manifest, ...inNs], 'pronto')).toEqual([]);
    const tight = { ...quota, spec: { hard: { ...quota.spec.hard, 'requests.cpu': '299m' } } };
    expect(checkCapacity([tight as Manifest, ...inNs], 'pronto')).not.toEqual([]);
  });

  test('excludes the outbound ports given from the redirection, and none by default', () => {
    expect(build().pod.metadata.annotations[ANNOTATION_EXCLUDE_OUTBOUND_PORTS]).toBeUndefined();
    expect(build([]).pod.metadata.annotations[ANNOTATION_EXCLUDE_OUTBOUND_PORTS]).toBeUndefined();
    expect(build([8200]).pod.metadata.annotations[ANNOTATION_EXCLUDE_OUTBOUND_PORTS]).toBe('8200');
    expect(build([8300, 8200, 8300]).pod.metadata.annotations[ANNOTATION_EXCLUDE_OUTBOUND_PORTS]).toBe('8200,8300');
    expect(gateFindingsInNamespace(build([8200]).manifests)).toEqual([]);
    expect(() => addIstioProxy(new PodExtensionPoint('x'), { resources, excludeOutboundPorts: [0] })).toThrow('excludeOutboundPorts: expected ports 1 to 65535, found 0');
  });

  test('refuses incomplete resources', () => {
    expect(() => addIstioProxy(new PodExtensionPoint('x'), { resources: { requests: resources.requests, limits: { ...resources.limits, cpu: '0' } } }))
      .toThrow('resources.limits.cpu: expected a quantity above zero');
  });
});
