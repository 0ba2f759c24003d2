/**
 * Adding a service is its catalog entry plus a block in each environment file, and
 * nothing else: a sixth service, added to copies of the catalog and the shipped
 * environment files, gets every object a service gets and passes every gate rule,
 * and the other services' objects do not change. It uses PostgreSQL, and PostgreSQL does
 * not restart: its role and database come from the pg-roles job.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { buildApp } from '../../charts/build-app';
import { WrittenOutput, review } from '../../charts/review';
import { CATALOG } from '../../config/catalog';
import { EnvironmentConfig, parseEnvironment } from '../../config/load';
import { Catalog } from '../../config/schema';
import { Manifest, bytes, cpuMillis, workloadEndpoint } from '../../lib/core';
import { ROLES_JOB, ROLES_JOB_FILES } from '../../lib/database';
import { WorkloadPeak, checkCapacity, peakDemand, workloadPeaks } from '../../lib/namespace';
import { runGate } from '../../lib/validation';
import { newServiceName, withServiceBlock } from '../fixtures/added-service';
import { CONFIG_DIR, ENVIRONMENTS, chartsObjects } from '../helpers';

const SIXTH = newServiceName(CATALOG);
const ROUTE = `/${SIXTH}`;
const catalog: Catalog = {
  ...CATALOG,
  [SIXTH]: {
    description: 'Loyalty points: earns and redeems points per order',
    component: 'api',
    port: 8080,
    route: { path: ROUTE },
    calls: ['order-service'],
    dataStores: ['postgres'],
    // Its database credentials are derived from dataStores; it declares no other secret.
    secrets: [],
  },
};

/** The shipped environment file with the sixth service's block appended to `services:`, as CONTRIBUTING.md says. */
function withSixth(env: string): string {
  return withServiceBlock(readFileSync(path.join(CONFIG_DIR, `${env}.yaml`), 'utf8'), SIXTH);
}

/** The quota lines whose value is CPU (millicores); the others are bytes or counts. */
const CPU_LINES = ['requests.cpu', 'cpu', 'limits.cpu'];

/** `manifests` with the ResourceQuota's every line raised by what `peaks` demand on it; the objects themselves are not changed. */
function withQuotaRaised(manifests: Manifest[], peaks: WorkloadPeak[]): Manifest[] {
  return manifests.map((m) => {
    if (m.kind !== 'ResourceQuota') return m;
    const hard = Object.fromEntries(Object.entries(m.spec.hard as Record<string, string>).map(([line, value]) => {
      const cpu = CPU_LINES.includes(line);
      const total = (cpu ? cpuMillis(value) : bytes(String(value))) + peaks.reduce((sum, p) => sum + peakDemand(p, line), 0);
      return [line, cpu ? `${total}m` : String(total)];
    }));
    return { ...m, spec: { ...m.spec, hard } };
  });
}

function synth(config: EnvironmentConfig): { manifests: Manifest[]; graph: ReturnType<typeof buildApp>['graph']; output: WrittenOutput } {
  const app = Testing.app();
  const { graph, files } = buildApp(app, config);
  const manifests = chartsObjects(app.charts);
  // The output as synth writes it (without the capacity guard, which the quota test above runs with the quota raised).
  return { manifests, graph, output: { manifests, vaultFiles: new Map(files.filter((f) => f.path.startsWith('vault/')).map((f) => [f.path, f.text])) } };
}

describe.each(ENVIRONMENTS)('a sixth service in %s', (env) => {
  const before = synth(parseEnvironment(readFileSync(path.join(CONFIG_DIR, `${env}.yaml`), 'utf8'), `config/${env}.yaml`));
  const config = parseEnvironment(withSixth(env), `config/${env}.yaml`, catalog);
  const after = synth(config);
  const mine = (m: Manifest) => m.metadata?.labels?.['app.kubernetes.io/name'] === SIXTH;

  test('gets a ServiceAccount, a Deployment with its PDB, and a Service named after it, like every service', () => {
    const kinds = (name: string) => after.manifests.filter((m) => m.metadata?.labels?.['app.kubernetes.io/name'] === name).map((m) => m.kind).sort();
    const objects = after.manifests.filter(mine);
    expect(kinds(SIXTH)).toEqual(expect.arrayContaining(['Deployment', 'PodDisruptionBudget', 'Service', 'ServiceAccount']));
    expect(objects.find((m) => m.kind === 'Service')!.metadata.name).toBe(SIXTH);
    expect(objects.every((m) => m.metadata.namespace === config.namespace.name)).toBe(true);
  });

  test('passes every rule of the gate, and fits the quota once it is raised by the sixth service\'s own peak', () => {
    expect(runGate(after.manifests).findings).toEqual([]);
    // The guard counts the new service's workloads (with every sidecar the capabilities give it) and nothing else new:
    // the shipped quota raised by exactly that peak holds everything. (Whether the shipped quota has that room already
    // is the environment's business: CONTRIBUTING.md, "Add a service", says to check the quota.)
    const peaks = workloadPeaks(after.manifests.filter(mine));
    expect(peaks.length).toBeGreaterThan(0);
    const raised = withQuotaRaised(after.manifests, peaks);
    expect(checkCapacity(before.manifests, config.namespace.name)).toEqual([]);
    expect(checkCapacity(raised, config.namespace.name)).toEqual([]);
    // What it adds on every line is its own peak, which is not nothing.
    const demand = (manifests: Manifest[], line: string) => workloadPeaks(manifests).reduce((sum, p) => sum + peakDemand(p, line), 0);
    for (const line of ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory', 'pods']) {
      const own = peaks.reduce((sum, p) => sum + peakDemand(p, line), 0);
      expect([line, own > 0]).toEqual([line, true]);
      expect([line, demand(after.manifests, line)]).toEqual([line, demand(before.manifests, line) + own]);
    }
  });

  test('PostgreSQL does not restart: its StatefulSet and ConfigMap are byte-identical, while the pg-roles job and the Vault files take the new service in', () => {
    const r = review(config, before.output, after.output);
    const ns = config.namespace.name;
    const one = (out: WrittenOutput, kind: string, name: string) => JSON.stringify(out.manifests.find((m) => m.kind === kind && m.metadata?.name === name));
    expect(one(before.output, 'StatefulSet', 'postgres')).toBeDefined();
    expect(one(after.output, 'StatefulSet', 'postgres')).toBe(one(before.output, 'StatefulSet', 'postgres'));
    expect(one(after.output, 'ConfigMap', 'postgres')).toBe(one(before.output, 'ConfigMap', 'postgres'));
    expect(r.restarts.map((x) => x.ref)).not.toContain(`StatefulSet.apps/${ns}/postgres`);
    // The only pods that restart are those a new caller or callee changes: no stateful one.
    expect(r.restarts.filter((x) => x.stateful)).toEqual([]);
    expect(r.refusals).toEqual([]);
    // The job's SQL and its Vault files name the new service; the next run creates its role and database.
    const changed = r.changes.changed.map((c) => c.ref);
    expect(changed).toEqual(expect.arrayContaining([`ConfigMap/${ns}/${ROLES_JOB}`, `CronJob.batch/${ns}/${ROLES_JOB}`]));
    const sql = after.output.manifests.find((m) => m.kind === 'ConfigMap' && m.metadata?.name === ROLES_JOB)!.data[ROLES_JOB_FILES.sql];
    expect(sql).toContain(`-- ${SIXTH}\n`);
    const annotations = after.output.manifests.find((m) => m.kind === 'CronJob' && m.metadata?.name === ROLES_JOB)!.spec.jobTemplate.spec.template.metadata.annotations;
    expect(annotations[`vault.hashicorp.com/agent-inject-secret-app-${SIXTH}`]).toMatch(new RegExp(`/${SIXTH}/database$`));
    const rolesPolicy = [...r.vault.changed].find((f) => f.endsWith(`-${ROLES_JOB}.hcl`));
    expect(rolesPolicy).toBeDefined();
    expect(after.output.vaultFiles.get(rolesPolicy!)).toContain(`/${SIXTH}/database"`);
    expect(r.vault.added.some((f) => f.endsWith(`-${SIXTH}.hcl`))).toBe(true);
    expect([...r.vault.changed, ...r.vault.added].some((f) => f.endsWith('-postgres.hcl') || f.endsWith('-postgres.json'))).toBe(false);
  });

  test('its catalog edges are in the connection graph', () => {
    const at = (n: string) => workloadEndpoint(n, config.namespace.name);
    expect(after.graph.allows(at(SIXTH), at('order-service'), CATALOG['order-service'].port)).toBe(true);
    expect(after.graph.allows(at('gateway'), at(SIXTH), 8080)).toBe(true);
  });

  test('leaves every other service\'s objects exactly as they were', () => {
    // A NetworkPolicy of a service it calls gains it as a caller; the gateway gains its route.
    const others = (list: Manifest[]) => list.filter((m) => !mine(m) && m.kind !== 'NetworkPolicy'
      && config.services.some((s) => s.name === m.metadata?.labels?.['app.kubernetes.io/name']));
    expect(others(after.manifests)).toEqual(others(before.manifests));
    expect(others(before.manifests).length).toBeGreaterThan(0);
  });

  test('the capabilities that are on take it in: a network policy of its own, callees that accept it, the gateway\'s route', () => {
    const policy = (name: string) => after.manifests.find((m) => m.kind === 'NetworkPolicy' && m.metadata.name === name);
    if (config.capabilities.networkPolicies) {
      expect(policy(SIXTH)).toBeDefined();
      const from = policy('order-service')!.spec.ingress.flatMap((r: any) => r.from).map((p: any) => p.podSelector?.matchLabels?.['app.kubernetes.io/name']);
      expect(from).toContain(SIXTH);
    }
    if (config.capabilities.gateway) {
      const conf = after.manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'gateway')!.data['nginx.conf'];
      expect(conf).toContain(`location = ${ROUTE}`);
    }
  });
});
