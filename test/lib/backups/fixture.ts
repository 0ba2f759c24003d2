/**
 * Environments with the database and backups capabilities on, for the backups' suites.
 * The database section is the smallest valid one (the database capability's own suites
 * test it); the networkPolicies section of VALID_ENV-based texts is absent.
 */
import { CATALOG } from '../../../config/catalog';
import { EnvironmentConfig, parseEnvironment } from '../../../config/load';
import { Catalog } from '../../../config/schema';
import { BACKUP_SCRIPT_FILES } from '../../../lib/backups';
import { Manifest } from '../../../lib/core';
import { dataTierSections, validEnv } from '../../fixtures/environments';
import { buildEnvironment } from '../../helpers';

export const FILE = 'config/test.yaml';

/** secrets + database: what backups require. */
export const DATABASE_SECTIONS = dataTierSections({ postgres: '    storage: { size: 20Gi }\n' });

/**
 * A backups section as the restore-test suite runs it: the tables in the database
 * `postgres` (a second database would double what every restore copies), the orders floor,
 * the amcheck of the checked database, a Pushgateway.
 */
export const BACKUPS_SECTION = `backups:
  restoreTest:
    database: postgres
    criticalTables:
      - { table: public.orders, minRows: 2000 }
    amcheck: database
    pushResults: true
metrics:
  prometheus: { url: "http://prometheus.monitoring.svc:9090" }
  pushgateway: { url: "http://prometheus-pushgateway.monitoring.svc:9091" }
`;

/** `text` validated against `catalog` (the shipped one by default). */
export const load = (text: string, catalog: Catalog = CATALOG): EnvironmentConfig => parseEnvironment(text, FILE, catalog);

/** The light environment of `catalog` with the database and backups on, as the restore-test suite runs it. */
export function backupsEnv(catalog: Catalog = CATALOG): string {
  return `${validEnv(catalog)}${DATABASE_SECTIONS}${BACKUPS_SECTION}`;
}

/** The restore-test CronJob's container env (literal values) and its script, as synthesized from {@link backupsEnv}. */
export function restoreTestFromSynth(catalog: Catalog = CATALOG): { script: string; env: Record<string, string>; manifests: Manifest[] } {
  const { manifests } = buildEnvironment(load(backupsEnv(catalog), catalog));
  const cronJob = manifests.find((m) => m.kind === 'CronJob' && m.metadata?.name === 'pg-restore-test') as any;
  const configMap = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata?.name === 'pg-backup-scripts') as any;
  const container = cronJob.spec.jobTemplate.spec.template.spec.containers[0];
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return { script: configMap.data[BACKUP_SCRIPT_FILES.restoreTest], env, manifests };
}
