/**
 * Small construct and renderer suites of lib/, run in one jest module registry. Every suite loads the whole stack (cdk8s,
 * cdk8s-plus, every capability: about 1.3 s of CPU), so small suites run apart would cost
 * more to load than to run. Each `*.spec.ts` keeps its own scope: its hooks, its state and
 * its test names (prefixed with its path).
 */
describe('addons/grafana', () => { require('./addons/grafana.spec'); });
describe('addons/loki-gateway', () => { require('./addons/loki-gateway.spec'); });
describe('backups/constructs', () => { require('./backups/constructs.spec'); });
describe('backups/scripts', () => { require('./backups/scripts.spec'); });
describe('changes/apply-check', () => { require('./changes/apply-check.spec'); });
describe('core/core', () => { require('./core/core.spec'); });
describe('core/release', () => { require('./core/release.spec'); });
describe('core/render', () => { require('./core/render.spec'); });
describe('core/yaml', () => { require('./core/yaml.spec'); });
describe('gateway/gateway', () => { require('./gateway/gateway.spec'); });
describe('gateway/render', () => { require('./gateway/render.spec'); });
describe('logs/capture-command', () => { require('./logs/capture-command.spec'); });
describe('logs/log-shipper', () => { require('./logs/log-shipper.spec'); });
describe('logs/render', () => { require('./logs/render.spec'); });
describe('namespace/capacity', () => { require('./namespace/capacity.spec'); });
describe('namespace/namespace', () => { require('./namespace/namespace.spec'); });
describe('network/network-policies', () => { require('./network/network-policies.spec'); });
describe('resilience/resilience', () => { require('./resilience/resilience.spec'); });
describe('secrets/vault-agent', () => { require('./secrets/vault-agent.spec'); });
describe('secrets/vault-policy', () => { require('./secrets/vault-policy.spec'); });
describe('tls/tls', () => { require('./tls/tls.spec'); });
describe('tracing/tracing', () => { require('./tracing/tracing.spec'); });
describe('imports', () => { require('./imports.spec'); });
describe('validation/cdk8s-plugin', () => { require('./validation/cdk8s-plugin.spec'); });
describe('validation/gate', () => { require('./validation/gate.spec'); });
describe('validation/rules', () => { require('./validation/rules.spec'); });
describe('validation/schema', () => { require('./validation/schema.spec'); });
describe('workload/microservice', () => { require('./workload/microservice.spec'); });
describe('workload/pod-extension', () => { require('./workload/pod-extension.spec'); });
describe('workload/scheduled-job', () => { require('./workload/scheduled-job.spec'); });
describe('workload/workload', () => { require('./workload/workload.spec'); });
