/**
 * Small suites of config/ and charts/, run in one jest module registry. Every suite loads the whole stack (cdk8s,
 * cdk8s-plus, every capability: about 1.3 s of CPU), so small suites run apart would cost
 * more to load than to run. Each `*.spec.ts` keeps its own scope: its hooks, its state and
 * its test names (prefixed with its path).
 */
describe('charts/added-service', () => { require('./charts/added-service.spec'); });
describe('charts/capabilities', () => { require('./charts/capabilities.spec'); });
describe('charts/connections', () => { require('./charts/connections.spec'); });
describe('charts/docs', () => { require('./charts/docs.spec'); });
describe('charts/growth', () => { require('./charts/growth.spec'); });
describe('charts/integration', () => { require('./charts/integration.spec'); });
describe('charts/publish', () => { require('./charts/publish.spec'); });
describe('charts/pinned-ids', () => { require('./charts/pinned-ids.spec'); });
describe('charts/review', () => { require('./charts/review.spec'); });
describe('charts/sixth-service', () => { require('./charts/sixth-service.spec'); });
describe('config/catalog-errors', () => { require('./config/catalog-errors.spec'); });
describe('config/json-schema', () => { require('./config/json-schema.spec'); });
describe('config/load', () => { require('./config/load.spec'); });
describe('config/reference', () => { require('./config/reference.spec'); });
describe('config/promote', () => { require('./config/promote.spec'); });
describe('helpers', () => { require('./helpers.spec'); });
describe('runbooks', () => { require('./runbooks.spec'); });
describe('docs', () => { require('./docs.spec'); });
describe('snapshots/snapshot-files', () => { require('./snapshots/snapshot-files.spec'); });
