/**
 * Adding a service as CONTRIBUTING.md's "Add a service" says breaks no test. The repository's
 * config/catalog.ts and environment files are copied, and the copies get a sixth service the
 * way a user adds one (an entry in the catalog, a block under `services:` in every
 * environment file). The copied catalog is loaded as the app loads it, and every fixture
 * module is built from it: its valid environments must load and pass synth's checks (quota
 * and gate), and its bad ones must still fail with the messages they promise (lines, demands
 * and service lists follow the catalog).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { buildApp } from '../../charts/build-app';
import { renderEnvironment } from '../../charts/synthesize';
import { CATALOG } from '../../config/catalog';
import { ConfigError, EnvironmentConfig, listEnvironments, loadEnvironment, parseEnvironment } from '../../config/load';
import { PromotionError, promote } from '../../config/promote';
import { Catalog } from '../../config/schema';
import { Manifest } from '../../lib/core';
import { runGate } from '../../lib/validation';
import { backupsEnv, restoreTestFromSynth } from '../lib/backups/fixture';
import { unitTestEnv, withMetrics } from '../lib/metrics/fixture';
import { writeLightConfig } from '../main/harness';
import { CATALOG_FILE, loadCatalogText, newServiceName, withCatalogEntry, withServiceBlock } from '../fixtures/added-service';
import { FIXTURE_SECTIONS, FIXTURE_UNITS } from '../fixtures/capabilities';
import { NEW_SERVICE_BLOCK, badCases, lightConfig, validEnv } from '../fixtures/environments';
import { FOLDER, InputCase, inputCases } from '../fixtures/inputs';
import { CONFIG_DIR, chartsObjects } from '../helpers';

const SIXTH = newServiceName(CATALOG);
/** The entry a user writes, as CONTRIBUTING.md lists its fields: internal, calls a service, uses PostgreSQL. */
const ENTRY = `  '${SIXTH}': {
    description: 'Loyalty points: earns and redeems points per order',
    component: 'api',
    port: 8080,
    calls: ['order-service'],
    dataStores: ['postgres'],
  },
`;
const FILE = 'config/test.yaml';

let work: string;
/** The copied config/ folder, with the sixth service in its catalog and environment files. */
let configDir: string;
let catalog: Catalog;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'pronto-added-service-'));
  configDir = path.join(work, 'config');
  mkdirSync(configDir);
  for (const file of readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.yaml'))) {
    writeFileSync(path.join(configDir, file), withServiceBlock(readFileSync(path.join(CONFIG_DIR, file), 'utf8'), SIXTH));
  }
  copyFileSync(CATALOG_FILE, path.join(configDir, 'catalog.ts'));
  const edited = withCatalogEntry(readFileSync(path.join(configDir, 'catalog.ts'), 'utf8'), ENTRY);
  writeFileSync(path.join(configDir, 'catalog.ts'), edited);
  catalog = loadCatalogText(work, edited).catalog;
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The problems of a ConfigError (or PromotionError) `run` throws; none when it throws nothing. */
function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    if (err instanceof PromotionError) return [err.message];
    throw err;
  }
  return [];
}

/** What synth checks of one environment: its config, then quota and gate. */
function synthProblems(config: () => EnvironmentConfig): string[] {
  return problemsOf(() => {
    const rendered = renderEnvironment(config());
    if (rendered.findings.length > 0) throw new ConfigError(rendered.report.split('\n'));
  });
}

test('the copied catalog loads with the sixth service after the shipped ones', () => {
  expect(Object.keys(catalog)).toEqual([...Object.keys(CATALOG), SIXTH]);
});

test('every copied environment file loads with it; without its block an environment is refused', () => {
  const envs = listEnvironments(configDir);
  expect(envs.length).toBeGreaterThan(0);
  for (const env of envs) {
    const config = loadEnvironment(configDir, env, catalog);
    expect(config.services.map((s) => s.name)).toEqual(Object.keys(catalog));
  }
  // Without its block an environment is refused: the block is the one edit synth needs.
  const shipped = readFileSync(path.join(CONFIG_DIR, `${envs[0]}.yaml`), 'utf8');
  expect(problemsOf(() => parseEnvironment(shipped, `config/${envs[0]}.yaml`, catalog)).join('\n'))
    .toContain(`services.${SIXTH}: expected an entry for every catalog service`);
});

describe('test/fixtures/environments.ts', () => {
  test('validEnv: a block for every catalog service, within its quota and every gate rule', () => {
    const text = validEnv(catalog);
    expect(text).toContain(`  ${SIXTH}:\n${NEW_SERVICE_BLOCK}`);
    expect(synthProblems(() => parseEnvironment(text, FILE, catalog))).toEqual([]);
    expect(parseEnvironment(text, FILE, catalog).services.map((s) => s.name)).toEqual(Object.keys(catalog));
  });

  test('lightConfig, written as the harness writes it: every environment loads and passes synth\'s checks', () => {
    const dir = writeLightConfig(path.join(work, 'light'), lightConfig(catalog));
    const envs = listEnvironments(dir);
    expect(envs.length).toBeGreaterThan(0);
    for (const env of envs) expect([env, synthProblems(() => loadEnvironment(dir, env, catalog))]).toEqual([env, []]);
  });

  test('badCases: every case still fails with what it promises', () => {
    const cases = badCases(catalog);
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) {
      const message = synthProblems(() => parseEnvironment(c.text, FILE, catalog)).join('\n');
      for (const part of [FILE, ...c.expect]) expect([c.name, message]).toEqual([c.name, expect.stringContaining(part)]);
    }
  });
});

/** Expectations that name a line of an environment file, and the commands that must report them. */
const AT_A_LINE = /^\{config\}\/([a-z][a-z0-9-]*)\.yaml:\d+: /;
const PROMOTE_FILE = /^\{config\}\/([a-z][a-z0-9-]*)\.yaml: /;

/** Writes what `c` sets up below the light config of `catalog` into a new work folder; returns the config folder. */
function setUp(c: InputCase, index: number): string {
  const caseWork = path.join(work, `case-${index}`);
  const config = writeLightConfig(path.join(caseWork, 'config'), lightConfig(catalog));
  for (const [rel, entry] of Object.entries(c.setup ?? {})) {
    const target = path.join(caseWork, rel);
    if (entry === null) rmSync(target, { force: true });
    else if (entry === FOLDER) mkdirSync(target, { recursive: true });
    else {
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, entry);
    }
  }
  return config;
}

describe('test/fixtures/inputs.ts', () => {
  test('every case builds, and every environment file a case names at a line reports what the case says there', () => {
    const cases = inputCases(catalog);
    expect(cases.length).toBeGreaterThan(0);
    let checked = 0;
    cases.forEach((c, index) => {
      // Only files built from the catalog's environment: the others (empty, a list, an alias bomb) do not depend on it.
      const built = Object.values(c.setup ?? {}).some((e) => (typeof e === 'string' || e instanceof Uint8Array) && Buffer.from(e).includes('services:'));
      const pattern = c.command === 'synth' ? AT_A_LINE : PROMOTE_FILE;
      const named = c.expect.filter((e) => pattern.test(e));
      if (!built || named.length === 0) return;
      const config = setUp(c, index);
      for (const expected of named) {
        const env = pattern.exec(expected)![1];
        const file = path.join(config, `${env}.yaml`);
        const problems = c.command === 'synth'
          ? synthProblems(() => loadEnvironment(config, env, catalog))
          : problemsOf(() => promote(readFileSync(file, 'utf8'), file, c.argv[0]));
        expect([c.name, problems.join('\n')]).toEqual([c.name, expect.stringContaining(expected.replace('{config}', config))]);
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(0);
  });
});

describe('test/fixtures/capabilities.ts', () => {
  test('the fixture capability extends every service, the sixth too, and passes the gate', () => {
    const config = parseEnvironment(`${validEnv(catalog)}audit:\n  collectorNamespace: audit-system\n`, FILE, catalog, FIXTURE_SECTIONS);
    const app = Testing.app();
    buildApp(app, config, FIXTURE_UNITS);
    const manifests: Manifest[] = chartsObjects(app.charts);
    expect(runGate(manifests).findings).toEqual([]);
    const sixth = manifests.find((m) => m.kind === 'Deployment' && m.metadata?.name === SIXTH) as any;
    expect(sixth.spec.template.spec.initContainers.map((c: any) => c.name)).toEqual(['audit-shipper']);
  });
});

describe('test/lib/backups/fixture.ts', () => {
  // Its suites build it without the capacity guard (its quota is the light one), as here.
  test('backupsEnv loads and builds within every gate rule, and the restore test is synthesized', () => {
    expect(parseEnvironment(backupsEnv(catalog), FILE, catalog).services.map((s) => s.name)).toEqual(Object.keys(catalog));
    const { script, manifests } = restoreTestFromSynth(catalog);
    expect(script.length).toBeGreaterThan(0);
    expect(runGate(manifests).findings).toEqual([]);
    expect(manifests.some((m) => m.kind === 'Deployment' && m.metadata?.name === SIXTH)).toBe(true);
  });
});

describe('test/lib/metrics/fixture.ts', () => {
  test('unitTestEnv and the copied environments with their metrics section load', () => {
    expect(parseEnvironment(unitTestEnv(catalog), FILE, catalog).services.map((s) => s.name)).toContain(SIXTH);
    for (const env of listEnvironments(configDir)) {
      const config = parseEnvironment(withMetrics(env, undefined, configDir), `config/${env}.yaml`, catalog);
      expect(config.capabilities.metrics).toBeDefined();
      expect(config.services.map((s) => s.name)).toContain(SIXTH);
    }
  });
});
