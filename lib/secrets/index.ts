export * from './vault-agent';
export * from './vault-policy';
