/**
 * The gateway capability: its section, the routes it takes from the catalog, its flows,
 * and its objects in every shipped environment (gate and capacity guard), on and off.
 */
import { readFileSync } from 'fs';
import { stringify } from 'yaml';
import { CLIENTS, GATEWAY_PORTS } from '../../../charts/capabilities/gateway';
import { LOG_HEADROOM_MI, WRITABLE_BASE_MI, writableSizeMi } from '../../../config/sections/gateway';
import { CATALOG, GATEWAY } from '../../../config/catalog';
import { parseEnvironment } from '../../../config/load';
import { ANNOTATION_CONFIG_CHECKSUM, Manifest, bytes, serviceHost } from '../../../lib/core';
import { runGate } from '../../../lib/validation';
import { DEFAULT_SERVICE_PORT } from '../../../lib/workload';
import { VALID_ENV } from '../../fixtures/environments';
import { CONFIG_DIR, ENVIRONMENTS, buildEnvironment, configProblems, renderText } from '../../helpers';

const FILE = 'config/test.yaml';
const IMAGE = '  image: { repository: docker.io/owasp/modsecurity-crs, tag: 4.18.0-nginx-202509051009 }\n';
/** TLS at the load balancer: its TLS listener (AWS) set by annotation, the only way the section accepts that mode. */
const SECTION = `gateway:\n${IMAGE}  trustedProxies: [10.0.0.0/8]\n  service:\n    annotations: { service.beta.kubernetes.io/aws-load-balancer-ssl-cert: "arn:aws:acm:eu-west-1:123456789012:certificate/example" }\n`;
const ROUTED = Object.keys(CATALOG).filter((s) => CATALOG[s].route);
const INTERNAL = Object.keys(CATALOG).filter((s) => !CATALOG[s].route);

const load = (text: string) => parseEnvironment(text, FILE);
const synth = buildEnvironment;
const problems = configProblems;
const find = (manifests: Manifest[], kind: string) => manifests.find((m) => m.kind === kind && m.metadata?.name === GATEWAY) as any;
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('the gateway capability', () => {
  const on = synth(load(`${VALID_ENV}${SECTION}`));
  const conf = find(on.manifests, 'ConfigMap').data['nginx.conf'] as string;

  test('its section is defaulted', () => {
    const section = load(`${VALID_ENV}${SECTION}`).capabilities.gateway!;
    expect(section.tls).toEqual({ mode: 'loadBalancer' });
    expect(section.rateLimit).toMatchObject({ requestsPerSecond: 20, burst: 40, connectionsPerClient: 50 });
    expect(section.modsecurity).toEqual({ paranoiaLevel: 2, inboundAnomalyThreshold: 5, outboundAnomalyThreshold: 4, requestBodyLimitMi: 10, requestBodyNoFilesLimitKi: 1024 });
    expect(section.headers.hstsMaxAgeSeconds).toBe(31536000);
  });

  test('a workload named GATEWAY with ≥ 2 pods, a PDB, a LoadBalancer Service and its ConfigMap, in a chart of its own', () => {
    expect(on.charts.capabilities.map((c) => c.node.id)).toEqual(['gateway']);
    const deployment = find(on.manifests, 'Deployment');
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(find(on.manifests, 'PodDisruptionBudget')).toBeDefined();
    expect(find(on.manifests, 'Service').spec.type).toBe('LoadBalancer');
    expect(deployment.spec.template.metadata.annotations[ANNOTATION_CONFIG_CHECKSUM]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(deployment.spec.template.spec.volumes).toContainEqual({ name: 'config', configMap: { name: GATEWAY, defaultMode: 0o444 } });
    const autoscaled = synth(load(`${VALID_ENV}${SECTION}  autoscaling: { minReplicas: 2, maxReplicas: 6 }\n`));
    expect(find(autoscaled.manifests, 'HorizontalPodAutoscaler').spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
  });

  test('routes come from the catalog: every public route to its Service, internal services nowhere', () => {
    for (const svc of ROUTED) {
      expect(conf).toContain(`server ${svc}.pronto.svc.cluster.local:80;`);
      expect(conf).toContain(`server ${serviceHost(svc, 'pronto')}:${DEFAULT_SERVICE_PORT};`);
      const path = CATALOG[svc].route!.path;
      expect(conf).toContain(path === '/' ? 'location / {' : `location ${path}/ {`);
    }
    for (const svc of INTERNAL) expect(conf).not.toContain(svc);
    const longLived = ROUTED.filter((s) => CATALOG[s].route!.longLivedConnections);
    expect(conf.match(/proxy_set_header Upgrade \$pronto_upgrade;/g)?.length ?? 0).toBe(longLived.length * 2);
  });

  test('the body limits: 10 MiB in all, 1024 KiB without files (JSON, forms), each settable', () => {
    const modsec = find(on.manifests, 'ConfigMap').data['modsecurity.conf'] as string;
    expect(modsec).toMatch(/^SecRequestBodyLimit 10485760$/m);
    expect(modsec).toMatch(/^SecRequestBodyNoFilesLimit 1048576$/m);
    expect(conf).toContain('client_max_body_size 10485760;');
    const set = synth(load(`${VALID_ENV}${SECTION}  modsecurity: { requestBodyLimitMi: 4, requestBodyNoFilesLimitKi: 4096 }\n`));
    expect(find(set.manifests, 'ConfigMap').data['modsecurity.conf']).toMatch(/^SecRequestBodyNoFilesLimit 4194304$/m);
  });

  test('the /tmp emptyDir is sized from the body limit and the connections per client, within the ephemeral-storage limit', () => {
    const pod = (manifests: Manifest[]) => find(manifests, 'Deployment').spec.template.spec;
    const writable = (manifests: Manifest[]) => pod(manifests).volumes.find((v: any) => v.name === 'writable').emptyDir.sizeLimit;
    // 64Mi + 10Mi × 50 connections: one client at its connection limit uploading full bodies cannot evict a pod.
    expect(writable(on.manifests)).toBe('564Mi');
    expect(writableSizeMi(10, 50, '2Gi')).toBe(WRITABLE_BASE_MI + 500);
    const limit = pod(on.manifests).containers[0].resources.limits['ephemeral-storage'];
    expect(bytes(writable(on.manifests)) + LOG_HEADROOM_MI * 1024 * 1024).toBeLessThanOrEqual(bytes(limit));
    // Capped at the limit minus the logs' headroom.
    const big = synth(load(`${VALID_ENV}${SECTION}  modsecurity: { requestBodyLimitMi: 100 }\n`));
    expect(writable(big.manifests)).toBe(`${2048 - LOG_HEADROOM_MI}Mi`);
    const small = synth(load(`${VALID_ENV}${SECTION}  rateLimit: { connectionsPerClient: 4 }\n`));
    expect(writable(small.manifests)).toBe('104Mi');
  });

  test('a change of the section changes the checksum, so the pods roll', () => {
    const other = synth(load(`${VALID_ENV}${SECTION}  rateLimit: { requestsPerSecond: 30 }\n`));
    expect(find(other.manifests, 'Deployment').spec.template.metadata.annotations[ANNOTATION_CONFIG_CHECKSUM])
      .not.toBe(find(on.manifests, 'Deployment').spec.template.metadata.annotations[ANNOTATION_CONFIG_CHECKSUM]);
  });

  test('flows: clients outside the cluster reach the gateway on its listening port; it gets DNS; the catalog routes it', () => {
    const flows = on.charts.graph.flows;
    expect(flows).toContainEqual(expect.objectContaining({ from: { kind: 'external', name: CLIENTS }, to: expect.objectContaining({ name: GATEWAY }),
      ports: [{ port: GATEWAY_PORTS.http, protocol: 'TCP' }], declaredBy: 'gateway' }));
    expect(on.charts.graph.workloads.map((w) => w.name)).toContain(GATEWAY);
    expect(flows.some((f) => f.from.name === GATEWAY && f.to.name === 'kube-dns')).toBe(true);
    for (const svc of ROUTED) expect(flows.some((f) => f.from.name === GATEWAY && f.to.name === svc)).toBe(true);
  });

  test('TLS at the gateway: the Service serves 443 from the certificate Secret, and everything passes the gate', () => {
    const tls = synth(load(`${VALID_ENV}gateway:\n${IMAGE}  tls: { mode: gateway, certificateSecret: shop-tls }\n`));
    expect(find(tls.manifests, 'Service').spec.ports.map((p: any) => p.port)).toEqual([80, 443]);
    expect(tls.charts.graph.flows.filter((f) => f.from.name === CLIENTS).flatMap((f) => f.ports.map((p) => p.port)).sort()).toEqual([GATEWAY_PORTS.http, GATEWAY_PORTS.https].sort());
    expect(runGate(tls.manifests).findings).toEqual([]);
  });

  test.each(ENVIRONMENTS)('on in the shipped %s: every object passes the gate and the capacity guard', (env) => {
    const raw = readFileSync(`${CONFIG_DIR}/${env}.yaml`, 'utf8');
    const text = /^gateway:/m.test(raw) ? raw : `${raw}\n${SECTION}`;
    const rendered = renderText(text, `config/${env}.yaml`);
    expect(rendered.findings).toEqual([]);
    expect(rendered.files.map((f) => f.name)).toContain('gateway.k8s.yaml');
  });

  test('off (absent or false): the output is byte-identical to the output without it', () => {
    const render = (text: string) => synth(load(text)).manifests.map((m) => stringify(m)).join('---\n');
    const without = render(VALID_ENV);
    expect(render(`${VALID_ENV}gateway: false\n`)).toBe(without);
    expect(without).not.toContain('modsecurity');
  });
});

describe('gateway config errors name file:line, field, expected and found', () => {
  const bad = (extra: string) => `${VALID_ENV}${SECTION}${extra}`;
  const at = (text: string, needle: string) => `${FILE}:${lineOf(text, needle)}: `;

  test.each([
    ['a rate limit of zero', '  rateLimit: { requestsPerSecond: 0 }\n', 'gateway.rateLimit.requestsPerSecond: expected a value ≥ 1', 'found 0'],
    ['a login rate of zero', '  rateLimit: { loginAndPayment: { requestsPerMinute: 0 } }\n', 'gateway.rateLimit.loginAndPayment.requestsPerMinute: expected a value ≥ 1', 'found 0'],
    ['an empty CSP', '  headers: { contentSecurityPolicy: "" }\n', 'gateway.headers.contentSecurityPolicy: expected a Content-Security-Policy', 'found ""'],
    ['a CSP without frame-ancestors', '  headers: { contentSecurityPolicy: "default-src \'self\'" }\n', 'gateway.headers.contentSecurityPolicy: expected a Content-Security-Policy with a frame-ancestors directive', 'found "default-src'],
    ['a CSP with unsafe-inline', '  headers: { contentSecurityPolicy: "default-src \'self\' \'unsafe-inline\'; frame-ancestors \'none\'" }\n', 'gateway.headers.contentSecurityPolicy: expected a strict Content-Security-Policy: no \'unsafe-inline\'', 'found'],
    ['an HSTS max-age below a year', '  headers: { hstsMaxAgeSeconds: 86400 }\n', 'gateway.headers.hstsMaxAgeSeconds: expected a value ≥ 31536000', 'found 86400'],
    ['one gateway pod', '  replicas: 1\n', 'gateway.replicas: expected a value ≥ 2', 'found 1'],
  ])('%s', (_name, extra, message, found) => {
    const text = bad(extra);
    const got = problems(() => load(text));
    expect(got).toContain(`${at(text, extra.trim().split(':')[0])}${message}`);
    expect(got).toContain(found);
  });

  test.each([
    ['a no-files body limit over the body limit', '  modsecurity: { requestBodyLimitMi: 2, requestBodyNoFilesLimitKi: 4096 }\n', 'requestBodyNoFilesLimitKi: 4096',
      'gateway.modsecurity.requestBodyNoFilesLimitKi: expected at most the body limit (requestBodyLimitMi 2 = 2048 KiB), found 4096'],
    ['an ephemeral-storage limit too small for /tmp', '  resources:\n    requests: { ephemeralStorage: 100Mi }\n    limits: { ephemeralStorage: 200Mi }\n', 'ephemeralStorage: 200Mi',
      'gateway.resources.limits.ephemeralStorage: expected at least 202Mi: /tmp needs 64Mi plus one request body at the limit (10Mi), and the logs 128Mi, found "200Mi"'],
  ])('%s', (_name, extra, needle, message) => {
    const text = bad(extra);
    expect(problems(() => load(text))).toContain(`${at(text, needle)}${message}`);
  });

  test.each([
    ['an address without a prefix', '10.1.2.3', 'expected a CIDR block such as 203.0.113.0/24 or 2001:db8::/32'],
    ['host bits set', '10.1.2.3/8', 'expected the network address of the block (host bits zero), such as 10.0.0.0/8'],
    ['a bogus IPv6 address', '1:2:3/64', 'expected a CIDR block such as 203.0.113.0/24 or 2001:db8::/32'],
    ['IPv6 host bits set', 'fd00::1/8', 'expected the network address of the block (host bits zero), such as fd00:0:0:0:0:0:0:0/8'],
    ['a prefix too long', '10.0.0.0/33', 'expected a prefix length of at most 32 for an IPv4 block'],
  ])('a trusted proxy that is not a CIDR block: %s', (_name, cidr, message) => {
    const text = `${VALID_ENV}gateway:\n${IMAGE}  trustedProxies:\n    - 10.0.0.0/8\n    - ${cidr}\n`;
    expect(problems(() => load(text))).toContain(`${FILE}:${lineOf(text, `- ${cidr}`)}: gateway.trustedProxies.1: ${message}, found "${cidr}"`);
  });

  test('a load-balancer source range with host bits set', () => {
    const text = `${VALID_ENV}${SECTION}    loadBalancerSourceRanges: [192.168.1.1/16]\n`;
    expect(problems(() => load(text))).toContain(`${FILE}:${lineOf(text, '192.168.1.1/16')}: gateway.service.loadBalancerSourceRanges.0: expected the network address of the block (host bits zero), such as 192.168.0.0/16, found "192.168.1.1/16"`);
  });

  test('valid blocks pass: IPv4, IPv6 with ::, a single host', () => {
    const section = load(`${VALID_ENV}gateway:\n${IMAGE}  tls: { mode: gateway, certificateSecret: gateway-tls }\n  trustedProxies: [10.0.0.0/8, 'fd00::/8', 203.0.113.7/32, '2001:db8::1/128']\n`).capabilities.gateway!;
    expect(section.trustedProxies).toEqual(['10.0.0.0/8', 'fd00::/8', '203.0.113.7/32', '2001:db8::1/128']);
  });

  test('TLS at the load balancer without trusted proxies', () => {
    const text = `${VALID_ENV}gateway:\n${IMAGE}`;
    expect(problems(() => load(text))).toContain('gateway.trustedProxies: expected the CIDRs of the load balancer when TLS ends there');
  });

  test('a per-route CSP for an unknown service, or an internal one (routes come from the catalog)', () => {
    const unknown = bad('  headers:\n    routeContentSecurityPolicy:\n      menu-app: "default-src \'self\'; frame-ancestors \'none\'"\n');
    const message = problems(() => synth(load(unknown)));
    expect(message).toContain(`${FILE}:${lineOf(unknown, 'menu-app')}: gateway.headers.routeContentSecurityPolicy.menu-app: expected a catalog service with a public route (${ROUTED.join(', ')}), found "menu-app"`);
    const internal = bad(`  headers:\n    routeContentSecurityPolicy:\n      ${INTERNAL[0]}: "default-src 'self'; frame-ancestors 'none'"\n`);
    expect(problems(() => synth(load(internal)))).toContain(`found "${INTERNAL[0]}" (an internal service: it has no route through the gateway)`);
  });

  test('route access for an internal service, an empty source list, or a host that is not a name', () => {
    const internal = bad(`  routeAccess:\n    ${INTERNAL[0]}: { sourceRanges: [203.0.113.0/24] }\n`);
    expect(problems(() => synth(load(internal))))
      .toContain(`${FILE}:${lineOf(internal, `${INTERNAL[0]}: { sourceRanges`)}: gateway.routeAccess.${INTERNAL[0]}: expected a catalog service with a public route (${ROUTED.join(', ')}), found "${INTERNAL[0]}" (an internal service`);
    const empty = bad(`  routeAccess:\n    ${ROUTED[0]}: { sourceRanges: [] }\n`);
    expect(problems(() => load(empty))).toContain(`gateway.routeAccess.${ROUTED[0]}.sourceRanges: expected at least one CIDR block (an empty list would lock everyone out)`);
    expect(problems(() => load(bad('  hosts: ["https://shop.example.com"]\n')))).toContain('gateway.hosts.0: expected a host name such as shop.pronto.example.com');
  });
});
