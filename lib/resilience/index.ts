export * from './breaker';
export * from './circuit-breaker-rule';
export * from './istio-proxy';
