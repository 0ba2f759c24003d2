import { Testing } from 'cdk8s';
import { stringify } from 'yaml';
import { ConnectionGraph, Endpoint, FlowPort, ForeignEndpoint, LABEL_SLOT, UpstreamImage, selectorLabels, workloadEndpoint } from '../../../lib/core';
import {
  ConnectionGraphPolicies, DefaultDenyPolicy, NEVER_VIA_BROAD_EGRESS, WorkloadNetworkPolicy, policyRulesFromGraph, unresolvedExternalHosts,
  withoutSensitiveRanges,
} from '../../../lib/network';
import { cidrWithin, parseCidrBlock } from '../../../lib/core';
import { ENVIRONMENTS, environment, ofKind, synthEnvironment } from '../../helpers';
import { Workload } from '../../../lib/workload';
import { gateFindingsInNamespace, named } from '../../helpers';

const NS = 'pronto';
const api = workloadEndpoint('api', NS);
const web = workloadEndpoint('web', NS);
const absent = workloadEndpoint('absent', NS);
const dns: ForeignEndpoint = { kind: 'foreign', name: 'kube-dns', namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } };
const prometheus: ForeignEndpoint = { kind: 'foreign', name: 'prometheus', namespace: 'monitoring', podLabels: { app: 'prometheus' } };
const stripe: Endpoint = { kind: 'external', name: 'api.stripe.com' };
const internet: Endpoint = { kind: 'external', name: 'internet' };
const BLOCKS = { 'api.stripe.com': [{ cidr: '203.0.113.0/24' }], 'internet': [{ cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] }] };
const tcp = (port: number): FlowPort[] => [{ port, protocol: 'TCP' }];

/** web calls api; api calls Stripe and an absent workload; Prometheus scrapes both; the internet reaches web; both resolve names. */
function graph(): ConnectionGraph {
  const g = new ConnectionGraph();
  g.addWorkload(web);
  g.addWorkload(api);
  const flow = (from: Endpoint, to: Endpoint, ports: FlowPort[], purpose: string) => g.addFlow({ from, to, ports, purpose, declaredBy: 'test' });
  flow(web, api, tcp(8080), 'calls api');
  flow(api, stripe, tcp(443), 'calls Stripe');
  flow(api, absent, tcp(6379), 'uses a store that does not run here');
  flow(absent, api, tcp(8080), 'would call api');
  flow(prometheus, api, [...tcp(9090), ...tcp(8080)], 'scrapes');
  flow(prometheus, web, tcp(9090), 'scrapes');
  flow(internet, web, tcp(8443), 'serves the public');
  for (const w of [web, api]) flow(w, dns, [{ port: 53, protocol: 'UDP' }, ...tcp(53)], 'resolves names');
  return g;
}

describe('policyRulesFromGraph', () => {
  const rules = policyRulesFromGraph(graph(), BLOCKS);
  const of = (name: string) => rules.find((r) => r.workload.name === name)!;

  test('one entry per running workload, in graph order', () => {
    expect(rules.map((r) => r.workload.name)).toEqual(graph().workloads.map((w) => w.name));
  });

  test('one rule per peer, sorted by peer, each on exactly its ports (numeric, TCP before UDP)', () => {
    expect(of('api').ingress.map((r) => [r.peerKey, r.ports.map((p) => `${p.port}/${p.protocol}`)])).toEqual([
      ['foreign:monitoring/prometheus', ['8080/TCP', '9090/TCP']],
      ['workload:pronto/web', ['8080/TCP']],
    ]);
    expect(of('api').egress.map((r) => [r.peerKey, r.ports.map((p) => `${p.port}/${p.protocol}`)])).toEqual([
      ['external:api.stripe.com', ['443/TCP']],
      ['foreign:kube-system/kube-dns', ['53/TCP', '53/UDP']],
    ]);
  });

  test('leaves out peers that do not run here, renders foreign pods by namespace and external hosts by their blocks', () => {
    const all = rules.flatMap((r) => [...r.ingress, ...r.egress]);
    expect(all.some((r) => r.peerKey.includes('absent'))).toBe(false);
    expect(of('web').ingress.map((r) => r.peer)).toEqual([
      { kind: 'ipBlocks', blocks: BLOCKS.internet },
      { kind: 'pods', namespace: 'monitoring', podLabels: { app: 'prometheus' } },
    ]);
    expect(of('web').egress.find((r) => r.peerKey === 'workload:pronto/api')!.peer).toEqual({ kind: 'pods', podLabels: selectorLabels('api') });
  });

  test('a workload in another namespace is selected with its namespace', () => {
    const g = graph();
    const elsewhere = workloadEndpoint('batch', 'jobs');
    g.addWorkload(elsewhere);
    g.addFlow({ from: elsewhere, to: api, ports: tcp(8080), purpose: 'reads', declaredBy: 'test' });
    const peer = policyRulesFromGraph(g, BLOCKS).find((r) => r.workload.name === 'api')!.ingress.find((r) => r.peerKey === 'workload:jobs/batch')!.peer;
    expect(peer).toEqual({ kind: 'pods', namespace: 'jobs', podLabels: selectorLabels('batch') });
  });

  test('names every external host a running workload talks to without blocks, with the flows behind it', () => {
    expect(unresolvedExternalHosts(graph(), {})).toEqual([
      { host: 'api.stripe.com', flows: ['workload:pronto/api -> external:api.stripe.com TCP 443 (calls Stripe, from test)'] },
      { host: 'internet', flows: ['external:internet -> workload:pronto/web TCP 8443 (serves the public, from test)'] },
    ]);
    expect(() => policyRulesFromGraph(graph(), { internet: BLOCKS.internet })).toThrow('no address blocks for the external host(s) api.stripe.com');
  });

  test('an external host only a workload that does not run talks to needs no blocks', () => {
    const g = new ConnectionGraph();
    g.addWorkload(web);
    g.addFlow({ from: absent, to: stripe, ports: tcp(443), purpose: 'x', declaredBy: 'test' });
    expect(unresolvedExternalHosts(g, {})).toEqual([]);
  });
});

describe('broad egress never reaches the instance metadata or shared address space', () => {
  test.each([
    ['any public address', { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] }, ['10.0.0.0/8', '169.254.0.0/16', '100.64.0.0/10']],
    ['any IPv6 address', { cidr: '::/0' }, ['fe80::/10', 'fd00:ec2::/32']],
    ['a block that already leaves link-local out', { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] }, ['169.254.0.0/16', '100.64.0.0/10']],
    ['a node-local DNS cache named exactly (an explicit choice)', { cidr: '169.254.20.10/32' }, undefined],
    ['a private block that holds neither', { cidr: '10.0.0.0/8' }, undefined],
  ])('%s', (_what, block, except) => {
    expect(withoutSensitiveRanges(block).except).toEqual(except);
  });

  test('in every shipped environment, no egress ipBlock reaches 169.254.169.254 or 100.64.0.0/10 through a broader block', () => {
    for (const env of ENVIRONMENTS) {
      const config = environment(env);
      if (!config.capabilities.networkPolicies) continue;
      const egress = ofKind(synthEnvironment(config), 'NetworkPolicy').flatMap((p) => (p.spec.egress ?? []).flatMap((r: any) => r.to ?? []))
        .filter((peer: any) => peer.ipBlock).map((peer: any) => peer.ipBlock);
      for (const block of egress) {
        const outer = parseCidrBlock(block.cidr);
        if (typeof outer === 'string') throw new Error(outer);
        for (const text of NEVER_VIA_BROAD_EGRESS) {
          const range = parseCidrBlock(text);
          if (typeof range === 'string' || range.family !== outer.family || !cidrWithin(range, outer) || cidrWithin(outer, range)) continue;
          expect([env, block.cidr, text, (block.except ?? []).some((e: string) => { const x = parseCidrBlock(e); return typeof x !== 'string' && cidrWithin(range, x); })])
            .toEqual([env, block.cidr, text, true]);
        }
      }
    }
  });
});

describe('DefaultDenyPolicy', () => {
  test('selects every pod for ingress and egress and allows nothing', () => {
    const chart = Testing.chart();
    new DefaultDenyPolicy(chart, 'deny', { namespace: NS });
    const out = Testing.synth(chart);
    expect(named(out, 'NetworkPolicy', 'default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] });
    expect(out.map((m) => stringify(m)).join('---\n')).toMatchSnapshot();
  });
});

describe('WorkloadNetworkPolicy', () => {
  const rules = policyRulesFromGraph(graph(), BLOCKS).find((r) => r.workload.name === 'web')!;

  test('renders pods, namespaced pods and address blocks as peers, with explicit protocols', () => {
    const chart = Testing.chart();
    new WorkloadNetworkPolicy(chart, 'web', { name: 'web', namespace: NS, podSelector: selectorLabels('web'), ingress: rules.ingress, egress: rules.egress });
    const out = Testing.synth(chart);
    const spec = named(out, 'NetworkPolicy', 'web').spec;
    expect(spec.podSelector).toEqual({ matchLabels: selectorLabels('web') });
    expect(spec.ingress[0]).toEqual({ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ protocol: 'TCP', port: 8443 }] });
    expect(spec.ingress[1].from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { app: 'prometheus' } } }]);
    expect(out.map((m) => stringify(m)).join('---\n')).toMatchSnapshot();
  });

  test('writes an empty rule list as []: nothing allowed that way', () => {
    const chart = Testing.chart();
    new WorkloadNetworkPolicy(chart, 'web', { name: 'web', namespace: NS, podSelector: selectorLabels('web'), ingress: [], egress: [] });
    expect(named(Testing.synth(chart), 'NetworkPolicy', 'web').spec).toMatchObject({ ingress: [], egress: [], policyTypes: ['Ingress', 'Egress'] });
  });

  test('fails on an empty pod selector or a selector on the blue-green slot', () => {
    const props = { name: 'web', namespace: NS, podSelector: selectorLabels('web'), ingress: [], egress: [] };
    expect(() => new WorkloadNetworkPolicy(Testing.chart(), 'p', { ...props, podSelector: {} })).toThrow('found an empty selector');
    expect(() => new WorkloadNetworkPolicy(Testing.chart(), 'p', { ...props, podSelector: selectorLabels('web', 'blue') })).toThrow(`selects on ${LABEL_SLOT}`);
    const slotPeer = { peerKey: 'workload:pronto/api', peer: { kind: 'pods' as const, podLabels: selectorLabels('api', 'green') }, ports: tcp(8080) };
    expect(() => new WorkloadNetworkPolicy(Testing.chart(), 'p', { ...props, egress: [slotPeer] })).toThrow(`peer workload:pronto/api selects on ${LABEL_SLOT}`);
  });
});

describe('ConnectionGraphPolicies', () => {
  test('a default deny first, then one policy per running workload in graph order, named after it', () => {
    const chart = Testing.chart();
    new ConnectionGraphPolicies(chart, 'p', { graph: graph(), namespaces: [NS], externalBlocks: BLOCKS });
    const out = Testing.synth(chart);
    expect(out.map((m) => `${m.kind}/${m.metadata.namespace}/${m.metadata.name}`))
      .toEqual(['NetworkPolicy/pronto/default-deny', ...graph().workloads.map((w) => `NetworkPolicy/pronto/${w.name}`)]);
  });

  test('fails on a running workload outside the owned namespaces', () => {
    const g = graph();
    g.addWorkload(workloadEndpoint('batch', 'jobs'));
    expect(() => new ConnectionGraphPolicies(Testing.chart(), 'p', { graph: g, namespaces: [NS], externalBlocks: BLOCKS }))
      .toThrow('workload(s) jobs/batch run outside the owned namespaces (pronto)');
  });

  test('passes the whole gate next to the pods it selects', () => {
    const chart = Testing.chart();
    const image = new UpstreamImage({ repository: 'registry.example.com/test/app', tag: '1.0.0' });
    const resources = { requests: { cpu: '10m', memory: '16Mi', ephemeralStorage: '10Mi' }, limits: { cpu: '50m', memory: '32Mi', ephemeralStorage: '20Mi' } };
    for (const w of [web, api]) {
      new Workload(chart, w.name, {
        name: w.name, component: 'api', scaling: { kind: 'fixed', replicas: 2 },
        containers: [{ name: 'app', image, resources, ports: [{ name: 'http', number: 8080 }],
          probes: { liveness: { tcpSocket: { port: 'http' } }, readiness: { httpGet: { path: '/ready', port: 'http' } } } }],
      });
    }
    new ConnectionGraphPolicies(chart, 'p', { graph: graph(), namespaces: [NS], externalBlocks: BLOCKS });
    expect(gateFindingsInNamespace(Testing.synth(chart))).toEqual([]);
  });
});
