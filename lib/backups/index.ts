export * from './alerts';
export * from './backup-job';
export * from './backup-scripts';
export * from './restore-test-job';
export * from './restore-test-script';
export * from './scripts';
export * from './backup-plan';
