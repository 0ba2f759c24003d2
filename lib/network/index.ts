export * from './connection-graph-policies';
export * from './default-deny-policy';
export * from './policy-rules';
export * from './workload-network-policy';
