/** The `metrics` capability. */
import { Capability } from '../capability';
import { SectionValue } from '../sections';
import { grafanaCharts } from './grafana';

type Section = SectionValue<'metrics'>;

export const metrics: Capability<Section> & { readonly id: 'metrics' } = {
  id: 'metrics',
  charts(app, section, context) {
    return [...grafanaCharts(app, section, context)];
  },
};
