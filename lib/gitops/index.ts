export * from './app-project';
export * from './application';
export * from './argo-cd-chart';
export * from './sync-wave';
