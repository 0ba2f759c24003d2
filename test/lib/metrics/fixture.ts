/**
 * The metrics sections the tests switch on in the shipped environments (the snippets proposed
 * for config/dev.yaml, staging.yaml and prod.yaml), and the environment the promtool unit tests
 * evaluate: SLO overrides and opening hours that are not the defaults, so the templates'
 * expectations are seen to follow the config.
 */
import { readFileSync } from 'fs';
import { CONFIG_DIR, stripSection } from '../../helpers';
import { VALID_ENV } from '../../fixtures/environments';

export const SHIPPED_METRICS: Record<string, string> = {
  dev: 'metrics:\n  # Dev has no real traffic: its alerts route nowhere that pages (Alertmanager routes by namespace).\n  scrapeInterval: 60s\n',
  staging: 'metrics:\n  slo:\n    payment-gateway: { availability: { objectivePercent: 99.9 } }\n',
  prod: 'metrics:\n  scrapeInterval: 15s\n  openingHoursUtc: { days: [mon, tue, wed, thu, fri, sat, sun], from: "09:00", to: "22:30" }\n  noOrdersMinutes: 20\n',
};

/** A shipped environment file with `section` as its metrics section (the shipped one, if any, removed). */
export function withMetrics(env: string, section = SHIPPED_METRICS[env]): string {
  return `${stripSection(readFileSync(`${CONFIG_DIR}/${env}.yaml`, 'utf8'), 'metrics')}${section}`;
}

/**
 * The environment whose rules the promtool unit tests run. Its opening hours span midnight
 * (the harder case) and leave out a day; they open soon after promtool's time 0 (Thursday
 * 00:00 UTC), because promtool evaluates every step from 0 to the last evaluation time.
 */
export const UNIT_TEST_ENV = `${VALID_ENV}metrics:
  slo:
    order-service: { availability: { objectivePercent: 99.95 }, latency: { thresholdSeconds: 0.1 } }
  openingHoursUtc: { days: [mon, tue, wed, thu, fri, sat], from: "01:00", to: "00:15" }
  noOrdersMinutes: 45
`;
