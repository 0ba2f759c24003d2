/**
 * The shipped environments with their metrics section (or another one in its place), and the
 * environment the promtool unit tests evaluate: SLO overrides and opening hours that are not
 * the defaults, so the templates' expectations are seen to follow the config.
 */
import { readFileSync } from 'fs';
import { CATALOG } from '../../../config/catalog';
import { Catalog } from '../../../config/schema';
import { CONFIG_DIR, stripSection } from '../../helpers';
import { validEnv } from '../../fixtures/environments';

/**
 * A shipped environment file with its metrics section as shipped (`metrics: { prometheus: { url: "http://prometheus.monitoring.svc:9090" } }` appended when
 * it has none), or, given `section`, with `section` in its place ('' for none). `configDir`
 * is the folder of the environment files (config/ unless a test works on a copy).
 */
export function withMetrics(env: string, section?: string, configDir = CONFIG_DIR): string {
  const text = readFileSync(`${configDir}/${env}.yaml`, 'utf8');
  if (section === undefined) return /^metrics:/m.test(text) ? text : `${text.replace(/\n*$/, '\n')}metrics: { prometheus: { url: "http://prometheus.monitoring.svc:9090" } }\n`;
  // Without metrics nothing provides a Pushgateway: the restore test then pushes nothing (a push would be a config error).
  const stripped = stripSection(text, 'metrics');
  return `${section === '' ? stripped.replace(/^ {4}pushResults: true\n/m, '') : stripped}${section}`;
}

/**
 * The environment whose rules the promtool unit tests run. Its opening hours span midnight
 * (the harder case) and leave out a day; they open soon after promtool's time 0 (Thursday
 * 00:00 UTC), because promtool evaluates every step from 0 to the last evaluation time.
 */
export function unitTestEnv(catalog: Catalog = CATALOG): string {
  return `${validEnv(catalog)}metrics:
  prometheus: { url: "http://prometheus.monitoring.svc:9090" }
  slo:
    order-service: { availability: { objectivePercent: 99.95 }, latency: { thresholdSeconds: 0.1 } }
  openingHoursUtc: { days: [mon, tue, wed, thu, fri, sat], from: "01:00", to: "00:15" }
  noOrdersMinutes: 45
`;
}

export const UNIT_TEST_ENV = unitTestEnv();
