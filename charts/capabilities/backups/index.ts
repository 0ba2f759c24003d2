/** The `backups` capability. */
import { Capability } from '../capability';
import { SectionValue } from '../sections';

type Section = SectionValue<'backups'>;

export const backups: Capability<Section> & { readonly id: 'backups' } = {
  id: 'backups',
};
