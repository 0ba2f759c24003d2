/** The `tracing` capability. */
import { Capability } from '../capability';
import { SectionValue } from '../sections';

type Section = SectionValue<'tracing'>;

export const tracing: Capability<Section> & { readonly id: 'tracing' } = {
  id: 'tracing',
};
