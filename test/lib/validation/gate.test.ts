import { readFileSync } from 'fs';
import * as path from 'path';
import { ALL_RULES, WAIVER_PREFIX, formatReport, runGate } from '../../../lib/validation';
import { ENVIRONMENTS, environment, named, synthEnvironment } from '../../helpers';

describe('validation gate', () => {
  test.each(ENVIRONMENTS)('the synthesized %s environment passes with zero findings and zero waivers', (env) => {
    const result = runGate(synthEnvironment(environment(env)));
    expect(result.findings).toEqual([]);
    expect(result.waivers).toEqual([]);
  });

  test('a waiver with a reason silences one rule on one object, and is reported', () => {
    const set = synthEnvironment(environment('prod'));
    for (const name of ['order-service', 'payment-gateway']) {
      named(set, 'Deployment', name).spec.template.spec.automountServiceAccountToken = true;
    }
    named(set, 'Deployment', 'order-service').metadata.annotations[`${WAIVER_PREFIX}no-service-account-token`] = 'Vault agent authenticates with the token';
    const result = runGate(set);
    expect(result.findings.map((f) => [f.rule, f.object])).toEqual([['no-service-account-token', 'Deployment pronto/payment-gateway']]);
    expect(result.waivers).toEqual([{
      rule: 'no-service-account-token', object: 'Deployment pronto/order-service', reason: 'Vault agent authenticates with the token', waived: 1,
    }]);
  });

  test('a waiver does not silence other rules on the same object', () => {
    const set = synthEnvironment(environment('prod'));
    const d = named(set, 'Deployment', 'order-service');
    d.metadata.annotations[`${WAIVER_PREFIX}no-service-account-token`] = 'Vault agent';
    d.spec.template.spec.hostNetwork = true;
    expect(runGate(set).findings.map((f) => f.rule)).toEqual(['no-host-namespaces']);
  });

  test('a waiver naming no rule is a finding, and waives nothing', () => {
    const set = synthEnvironment(environment('prod'));
    named(set, 'Deployment', 'order-service').metadata.annotations[`${WAIVER_PREFIX}everything`] = 'too strict';
    const result = runGate(set);
    expect(result.findings).toEqual([expect.objectContaining({ rule: 'waiver-reason', message: 'names no rule ("everything")' })]);
    expect(result.waivers).toEqual([]);
  });

  test('the report groups findings by rule, with what the rule requires and the fix', () => {
    const set = synthEnvironment(environment('prod'));
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

describe('README', () => {
  test('lists every rule of the gate with what it requires', () => {
    const readme = readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    for (const rule of ALL_RULES) expect(readme).toContain(`| \`${rule.id}\` | ${rule.requires} |`);
  });
});
