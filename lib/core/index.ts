export * from './image';
export * from './labels';
export * from './manifest';
export * from './naming';
export * from './quantity';
export * from './security';
