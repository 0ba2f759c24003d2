export * from './admission-policies';
export * from './capacity';
export * from './pronto-namespace';
