/**
 * Small construct and renderer suites of lib/, run in one jest module registry. Every suite loads the whole stack (cdk8s,
 * cdk8s-plus, every capability: about 1.3 s of CPU), so small suites run apart would cost
 * more to load than to run. Each `*.spec.ts` keeps its own scope: its hooks, its state and
 * its test names (prefixed with its path).
 */
describe('addons/grafana', () => { require('./addons/grafana.spec'); });
describe('backups/constructs', () => { require('./backups/constructs.spec'); });
describe('backups/scripts', () => { require('./backups/scripts.spec'); });
describe('changes/apply-check', () => { require('./changes/apply-check.spec'); });
describe('core/core', () => { require('./core/core.spec'); });
describe('core/release', () => { require('./core/release.spec'); });
describe('gateway/render', () => { require('./gateway/render.spec'); });
describe('logs/capture-command', () => { require('./logs/capture-command.spec'); });
describe('logs/log-shipper', () => { require('./logs/log-shipper.spec'); });
describe('logs/render', () => { require('./logs/render.spec'); });
describe('namespace/capacity', () => { require('./namespace/capacity.spec'); });
describe('tracing/tracing', () => { require('./tracing/tracing.spec'); });
describe('validation/rules', () => { require('./validation/rules.spec'); });
describe('workload/pod-extension', () => { require('./workload/pod-extension.spec'); });
