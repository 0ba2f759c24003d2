/**
 * The networkPolicies capability: NetworkPolicies rendered from the connection graph.
 *
 * The main check computes, from the synthesized NetworkPolicy objects alone, which
 * connections Kubernetes would allow between every pair of pods (Pronto's, the cluster
 * DNS's, the other foreign pods the graph names, and strangers), and to and from external
 * addresses, on every port the graph names (and a few it does not), and compares that
 * matrix with the graph: nothing missing, nothing extra. The evaluator below is a small
 * implementation of NetworkPolicy semantics of its own; it shares no code with the renderer.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { z } from 'zod';
import { buildApp } from '../../../charts/build-app';
import { CAPABILITIES, Capability, CapabilityUnits, SectionSpec } from '../../../charts/capabilities';
import { renderEnvironment } from '../../../charts/synthesize';
import { CATALOG, DATA_STORES, GATEWAY } from '../../../config/catalog';
import { Catalog } from '../../../config/schema';
import { ConfigError, EnvironmentConfig, parseEnvironment } from '../../../config/load';
import { ConnectionGraph, Endpoint, Manifest, endpointKey, workloadEndpoint } from '../../../lib/core';
import { checkCapacity } from '../../../lib/namespace';
import { runGate } from '../../../lib/validation';
import { FIXTURE_SECTIONS, FIXTURE_UNITS } from '../../fixtures/capabilities';
import { newServiceName } from '../../fixtures/added-service';
import { VALID_ENV, validEnv } from '../../fixtures/environments';
import { CONFIG_DIR, ENVIRONMENTS, cached, chartsObjects, stripSection, renderText } from '../../helpers';

const FILE = 'config/test.yaml';

// ---------------------------------------------------------------- inputs, derived from the catalog

/** The external hosts of the catalog, each given a block of its own (TEST-NET-3, 8 addresses each). */
const catalogHosts = (catalog: Catalog) => [...new Set(Object.values(catalog).flatMap((e) => (e.externalHosts ?? []).map((h) => h.split(':')[0])))].sort();
const HOSTS = catalogHosts(CATALOG);
const HOST_BLOCKS = Object.fromEntries(HOSTS.map((h, i) => [h, `203.0.113.${i * 8}/29`]));
const SECTION = `networkPolicies:\n  externalHosts:\n${HOSTS.map((h) => `    ${h}: [${HOST_BLOCKS[h]}]\n`).join('')}`;
const sectionLine = VALID_ENV.split('\n').length;

/** A shipped environment file with the section appended (kept as is when it already has one). */
function shipped(env: string): { file: string; text: string } {
  const text = readFileSync(path.join(CONFIG_DIR, `${env}.yaml`), 'utf8');
  return { file: `config/${env}.yaml`, text: /^networkPolicies:/m.test(text) ? text : `${text.endsWith('\n') ? text : `${text}\n`}${SECTION}` };
}


const ENVS: Array<{ name: string; file: string; text: string }> = [
  { name: 'VALID_ENV', file: FILE, text: `${VALID_ENV}${SECTION}` },
  ...ENVIRONMENTS.map((env) => ({ name: env, ...shipped(env) })),
];

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

function synth(config: EnvironmentConfig, units: CapabilityUnits = CAPABILITIES) {
  const app = Testing.app();
  const charts = buildApp(app, config, units);
  return { charts, manifests: chartsObjects(app.charts) };
}

/** synth() of an environment text with every capability, once per text: the tests that read the same one share it (read only). */
const synthText = cached((text: string, file: string) => synth(parseEnvironment(text, file)));

/**
 * The address blocks of every external host: those of `networkPolicies.externalHosts`, and the
 * blocks a capability's flow carries itself (the database's object store) for hosts the
 * section does not name (the section's win).
 */
function externalBlocks(config: EnvironmentConfig, graph: ConnectionGraph): Record<string, Array<{ cidr: string; except?: string[] }>> {
  const carried = graph.flows.flatMap((f) => [f.from, f.to]).flatMap((e) => (e.kind === 'external' && e.blocks ? [[e.name, e.blocks.map((cidr) => ({ cidr }))] as const] : []));
  return { ...Object.fromEntries(carried), ...(config.capabilities.networkPolicies!.externalHosts as Record<string, Array<{ cidr: string; except?: string[] }>>) };
}

// ---------------------------------------------------------------- an independent NetworkPolicy evaluator

type Labels = Readonly<Record<string, string>>;
type Protocol = 'TCP' | 'UDP';
interface Pod { readonly id: string; readonly namespace: string; readonly labels: Labels; readonly ports: ReadonlyArray<{ name?: string; containerPort: number; protocol?: string }> }
type Party = { readonly kind: 'pod'; readonly id: string; readonly pod: Pod } | { readonly kind: 'address'; readonly id: string; readonly ip: string };

function ipv4(text: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  return m ? m.slice(1).reduce((acc, p) => acc * 256 + Number(p), 0) : undefined;
}

/** IPv4 only: an IPv6 block never holds an IPv4 address. */
function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  const a = ipv4(ip);
  const n = ipv4(net);
  if (a === undefined || n === undefined) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(a / size) === Math.floor(n / size);
}

function selectorMatches(selector: any, labels: Labels): boolean {
  const matchLabels: Record<string, string> = selector?.matchLabels ?? {};
  if (!Object.entries(matchLabels).every(([k, v]) => labels[k] === v)) return false;
  return (selector?.matchExpressions ?? []).every((e: any) => {
    switch (e.operator) {
      case 'In': return e.key in labels && e.values.includes(labels[e.key]);
      case 'NotIn': return !(e.key in labels) || !e.values.includes(labels[e.key]);
      case 'Exists': return e.key in labels;
      case 'DoesNotExist': return !(e.key in labels);
      default: throw new Error(`unknown operator ${e.operator}`);
    }
  });
}

/** Kubernetes' policyTypes when unset: Ingress, plus Egress when egress rules are present. */
const typesOf = (np: any): string[] => np.spec.policyTypes ?? ['Ingress', ...(np.spec.egress ? ['Egress'] : [])];

/**
 * Peers: ipBlock matches addresses only (pod IPs are treated as never inside an ipBlock: the
 * API says ipBlocks are for cluster-external addresses); podSelector alone matches pods of the
 * policy's namespace; namespaceSelector matches namespaces by their `kubernetes.io/metadata.name`
 * label; both together match the selected pods of the selected namespaces.
 */
function peerMatches(peer: any, policyNamespace: string, party: Party): boolean {
  if (peer.ipBlock) {
    return party.kind === 'address' && inCidr(party.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c: string) => inCidr(party.ip, c));
  }
  if (!peer.podSelector && !peer.namespaceSelector) throw new Error(`empty peer ${JSON.stringify(peer)}`);
  if (party.kind !== 'pod') return false;
  const namespaceOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, { 'kubernetes.io/metadata.name': party.pod.namespace })
    : party.pod.namespace === policyNamespace;
  return namespaceOk && (peer.podSelector ? selectorMatches(peer.podSelector, party.pod.labels) : true);
}

/** A port entry: protocol (TCP when unset), a number (with endPort) or a name resolved on the destination pod, or every port. */
function portMatches(spec: any, destination: Party, port: number, protocol: Protocol): boolean {
  if ((spec.protocol ?? 'TCP') !== protocol) return false;
  if (spec.port === undefined) return true;
  if (typeof spec.port === 'number') return spec.endPort !== undefined ? port >= spec.port && port <= spec.endPort : port === spec.port;
  return destination.kind === 'pod' && destination.pod.ports.some((p) => p.name === spec.port && p.containerPort === port && (p.protocol ?? 'TCP') === protocol);
}

/**
 * Whether `subject` may receive from (Ingress) or send to (Egress) `other`: open when no
 * policy of that type selects it; otherwise some rule of a selecting policy must match
 * (rules add up; an absent or empty peer list or port list matches all; no rules deny).
 */
function directionAllows(policies: any[], type: 'Ingress' | 'Egress', subject: Pod, other: Party, destination: Party, port: number, protocol: Protocol): boolean {
  const selecting = selectingPolicies(policies, type, subject);
  if (selecting.length === 0) return true;
  return selecting.some((np) => ((type === 'Ingress' ? np.spec.ingress : np.spec.egress) ?? []).some((rule: any) => {
    const peers = type === 'Ingress' ? rule.from : rule.to;
    const peerOk = !peers || peers.length === 0 || peers.some((p: any) => peerMatches(p, np.metadata.namespace, other));
    const portOk = !rule.ports || rule.ports.length === 0 || rule.ports.some((s: any) => portMatches(s, destination, port, protocol));
    return peerOk && portOk;
  }));
}

/** The policies of `type` that select `subject`; kept per policy list and pod (the matrix asks for the same ones many times). */
const selectingMemo = new WeakMap<any[], Map<string, any[]>>();
function selectingPolicies(policies: any[], type: 'Ingress' | 'Egress', subject: Pod): any[] {
  let memo = selectingMemo.get(policies);
  if (!memo) selectingMemo.set(policies, memo = new Map());
  const key = `${type} ${subject.namespace} ${JSON.stringify(subject.labels)}`;
  let selecting = memo.get(key);
  if (!selecting) {
    selecting = policies.filter((np) => np.metadata.namespace === subject.namespace
      && selectorMatches(np.spec.podSelector, subject.labels) && typesOf(np).includes(type));
    memo.set(key, selecting);
  }
  return selecting;
}

/** A connection is allowed when the source's egress and the destination's ingress both allow it. */
function allowed(policies: any[], from: Party, to: Party, port: number, protocol: Protocol): boolean {
  const egress = from.kind === 'pod' ? directionAllows(policies, 'Egress', from.pod, to, to, port, protocol) : true;
  const ingress = to.kind === 'pod' ? directionAllows(policies, 'Ingress', to.pod, from, to, port, protocol) : true;
  return egress && ingress;
}

/** The pods of every pod template in the output. */
function podsOf(manifests: Manifest[]): Pod[] {
  return manifests.flatMap((m) => {
    const template = m.kind === 'CronJob' ? m.spec.jobTemplate.spec.template
      : ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet'].includes(m.kind) ? m.spec.template : undefined;
    if (!template) return [];
    const containers = [...(template.spec.containers ?? []), ...(template.spec.initContainers ?? [])];
    return [{ id: `${m.kind}/${m.metadata.name}`, namespace: m.metadata.namespace, labels: template.metadata.labels, ports: containers.flatMap((c: any) => c.ports ?? []) }];
  });
}

// ---------------------------------------------------------------- the matrix

interface Matrix { readonly missing: string[]; readonly extra: string[]; readonly expected: number }

/**
 * Every connection between the parties (Pronto's pods, the foreign pods the graph names,
 * strangers, and addresses inside and outside the configured blocks) on every port: what
 * the policies allow against what the graph declares. Only connections with a pod of an
 * owned namespace at one end are compared: nothing of ours governs the others.
 */
function matrix(manifests: Manifest[], graph: ConnectionGraph, config: EnvironmentConfig, blocks: Record<string, Array<{ cidr: string; except?: string[] }>>): Matrix {
  const policies = manifests.filter((m) => m.kind === 'NetworkPolicy');
  const owned = config.namespaces.owned;
  const foreign = new Map<string, Endpoint & { kind: 'foreign' }>();
  for (const f of graph.flows) for (const e of [f.from, f.to]) if (e.kind === 'foreign') foreign.set(endpointKey(e), e);
  const pods: Pod[] = [
    ...podsOf(manifests),
    ...[...foreign.values()].map((e) => ({ id: endpointKey(e), namespace: e.namespace, labels: e.podLabels, ports: [] })),
    { id: 'stranger in kube-system', namespace: 'kube-system', labels: { 'k8s-app': 'not-dns' }, ports: [] },
    { id: 'stranger elsewhere', namespace: 'elsewhere', labels: { app: 'stranger' }, ports: [] },
    { id: 'stranger in the owned namespace', namespace: owned[0], labels: { app: 'debug' }, ports: [] },
  ];
  const addresses = [...new Set([...Object.values(blocks).flat().flatMap((b) => {
    const n = ipv4(b.cidr.split('/')[0])!;
    const last = n + 2 ** (32 - Number(b.cidr.split('/')[1])) - 1;
    return [n, last].map((a) => [24, 16, 8, 0].map((s) => Math.floor(a / 2 ** s) % 256).join('.'))
      .filter((ip) => !(b.except ?? []).some((c) => inCidr(ip, c)));
  }), '192.0.2.1', '10.1.2.3'])];
  const parties: Party[] = [...pods.map((pod): Party => ({ kind: 'pod', id: pod.id, pod })), ...addresses.map((ip): Party => ({ kind: 'address', id: ip, ip }))];
  const ports = [...new Map([...graph.flows.flatMap((f) => f.ports), { port: 1, protocol: 'TCP' as const }, { port: 8080, protocol: 'UDP' as const }]
    .map((p) => [`${p.port}/${p.protocol}`, p])).values()];

  const running = new Set(graph.workloads.map(endpointKey));
  /** The graph ends a party is: its workload (when running), the foreign endpoints selecting it, the external hosts holding its address. */
  const ends = (party: Party): Endpoint[] => {
    if (party.kind === 'address') {
      return Object.entries(blocks).filter(([, bs]) => bs.some((b) => inCidr(party.ip, b.cidr) && !(b.except ?? []).some((c) => inCidr(party.ip, c))))
        .map(([name]): Endpoint => ({ kind: 'external', name }));
    }
    const name = party.pod.labels['app.kubernetes.io/name'];
    const workload = name ? [workloadEndpoint(name, party.pod.namespace)].filter((w) => running.has(endpointKey(w))) : [];
    const foreigners = [...foreign.values()].filter((e) => e.namespace === party.pod.namespace
      && Object.entries(e.podLabels).every(([k, v]) => party.pod.labels[k] === v));
    return [...workload, ...foreigners];
  };
  const ours = (p: Party) => p.kind === 'pod' && owned.includes(p.pod.namespace);
  const endsOf = new Map(parties.map((p) => [p, ends(p)]));
  const result = { missing: [] as string[], extra: [] as string[], expected: 0 };
  for (const from of parties) {
    for (const to of parties) {
      if (from === to || !(ours(from) || ours(to))) continue;
      const fromEnds = endsOf.get(from)!;
      const toEnds = endsOf.get(to)!;
      for (const { port, protocol } of ports) {
        const declared = fromEnds.some((a) => toEnds.some((b) => graph.allows(a, b, port, protocol)));
        const actual = allowed(policies, from, to, port, protocol);
        const line = `${from.id} -> ${to.id} ${protocol} ${port}`;
        if (declared) result.expected++;
        if (declared && !actual) result.missing.push(line);
        if (!declared && actual) result.extra.push(line);
      }
    }
  }
  return result;
}

describe('the NetworkPolicy evaluator of this test (semantics it must get right)', () => {
  const pod = (id: string, namespace: string, labels: Labels): Party => ({ kind: 'pod', id, pod: { id, namespace, labels, ports: [{ name: 'http', containerPort: 8080 }] } });
  const a = pod('a', 'ns', { app: 'a' });
  const b = pod('b', 'ns', { app: 'b' });
  const c = pod('c', 'other', { app: 'c' });
  const np = (spec: any, namespace = 'ns') => ({ kind: 'NetworkPolicy', metadata: { namespace }, spec });

  test('a pod no policy selects is open; selected with no rules it is closed', () => {
    expect(allowed([], a, b, 80, 'TCP')).toBe(true);
    expect(allowed([np({ podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'] })], a, b, 80, 'TCP')).toBe(false);
    // Ingress only: b's egress stays open.
    expect(allowed([np({ podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'] })], b, a, 80, 'TCP')).toBe(true);
  });

  test('implicit policyTypes: Egress only when egress rules are present', () => {
    expect(allowed([np({ podSelector: {}, ingress: [{}] })], a, c, 80, 'TCP')).toBe(true);
    expect(allowed([np({ podSelector: {}, egress: [] })], a, c, 80, 'TCP')).toBe(false);
  });

  test('rules add up across policies; ports carry their protocol and resolve names on the destination', () => {
    const policies = [
      np({ podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }], ports: [{ port: 'http' }] }] }),
      np({ podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] }),
    ];
    expect(allowed(policies, a, b, 8080, 'TCP')).toBe(true);
    expect(allowed(policies, a, b, 8080, 'UDP')).toBe(false);
    expect(allowed(policies, c, b, 8080, 'TCP')).toBe(false);
    expect(allowed(policies, c, b, 53, 'UDP')).toBe(true);
    expect(allowed(policies, c, b, 53, 'TCP')).toBe(false);
  });

  test('podSelector alone means the policy\'s namespace; namespaceSelector matches kubernetes.io/metadata.name; both must hold', () => {
    const from = (peer: any) => [np({ podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'], ingress: [{ from: [peer] }] })];
    expect(allowed(from({ podSelector: { matchLabels: { app: 'c' } } }), c, b, 1, 'TCP')).toBe(false);
    expect(allowed(from({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'other' } } }), c, b, 1, 'TCP')).toBe(true);
    expect(allowed(from({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'other' } }, podSelector: { matchLabels: { app: 'x' } } }), c, b, 1, 'TCP')).toBe(false);
    expect(allowed(from({ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['c'] }] } }), c, b, 1, 'TCP')).toBe(true);
  });

  test('ipBlock matches addresses inside cidr and outside except, never pods', () => {
    const policies = [np({ podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '203.0.113.0/24', except: ['203.0.113.128/25'] } }] }] })];
    const at = (ip: string): Party => ({ kind: 'address', id: ip, ip });
    expect(allowed(policies, a, at('203.0.113.5'), 443, 'TCP')).toBe(true);
    expect(allowed(policies, a, at('203.0.113.200'), 443, 'TCP')).toBe(false);
    expect(allowed(policies, a, at('198.51.100.1'), 443, 'TCP')).toBe(false);
    expect(allowed([np({ podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] })], a, c, 443, 'TCP')).toBe(false);
  });
});

describe('the matrix check catches a wrong policy', () => {
  const config = parseEnvironment(`${VALID_ENV}${SECTION}`, FILE);
  const { charts, manifests } = synthText(`${VALID_ENV}${SECTION}`, FILE);
  const blocks = config.capabilities.networkPolicies!.externalHosts as any;
  const edit = (change: (policies: any[]) => void) => {
    const copy = JSON.parse(JSON.stringify(manifests)) as Manifest[];
    change(copy.filter((m) => m.kind === 'NetworkPolicy' && m.metadata.name !== 'default-deny'));
    return matrix(copy.filter((m) => m.kind !== 'Deleted'), charts.graph, config, blocks);
  };

  test('a rule dropped is missing; a port widened, a peer opened or a policy removed is extra', () => {
    expect(edit((ps) => ps.find((p) => p.spec.egress.length > 0).spec.egress.pop()).missing).not.toEqual([]);
    // Widened toward DNS, whose pods no policy of ours isolates: the egress side alone decides.
    expect(edit((ps) => { ps[0].spec.egress.find((r: any) => r.to[0].namespaceSelector).ports[0].port = undefined; }).extra).not.toEqual([]);
    expect(edit((ps) => ps[0].spec.egress.push({ to: [{ namespaceSelector: {} }] })).extra).not.toEqual([]);
    expect(edit((ps) => ps.forEach((p) => { p.kind = 'Deleted'; })).missing).not.toEqual([]);
    const withoutDeny = matrix(manifests.filter((m) => m.metadata.name !== 'default-deny'), charts.graph, config, blocks);
    // Every Pronto workload has its own policy, so only the stranger in the namespace shows the default deny's work.
    expect(withoutDeny.extra.every((line) => line.includes('stranger in the owned namespace'))).toBe(true);
    expect(withoutDeny.extra).not.toEqual([]);
  });
});

// ---------------------------------------------------------------- the section

describe('the networkPolicies section', () => {
  const load = (text: string) => parseEnvironment(text, FILE);

  test('maps each external host to its blocks; a bare CIDR becomes { cidr }', () => {
    const config = load(`${VALID_ENV}networkPolicies:\n  externalHosts:\n    api.stripe.com: [203.0.113.0/24, { cidr: 198.51.100.0/24, except: [198.51.100.128/25] }]\n`);
    expect(config.capabilities.networkPolicies).toEqual({ externalHosts: {
      'api.stripe.com': [{ cidr: '203.0.113.0/24' }, { cidr: '198.51.100.0/24', except: ['198.51.100.128/25'] }] } });
    expect(load(`${VALID_ENV}networkPolicies: {}\n`).capabilities.networkPolicies).toEqual({ externalHosts: {} });
    expect(load(`${VALID_ENV}networkPolicies:\n  externalHosts:\n    v6.example.com: ['2001:db8::/32']\n`).capabilities.networkPolicies!.externalHosts['v6.example.com'])
      .toEqual([{ cidr: '2001:db8::/32' }]);
  });

  const host = `${VALID_ENV}networkPolicies:\n  externalHosts:\n    api.stripe.com: `;
  test.each([
    ['a prefix too long', `${host}[203.0.113.0/33]\n`, `${FILE}:${sectionLine + 2}: networkPolicies.externalHosts.api.stripe.com.0: expected a prefix length of at most 32 for an IPv4 block, found "203.0.113.0/33"`],
    ['host bits set', `${host}[203.0.113.7/24]\n`, `${FILE}:${sectionLine + 2}: networkPolicies.externalHosts.api.stripe.com.0: expected the network address of the block (host bits zero), such as 203.0.113.0/24, found "203.0.113.7/24"`],
    ['not a CIDR', `${host}[api.stripe.com]\n`, `${FILE}:${sectionLine + 2}: networkPolicies.externalHosts.api.stripe.com.0: expected a CIDR block such as 203.0.113.0/24 or 2001:db8::/32, found "api.stripe.com"`],
    ['an address without a prefix', `${host}[203.0.113.7]\n`, 'expected a CIDR block such as 203.0.113.0/24 or 2001:db8::/32, found "203.0.113.7"'],
    ['an except outside the block', `${host}[{ cidr: 10.0.0.0/8, except: [192.168.0.0/16] }]\n`,
      `${FILE}:${sectionLine + 2}: networkPolicies.externalHosts.api.stripe.com.0.except.0: expected a block strictly inside 10.0.0.0/8, found "192.168.0.0/16"`],
    ['an empty list', `${host}[]\n`, `${FILE}:${sectionLine + 2}: networkPolicies.externalHosts.api.stripe.com: expected at least one CIDR block, found []`],
    ['an unknown key', `${VALID_ENV}networkPolicies:\n  externalHost: {}\n`, `${FILE}:${sectionLine + 1}: networkPolicies: unknown key "externalHost"`],
    ['a host name with capitals', `${VALID_ENV}networkPolicies:\n  externalHosts:\n    API.stripe.com: [203.0.113.0/24]\n`,
      `${FILE}:${sectionLine + 2}: networkPolicies.externalHosts.API.stripe.com: expected a host name as the catalog writes it, such as api.stripe.com, found "API.stripe.com"`],
  ])('fails on %s, with file:line, field, expectation and what was found', (_name, text, message) => {
    expect(problems(() => load(text)).join('\n')).toContain(message);
  });

  test.each(HOSTS.map((h) => [h]))('fails, naming the host and who talks to it, when catalog host %s has no blocks', (missing) => {
    const others = HOSTS.filter((h) => h !== missing);
    const text = `${VALID_ENV}networkPolicies:\n  externalHosts:${others.length === 0 ? ' {}' : ''}\n${others.map((h) => `    ${h}: [${HOST_BLOCKS[h]}]\n`).join('')}`;
    const found = problems(() => renderEnvironment(load(text))).join('\n');
    const callers = Object.entries(CATALOG).filter(([, e]) => (e.externalHosts ?? []).some((h) => h.startsWith(`${missing}:`))).map(([svc]) => svc);
    expect(found).toContain(`${FILE}:${sectionLine + 1}: networkPolicies.externalHosts: expected the CIDR blocks of "${missing}" (a NetworkPolicy cannot name a host; `);
    for (const svc of callers) expect(found).toContain(`workload:pronto/${svc} -> external:${missing}`);
  });
});

// ---------------------------------------------------------------- on, in every environment

describe.each(ENVS)('on, in $name', ({ file, text }) => {
  const config = parseEnvironment(text, file);
  const { charts, manifests } = synthText(text, file);
  const policies = manifests.filter((m) => m.kind === 'NetworkPolicy');
  const ns = config.namespace.name;

  test('its own chart, applied after the namespace: a default deny, then one policy per running workload in graph order', () => {
    const chart = charts.capabilities.find((c) => c.node.id === 'network-policies')!;
    expect(chart.node.dependencies).toContain(charts.namespace);
    expect(chart.toJson().map((m: Manifest) => `${m.kind}/${m.metadata.namespace}/${m.metadata.name}`))
      .toEqual([`NetworkPolicy/${ns}/default-deny`, ...charts.graph.workloads.map((w) => `NetworkPolicy/${ns}/${w.name}`)]);
    expect(renderText(text, file).files.map((f) => f.name)).toEqual(expect.arrayContaining(['network-policies.k8s.yaml']));
  });

  test('every object of every chart passes the whole gate, and the namespace fits its quota', () => {
    expect(runGate(manifests).findings).toEqual([]);
    expect(checkCapacity(manifests, ns)).toEqual([]);
    expect(renderText(text, file).findings).toEqual([]);
  });

  test('each service accepts its callers on its port, and reaches its callees, data stores, hosts and DNS (those that run)', () => {
    const running = new Set(charts.graph.workloads.map((w) => w.name));
    const names = (rules: any[], dir: 'from' | 'to') => rules.flatMap((r) => r[dir]).map((p: any) => p.podSelector?.matchLabels?.['app.kubernetes.io/name']).filter(Boolean).sort();
    /** The pods a peer of the graph selects by name: a running workload, or a foreign endpoint's pods. */
    const podName = (e: Endpoint): string | undefined => (e.kind === 'workload' ? (running.has(e.name) ? e.name : undefined)
      : e.kind === 'foreign' ? e.podLabels['app.kubernetes.io/name'] : undefined);
    /** Besides the catalog's edges: what the enabled capabilities declared (Vault, a collector, Prometheus…). */
    const declared = charts.graph.flows.filter((f) => !['catalog', 'cluster'].includes(f.declaredBy));
    const key = (p: { port: number | string; protocol?: string }) => `${p.protocol ?? 'TCP'}/${p.port}`;
    for (const svc of config.services) {
      const me = (e: Endpoint) => e.kind === 'workload' && e.name === svc.name;
      const spec = policies.find((p) => p.metadata.name === svc.name)!.spec;
      expect(spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/instance': svc.name, 'app.kubernetes.io/name': svc.name } });
      const callers = config.services.filter((s) => s.catalog.calls.includes(svc.name)).map((s) => s.name);
      const routed = svc.catalog.route && running.has(GATEWAY) ? [GATEWAY] : [];
      const declaredIn = declared.filter((f) => me(f.to)).map((f) => podName(f.from)).filter((n): n is string => n !== undefined);
      expect(names(spec.ingress, 'from')).toEqual([...new Set([...callers, ...routed, ...declaredIn])].sort());
      // The catalog's callers (and the gateway) on the service's port; any other peer on the ports its flows name.
      for (const rule of spec.ingress) {
        for (const peer of rule.from.map((p: any) => p.podSelector?.matchLabels?.['app.kubernetes.io/name'])) {
          const ports = [...callers, ...routed].includes(peer) ? [{ protocol: 'TCP', port: svc.catalog.port }]
            : declared.filter((f) => me(f.to) && podName(f.from) === peer).flatMap((f) => f.ports);
          expect([peer, rule.ports.map(key).sort()]).toEqual([peer, [...new Set(ports.map(key))].sort()]);
        }
      }
      const stores = svc.catalog.dataStores.map((d) => DATA_STORES[d].host).filter((h) => running.has(h));
      const declaredOut = declared.filter((f) => me(f.from)).map((f) => podName(f.to)).filter((n): n is string => n !== undefined);
      expect(names(spec.egress, 'to')).toEqual([...new Set([...svc.catalog.calls, ...stores, ...declaredOut])].sort());
      const cidrs = spec.egress.flatMap((r: any) => r.to).filter((p: any) => p.ipBlock).map((p: any) => p.ipBlock.cidr).sort();
      const blocks = externalBlocks(config, charts.graph);
      const hosts = [...svc.catalog.externalHosts.map((h) => h.split(':')[0]),
        ...declared.filter((f) => me(f.from) && f.to.kind === 'external').map((f) => f.to.name)];
      expect(cidrs).toEqual([...new Set(hosts)].flatMap((h) => blocks[h].map((b) => b.cidr)).sort());
      expect(spec.egress).toContainEqual({
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': config.cluster.dns.namespace } }, podSelector: { matchLabels: config.cluster.dns.podLabels } }],
        ports: [{ protocol: 'TCP', port: 53 }, { protocol: 'UDP', port: 53 }],
      });
    }
  });

  test('no selector uses the blue-green slot, and no rule names a workload that does not run here', () => {
    // What runs: Pronto's workloads, and the pods of foreign namespaces the graph names.
    const foreign = charts.graph.flows.flatMap((f) => [f.from, f.to]).flatMap((e) => (e.kind === 'foreign' ? [e.podLabels['app.kubernetes.io/name']] : []));
    const running = new Set([...charts.graph.workloads.map((w) => w.name), ...foreign]);
    const selectors = policies.flatMap((p) => [p.spec.podSelector, ...[...p.spec.ingress.flatMap((r: any) => r.from), ...p.spec.egress.flatMap((r: any) => r.to)].map((peer: any) => peer.podSelector)]);
    expect(selectors.filter((s) => s && 'pronto.io/slot' in (s.matchLabels ?? {}))).toEqual([]);
    const named = new Set(selectors.map((s) => s?.matchLabels?.['app.kubernetes.io/name']).filter(Boolean));
    expect([...named].filter((n) => !running.has(n))).toEqual([]);
  });

  test('the flows the policies allow are exactly the graph\'s, for every pair of pods, DNS and the external blocks', () => {
    const m = matrix(manifests, charts.graph, config, externalBlocks(config, charts.graph));
    expect(m.missing).toEqual([]);
    expect(m.extra).toEqual([]);
    expect(m.expected).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------- general: capabilities' workloads and flows, ingress from outside

/**
 * A test capability in the place of the gateway and the monitoring stack: outside clients
 * reach the public services (an external endpoint), Prometheus scrapes every service (a
 * foreign endpoint in), one service sends UDP to an external host, and one flow names a
 * workload that does not run. Declared after networkPolicies, so its charts only see them
 * if they render from the finished graph.
 */
const edge: Capability<Record<string, never>> = {
  id: 'edge',
  flows(graph, _section, config) {
    const ns = config.namespace.name;
    const prometheus = { kind: 'foreign', name: 'prometheus', namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' } } as const;
    for (const svc of config.services) {
      graph.addFlow({ from: prometheus, to: workloadEndpoint(svc.name, ns), ports: [{ port: svc.catalog.port, protocol: 'TCP' }], purpose: 'scrapes', declaredBy: 'edge' });
      if (svc.catalog.route) {
        graph.addFlow({ from: { kind: 'external', name: 'internet' }, to: workloadEndpoint(svc.name, ns), ports: [{ port: svc.catalog.port, protocol: 'TCP' }], purpose: 'serves', declaredBy: 'edge' });
      }
    }
    const first = config.services[0].name;
    graph.addFlow({ from: workloadEndpoint(first, ns), to: { kind: 'external', name: 'ntp.example.org' }, ports: [{ port: 123, protocol: 'UDP' }], purpose: 'syncs time', declaredBy: 'edge' });
    graph.addFlow({ from: workloadEndpoint(first, ns), to: workloadEndpoint('not-running', ns), ports: [{ port: 9999, protocol: 'TCP' }], purpose: 'nothing', declaredBy: 'edge' });
  },
};
const SECTIONS_WITH_EDGE: Readonly<Record<string, SectionSpec>> = { ...FIXTURE_SECTIONS, edge: { description: 'edge (test fixture)', schema: z.strictObject({}) } };
const UNITS_WITH_EDGE = { ...FIXTURE_UNITS, edge } as unknown as CapabilityUnits;

describe('ATTACK: who reaches Loki in the shipped prod (the Loki add-on\'s NetworkPolicies with Pronto\'s)', () => {
  const { file, text } = ENVS.find((e) => e.name === 'prod')!;
  const config = parseEnvironment(text, file);
  const { manifests } = synthText(text, file);
  const lokiApp = manifests.find((m) => m.kind === 'Application' && (m as any).spec.source?.chart === 'loki') as any;
  const values = lokiApp.spec.source.helm.valuesObject;
  const lokiNs = lokiApp.spec.destination.namespace;
  const policies = [...manifests.filter((m) => m.kind === 'NetworkPolicy'), ...values.extraObjects.filter((o: any) => o.kind === 'NetworkPolicy')];
  // Loki's pods as the chart labels them (loki.selectorLabels plus the component), with the ports they listen on.
  const selector = { 'app.kubernetes.io/name': 'loki', 'app.kubernetes.io/instance': 'loki' };
  const at = (id: string, namespace: string, labels: Labels, ports: Pod['ports'] = []): Party => ({ kind: 'pod', id, pod: { id, namespace, labels, ports } });
  const gateway = at('loki gateway', lokiNs, { ...selector, 'app.kubernetes.io/component': 'gateway' }, [{ name: 'http-metrics', containerPort: 8080 }]);
  const single = at('loki single binary', lokiNs, { ...selector, 'app.kubernetes.io/component': 'single-binary' }, [{ name: 'http-metrics', containerPort: 3100 }]);
  const grafana = at('grafana', 'monitoring', { 'app.kubernetes.io/name': 'grafana', 'app.kubernetes.io/instance': 'kube-prometheus-stack' });
  const ours = podsOf(manifests).map((pod): Party => ({ kind: 'pod', id: pod.id, pod }));
  const shippers = new Set(config.services.map((s) => s.name));
  const strangers = [
    at('a pod elsewhere', 'elsewhere', { app: 'stranger' }), at('a pod of monitoring', 'monitoring', { 'app.kubernetes.io/name': 'prometheus' }),
    at('a pod in Loki\'s namespace', lokiNs, { app: 'debug' }), at('a pod of Pronto not in the graph', config.namespace.name, { app: 'debug' }),
  ];

  test('the gateway: only the services\' pods (their shippers), Grafana and Loki\'s own pods; not the data tier, the gateway, the collector, the jobs or any stranger', () => {
    const reach = (p: Party) => allowed(policies, p, gateway, 8080, 'TCP');
    const admitted = ours.filter(reach).map((p) => (p as any).pod.labels['app.kubernetes.io/name']);
    expect([...new Set(admitted)].sort()).toEqual([...shippers].sort());
    expect(ours.filter((p) => !shippers.has((p as any).pod.labels['app.kubernetes.io/name'])).length).toBeGreaterThan(0);
    expect(reach(grafana)).toBe(true);
    expect(reach(single)).toBe(true);
    expect(strangers.filter(reach).map((p) => p.id)).toEqual([]);
  });

  test('Loki itself (the single binary, no login at all): only Loki\'s pods; no pod of Pronto, not Grafana, no stranger bypasses the gateway', () => {
    const reach = (p: Party) => allowed(policies, p, single, 3100, 'TCP');
    expect(reach(gateway)).toBe(true);
    expect([...ours, grafana, ...strangers].filter(reach).map((p) => p.id)).toEqual([]);
  });
});

describe('general: workloads and flows of other capabilities, ingress from outside the cluster', () => {
  const text = `${VALID_ENV}audit:\n  collectorNamespace: audit-system\nedge: {}\n${SECTION}` +
    '    internet: [{ cidr: 0.0.0.0/0, except: [10.0.0.0/8] }]\n    ntp.example.org: [192.0.2.123/32]\n';
  const config = parseEnvironment(text, FILE, CATALOG, SECTIONS_WITH_EDGE);
  const { charts, manifests } = synth(config, UNITS_WITH_EDGE);

  test('a capability\'s own workload gets its policy, and everything passes the gate', () => {
    expect(manifests.some((m) => m.kind === 'NetworkPolicy' && m.metadata.name === 'audit-relay')).toBe(true);
    expect(runGate(manifests).findings).toEqual([]);
  });

  test('ingress from outside comes from the configured blocks; foreign pods by namespace and labels', () => {
    const routed = config.services.filter((s) => s.catalog.route);
    for (const svc of routed) {
      const spec = manifests.find((m) => m.kind === 'NetworkPolicy' && m.metadata.name === svc.name)!.spec;
      expect(spec.ingress).toContainEqual({ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ protocol: 'TCP', port: svc.catalog.port }] });
    }
  });

  test('the flows the policies allow are exactly the graph\'s', () => {
    const m = matrix(manifests, charts.graph, config, config.capabilities.networkPolicies!.externalHosts as any);
    expect(m.missing).toEqual([]);
    expect(m.extra).toEqual([]);
  });
});

describe('a sixth service', () => {
  test('gets its policy and its rules at both ends, from its catalog entry alone', () => {
    const sixth = newServiceName(CATALOG);
    const catalog: Catalog = { ...CATALOG, [sixth]: {
      description: 'test', component: 'api', port: 8081, calls: ['order-service'], dataStores: [], secrets: [] } as any };
    const text = `${validEnv(catalog)}${SECTION}`;
    const config = parseEnvironment(text, FILE, catalog);
    const { charts, manifests } = synth(config);
    expect(manifests.some((m) => m.kind === 'NetworkPolicy' && m.metadata.name === sixth)).toBe(true);
    const m = matrix(manifests, charts.graph, config, config.capabilities.networkPolicies!.externalHosts as any);
    expect(m.missing).toEqual([]);
    expect(m.extra).toEqual([]);
  });
});

// ---------------------------------------------------------------- off

describe('off (absent or false)', () => {
  const WITHOUT = { ...CAPABILITIES, networkPolicies: { id: 'networkPolicies' } } as CapabilityUnits;
  /**
   * The objects as text: JSON, equal for equal objects (key order included) at a fraction of
   * YAML's cost; synth formats its files from exactly these objects.
   */
  const asText = (manifests: Manifest[]) => manifests.map((m) => JSON.stringify(m)).join('---\n');

  test('VALID_ENV: the output is byte-identical to the output without the capability', () => {
    const expected = asText(synth(parseEnvironment(`${VALID_ENV}${SECTION}`, FILE), WITHOUT).manifests);
    expect(asText(synthText(`${VALID_ENV}${SECTION}`, FILE).manifests)).not.toBe(expected);
    expect(asText(synth(parseEnvironment(VALID_ENV, FILE)).manifests)).toBe(expected);
    expect(asText(synth(parseEnvironment(`${VALID_ENV}networkPolicies: false\n`, FILE)).manifests)).toBe(expected);
  });

  test.each(ENVIRONMENTS)('%s: the shipped file without its section, or with `networkPolicies: false`, renders as with the capability removed', (env) => {
    const { file, text } = shipped(env);
    const stripped = stripSection(text, 'networkPolicies');
    expect(stripped).not.toMatch(/^networkPolicies:/m);
    expect(stripped).not.toContain('externalHosts');
    expect(parseEnvironment(stripped, file).capabilities.networkPolicies).toBeFalsy();
    const expected = asText(synth(parseEnvironment(text, file), WITHOUT).manifests);
    // The section does change the output, so the comparisons below can fail.
    expect(asText(synthText(text, file).manifests)).not.toBe(expected);
    expect(asText(synthText(stripped, file).manifests)).toBe(expected);
    expect(asText(synth(parseEnvironment(`${stripped}networkPolicies: false\n`, file)).manifests)).toBe(expected);
    expect(synthText(stripped, file).charts.capabilities.map((c) => c.node.id)).not.toContain('network-policies');
  });
});
