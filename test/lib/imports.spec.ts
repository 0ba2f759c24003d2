/**
 * The generated files under imports/ are what their generators produce today from the
 * sources kept in the repository (imports/crds/, imports/kubernetes/), so a CRD update, a
 * rule change or a dependency upgrade cannot leave the validation gate on stale schemas.
 * Regenerate with `npm run import`.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import * as crd from '../../imports/generate/crd-schemas';
import * as k8s from '../../imports/generate/k8s-schema';
import * as validators from '../../imports/generate/validators';
import { CUSTOM_VALIDATORS } from '../../lib/validation/schema-validator';

const ROOT = path.join(__dirname, '..', '..');
const IMPORTS = path.join(ROOT, 'imports');
const read = (file: string) => readFileSync(path.join(IMPORTS, file), 'utf8');

describe('imports/', () => {
  test('k8s-1.28.schema.json matches imports/kubernetes/v1.28.0/_definitions.json and the rule tables', () => {
    expect(path.relative(ROOT, k8s.DEFINITIONS_FILE)).toBe(path.join('imports', 'kubernetes', 'v1.28.0', '_definitions.json'));
    expect(read('k8s-1.28.schema.json')).toBe(k8s.generate());
  });

  test('crd-schemas.json matches the CRDs in imports/crds', () => {
    expect(path.relative(ROOT, crd.CRD_DIR)).toBe(path.join('imports', 'crds'));
    expect(read('crd-schemas.json')).toBe(crd.generate(crd.crdFiles()));
  });

  test('the precompiled validators match the schemas', () => {
    expect(read('k8s-1.28.validators.js')).toBe(validators.generateCore('common'));
    expect(read('k8s-1.28.other.validators.js')).toBe(validators.generateCore('other'));
    for (const group of validators.customGroups()) expect(read(validators.customModule(group))).toBe(validators.generateCustom(group));
  });

  test('the gate loads the custom resources\' validators by API group: one module per group of imports/crds, each loaded only when needed', () => {
    expect(Object.keys(CUSTOM_VALIDATORS).sort()).toEqual(validators.customGroups());
    expect(readdirSync(IMPORTS).filter((f) => /^crd\..*\.validators\.js$/.test(f)).sort()).toEqual(validators.customGroups().map(validators.customModule));
    for (const group of validators.customGroups()) {
      const keys = Object.keys(CUSTOM_VALIDATORS[group]()).sort();
      expect(keys).toEqual(Object.keys(JSON.parse(read('crd-schemas.json')).resources).filter((k) => k.startsWith(`${group}/`)).sort());
    }
  });

  test('the CRD bindings imports/<group>.ts are what a plain `cdk8s import` writes', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'pronto-import-'));
    try {
      const cli = path.join(ROOT, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s');
      const run = spawnSync(process.execPath, [cli, 'import', '--output', out, '--no-save', '--no-check-upgrade'], { cwd: ROOT, encoding: 'utf8' });
      expect(run.status).toBe(0);
      const generated = readdirSync(out).filter((f) => f.endsWith('.ts')).sort();
      expect(generated).toEqual(readdirSync(IMPORTS).filter((f) => f.endsWith('.ts')).sort());
      for (const file of generated) expect([file, read(file)]).toEqual([file, readFileSync(path.join(out, file), 'utf8')]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('cdk8s.yaml imports exactly the CRD files of imports/crds (and not k8s)', () => {
    const config = parse(readFileSync(path.join(ROOT, 'cdk8s.yaml'), 'utf8'));
    const listed = (config.imports as string[]).map((spec) => path.normalize(spec)).sort();
    const files = readdirSync(crd.CRD_DIR).filter((f) => f.endsWith('.yaml')).map((f) => path.join('imports', 'crds', f)).sort();
    expect(listed).toEqual(files);
    expect(crd.crdFiles().map((f) => path.relative(ROOT, f))).toEqual(files);
  });

  test('every kind we synthesize has a validator, and only top-level objects do', () => {
    const resources = Object.keys(JSON.parse(read('k8s-1.28.schema.json')).resources);
    expect(resources).toEqual(expect.arrayContaining([
      'v1/Namespace', 'v1/ResourceQuota', 'v1/LimitRange', 'v1/ServiceAccount', 'v1/Service', 'v1/ConfigMap', 'v1/Secret',
      'v1/PersistentVolumeClaim', 'v1/Pod', 'apps/v1/Deployment', 'apps/v1/StatefulSet', 'apps/v1/DaemonSet', 'batch/v1/Job',
      'batch/v1/CronJob', 'policy/v1/PodDisruptionBudget', 'autoscaling/v2/HorizontalPodAutoscaler',
      'networking.k8s.io/v1/NetworkPolicy', 'networking.k8s.io/v1/Ingress', 'rbac.authorization.k8s.io/v1/Role',
      'rbac.authorization.k8s.io/v1/RoleBinding',
    ]));
    expect(resources.filter((key) => /List$|\/(Status|DeleteOptions|WatchEvent|APIGroup|APIVersions)$/.test(key))).toEqual([]);
  });

  test('each entry of the enum and range tables names its field once', () => {
    // (generate() fails on an entry naming a missing or ill-typed field.)
    for (const table of [k8s.ENUMS, k8s.RANGES]) {
      const keys = table.map((rule) => `${rule.definition}.${rule.property}`);
      expect(keys.filter((key, i) => keys.indexOf(key) !== i)).toEqual([]);
    }
  });
});
