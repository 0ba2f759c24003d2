/**
 * The suites that run a real PostgreSQL (each its own server, one after the other): PgBouncer
 * in front of it, and the roles as a cluster gets them. In one jest module registry, as the
 * other aggregators: each loads the whole stack to render what it runs (about 1.3 s of CPU).
 */
describe('pgbouncer', () => { require('./pgbouncer.spec'); });
describe('postgres-roles', () => { require('./postgres-roles.spec'); });
