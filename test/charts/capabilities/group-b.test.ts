/**
 * Capability suites: dashboards, metrics, secrets, tracing, run in one jest module registry. Every suite loads the whole stack (cdk8s,
 * cdk8s-plus, every capability: about 1.3 s of CPU), so small suites run apart would cost
 * more to load than to run. Each `*.spec.ts` keeps its own scope: its hooks, its state and
 * its test names (prefixed with its path).
 */
describe('dashboards', () => { require('./dashboards.spec'); });
describe('gitops', () => { require('./gitops.spec'); });
describe('gitops-projects', () => { require('./gitops-projects.spec'); });
describe('metrics', () => { require('./metrics.spec'); });
describe('secrets', () => { require('./secrets.spec'); });
describe('tracing', () => { require('./tracing.spec'); });
