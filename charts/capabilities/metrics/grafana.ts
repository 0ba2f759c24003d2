/**
 * The metrics capability's Grafana objects: dashboards as code and datasources, as
 * ConfigMaps the Grafana sidecar loads.
 */
import { Chart } from 'cdk8s';
import { CapabilityContext } from '../capability';
import { MetricsSection } from './config';

/** The chart of the dashboards and datasources ConfigMaps. */
export function grafanaCharts(_app: unknown, _section: MetricsSection, _context: CapabilityContext): Chart[] {
  return [];
}
