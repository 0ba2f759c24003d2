export * from './gateway';
export * from './model';
export * from './render';
