export * from './finding';
export * from './gate';
export * from './manifest-index';
export * from './schema-validator';
export { appProjectPrivileges } from './rules/argocd-rules';
export { OBJECT_SIZE_LIMITS } from './rules/object-rules';
