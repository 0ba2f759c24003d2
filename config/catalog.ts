/**
 * The Pronto service catalog: every microservice, declared once. Environment files
 * (`config/<env>.yaml`) add what varies per environment: images, scale, resources,
 * rollout. Later capabilities derive network policies, gateway routes, dashboards,
 * alerts and Vault roles from these entries, so adding a service is one entry here
 * plus one block in each environment file.
 */
import { Catalog } from './schema';

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
