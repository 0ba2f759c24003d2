import { CapabilityUnits } from './capability';
import { gateway } from './gateway';
import { secrets } from './secrets';
import { networkPolicies } from './network-policies';
import { circuitBreakers } from './circuit-breakers';

export * from './capability';
export * from './sections';

/**
 * Every capability's unit, in apply order (the order of SECTIONS). A built capability
 * replaces its `{ id }` with the unit exported by its folder (charts/capabilities/<id>/).
 */
export const CAPABILITIES: CapabilityUnits = {
  metrics: { id: 'metrics' },
  logs: { id: 'logs' },
  tracing: { id: 'tracing' },
  secrets,
  networkPolicies,
  gateway,
  circuitBreakers,
  database: { id: 'database' },
  backups: { id: 'backups' },
  gitops: { id: 'gitops' },
};
