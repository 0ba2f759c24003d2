import { readFileSync } from 'fs';
import * as path from 'path';
import { COLLECTOR } from '../../../charts/capabilities/tracing';
import { PROJECT_RULE, argoNames } from '../../../charts/capabilities/gitops';
import { collectorWaivers } from '../../../lib/tracing';
import {
  ALL_RULES, Manifest, ManifestIndex, PodTemplate, WAIVER_PREFIX, Waiver, formatReport, matches, runGate, selectorMatches,
} from '../../../lib/validation';
import { ENVIRONMENTS, cached, environment, named, synthEnvironment } from '../../helpers';

/** Each environment synthesized once; the tests that change objects change a copy. */
const synthOf = cached((env: string) => synthEnvironment(environment(env)));
const copyOf = (env: string) => structuredClone(synthOf(env));

/** The page that documents the gate: its rules and the waivers in force. */
const VALIDATION_DOC = readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'validation.md'), 'utf8');

/**
 * The waivers an environment may carry: the ones docs/validation.md documents ("Validation gate",
 * "Waivers"): the OpenTelemetry collector's (tracing on), each with the reason it was
 * written with, on its Deployment only; and, with gitops on, appproject-least-privilege on
 * the guardrails project, on the Pronto project when the application folder renders RBAC
 * (the collector's Role and RoleBinding), and on the platform project, with a reason. Nothing
 * else may be waived. In the gate's order: by object, then rule.
 */
function documentedWaivers(env: string): Waiver[] {
  const config = environment(env);
  const ns = config.namespace.name;
  const collector = !config.capabilities.tracing ? [] : Object.entries(collectorWaivers(COLLECTOR))
    .map(([rule, reason]) => ({ rule, object: `Deployment ${ns}/${COLLECTOR}`, reason, waived: 1 }));
  const gitops = config.capabilities.gitops;
  const names = argoNames(config);
  const projects = !gitops ? [] : [names.guardrailsProject, ...(config.capabilities.tracing ? [names.project] : []), names.platformProject]
    .map((name) => ({ rule: PROJECT_RULE, object: `AppProject ${gitops.argocd.namespace}/${name}`, reason: expect.stringMatching(/\S/), waived: expect.any(Number) }));
  return [...collector, ...projects].sort((a, b) => a.object.localeCompare(b.object) || a.rule.localeCompare(b.rule));
}

const byRuleAndObject = (a: Waiver, b: Waiver) => `${a.rule} ${a.object}`.localeCompare(`${b.rule} ${b.object}`);

describe('validation gate', () => {
  test.each(ENVIRONMENTS)('the synthesized %s environment passes with zero findings and only the documented waivers', (env) => {
    const result = runGate(synthOf(env));
    expect(result.findings).toEqual([]);
    expect(result.waivers).toEqual(documentedWaivers(env));
  });

  test('the shipped environments carry the collector\'s waiver, so the comparison above is not vacuous', () => {
    expect(ENVIRONMENTS.some((env) => documentedWaivers(env).length > 0)).toBe(true);
  });

  test('a waiver with a reason silences one rule on one object, and is reported', () => {
    const set = copyOf('prod');
    for (const name of ['order-service', 'payment-gateway']) {
      named(set, 'Deployment', name).spec.template.spec.automountServiceAccountToken = true;
    }
    named(set, 'Deployment', 'order-service').metadata.annotations[`${WAIVER_PREFIX}no-service-account-token`] = 'Vault agent authenticates with the token';
    const result = runGate(set);
    expect(result.findings.map((f) => [f.rule, f.object])).toEqual([['no-service-account-token', 'Deployment pronto/payment-gateway']]);
    // The new waiver, reported beside the shipped ones.
    expect([...result.waivers].sort(byRuleAndObject)).toEqual([...documentedWaivers('prod'), {
      rule: 'no-service-account-token', object: 'Deployment pronto/order-service', reason: 'Vault agent authenticates with the token', waived: 1,
    }].sort(byRuleAndObject));
  });

  test('a waiver does not silence other rules on the same object', () => {
    const set = copyOf('prod');
    const d = named(set, 'Deployment', 'order-service');
    d.metadata.annotations[`${WAIVER_PREFIX}no-service-account-token`] = 'Vault agent';
    d.spec.template.spec.hostNetwork = true;
    expect(runGate(set).findings.map((f) => f.rule)).toEqual(['no-host-namespaces']);
  });

  test('a waiver naming no rule is a finding, and waives nothing', () => {
    const set = copyOf('prod');
    named(set, 'Deployment', 'order-service').metadata.annotations[`${WAIVER_PREFIX}everything`] = 'too strict';
    const result = runGate(set);
    expect(result.findings).toEqual([expect.objectContaining({ rule: 'waiver-reason', message: 'names no rule ("everything")' })]);
    // Only the shipped waivers: none for order-service.
    expect(result.waivers).toEqual(documentedWaivers('prod'));
  });

  test('the report groups findings by rule, with what the rule requires and the fix', () => {
    const set = copyOf('prod');
    for (const name of ['order-service', 'payment-gateway']) named(set, 'Deployment', name).spec.template.spec.hostPID = true;
    named(set, 'Service', 'order-service').spec.type = 'NodePort';
    const report = formatReport(runGate(set).findings);
    expect(report).toBe([
      '[no-host-namespaces] Pods share no host namespace (network, PID, IPC). (2)',
      '  Deployment pronto/order-service: spec.template.spec.hostPID: expected false, found true',
      '  Deployment pronto/payment-gateway: spec.template.spec.hostPID: expected false, found true',
      '  fix: Remove hostNetwork, hostPID and hostIPC.',
      '[no-node-port] No Service is of type NodePort. (1)',
      '  Service pronto/order-service: spec.type: NodePort opens a port on every node',
      '  fix: Use ClusterIP and route outside traffic through the gateway.',
    ].join('\n'));
  });
});

/**
 * A synthetic namespace of `services` services, each a ServiceAccount, Deployment (autoscaled),
 * PodDisruptionBudget, HorizontalPodAutoscaler, Service and NetworkPolicy, plus the
 * namespace's guardrails and a default-deny policy. Every selector names the shared label
 * part-of first, so a lookup that walked the selector's labels in order, instead of from
 * the shortest posting list, would examine every pod of the namespace.
 */
function syntheticSet(services: number): Manifest[] {
  const ns = 'scale';
  const psa = Object.fromEntries(['enforce', 'audit', 'warn'].map((mode) => [`pod-security.kubernetes.io/${mode}`, 'restricted']));
  const set: Manifest[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: psa, annotations: { 'pronto.io/tier': 'production' } } },
    { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'quota', namespace: ns }, spec: { hard: { pods: '10000' } } },
    { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'limits', namespace: ns }, spec: { limits: [{ type: 'Container', max: { cpu: '4', memory: '4Gi' } }] } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny', namespace: ns }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
  ];
  for (let i = 0; i < services; i++) {
    const name = `svc-${i}`;
    // Each workload its own ids (distinct-run-as-ids).
    const ids = { runAsNonRoot: true, runAsUser: 20000 + i, runAsGroup: 20000 + i };
    const selector = { 'app.kubernetes.io/part-of': 'pronto', 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': name };
    const metadata = { name, namespace: ns, labels: selector };
    set.push(
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata, automountServiceAccountToken: false },
      {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata,
        spec: {
          selector: { matchLabels: selector },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
          template: {
            metadata: { labels: selector },
            spec: {
              serviceAccountName: name, automountServiceAccountToken: false,
              securityContext: { ...ids, fsGroup: 20000 + i, seccompProfile: { type: 'RuntimeDefault' } },
              topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } }],
              containers: [{
                name: 'app', image: 'registry.example.com/pronto/app:1.0.0', ports: [{ name: 'http', containerPort: 8080 }],
                resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
                readinessProbe: { httpGet: { path: '/health/ready', port: 'http' } },
                livenessProbe: { httpGet: { path: '/health/live', port: 'http' } },
                securityContext: { ...ids, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              }],
            },
          },
        },
      },
      {
        apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata,
        spec: { maxUnavailable: 1, selector: { matchLabels: selector }, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
      },
      {
        apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata,
        spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name }, minReplicas: 2, maxReplicas: 4 },
      },
      { apiVersion: 'v1', kind: 'Service', metadata, spec: { selector, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
      {
        apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata,
        spec: {
          podSelector: { matchLabels: selector }, policyTypes: ['Ingress', 'Egress'],
          ingress: [{ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'pronto' } } }] }], egress: [{}],
        },
      },
    );
  }
  return set;
}

/** The index as it was before: every selector lookup scans every pod template (quadratic over a document set). */
class ScanningIndex extends ManifestIndex {
  public override podsSelectedBy(namespace: string | undefined, selector: Record<string, string> = {}): PodTemplate[] {
    return this.scanAll((p) => p.owner.metadata?.namespace === namespace && matches(selector, p.labels));
  }

  public override selectPods(namespace: string | undefined, selector: Record<string, any> | undefined): PodTemplate[] {
    return this.scanAll((p) => p.owner.metadata?.namespace === namespace && selectorMatches(selector, p.labels));
  }

  private scanAll(test: (p: PodTemplate) => boolean): PodTemplate[] {
    this.stats.selections++;
    this.stats.podsExamined += this.pods.length;
    return this.pods.filter(test);
  }
}

describe('the gate scales linearly with the document set', () => {
  const N = 10;
  /** Pod templates the selector lookups of one whole gate run examined, at N and 8N services. */
  function examined(makeIndex: (set: Manifest[]) => ManifestIndex): [number, number] {
    return [N, 8 * N].map((services) => {
      const index = makeIndex(syntheticSet(services));
      expect(runGate(index).findings).toEqual([]);
      expect(index.stats.selections).toBeGreaterThanOrEqual(5 * services);
      return index.stats.podsExamined;
    }) as [number, number];
  }
  const linear = ([small, large]: [number, number]) => small > 0 && large <= 8 * small + 16;

  test('8 times the services examine at most 8 times the pod templates (plus a constant)', () => {
    const counts = examined((set) => new ManifestIndex(set));
    expect({ counts, linear: linear(counts) }).toEqual({ counts, linear: true });
  });

  test('the bound is tight enough to catch an index that scans every pod for every selector', () => {
    const counts = examined((set) => new ScanningIndex(set));
    expect({ counts, linear: linear(counts) }).toEqual({ counts, linear: false });
  });
});

describe('docs/validation.md', () => {
  test('lists every rule of the gate with what it requires', () => {
    for (const rule of ALL_RULES) expect(VALIDATION_DOC).toContain(`| \`${rule.id}\` | ${rule.requires} |`);
  });

  test('its "Waivers" paragraph counts and names the waivers of the shipped environments', () => {
    const paragraph = VALIDATION_DOC.split('\n\n').find((p) => p.startsWith('**Waivers.**'))!;
    // The same in every shipped environment, objects named with <env> for the environment's name.
    const perEnvironment = ENVIRONMENTS.map((env) => documentedWaivers(env).map((w) => `${w.rule} ${w.object.replace(`pronto-${env}`, 'pronto-<env>')}`));
    for (const list of perEnvironment) expect(list).toEqual(perEnvironment[0]);
    const count = ['none', 'one', 'two', 'three', 'four', 'five'][perEnvironment[0].length];
    expect(paragraph.replace(/\s+/g, ' ')).toMatch(perEnvironment[0].length === 0 ? /Today there is none/ : new RegExp(`Today there (is|are) ${count} in each shipped environment:`));
    for (const w of perEnvironment[0]) {
      const [rule, , object] = w.split(' ');
      expect(paragraph).toContain(`\`${rule}\``);
      if (object.startsWith('argocd/')) expect(paragraph).toContain(`\`${object.slice('argocd/'.length)}\``);
    }
  });
});
