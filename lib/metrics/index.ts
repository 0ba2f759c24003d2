export * from './rules';
export * from './prometheus-rule';
export * from './service-monitor';
