/**
 * pgbouncer.ini and its hba file as a typed model and pure renderers, plus the pool
 * arithmetic: how many server connections every PgBouncer replica may open so that all of
 * them together, at full scale, stay within PostgreSQL's max_connections minus the
 * connections reserved for others.
 */
import { compareVersions } from '../core';
import { exporterLoginShell, tlsReloadShell } from './exporter-login';

/**
 * TLS of PgBouncer's two sides (config.md "TLS settings", 1.25.2; the same keys since 1.7, so
 * the Debian 1.18 of the tests runs them): clients must use TLS (`client_tls_sslmode =
 * require`: PgBouncer's verify-ca/verify-full would demand client certificates instead), and
 * PostgreSQL's certificate must be valid for the host PgBouncer dials (`server_tls_sslmode =
 * verify-full`: the CA, and the name). TLS 1.2 and 1.3 only (`secure`).
 */
export interface PgBouncerTls {
  /** `client_tls_cert_file` and `client_tls_key_file`: PgBouncer's own certificate and key. */
  readonly certFile: string;
  readonly keyFile: string;
  /** `server_tls_ca_file`: the CA that signed PostgreSQL's certificate. */
  readonly caFile: string;
}

/** Everything pgbouncer.ini is rendered from. Counts are per PgBouncer process. */
export interface PgBouncerIniModel {
  /** PgBouncer release the image runs (`major.minor.patch`): settings added later are not emitted. */
  readonly version: string;
  /** PostgreSQL host (a Service name) and port. */
  readonly serverHost: string;
  readonly serverPort: number;
  /** `listen_port`. */
  readonly listenPort: number;
  readonly maxClientConn: number;
  readonly defaultPoolSize: number;
  readonly reservePoolSize: number;
  readonly reservePoolTimeoutSeconds: number;
  /** Per database, all users together. */
  readonly maxDbConnections: number;
  readonly queryWaitTimeoutSeconds: number;
  readonly serverLifetimeSeconds: number;
  readonly serverIdleTimeoutSeconds: number;
  readonly idleTransactionTimeoutSeconds: number;
  /** Emitted from 1.21 only. */
  readonly maxPreparedStatements: number;
  /** The role whose password is in `authFile` and that runs `authQuery`. */
  readonly authUser: string;
  /** SQL run as `authUser` to look up a client's secret; `$1` is the user name. */
  readonly authQuery: string;
  /** Database the auth query runs in (`auth_dbname`, emitted from 1.19 only; before, it runs in the client's database). */
  readonly authDbname: string;
  /** File with `"user" "password"` lines (rendered by Vault). */
  readonly authFile: string;
  /** File with the hba rules (`auth_hba_file`). */
  readonly hbaFile: string;
  readonly adminUsers: readonly string[];
  readonly statsUsers: readonly string[];
  /**
   * `unix_socket_dir` lives here (a writable emptyDir). No `pidfile` is written: PgBouncer runs
   * as PID 1, and a pidfile on an emptyDir outlives a SIGKILLed container (an OOM kill), so the
   * restarted process would find "itself" running and exit until the pod is deleted.
   */
  readonly runDir: string;
  /** TLS from the clients and to PostgreSQL. @default - none: plaintext both ways (`disable`) */
  readonly tls?: PgBouncerTls;
}

/**
 * Settings newer than PgBouncer 1.18, with the release that added each. The renderer emits a
 * setting only when the configured version has it; the real-PgBouncer test (Debian ships
 * 1.18) drops exactly these and nothing else. The database section requires 1.19 or later
 * (MIN_PGBOUNCER_VERSION: the auth query must run in `postgres`), so a valid environment always
 * gets auth_dbname.
 */
export const VERSION_GATED_SETTINGS: Readonly<Record<string, string>> = {
  auth_dbname: '1.19.0',
  max_prepared_statements: '1.21.0',
};

/** True when `version` (`x.y.z`) is at least `since`. */
export function versionAtLeast(version: string, since: string): boolean {
  return compareVersions(version, since) >= 0;
}

/** What PostgreSQL's connections must cover, and what the pools may use. */
export interface PoolBudgetInput {
  /** PostgreSQL `max_connections`. */
  readonly maxConnections: number;
  /** Connections others need (superuser reserve, backup jobs, exporter). */
  readonly reservedConnections: number;
  /** PgBouncer replicas at full scale. */
  readonly replicas: number;
  /** Databases pooled (one app user each). */
  readonly databases: number;
  /** Explicit `default_pool_size`. @default - derived */
  readonly defaultPoolSize?: number;
  /** Explicit `reserve_pool_size`. @default - derived */
  readonly reservePoolSize?: number;
}

/** The pool sizes of one replica, or why they cannot fit. */
export interface PoolSizes {
  /** Server connections the pools may use together: max_connections − reserved. */
  readonly budget: number;
  /** `max_db_connections` per replica: budget ÷ (replicas × databases), rounded down. */
  readonly maxDbConnections: number;
  readonly defaultPoolSize: number;
  readonly reservePoolSize: number;
  /** Server connections all replicas can open at once: replicas × databases × maxDbConnections. */
  readonly peakServerConnections: number;
  /** Set when the pools at full scale would exceed the budget. */
  readonly problem?: string;
}

/**
 * Derives the pool sizes: every database of every replica gets an equal share of the
 * budget as `max_db_connections` (the hard cap, the auth user's lookups included); the
 * reserve is a quarter of it, the default pool the rest. Explicit sizes must fit the share.
 */
export function poolSizes(input: PoolBudgetInput): PoolSizes {
  const budget = input.maxConnections - input.reservedConnections;
  const share = Math.floor(budget / (input.replicas * Math.max(1, input.databases)));
  const reserve = input.reservePoolSize ?? Math.floor(share / 4);
  const pool = input.defaultPoolSize ?? share - reserve;
  const perDb = pool + reserve;
  const peak = input.replicas * Math.max(1, input.databases) * perDb;
  const formula = `${input.replicas} replicas × ${input.databases} databases × (default_pool_size ${pool} + reserve_pool_size ${reserve}) = ${peak}`;
  let problem: string | undefined;
  if (share < 2) {
    problem = `expected max_connections (${input.maxConnections}) minus the reserved connections (${input.reservedConnections}) to leave at least 2 server ` +
      `connections per database and PgBouncer replica (${input.replicas} replicas × ${input.databases} databases), found ${budget} in all`;
  } else if (pool < 1 || peak > budget) {
    problem = `expected the pools at full scale to fit in max_connections (${input.maxConnections}) minus the reserved connections (${input.reservedConnections}) = ${budget}, ` +
      `found ${formula}`;
  }
  return { budget, maxDbConnections: Math.max(perDb, 0), defaultPoolSize: pool, reservePoolSize: reserve, peakServerConnections: peak, ...(problem ? { problem } : {}) };
}

function line(key: string, value: string | number): string {
  return `${key} = ${value}`;
}

/** pgbouncer.ini for `model`; settings newer than `model.version` are left out. */
export function renderPgBouncerIni(model: PgBouncerIniModel): string {
  const has = (setting: string) => versionAtLeast(model.version, VERSION_GATED_SETTINGS[setting] ?? '0.0.0');
  const settings: string[] = [
    '; Generated by Pronto Platform (lib/database/pgbouncer-config.ts): do not edit.',
    '[databases]',
    '; Every database of the server, under its own name: each app has its own (named in its Vault entry),',
    '; so each gets its own pool, capped by max_db_connections.',
    `* = host=${model.serverHost} port=${model.serverPort}`,
    '',
    '[pgbouncer]',
    line('listen_addr', '0.0.0.0'),
    line('listen_port', model.listenPort),
    line('unix_socket_dir', model.runDir),
    line('logfile', ''),
    '; Transaction pooling: a server connection serves one transaction at a time. Apps must not use',
    '; session state (SET, LISTEN, WITH HOLD cursors, SQL PREPARE, session advisory locks).',
    line('pool_mode', 'transaction'),
    line('max_client_conn', model.maxClientConn),
    line('default_pool_size', model.defaultPoolSize),
    line('min_pool_size', 0),
    line('reserve_pool_size', model.reservePoolSize),
    line('reserve_pool_timeout', model.reservePoolTimeoutSeconds),
    line('max_db_connections', model.maxDbConnections),
    line('query_wait_timeout', model.queryWaitTimeoutSeconds),
    line('server_lifetime', model.serverLifetimeSeconds),
    line('server_idle_timeout', model.serverIdleTimeoutSeconds),
    line('idle_transaction_timeout', model.idleTransactionTimeoutSeconds),
    line('server_reset_query', 'DISCARD ALL'),
    line('server_reset_query_always', 0),
    line('ignore_startup_parameters', 'extra_float_digits,options'),
    ...(has('max_prepared_statements') ? [line('max_prepared_statements', model.maxPreparedStatements)] : []),
    line('auth_type', 'hba'),
    line('auth_hba_file', model.hbaFile),
    line('auth_file', model.authFile),
    line('auth_user', model.authUser),
    line('auth_query', model.authQuery),
    ...(has('auth_dbname') ? [line('auth_dbname', model.authDbname)] : []),
    line('admin_users', model.adminUsers.join(',')),
    line('stats_users', model.statsUsers.join(',')),
    ...(model.tls ? [
      '; TLS from every client (the hba file refuses plaintext too), and to PostgreSQL with its certificate verified for the host dialled.',
      line('client_tls_sslmode', 'require'),
      line('client_tls_cert_file', model.tls.certFile),
      line('client_tls_key_file', model.tls.keyFile),
      line('client_tls_protocols', 'secure'),
      line('server_tls_sslmode', 'verify-full'),
      line('server_tls_ca_file', model.tls.caFile),
      line('server_tls_protocols', 'secure'),
    ] : [line('client_tls_sslmode', 'disable'), line('server_tls_sslmode', 'disable')]),
    line('log_connections', 0),
    line('log_disconnections', 0),
    line('log_pooler_errors', 1),
    line('stats_period', 60),
  ];
  return `${settings.join('\n')}\n`;
}

/** What PgBouncer's hba file is rendered from. */
export interface PgBouncerHbaModel {
  /** The admin console's users (`admin_users`, `stats_users`): from the pod itself only. */
  readonly consoleUsers: readonly string[];
  /** Address blocks every other login is accepted from (the pod network). */
  readonly clientCidrs: readonly string[];
  /** Every TCP client must use TLS (`hostssl`; plaintext is refused by `hostnossl … reject`). */
  readonly tls: boolean;
}

/**
 * PgBouncer's hba file (config.md "HBA file format": `host`, `hostssl`, `hostnossl`, IPv4 and
 * IPv6 blocks, `scram-sha-256` and `reject`, as in 1.18), first match wins, SCRAM only: the
 * admin console (`pgbouncer` database) for its users from the pod's own address (the
 * exporter sidecar, `kubectl exec`) and from nowhere else, no one else on the console, then
 * every login from the pod network; an address outside it matches no line and is refused.
 * PgBouncer listens on IPv4 only (`listen_addr = 0.0.0.0`).
 */
export function renderPgBouncerHba(model: PgBouncerHbaModel): string {
  const host = model.tls ? 'hostssl' : 'host';
  const users = model.consoleUsers.join(',');
  return [
    '# Generated by Pronto Platform (lib/database/pgbouncer-config.ts): do not edit. First match wins.',
    ...(model.tls ? ['# TLS or nothing: no login over plaintext TCP.', 'hostnossl all all 0.0.0.0/0 reject'] : []),
    '# The admin console: its users from the pod itself only (pgbouncer_exporter, kubectl exec), with their passwords.',
    `${host} pgbouncer ${users} 127.0.0.1/32 scram-sha-256`,
    `host all ${users} 0.0.0.0/0 reject`,
    '# Nobody else reaches the console.',
    'host pgbouncer all 0.0.0.0/0 reject',
    '# The apps, and the jobs that log in through PgBouncer, from the pod network (auth_query: the server\'s SCRAM secrets).',
    ...model.clientCidrs.filter((c) => !c.includes(':')).map((cidr) => `${host} all all ${cidr} scram-sha-256`),
    '',
  ].join('\n');
}

/** What PgBouncer's start script needs. */
export interface PgBouncerStartModel {
  /** pgbouncer.ini. */
  readonly iniFile: string;
  /** `listen_port`: the exporter's login is for 127.0.0.1 on it. */
  readonly port: number;
  /** The stats user (`stats_users`), and the Vault file with its password, and that entry's field (for the error). */
  readonly statsUser: string;
  readonly statsPasswordFile: string;
  readonly statsPasswordField: string;
  /** PgBouncer's certificate and key: a change (a renewal) makes PgBouncer reload. @default - none (no TLS) */
  readonly tlsFiles?: readonly string[];
}

/**
 * The PgBouncer container's entrypoint: the stats user's login for pgbouncer_exporter (see
 * exporter-login.ts), the TLS reload loop when PgBouncer has a certificate, then `exec
 * pgbouncer`, so PgBouncer is PID 1 (signals, no pidfile) and gets the loop's SIGHUP.
 */
export function renderPgBouncerStartScript(m: PgBouncerStartModel): string {
  return [
    '#!/bin/sh',
    '# Generated by Pronto Platform (lib/database/pgbouncer-config.ts): do not edit.',
    'set -eu',
    exporterLoginShell(m.statsPasswordFile, m.statsUser, m.port, m.statsPasswordField),
    // $$ in the loop's subshell is this shell's PID, which `exec` hands to PgBouncer.
    ...(m.tlsFiles ? [tlsReloadShell(m.tlsFiles, '$$')] : []),
    `exec pgbouncer ${m.iniFile}`,
    '',
  ].join('\n');
}

/** The pool settings of pgbouncer.ini a change review reports: what each database may hold per replica. */
export const POOL_SETTINGS = ['default_pool_size', 'reserve_pool_size', 'max_db_connections'] as const;

/** The {@link POOL_SETTINGS} of a rendered pgbouncer.ini, by name (absent ones left out). */
export function poolSettingsOf(ini: string): Partial<Record<typeof POOL_SETTINGS[number], number>> {
  const out: Partial<Record<typeof POOL_SETTINGS[number], number>> = {};
  for (const m of ini.matchAll(/^([a-z_]+) = (\d+)$/gm)) {
    const key = m[1] as typeof POOL_SETTINGS[number];
    if (POOL_SETTINGS.includes(key)) out[key] = Number(m[2]);
  }
  return out;
}
