/**
 * The circuitBreakers capability: every dependency edge of the catalog gets breaker
 * settings (payment-gateway's the strictest), as env vars without a mesh and as Istio
 * DestinationRules with one (ambient or CNI), the config errors, and the shipped
 * environments through the gate and the capacity guard, on and off. Expectations derive
 * from the catalog, never from a list of services.
 */
import { readFileSync } from 'fs';
import { Testing } from 'cdk8s';
import { parseDocument } from 'yaml';
import { buildApp } from '../../../charts/build-app';
import { CAPABILITIES, CapabilityUnits } from '../../../charts/capabilities';
import { AMBIENT_POLICIES_MISSING, calledServices } from '../../../charts/capabilities/circuit-breakers';
import {
  BreakerSettings, CLASSIC_SIDECAR_REFUSED, DEFAULT_BREAKER, DEFAULT_PROXY_RESOURCES, SHIPPED_CALLEE_OVERRIDES, breakerSettings,
} from '../../../config/sections/circuit-breakers';
import { renderEnvironment } from '../../../charts/synthesize';
import { CATALOG } from '../../../config/catalog';
import { parseEnvironment } from '../../../config/load';
import { ANNOTATION_INJECTED, ComputeResources, Manifest, bytes, cpuMillis, parseInjected } from '../../../lib/core';
import { checkCapacity, peakDemand, workloadPeaks } from '../../../lib/namespace';
import { ANNOTATION_EXCLUDE_OUTBOUND_PORTS, BREAKER_ENV_SUFFIXES, ISTIO_PROXY_ANNOTATIONS, LABEL_ISTIO_INJECT, breakerEnvName } from '../../../lib/resilience';
import { runGate } from '../../../lib/validation';
import { VALID_ENV } from '../../fixtures/environments';
import { CONFIG_DIR, ENVIRONMENTS, buildEnvironment, cached, chartsObjects, configProblems, stripSection, synthEnvironment, renderText } from '../../helpers';

const FILE = 'config/test.yaml';
const NO_MESH = 'circuitBreakers: {}\n';
const AMBIENT = 'circuitBreakers:\n  mesh: { type: istio, dataPlane: ambient }\n';
const CNI = 'circuitBreakers:\n  mesh: { type: istio, dataPlane: cni }\n';
/**
 * CNI in the shipped environments, with proxies at half the default CPU limit. The shipped
 * quotas are sized without a mesh: the cases with CNI raise them by what the injected proxies
 * demand (see {@link withProxyQuota}), as switching the mesh on in a shipped file would.
 */
const CNI_SHIPPED = 'circuitBreakers:\n  mesh:\n    type: istio\n    dataPlane: cni\n    proxy:\n      resources:\n        limits: { cpu: 100m }\n';
const MODES: Array<[string, string]> = [['no mesh', NO_MESH], ['ambient', AMBIENT], ['cni', CNI_SHIPPED]];

const load = (text: string) => parseEnvironment(text, FILE);
const synth = buildEnvironment;
/** One build per environment text, shared by the tests that read the same one (read only). */
const synthText = cached((text: string) => synth(load(text)));
const problems = configProblems;
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
const servicePods = (manifests: Manifest[], service: string): any[] => manifests
  .filter((m) => m.kind === 'Deployment' && m.metadata.labels?.['app.kubernetes.io/name'] === service)
  .map((m) => (m.spec as any).template);
const appEnv = (pod: any): Array<{ name: string; value?: string }> => pod.spec.containers[0].env ?? [];
const EDGES = Object.entries(CATALOG).flatMap(([caller, entry]) => entry.calls.map((callee) => ({ caller, callee })));
const CALLEES = [...new Set(EDGES.map((e) => e.callee))];
const FIELDS = Object.keys(DEFAULT_BREAKER) as Array<keyof BreakerSettings>;
/** Lower is stricter for these; for the others (ejection time) higher is. */
const HIGHER_IS_STRICTER: Array<keyof BreakerSettings> = ['ejectionSeconds'];

describe('the circuitBreakers section', () => {
  test('defaults every value; payment-gateway ships stricter settings', () => {
    const section = load(`${VALID_ENV}${NO_MESH}`).capabilities.circuitBreakers!;
    expect(section.defaults).toEqual(DEFAULT_BREAKER);
    expect(section.callees).toEqual({});
    expect(section.mesh).toBeUndefined();
    expect(breakerSettings(section, 'payment-gateway')).toEqual({ ...DEFAULT_BREAKER, ...SHIPPED_CALLEE_OVERRIDES['payment-gateway'] });
  });

  test('with a mesh: istiod\'s namespace is foreign, the proxy resources and the waypoint are defaulted', () => {
    const config = load(`${VALID_ENV}${CNI}`);
    expect(config.capabilities.circuitBreakers!.mesh).toEqual({
      type: 'istio', dataPlane: 'cni', waypoint: 'waypoint',
      controlPlane: { namespace: 'istio-system', podLabels: { app: 'istiod' }, port: 15012 },
      proxy: { resources: DEFAULT_PROXY_RESOURCES },
    });
    expect(config.namespaces.foreign).toContain('istio-system');
    expect(load(`${VALID_ENV}${NO_MESH}`).namespaces.foreign).not.toContain('istio-system');
  });

  test('a callee entry replaces only the fields it names, over the shipped override', () => {
    const section = load(`${VALID_ENV}circuitBreakers:\n  callees:\n    payment-gateway: { maxPendingRequests: 4 }\n`).capabilities.circuitBreakers!;
    expect(breakerSettings(section, 'payment-gateway')).toEqual({ ...DEFAULT_BREAKER, ...SHIPPED_CALLEE_OVERRIDES['payment-gateway'], maxPendingRequests: 4 });
  });
});

describe('the catalog\'s dependency edges', () => {
  const section = load(`${VALID_ENV}${NO_MESH}`).capabilities.circuitBreakers!;

  test('every edge of `calls` has complete, usable settings', () => {
    expect(EDGES.length).toBeGreaterThan(0);
    for (const { callee } of EDGES) {
      const s = breakerSettings(section, callee);
      expect(Object.keys(s).sort()).toEqual([...FIELDS].sort());
      for (const f of FIELDS) expect(s[f]).toBeGreaterThanOrEqual(1);
      expect(s.connectTimeoutMs).toBeLessThanOrEqual(s.requestTimeoutMs);
    }
  });

  test('the shipped overrides name only called catalog services', () => {
    for (const callee of Object.keys(SHIPPED_CALLEE_OVERRIDES)) expect(CALLEES).toContain(callee);
  });

  test('payment-gateway\'s settings are the strictest, field by field, and strictly so where it matters', () => {
    const pg = breakerSettings(section, 'payment-gateway');
    for (const callee of CALLEES.filter((c) => c !== 'payment-gateway')) {
      const other = breakerSettings(section, callee);
      for (const f of FIELDS) {
        if (HIGHER_IS_STRICTER.includes(f)) expect(pg[f]).toBeGreaterThanOrEqual(other[f]);
        else expect(pg[f]).toBeLessThanOrEqual(other[f]);
      }
      expect(pg.maxPendingRequests).toBeLessThan(other.maxPendingRequests);
      expect(pg.consecutiveErrors).toBeLessThan(other.consecutiveErrors);
      expect(pg.requestTimeoutMs).toBeLessThan(other.requestTimeoutMs);
    }
  });
});

describe('without a mesh: the settings reach each calling app as env vars', () => {
  const config = load(`${VALID_ENV}${NO_MESH}`);
  const section = config.capabilities.circuitBreakers!;
  const { charts, manifests } = synth(config);

  test('every caller, in every slot, gets BREAKER_<CALLEE>_<SETTING> for each callee; a service that calls nobody gets nothing', () => {
    for (const svc of config.services) {
      const pods = servicePods(manifests, svc.name);
      expect(pods.length).toBeGreaterThan(0);
      for (const pod of pods) {
        const env = appEnv(pod);
        const breakerVars = env.filter((e) => e.name.startsWith('BREAKER_'));
        if (svc.catalog.calls.length === 0) {
          expect(breakerVars).toEqual([]);
          continue;
        }
        expect(env).toContainEqual({ name: 'BREAKER_MODE', value: 'in-process' });
        expect(env).toContainEqual({ name: 'BREAKER_CALLEES', value: svc.catalog.calls.join(',') });
        for (const callee of svc.catalog.calls) {
          const s = breakerSettings(section, callee);
          for (const [suffix, field] of Object.entries(BREAKER_ENV_SUFFIXES)) {
            expect(env).toContainEqual({ name: breakerEnvName(callee, suffix as keyof typeof BREAKER_ENV_SUFFIXES), value: String(s[field]) });
          }
        }
        for (const callee of svc.catalog.calls) {
          // The ejection analysis settings reach the app too, not only the mesh.
          expect(env).toContainEqual({ name: breakerEnvName(callee, 'INTERVAL_SECONDS'), value: String(breakerSettings(section, callee).intervalSeconds) });
          expect(env).toContainEqual({ name: breakerEnvName(callee, 'MAX_EJECTION_PERCENT'), value: String(breakerSettings(section, callee).maxEjectionPercent) });
        }
        expect(breakerVars.length).toBe(2 + svc.catalog.calls.length * Object.keys(BREAKER_ENV_SUFFIXES).length);
        expect(pod.metadata.labels[LABEL_ISTIO_INJECT]).toBeUndefined();
      }
    }
  });

  test('intervalSeconds and maxEjectionPercent set in the section reach the callers\' env', () => {
    const own = load(`${VALID_ENV}circuitBreakers:\n  defaults: { intervalSeconds: 7, maxEjectionPercent: 50 }\n  callees:\n    payment-gateway: { maxEjectionPercent: 34 }\n`);
    const edge = EDGES.find((e) => e.callee === 'payment-gateway')!;
    const other = EDGES.find((e) => e.callee !== 'payment-gateway')!;
    const { manifests: ownManifests } = synth(own);
    const envOf = (caller: string) => servicePods(ownManifests, caller).map(appEnv);
    for (const env of envOf(edge.caller)) {
      expect(env).toContainEqual({ name: 'BREAKER_PAYMENT_GATEWAY_INTERVAL_SECONDS', value: String(SHIPPED_CALLEE_OVERRIDES['payment-gateway'].intervalSeconds) });
      expect(env).toContainEqual({ name: 'BREAKER_PAYMENT_GATEWAY_MAX_EJECTION_PERCENT', value: '34' });
    }
    for (const env of envOf(other.caller)) {
      expect(env).toContainEqual({ name: breakerEnvName(other.callee, 'INTERVAL_SECONDS'), value: '7' });
      expect(env).toContainEqual({ name: breakerEnvName(other.callee, 'MAX_EJECTION_PERCENT'), value: '50' });
    }
  });

  test('no DestinationRule, no chart, no flow', () => {
    expect(manifests.filter((m) => m.kind === 'DestinationRule')).toEqual([]);
    expect(charts.capabilities.filter((c) => charts.capabilityOf.get(c) === 'circuitBreakers')).toEqual([]);
    expect(charts.graph.flows.filter((f) => f.declaredBy === 'circuitBreakers')).toEqual([]);
  });
});

describe.each([['ambient', AMBIENT], ['cni', CNI]])('with Istio (%s)', (mode, text) => {
  const config = load(`${VALID_ENV}${text}`);
  const section = config.capabilities.circuitBreakers!;
  const { charts, manifests } = synthText(`${VALID_ENV}${text}`);
  const rules = manifests.filter((m) => m.kind === 'DestinationRule') as any[];

  test('one networking.istio.io/v1 DestinationRule per called service, for its cluster host, with its settings', () => {
    expect(rules.map((r) => r.metadata.name).sort()).toEqual(calledServices(config).sort());
    expect(rules.map((r) => r.metadata.name).sort()).toEqual([...CALLEES].sort());
    for (const rule of rules) {
      const callee = rule.metadata.name;
      const s = breakerSettings(section, callee);
      expect(rule.apiVersion).toBe('networking.istio.io/v1');
      expect(rule.metadata.namespace).toBe(config.namespace.name);
      expect(rule.spec.host).toBe(`${callee}.${config.namespace.name}.svc.cluster.local`);
      expect(rule.spec.trafficPolicy.connectionPool.tcp).toEqual({ maxConnections: s.maxConnections, connectTimeout: `${s.connectTimeoutMs}ms` });
      expect(rule.spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests).toBe(s.maxPendingRequests);
      expect(rule.spec.trafficPolicy.outlierDetection).toMatchObject({
        consecutive5xxErrors: s.consecutiveErrors, baseEjectionTime: `${s.ejectionSeconds}s`, interval: `${s.intervalSeconds}s`, maxEjectionPercent: s.maxEjectionPercent,
      });
    }
    const chart = charts.capabilities.find((c) => charts.capabilityOf.get(c) === 'circuitBreakers');
    expect(chart?.node.id).toBe('circuit-breakers');
  });

  test('the apps keep only their client timeouts', () => {
    for (const svc of config.services.filter((s) => s.catalog.calls.length > 0)) {
      for (const pod of servicePods(manifests, svc.name)) {
        const names = appEnv(pod).map((e) => e.name).filter((n) => n.startsWith('BREAKER_'));
        expect(names).toEqual(['BREAKER_MODE', 'BREAKER_CALLEES', ...svc.catalog.calls.flatMap((c) => [breakerEnvName(c, 'CONNECT_TIMEOUT_MS'), breakerEnvName(c, 'REQUEST_TIMEOUT_MS')])]);
        expect(appEnv(pod)).toContainEqual({ name: 'BREAKER_MODE', value: 'mesh' });
      }
    }
  });

  test('the pods: nothing (ambient), or the injected istio-proxy with the section\'s resources, declared (cni)', () => {
    for (const svc of config.services) {
      for (const pod of servicePods(manifests, svc.name)) {
        const a = pod.metadata.annotations ?? {};
        if (mode === 'ambient') {
          expect(pod.metadata.labels[LABEL_ISTIO_INJECT]).toBeUndefined();
          expect(Object.keys(a).filter((k) => k.startsWith('sidecar.istio.io/'))).toEqual([]);
          continue;
        }
        const r = section.mesh!.proxy.resources;
        expect(pod.metadata.labels[LABEL_ISTIO_INJECT]).toBe('true');
        expect(a[ISTIO_PROXY_ANNOTATIONS.cpuRequest]).toBe(r.requests.cpu);
        expect(a[ISTIO_PROXY_ANNOTATIONS.memoryLimit]).toBe(r.limits.memory);
        expect(parseInjected(a[ANNOTATION_INJECTED])).toEqual(expect.arrayContaining([{ name: 'istio-proxy', kind: 'sidecar', resources: r }]));
      }
    }
  });

  test('flows: with cni every service reaches istiod; ambient adds none', () => {
    const flows = charts.graph.flows.filter((f) => f.declaredBy === 'circuitBreakers');
    if (mode === 'ambient') {
      expect(flows).toEqual([]);
      return;
    }
    expect(flows.map((f) => f.from.name).sort()).toEqual(config.services.map((s) => s.name).sort());
    for (const f of flows) {
      expect(f.to).toEqual({ kind: 'foreign', name: 'istiod', namespace: 'istio-system', podLabels: { app: 'istiod' } });
      expect(f.ports).toEqual([{ port: 15012, protocol: 'TCP' }]);
    }
  });

  test('every object passes the whole gate (the DestinationRules against the CRD schema) and the capacity guard', () => {
    expect(runGate(manifests).findings).toEqual([]);
    expect(checkCapacity(manifests, config.namespace.name)).toEqual([]);
  });
});

describe('cni with the secrets capability: Vault\'s port bypasses the not-yet-started proxy', () => {
  const podsOf = (text: string) => {
    const config = load(text);
    const { manifests } = synthText(text);
    return config.services.flatMap((svc) => servicePods(manifests, svc.name));
  };

  test.each<[string, string, string]>([
    ['the default server.port', 'secrets:\n  kv: { prefix: pronto/test }\n', '8200'],
    ['another server.port', 'secrets:\n  address: https://vault.vault.svc:8300\n  server: { port: 8300 }\n', '8300'],
  ])('%s: every pod excludes it from the outbound redirection', (_name, secrets, port) => {
    const pods = podsOf(`${VALID_ENV}${secrets}${CNI}`);
    expect(pods.length).toBeGreaterThan(0);
    for (const pod of pods) expect(pod.metadata.annotations[ANNOTATION_EXCLUDE_OUTBOUND_PORTS]).toBe(port);
  });

  test('without secrets (or with ambient), nothing is excluded', () => {
    for (const pod of podsOf(`${VALID_ENV}${CNI}`)) expect(pod.metadata.annotations?.[ANNOTATION_EXCLUDE_OUTBOUND_PORTS]).toBeUndefined();
    for (const pod of podsOf(`${VALID_ENV}secrets: {}\n${AMBIENT}`)) expect(pod.metadata.annotations?.[ANNOTATION_EXCLUDE_OUTBOUND_PORTS]).toBeUndefined();
  });
});

describe('ambient with the networkPolicies capability is refused', () => {
  test('with file:line at circuitBreakers.mesh.dataPlane, naming what the policies lack', () => {
    const text = withSection('staging', 'circuitBreakers:\n  mesh:\n    type: istio\n    dataPlane: ambient\n');
    expect(text).toMatch(/^networkPolicies:/m);
    const got = problems(() => renderEnvironment(parseEnvironment(text, 'config/staging.yaml')));
    expect(got).toContain(`config/staging.yaml:${lineOf(text, 'dataPlane: ambient')}: circuitBreakers.mesh.dataPlane: "ambient" together with the networkPolicies capability is not supported yet`);
    for (const part of [AMBIENT_POLICIES_MISSING, 'HBONE (TCP 15008)', '169.254.7.127', 'waypoint', 'use "cni", or turn networkPolicies off']) expect(got).toContain(part);
  });

  test('cni with networkPolicies, and ambient without them, are accepted', () => {
    expect(renderText(withProxyQuota(withSection('staging', CNI_SHIPPED), 'config/staging.yaml'), 'config/staging.yaml').findings).toEqual([]);
    expect(renderText(stripSection(withSection('staging', AMBIENT), 'networkPolicies'), 'config/staging.yaml').findings).toEqual([]);
  });
});

describe('circuitBreakers config errors name file:line, field, expected and found', () => {
  test.each<[string, string, string, string[]]>([
    ['the classic sidecar data plane', 'circuitBreakers:\n  mesh: { type: istio, dataPlane: sidecar }\n', 'mesh:',
      ['circuitBreakers.mesh.dataPlane: expected "ambient" or "cni"', CLASSIC_SIDECAR_REFUSED, 'found "sidecar"']],
    ['an unknown data plane', 'circuitBreakers:\n  mesh: { type: istio, dataPlane: eBPF }\n', 'mesh:', ['circuitBreakers.mesh.dataPlane: expected "ambient" or "cni"', 'found "eBPF"']],
    ['a mesh other than Istio', 'circuitBreakers:\n  mesh: { type: linkerd, dataPlane: cni }\n', 'mesh:', ['circuitBreakers.mesh.type: expected "istio"']],
    ['zero consecutive errors', 'circuitBreakers:\n  defaults:\n    consecutiveErrors: 0\n', 'consecutiveErrors', ['circuitBreakers.defaults.consecutiveErrors: expected a value ≥ 1', 'found 0']],
    ['a negative ejection time', 'circuitBreakers:\n  callees:\n    order-service: { ejectionSeconds: -5 }\n', 'order-service', ['circuitBreakers.callees.order-service.ejectionSeconds: expected a value ≥ 1', 'found -5']],
    ['zero pending requests', 'circuitBreakers:\n  callees:\n    payment-gateway: { maxPendingRequests: 0 }\n', 'payment-gateway', ['circuitBreakers.callees.payment-gateway.maxPendingRequests: expected a value ≥ 1', 'found 0']],
    ['a fractional timeout', 'circuitBreakers:\n  defaults:\n    requestTimeoutMs: 1.5\n', 'requestTimeoutMs', ['circuitBreakers.defaults.requestTimeoutMs', 'expected', 'found 1.5']],
    ['a default connect timeout above the request timeout', 'circuitBreakers:\n  defaults:\n    connectTimeoutMs: 6000\n', 'connectTimeoutMs',
      ['circuitBreakers.defaults.connectTimeoutMs: expected a connect timeout ≤ the request timeout (defaults.requestTimeoutMs: 5000)', 'found 6000']],
    ['a callee connect timeout above its request timeout', 'circuitBreakers:\n  callees:\n    payment-gateway: { connectTimeoutMs: 4500 }\n', 'payment-gateway',
      ['circuitBreakers.callees.payment-gateway.connectTimeoutMs: expected a connect timeout (4500 ms) ≤ the request timeout (4000 ms) for payment-gateway', 'found 4500']],
    ['a callee request timeout below its connect timeout', 'circuitBreakers:\n  callees:\n    order-service: { requestTimeoutMs: 200 }\n', 'order-service',
      ['circuitBreakers.callees.order-service.requestTimeoutMs: expected a connect timeout (1000 ms) ≤ the request timeout (200 ms)', 'found 200']],
    ['a proxy limit below its request', 'circuitBreakers:\n  mesh:\n    type: istio\n    dataPlane: cni\n    proxy:\n      resources:\n        limits: { memory: 32Mi }\n', 'limits:',
      ['circuitBreakers.mesh.proxy.resources.limits.memory: expected a limit ≥ the request (64Mi)', 'found "32Mi"']],
    ['an unknown key', 'circuitBreakers:\n  default: {}\n', 'default:', ['circuitBreakers: unknown key "default"']],
  ])('%s', (_name, section, needle, expected) => {
    const text = `${VALID_ENV}${section}`;
    const got = problems(() => load(text));
    expect(got).toContain(`${FILE}:${lineOf(text.slice(VALID_ENV.length), needle) + VALID_ENV.split('\n').length - 1}: `);
    for (const part of expected) expect(got).toContain(part);
  });

  test.each<[string, string, string]>([
    ['a service not in the catalog', 'menu-app', '(not in the catalog)'],
    ['a catalog service nobody calls', Object.keys(CATALOG).find((s) => !CALLEES.includes(s))!, '(no catalog service calls it, so it has no breaker)'],
  ])('an override for %s', (_name, svc, why) => {
    const text = `${VALID_ENV}circuitBreakers:\n  callees:\n    ${svc}: { consecutiveErrors: 2 }\n`;
    const got = problems(() => synth(load(text)));
    expect(got).toContain(`${FILE}:${lineOf(text, `    ${svc}:`)}: circuitBreakers.callees.${svc}: expected a catalog service that another one calls (${CALLEES.length > 0 ? calledServices(load(VALID_ENV)).join(', ') : ''}), found "${svc}" ${why}`);
  });
});


/** A shipped environment file with `section` as its circuitBreakers section (the shipped one, if any, removed). */
const withSection = (env: string, section: string) => `${stripSection(readFileSync(`${CONFIG_DIR}/${env}.yaml`, 'utf8'), 'circuitBreakers')}${section}`;

/** The quota lines the injected proxies count against, with how each reads an amount. */
const COMPUTE_LINES = [
  { line: 'requests.cpu', path: ['requests', 'cpu'], cpu: true, amount: (r: ComputeResources) => r.requests.cpu },
  { line: 'requests.memory', path: ['requests', 'memory'], cpu: false, amount: (r: ComputeResources) => r.requests.memory },
  { line: 'limits.cpu', path: ['limits', 'cpu'], cpu: true, amount: (r: ComputeResources) => r.limits.cpu },
  { line: 'limits.memory', path: ['limits', 'memory'], cpu: false, amount: (r: ComputeResources) => r.limits.memory },
] as const;
const quantity = (cpu: boolean, n: number) => (cpu ? `${n}m` : n % 2 ** 20 === 0 ? `${n / 2 ** 20}Mi` : String(n));
const parseQuantity = (cpu: boolean, q: string) => (cpu ? cpuMillis(String(q)) : bytes(String(q)));
/** One build per environment file text, without the gate and the capacity guard (read only). */
const buildText = cached((text: string, file: string) => buildEnvironment(parseEnvironment(text, file)).manifests);
/** What every object of an environment demands at peak on a quota line, as the capacity guard counts it. */
const demandOf = (manifests: Manifest[], line: string) => workloadPeaks(manifests).reduce((sum, p) => sum + peakDemand(p, line), 0);

/**
 * What the injected proxies of an environment text demand at peak, per compute quota line,
 * derived without the guard's reading of the pods: every pod labelled for injection × the
 * proxy's requests or limits from the section.
 */
function proxyDemand(text: string, file: string): Record<string, number> {
  const config = parseEnvironment(text, file);
  const resources = config.capabilities.circuitBreakers!.mesh!.proxy!.resources as ComputeResources;
  const manifests = buildText(text, file);
  const proxied = workloadPeaks(manifests).filter((peak) => {
    const m = manifests.find((o) => `${o.kind}/${o.metadata?.name}` === peak.workload) as any;
    const template = m?.kind === 'CronJob' ? m.spec.jobTemplate.spec.template : m?.spec?.template;
    return template?.metadata?.labels?.[LABEL_ISTIO_INJECT] === 'true';
  });
  expect(proxied.length).toBeGreaterThan(0);
  const pods = proxied.reduce((sum, p) => sum + p.pods, 0);
  return Object.fromEntries(COMPUTE_LINES.map(({ line, cpu, amount }) => [line, pods * parseQuantity(cpu, amount(resources))]));
}

/** `text` with each compute line of its quota set by `value(line, shipped amount)` (comments and line numbers kept). */
function withQuota(text: string, value: (line: string, shipped: number) => number): string {
  const doc = parseDocument(text);
  for (const { line, path, cpu } of COMPUTE_LINES) {
    const shipped = doc.getIn(['namespace', 'quota', ...path]) as string;
    doc.setIn(['namespace', 'quota', ...path], quantity(cpu, value(line, parseQuantity(cpu, shipped))));
  }
  return doc.toString();
}

/** `text` (with a CNI mesh) with its quota raised by exactly what the injected proxies demand. */
const withProxyQuota = (text: string, file: string) => {
  const extra = proxyDemand(text, file);
  return withQuota(text, (line, shipped) => shipped + extra[line]);
};

describe('the shipped environments with the section on', () => {

  test.each(ENVIRONMENTS.flatMap((env) => MODES.map(([mode, section]) => [env, mode, section])))(
    '%s, %s: every object passes the gate and the capacity guard', (env, _mode, section) => {
      // Ambient under the shipped network policies is refused (see below): the ambient case runs without them.
      // CNI runs with the quota raised by its proxies' demand, and by nothing more.
      const file = `config/${env}.yaml`;
      const text = section === AMBIENT ? stripSection(withSection(env, section), 'networkPolicies')
        : section === CNI_SHIPPED ? withProxyQuota(withSection(env, section), file) : withSection(env, section);
      const config = parseEnvironment(text, `config/${env}.yaml`);
      const rendered = renderText(text, `config/${env}.yaml`);
      expect(rendered.findings).toEqual([]);
      expect(checkCapacity(rendered.manifests, config.namespace.name)).toEqual([]);
      const rules = rendered.manifests.filter((m) => m.kind === 'DestinationRule');
      expect(rules.length).toBe(section === NO_MESH ? 0 : calledServices(config).length);
      if (section === CNI_SHIPPED && config.capabilities.secrets) {
        for (const svc of config.services) {
          for (const pod of servicePods(rendered.manifests, svc.name)) {
            expect(pod.metadata.annotations[ANNOTATION_EXCLUDE_OUTBOUND_PORTS]).toBe(String(config.capabilities.secrets.server.port));
          }
        }
      }
    });
});

describe('the capacity guard counts the injected proxies', () => {
  const file = 'config/staging.yaml';
  const text = withSection('staging', CNI);

  test('staging with CNI at the default proxy limits: the guard counts every injected proxy, at its requests and limits, and nothing more', () => {
    const noMesh = buildText(withSection('staging', NO_MESH), file);
    const extra = proxyDemand(text, file);
    for (const { line } of COMPUTE_LINES) {
      expect([line, extra[line] > 0]).toEqual([line, true]);
      expect([line, demandOf(buildText(text, file), line)]).toEqual([line, demandOf(noMesh, line) + extra[line]]);
    }
  });

  test('a quota exactly at that demand passes; a millicore of CPU limits less, and the guard says so with file:line', () => {
    const manifests = buildText(text, file);
    const exact = withQuota(text, (line) => demandOf(manifests, line));
    expect(renderText(exact, file).findings).toEqual([]);
    const short = withQuota(text, (line) => demandOf(manifests, line) - (line === 'limits.cpu' ? 1 : 0));
    const got = problems(() => renderEnvironment(parseEnvironment(short, file)));
    expect(got).toContain(`${file}:${lineOf(short, '    limits:')}: namespace.quota.limits.cpu: expected the quota to hold every workload`);
    expect(got).not.toContain('namespace.quota.requests.cpu');
  });
});

describe('the circuitBreakers capability, off', () => {
  // Objects are compared as JSON: equal text for equal objects, key order included, at a fraction
  // of YAML's cost (synth formats its files from exactly these objects).
  test('absent or false: the output is byte-identical to the output without it', () => {
    const render = (text: string) => synth(load(text)).manifests.map((m) => JSON.stringify(m)).join('---\n');
    const without = render(VALID_ENV);
    expect(render(`${VALID_ENV}circuitBreakers: false\n`)).toBe(without);
    expect(without).not.toContain('BREAKER_');
    expect(without).not.toContain('istio');
  });

  /** Every object and every extra file, as text; `units` replaces capabilities by their bare id to render without them. */
  const renderWith = (text: string, file: string, units: CapabilityUnits = CAPABILITIES) => {
    const app = Testing.app();
    const built = buildApp(app, parseEnvironment(text, file), units);
    return [...chartsObjects(app.charts).map((m) => JSON.stringify(m)), ...built.files.map((f) => `${f.path}\n${f.text}`)].join('---\n');
  };
  const WITHOUT = { ...CAPABILITIES, circuitBreakers: { id: 'circuitBreakers' } } as CapabilityUnits;

  test.each(ENVIRONMENTS)('%s: the shipped file without its section, or with `circuitBreakers: false`, renders as with the capability removed', (env) => {
    const file = `config/${env}.yaml`;
    const raw = readFileSync(`${CONFIG_DIR}/${env}.yaml`, 'utf8');
    const full = /^circuitBreakers:/m.test(raw) ? raw : `${raw.replace(/\n*$/, '\n')}${NO_MESH}`;
    const stripped = stripSection(full, 'circuitBreakers');
    expect(stripped).not.toMatch(/^circuitBreakers:/m);
    expect(stripped).not.toContain('BREAKER_');
    expect(parseEnvironment(stripped, file).capabilities.circuitBreakers).toBeFalsy();
    const expected = renderWith(full, file, WITHOUT);
    // The section does change the output, so the comparisons below can fail.
    expect(renderWith(full, file)).not.toBe(expected);
    expect(renderWith(stripped, file)).toBe(expected);
    expect(renderWith(`${stripped}circuitBreakers: false\n`, file)).toBe(expected);
  });
});

describe('stripSection, which the tests of the shipped files rely on', () => {
  const text = '# yaml-language-server: x\ntier: dev\n\n# about a\n# more about a\na:\n  b: 1\n\n  # inside a\n  c: [1]\n# about d\nd: {}\ne: 2\n';
  test('removes the section, its comments above and inside, and nothing else', () => {
    expect(stripSection(text, 'a')).toBe('# yaml-language-server: x\ntier: dev\n\n# about d\nd: {}\ne: 2\n');
    expect(stripSection(text, 'd')).toBe('# yaml-language-server: x\ntier: dev\n\n# about a\n# more about a\na:\n  b: 1\n\n  # inside a\n  c: [1]\ne: 2\n');
    expect(stripSection(text, 'e')).toBe('# yaml-language-server: x\ntier: dev\n\n# about a\n# more about a\na:\n  b: 1\n\n  # inside a\n  c: [1]\n# about d\nd: {}\n');
    expect(stripSection(text, 'z')).toBe(text);
  });

  test.each(ENVIRONMENTS)('%s: removes exactly the shipped sections', (env) => {
    const raw = readFileSync(`${CONFIG_DIR}/${env}.yaml`, 'utf8');
    for (const key of ['circuitBreakers', 'networkPolicies']) {
      const config = parseEnvironment(stripSection(raw, key), `config/${env}.yaml`);
      expect(config.capabilities[key as 'circuitBreakers' | 'networkPolicies']).toBeFalsy();
      const before = parseEnvironment(raw, `config/${env}.yaml`);
      expect(Object.keys(config.capabilities).filter((k) => k !== key && (config.capabilities as any)[k]).sort())
        .toEqual(Object.keys(before.capabilities).filter((k) => k !== key && (before.capabilities as any)[k]).sort());
    }
  });
});

describe('ambient mode on the namespace', () => {
  test('labels the namespace for ambient and its waypoint; the Pod Security labels stay', () => {
    const manifests = synthEnvironment(parseEnvironment(`${VALID_ENV}circuitBreakers:\n  mesh: { type: istio, dataPlane: ambient, waypoint: orders-waypoint }\n`, 'config/test.yaml'));
    const ns = manifests.find((m: any) => m.kind === 'Namespace');
    expect(ns?.metadata.labels).toMatchObject({
      'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'orders-waypoint', 'pod-security.kubernetes.io/enforce': 'restricted',
    });
    // The same text as the `with Istio (cni)` cases: shared, not built again.
    const cni = synthText(`${VALID_ENV}circuitBreakers:\n  mesh: { type: istio, dataPlane: cni }\n`).manifests;
    expect(Object.keys(cni.find((m: any) => m.kind === 'Namespace')!.metadata.labels).filter((k) => k.startsWith('istio.io/'))).toEqual([]);
  });
});
