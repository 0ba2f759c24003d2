export * from './architecture';
export * from './inventory';
