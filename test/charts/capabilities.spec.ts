/**
 * Capabilities plug in as units: a section of the environment file, pod extensions,
 * charts and flows, built only when the section is on. Exercised with the fixture
 * capability of test/fixtures/capabilities.ts, and the real registry's guarantees.
 */
import { Testing } from 'cdk8s';
import { stringify } from 'yaml';
import { buildApp } from '../../charts/build-app';
import { CAPABILITIES, SECTIONS, planned, upstreamImageSchema } from '../../charts/capabilities';
import { CATALOG } from '../../config/catalog';
import { ConfigError, EnvironmentConfig, parseEnvironment } from '../../config/load';
import { runGate } from '../../lib/validation';
import { FIXTURE_SECTIONS, FIXTURE_UNITS } from '../fixtures/capabilities';
import { VALID_ENV } from '../fixtures/environments';
import { chartsObjects } from '../helpers';

const FILE = 'config/test.yaml';
const load = (text: string) => parseEnvironment(text, FILE, CATALOG, FIXTURE_SECTIONS);
const synth = (config: EnvironmentConfig) => {
  const app = Testing.app();
  const charts = buildApp(app, config, FIXTURE_UNITS);
  return { charts, manifests: chartsObjects(app.charts) };
};
const problems = (text: string): string => {
  try {
    load(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join('\n');
    throw err;
  }
  throw new Error('expected a ConfigError');
};
const ON = `${VALID_ENV}audit:\n  collectorNamespace: audit-system\n`;

describe('a capability as a unit', () => {
  const on = synth(load(ON));
  const off = synth(load(VALID_ENV));

  test('its section is typed and defaulted, and names the namespace it refers to as foreign', () => {
    const config = load(ON);
    expect((config.capabilities as any).audit).toEqual({ collectorNamespace: 'audit-system', port: 4318 });
    expect(config.namespaces).toEqual({ owned: ['pronto'], foreign: ['audit-system', 'kube-system'] });
  });

  test('on: every service pod gets its extension, in every slot', () => {
    const pods = on.manifests.filter((m) => m.kind === 'Deployment' && m.metadata.labels['app.kubernetes.io/part-of'] === 'pronto'
      && Object.keys(CATALOG).includes(m.metadata.labels['app.kubernetes.io/name']));
    expect(pods.length).toBeGreaterThanOrEqual(Object.keys(CATALOG).length);
    for (const d of pods) {
      const spec = d.spec.template.spec;
      expect(spec.initContainers.map((c: any) => c.name)).toEqual(['audit-shipper']);
      expect(spec.containers[0].env).toContainEqual({ name: 'AUDIT_SERVICE', value: d.metadata.labels['app.kubernetes.io/name'] });
    }
  });

  test('on: its chart is added after the namespace, its flows are in the graph, and everything passes the gate', () => {
    expect(on.charts.capabilities.map((c) => c.node.id)).toEqual(['audit']);
    expect(on.charts.capabilities[0].node.dependencies).toContain(on.charts.namespace);
    expect(on.manifests.some((m) => m.kind === 'Deployment' && m.metadata.name === 'audit-relay')).toBe(true);
    const audited = on.charts.graph.flows.filter((f) => f.declaredBy === 'audit');
    expect(audited.map((f) => f.from.name).sort()).toEqual([...Object.keys(CATALOG), 'audit-relay'].sort());
    // The relay it runs gets DNS like every other workload.
    expect(on.charts.graph.flows.some((f) => f.from.name === 'audit-relay' && f.to.name === 'kube-dns')).toBe(true);
    expect(runGate(on.manifests).findings).toEqual([]);
  });

  test('off (absent or false): the output is byte-identical to the output without the capability', () => {
    const base = Testing.app();
    buildApp(base, parseEnvironment(VALID_ENV, FILE));
    const expected = chartsObjects(base.charts).map((m) => stringify(m)).join('---\n');
    expect(off.manifests.map((m) => stringify(m)).join('---\n')).toBe(expected);
    const disabled = synth(load(`${VALID_ENV}audit: false\n`));
    expect(disabled.manifests.map((m) => stringify(m)).join('---\n')).toBe(expected);
    expect(off.charts.capabilities).toEqual([]);
  });

  test('fails on a capability whose required capability is off, at the line of its section', () => {
    const message = problems(`${VALID_ENV}auditArchive:\n  bucket: s3://audit\n`);
    expect(message).toContain(`${FILE}:${VALID_ENV.split('\n').length}: auditArchive: expected the "audit" capability to be on too (auditArchive needs audit), found no "audit" section`);
  });

  test('fails on a bad section value with file, line, field and expectation', () => {
    expect(problems(`${VALID_ENV}audit:\n  collectorNamespace: audit-system\n  port: 70000\n`))
      .toContain(`${FILE}:${VALID_ENV.split('\n').length + 2}: audit.port: expected a value ≤ 65535, found 70000`);
    expect(problems(`${VALID_ENV}audit:\n  collectorNamespace: audit-system\n  prot: 1\n`)).toContain('audit: unknown key "prot"');
  });

  test('fails on a foreign namespace that is the one Pronto owns', () => {
    expect(problems(`${VALID_ENV}audit:\n  collectorNamespace: pronto\n`))
      .toContain('namespace.name: expected a namespace other than those Pronto only refers to (kube-system, pronto), found "pronto"');
  });
});

describe('the capability registry', () => {
  test('every section has a unit and every unit a section, in the same order', () => {
    expect(Object.keys(CAPABILITIES)).toEqual(Object.keys(SECTIONS));
    for (const [id, unit] of Object.entries(CAPABILITIES)) expect(unit.id).toBe(id);
  });

  test('every capability that another requires exists', () => {
    for (const spec of Object.values(SECTIONS)) for (const needed of (spec as { requires?: string[] }).requires ?? []) expect(Object.keys(SECTIONS)).toContain(needed);
  });

  // Every real capability is built; a fixture table with one planned capability proves the mechanism.
  const PLANNED_SECTIONS = { ...SECTIONS, someday: planned('a capability not built yet (test fixture)') };
  test.each(Object.entries(PLANNED_SECTIONS).filter(([, s]) => s.schema === undefined).map(([id]) => [id]))(
    'the %s capability is not built yet: switching it on is an error, false is accepted', (id) => {
      expect(() => parseEnvironment(`${VALID_ENV}${id}: false\n`, FILE, CATALOG, PLANNED_SECTIONS)).not.toThrow();
      let message = '';
      try {
        parseEnvironment(`${VALID_ENV}${id}: true\n`, FILE, CATALOG, PLANNED_SECTIONS);
      } catch (err) {
        message = (err as ConfigError).problems.join('\n');
      }
      expect(message).toContain(`${FILE}:${VALID_ENV.split('\n').length}: ${id}: expected false or no "${id}" section`);
      expect(message).toContain('is not built yet');
    });
});

describe('upstreamImageSchema', () => {
  test('accepts a release tag with an optional digest', () => {
    expect(upstreamImageSchema.parse({ repository: 'ghcr.io/cloudnative-pg/pgbouncer', tag: '1.23.1', digest: `sha256:${'c'.repeat(64)}` }).tag).toBe('1.23.1');
  });
  test.each([['latest'], ['16'], [`1.0.0-${'x'.repeat(60)}`]])('fails on tag %s', (tag) => {
    expect(upstreamImageSchema.safeParse({ repository: 'docker.io/library/postgres', tag }).success).toBe(false);
  });
});
