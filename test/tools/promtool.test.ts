/**
 * The promtool suites (rules, their unit tests, dashboards' queries), run in one jest module
 * registry: each loads the whole stack (about 1.3 s of CPU) to render the rules it checks, so
 * apart they would cost more to load than to run. Each `*.spec.ts` keeps its own scope.
 */
describe('promtool-backups', () => { require('./promtool-backups.spec'); });
describe('promtool-dashboards', () => { require('./promtool-dashboards.spec'); });
describe('promtool-database', () => { require('./promtool-database.spec'); });
describe('promtool-rules', () => { require('./promtool-rules.spec'); });
describe('promtool-runbooks', () => { require('./promtool-runbooks.spec'); });
