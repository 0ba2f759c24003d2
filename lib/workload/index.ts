export * from './app-container';
export * from './container';
export * from './microservice';
export * from './pod-extension';
export * from './pod-template';
export * from './scheduled-job';
export * from './service-ports';
export * from './workload';
