export * from './collector-config';
export * from './collector-rbac';
export * from './otel-collector';
export * from './python-instrumentation';
export * from './sdk-env';
