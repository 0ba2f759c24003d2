export * from './ca-bundle';
export * from './service-certificate';
