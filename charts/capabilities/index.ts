import { CapabilityUnits } from './capability';
import { gateway } from './gateway';
import { secrets } from './secrets';
import { networkPolicies } from './network-policies';
import { circuitBreakers } from './circuit-breakers';
import { metrics } from './metrics';
import { logs } from './logs';
import { tracing } from './tracing';
import { database } from './database';
import { backups } from './backups';
import { gitops } from './gitops';

export * from './capability';
export * from './ports';
export * from '../../config/sections';

/**
 * Every capability's unit, in apply order (the order of SECTIONS). A built capability
 * replaces its `{ id }` with the unit exported by its folder (charts/capabilities/<id>/).
 */
export const CAPABILITIES: CapabilityUnits = {
  metrics,
  logs,
  tracing,
  secrets,
  networkPolicies,
  gateway,
  circuitBreakers,
  database,
  backups,
  gitops,
};
