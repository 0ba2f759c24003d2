/** The `database` capability. */
import { Capability } from '../capability';
import { SectionValue } from '../sections';

type Section = SectionValue<'database'>;

export const database: Capability<Section> & { readonly id: 'database' } = {
  id: 'database',
};
