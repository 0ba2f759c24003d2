/**
 * The suites that run the data tier's real servers (each its own server, one after the other):
 * PgBouncer in front of PostgreSQL, the roles as a cluster gets them, and Redis's users. In one
 * jest module registry, as the other aggregators: each loads the whole stack to render what it
 * runs (about 1.3 s of CPU).
 */
describe('pgbouncer', () => { require('./pgbouncer.spec'); });
describe('postgres-roles', () => { require('./postgres-roles.spec'); });
describe('redis', () => { require('./redis.spec'); });
