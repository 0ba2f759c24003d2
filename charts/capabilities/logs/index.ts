/** The `logs` capability. */
import { Capability } from '../capability';
import { SectionValue } from '../sections';

type Section = SectionValue<'logs'>;

export const logs: Capability<Section> & { readonly id: 'logs' } = {
  id: 'logs',
};
