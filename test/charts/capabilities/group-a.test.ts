/**
 * Capability suites: backups, database, gateway, logs, run in one jest module registry. Every suite loads the whole stack (cdk8s,
 * cdk8s-plus, every capability: about 1.3 s of CPU), so small suites run apart would cost
 * more to load than to run. Each `*.spec.ts` keeps its own scope: its hooks, its state and
 * its test names (prefixed with its path).
 */
describe('backups', () => { require('./backups.spec'); });
describe('circuit-breakers', () => { require('./circuit-breakers.spec'); });
describe('database', () => { require('./database.spec'); });
describe('gateway', () => { require('./gateway.spec'); });
describe('logs', () => { require('./logs.spec'); });
describe('network-policies', () => { require('./network-policies.spec'); });
