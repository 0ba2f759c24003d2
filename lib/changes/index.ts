export * from './apply-check';
export * from './object-changes';
export * from './text-diff';
