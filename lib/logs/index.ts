export * from './alloy-config';
export * from './capture-command';
export * from './log-shipper';
export * from './log-shipper-config';
export * from './model';
export * from './promtail-config';
