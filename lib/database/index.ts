export * from './alerts';
export * from './pgbouncer';
export * from './pgbouncer-config';
export * from './postgres-cluster';
export * from './postgres-config';
export * from './redis';
export * from './data-tier';
export * from './walg';
