export * from './app-container';
export * from './microservice';
export * from './release';
export * from './rolling-update';
export * from './scaling';
export * from './service-workload';
