/**
 * The Pronto service catalog: every microservice, declared once. Environment files
 * (`config/<env>.yaml`) add what varies per environment: images, scale, resources,
 * rollout. Later capabilities derive network policies, gateway routes, dashboards,
 * alerts and Vault roles and policies from these entries, so adding a service is one entry here
 * plus one block in each environment file.
 */
import { Catalog, CatalogSecret, DataStore, ResolvedCatalogEntry } from './schema';

/** How services reach a data store: the host (a Service name in the Pronto namespace) and port. */
export interface DataStoreEndpoint {
  readonly host: string;
  readonly port: number;
  readonly description: string;
  /**
   * The credentials of every service that uses the store, as a Vault secret: the KV path
   * below `<service>/` (each service has its own entry), the file under /run/secrets, the
   * env var with its path, and the template of the file's exact content.
   */
  readonly secret: { readonly name: string } & Omit<CatalogSecret, 'path'>;
}

const PGBOUNCER = { host: 'pgbouncer', port: 6432 };
const REDIS = { host: 'redis', port: 6379 };

/**
 * The data stores services may name in `dataStores`. PostgreSQL is reached through the
 * PgBouncer pool, never directly: only the backup jobs talk to PostgreSQL itself.
 */
export const DATA_STORES: Readonly<Record<DataStore, DataStoreEndpoint>> = {
  postgres: {
    ...PGBOUNCER, description: 'PostgreSQL, through the PgBouncer pool',
    // KV fields: username, password, database. The URL goes to SQLAlchemy; urlquery percent-encodes the credentials.
    secret: {
      name: 'database', file: 'db', env: 'DATABASE_URL_FILE',
      template: `postgresql://{{ .Data.data.username | urlquery }}:{{ .Data.data.password | urlquery }}@${PGBOUNCER.host}:${PGBOUNCER.port}/{{ .Data.data.database }}`,
    },
  },
  redis: {
    ...REDIS, description: 'Redis',
    // KV field: password (Redis AUTH). The URL goes to redis-py's from_url.
    secret: { name: 'redis', file: 'redis', env: 'REDIS_URL_FILE', template: `redis://:{{ .Data.data.password | urlquery }}@${REDIS.host}:${REDIS.port}/0` },
  },
};

/**
 * Every Vault secret of a service, in a stable order: one per data store it uses (in
 * `dataStores` order, at `<service>/<store secret name>`), then the ones it declares.
 */
export function secretsOf(service: string, entry: Pick<ResolvedCatalogEntry, 'dataStores' | 'secrets'>): CatalogSecret[] {
  return [
    ...entry.dataStores.map((store): CatalogSecret => {
      const { name, ...secret } = DATA_STORES[store].secret;
      return { path: `${service}/${name}`, ...secret };
    }),
    ...entry.secrets,
  ];
}

/** The workload that routes public traffic to the services that declare a `route`. */
export const GATEWAY = 'gateway';

/** The Flask session signing key (Flask's SECRET_KEY) of a web app; KV field: key. The file holds the key alone. */
const FLASK_SIGNING_KEY = (service: string): CatalogSecret => ({
  path: `${service}/flask`, file: 'flask-signing-key', env: 'FLASK_SIGNING_KEY_FILE', template: '{{ .Data.data.key }}',
});

export const CATALOG: Catalog = {
  'clients-app': {
    description: 'Customer web app: menu, cart, checkout',
    component: 'web',
    port: 8080,
    route: { path: '/' },
    calls: ['order-service', 'payment-gateway'],
    dataStores: ['redis'],
    secrets: [FLASK_SIGNING_KEY('clients-app')],
  },
  'employees-app': {
    description: 'Staff web app: orders, tables, menu administration',
    component: 'web',
    port: 8080,
    route: { path: '/staff' },
    calls: ['order-service'],
    dataStores: ['postgres', 'redis'],
    secrets: [FLASK_SIGNING_KEY('employees-app')],
  },
  'order-service': {
    description: 'Order API: creates orders and tracks their state',
    component: 'api',
    port: 8080,
    calls: ['kitchen-display', 'payment-gateway'],
    dataStores: ['postgres', 'redis'],
    // Every order goes through it: stricter than the default availability, and fast.
    slo: { availability: { objectivePercent: 99.9 }, latency: { thresholdSeconds: 0.25, objectivePercent: 99 } },
  },
  'kitchen-display': {
    description: 'Kitchen screens: live order queue over long-lived connections',
    component: 'web',
    port: 8080,
    route: { path: '/kitchen', longLivedConnections: true },
    calls: ['order-service'],
    dataStores: ['redis'],
    secrets: [FLASK_SIGNING_KEY('kitchen-display')],
    // Screens hold connections open; give them time to reconnect elsewhere.
    drainSeconds: 60,
    // The live stream's requests last minutes and are excluded from the histogram (docs/capabilities/metrics.md, "Metric contract");
    // the latency objective covers the screens' ordinary requests.
    slo: { availability: { objectivePercent: 99.5 }, latency: { thresholdSeconds: 1, objectivePercent: 99 } },
  },
  'payment-gateway': {
    description: 'Payment API: charges cards through Stripe',
    component: 'api',
    port: 8080,
    calls: [],
    dataStores: ['postgres'],
    externalHosts: ['api.stripe.com:443'],
    // The strictest availability: a failed payment is a lost order. Latency includes Stripe's round trip.
    slo: { availability: { objectivePercent: 99.95 }, latency: { thresholdSeconds: 2.5, objectivePercent: 99.5 } },
    secrets: [{
      // KV field: api_key (Stripe's restricted or secret key). The file holds the key alone.
      path: 'payment-gateway/stripe', file: 'stripe-key', env: 'STRIPE_KEY_FILE', template: '{{ .Data.data.api_key }}',
    }],
  },
};
