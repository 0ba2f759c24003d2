/**
 * The Pronto service catalog: every microservice, declared once. Environment files
 * (`config/<env>.yaml`) add what varies per environment: images, scale, resources,
 * rollout. Later capabilities derive network policies, gateway routes, dashboards,
 * alerts and Vault roles from these entries, so adding a service is one entry here
 * plus one block in each environment file.
 */
import { Catalog, DataStore } from './schema';

/** How services reach a data store: the host (a Service name in the Pronto namespace) and port. */
export interface DataStoreEndpoint {
  readonly host: string;
  readonly port: number;
  readonly description: string;
}

/**
 * The data stores services may name in `dataStores`. PostgreSQL is reached through the
 * PgBouncer pool, never directly: only the backup jobs talk to PostgreSQL itself.
 */
export const DATA_STORES: Readonly<Record<DataStore, DataStoreEndpoint>> = {
  postgres: { host: 'pgbouncer', port: 6432, description: 'PostgreSQL, through the PgBouncer pool' },
  redis: { host: 'redis', port: 6379, description: 'Redis' },
};

/** The workload that routes public traffic to the services that declare a `route`. */
export const GATEWAY = 'gateway';

export const CATALOG: Catalog = {
  'clients-app': {
    description: 'Customer web app: menu, cart, checkout',
    component: 'web',
    port: 8080,
    route: { path: '/' },
    calls: ['order-service', 'payment-gateway'],
    dataStores: ['redis'],
    secrets: ['clients-app/flask-secret-key'],
  },
  'employees-app': {
    description: 'Staff web app: orders, tables, menu administration',
    component: 'web',
    port: 8080,
    route: { path: '/staff' },
    calls: ['order-service'],
    dataStores: ['postgres', 'redis'],
    secrets: ['employees-app/flask-secret-key', 'employees-app/database'],
  },
  'order-service': {
    description: 'Order API: creates orders and tracks their state',
    component: 'api',
    port: 8080,
    calls: ['kitchen-display', 'payment-gateway'],
    dataStores: ['postgres', 'redis'],
    secrets: ['order-service/database'],
  },
  'kitchen-display': {
    description: 'Kitchen screens: live order queue over long-lived connections',
    component: 'web',
    port: 8080,
    route: { path: '/kitchen', longLivedConnections: true },
    calls: ['order-service'],
    dataStores: ['redis'],
    secrets: ['kitchen-display/flask-secret-key'],
    // Screens hold connections open; give them time to reconnect elsewhere.
    drainSeconds: 60,
  },
  'payment-gateway': {
    description: 'Payment API: charges cards through Stripe',
    component: 'api',
    port: 8080,
    calls: [],
    dataStores: ['postgres'],
    externalHosts: ['api.stripe.com:443'],
    secrets: ['payment-gateway/stripe-api-key', 'payment-gateway/database'],
  },
};
