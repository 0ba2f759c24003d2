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
   * env var with its path, and the template of the file's exact content (of the service).
   */
  readonly secret: { readonly name: string; readonly template: (service: string) => string } & Omit<CatalogSecret, 'path' | 'template'>;
  /**
   * User names the store keeps for itself, where each service logs in as a user of its own
   * name: no service that uses the store may have one of them. @default - none
   */
  readonly reservedUsers?: readonly string[];
}

/** The user of Redis's readiness probe (PING only): no service may be named so. */
export const REDIS_HEALTHCHECK_USER = 'healthcheck';

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
      template: () => `postgresql://{{ .Data.data.username | urlquery }}:{{ .Data.data.password | urlquery }}@${PGBOUNCER.host}:${PGBOUNCER.port}/{{ .Data.data.database }}`,
    },
  },
  redis: {
    ...REDIS, description: 'Redis',
    // KV field: password. Each service logs in as the ACL user of its own name (lib/database/redis-acl.ts: its keys and
    // channels below `<service>:`), with the password Redis knows as a hash from the same entry. The URL goes to redis-py's
    // from_url, which takes the user from it; database 0, the only one a service may use (SELECT is refused).
    secret: {
      name: 'redis', file: 'redis', env: 'REDIS_URL_FILE',
      template: (service) => `redis://${service}:{{ .Data.data.password | urlquery }}@${REDIS.host}:${REDIS.port}/0`,
    },
    // Redis's built-in user (off) and the readiness probe's.
    reservedUsers: ['default', REDIS_HEALTHCHECK_USER],
  },
};

/**
 * How a service verifies a data store that speaks TLS, by store: the mode (the server's
 * certificate must be valid for the host in the URL) and the CA file in its container (the
 * database capability's port; it mounts the file).
 */
export type DataStoreTls = Partial<Record<DataStore, { readonly sslmode: 'verify-full'; readonly rootCertFile: string }>>;

/**
 * The credentials template of `store` for `service`: the catalog's, and
 * - for a PostgreSQL that speaks TLS, `sslmode=verify-full&sslrootcert=<CA file>` on the URL
 *   (libpq reads both from the connection URI);
 * - for a Redis that speaks TLS, `rediss://` with redis-py's `from_url` options
 *   (redis/connection.py parse_url: unknown query arguments reach SSLConnection as given):
 *   `ssl_cert_reqs=required`, `ssl_check_hostname=true` (the default only from redis-py 6.0;
 *   5.x checks no host name) and `ssl_ca_certs=<CA file>`.
 */
function storeTemplate(store: DataStore, service: string, tls: DataStoreTls): string {
  const template = DATA_STORES[store].secret.template(service);
  const t = tls[store];
  if (!t) return template;
  if (store === 'postgres') return `${template}?sslmode=${t.sslmode}&sslrootcert=${t.rootCertFile}`;
  return `${template.replace(/^redis:\/\//, 'rediss://')}?ssl_cert_reqs=required&ssl_check_hostname=true&ssl_ca_certs=${t.rootCertFile}`;
}

/**
 * Every Vault secret of a service, in a stable order: one per data store it uses (in
 * `dataStores` order, at `<service>/<store secret name>`), then the ones it declares.
 * `tls` says which stores speak TLS and how to verify them. @param tls - none: plaintext
 */
export function secretsOf(service: string, entry: Pick<ResolvedCatalogEntry, 'dataStores' | 'secrets'>, tls: DataStoreTls = {}): CatalogSecret[] {
  return [
    ...entry.dataStores.map((store): CatalogSecret => {
      const { name, template: _template, ...secret } = DATA_STORES[store].secret;
      return { path: `${service}/${name}`, ...secret, template: storeTemplate(store, service, tls) };
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
