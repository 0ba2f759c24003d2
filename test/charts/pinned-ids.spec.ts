/**
 * Ids derived from names can collide (hundreds of services hashed into the derived range);
 * the gate refuses a shared id, and the catalog's `runAs` pins the service's ids (and its
 * Vault agent's) in a range no derived id uses. The colliding name is found by search, so the
 * test holds whatever the catalog holds.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { buildApp } from '../../charts/build-app';
import { CATALOG } from '../../config/catalog';
import { ConfigError, parseEnvironment } from '../../config/load';
import { Catalog, CatalogEntry } from '../../config/schema';
import { Manifest, PINNED_RUN_AS_ID_RANGE, workloadRunAsId } from '../../lib/core';
import { runGate } from '../../lib/validation';
import { withServiceBlock } from '../fixtures/added-service';
import { CONFIG_DIR, chartsObjects, podTemplates } from '../helpers';

const VICTIM = Object.keys(CATALOG)[0];

/** A service name (not in the catalog) whose derived id is `VICTIM`'s. */
function collidingName(): string {
  for (let n = 0; ; n++) {
    const name = `collides-${n}`;
    if (workloadRunAsId(name) === workloadRunAsId(VICTIM) && !(name in CATALOG)) return name;
  }
}
const NAME = collidingName();

function synth(runAs?: CatalogEntry['runAs']): Manifest[] {
  const entry: CatalogEntry = { ...CATALOG[VICTIM], description: 'Collides with another service\'s derived id', calls: [], secrets: [], ...(runAs ? { runAs } : {}) };
  delete (entry as { route?: unknown }).route;
  const catalog: Catalog = { ...CATALOG, [NAME]: entry };
  const text = withServiceBlock(readFileSync(path.join(CONFIG_DIR, 'prod.yaml'), 'utf8'), NAME);
  const app = Testing.app();
  buildApp(app, parseEnvironment(text, 'config/prod.yaml', catalog));
  return chartsObjects(app.charts);
}

const sharedIds = (manifests: Manifest[]) => runGate(manifests).findings.filter((f) => f.rule === 'distinct-run-as-ids');
const templatesOf = (manifests: Manifest[]) => podTemplates(manifests).filter((t) => t.template.metadata.labels['app.kubernetes.io/name'] === NAME);

test('a service whose derived id is another\'s is refused by the gate, naming both', () => {
  const findings = sharedIds(synth());
  expect(findings.length).toBeGreaterThan(0);
  expect(findings[0].message).toContain(`is also workload ${VICTIM}'s`);
});

test('pinned in the catalog, the service and its Vault agent run under the pinned ids, and the gate passes', () => {
  const user = PINNED_RUN_AS_ID_RANGE.first + 4242;
  const agentUser = user + 1;
  const manifests = synth({ user, agentUser });
  expect(sharedIds(manifests)).toEqual([]);
  const templates = templatesOf(manifests);
  expect(templates.length).toBeGreaterThan(0);
  for (const { template } of templates) {
    expect(template.spec.securityContext).toMatchObject({ runAsUser: user, runAsGroup: user, fsGroup: user });
    // prod injects the Vault agent into every service pod.
    const annotations = template.metadata.annotations;
    expect([annotations['vault.hashicorp.com/agent-run-as-user'], annotations['vault.hashicorp.com/agent-run-as-group']]).toEqual([String(agentUser), String(user)]);
  }
});

test.each([
  ['a derived-range id', { user: workloadRunAsId(VICTIM) }, 'user'],
  ['an id below the pinned range', { agentUser: PINNED_RUN_AS_ID_RANGE.first - 1 }, 'agentUser'],
])('a pin outside the pinned range (%s) is refused, naming the field and the range', (_what, runAs, field) => {
  let error: unknown;
  try {
    synth(runAs);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const last = PINNED_RUN_AS_ID_RANGE.first + PINNED_RUN_AS_ID_RANGE.size - 1;
  expect((error as ConfigError).problems.join('\n')).toContain(`${NAME}.runAs.${field}: expected an id from ${PINNED_RUN_AS_ID_RANGE.first} to ${last}`);
});
