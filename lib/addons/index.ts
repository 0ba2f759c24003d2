export * from './contract';
export * from './jaeger';
export * from './loki';
export * from './vault-agent-injector';
export * from './kube-prometheus-stack';
export * from './pushgateway';
export * from './opentelemetry-operator';
export * from './istio';
