export * from './alerts';
export * from './pgbouncer';
export * from './pgbouncer-config';
export * from './postgres-cluster';
export * from './postgres-config';
export * from './redis';
