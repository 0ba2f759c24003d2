export * from './capacity';
export * from './pronto-namespace';
