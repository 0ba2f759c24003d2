/**
 * The generated files under imports/ are what their generators produce today, so a
 * dependency upgrade or a CRD change cannot leave the validation gate on stale schemas.
 * Regenerate with `npm run import`.
 */
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import * as crd from '../imports/generate/crd-schemas';
import * as k8s from '../imports/generate/k8s-schema';
import * as validators from '../imports/generate/validators';

const IMPORTS = path.join(__dirname, '..', 'imports');
const read = (file: string) => readFileSync(path.join(IMPORTS, file), 'utf8');
const haveCrds = existsSync(crd.CRD_DIR);

describe('imports/', () => {
  test('k8s-1.28.schema.json matches the cdk8s-plus-28 bindings', () => {
    expect(read('k8s-1.28.schema.json')).toBe(k8s.generate());
  });

  test('the precompiled validators match the schemas', () => {
    expect(read('k8s-1.28.validators.js')).toBe(validators.generateCore());
    expect(read('crd.validators.js')).toBe(validators.generateCustom());
  });

  if (!haveCrds) {
    console.warn(`\n!!! SKIPPED: crd-schemas.json freshness: ${crd.CRD_DIR} is not here (it is in CI) !!!\n`);
  }
  (haveCrds ? test : test.skip)('crd-schemas.json matches the CRDs in ../shared/crds', () => {
    expect(read('crd-schemas.json')).toBe(crd.generate(crd.crdFiles()));
  });
});
