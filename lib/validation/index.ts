export * from './finding';
export * from './gate';
export * from './manifest-index';
export * from './schema-validator';
