/**
 * The nginx.conf of the Loki chart's gateway, as Pronto gives it (`gateway.nginxConfig.file`,
 * replacing the chart's `loki.nginxFile`): every request logs in with basic auth; the tenant
 * Loki files a line under, or reads it from, is the login's (X-Scope-OrgID is set by nginx in
 * every location that proxies, whatever the client sent); a pusher's login reaches the push
 * API only, a reader's the query APIs only, and nothing reaches the delete, rules, flush,
 * ring, config or OTLP APIs. Pure: model in, text out.
 *
 * Why not the chart's own: at grafana/loki helm-loki-6.30.0 (production/helm/loki/values.yaml,
 * `gateway.nginxConfig.httpSnippet`) the tenant header is set from `$remote_user` once, in the
 * `http` block, while `templates/_helpers.tpl` (`loki.nginxFile`) gives the query locations
 * (`/loki/api/v1/`, `/loki/api/v1/tail`) `proxy_set_header` lines of their own; nginx inherits
 * `proxy_set_header` only into a level that sets none, so there the client's own X-Scope-OrgID
 * reaches Loki: any login could read any tenant. The chart's file also proxies every
 * component's API (delete requests, rules, `/flush`, `/ingester/shutdown`) to every login, and
 * its htpasswd comes from a Secret (`gateway.basicAuth`), which Pronto never writes to Git.
 *
 * @see https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header
 * @see https://nginx.org/en/docs/http/ngx_http_auth_basic_module.html
 */
/** A DNS label (lib/addons imports nothing but itself): lower-case letters, digits and "-", at most 63. */
const isDnsLabel = (name: string) => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name);

/** A login at the gateway: its user, the tenant it works in, and the API it may use. */
export interface LokiGatewayLogin {
  /** Basic-auth user name (a DNS label: it is an htpasswd key and an nginx map key). */
  readonly user: string;
  /** The Loki tenant (X-Scope-OrgID) of everything it pushes or reads. */
  readonly tenant: string;
  /** `push`: the push API only; `read`: the query APIs only. */
  readonly access: 'push' | 'read';
}

/** What the gateway's nginx.conf is rendered from. */
export interface LokiGatewayConfig {
  /** The logins; none: every API answers 403 (Loki with no shipper and no reader). */
  readonly logins: readonly LokiGatewayLogin[];
  /** The htpasswd file (`user:crypt hash` lines), in the gateway container. */
  readonly htpasswdFile: string;
  /**
   * Loki's HTTP API behind the gateway, `<service>.<namespace>.svc.cluster.local:<port>`: an
   * `upstream` group, so nginx resolves it when it starts (a Service's address does not move)
   * and needs no `resolver` for the proxy_pass with variables.
   */
  readonly upstream: string;
  /** Port the container listens on (IPv4 and IPv6). */
  readonly port: number;
  /** Largest push body accepted, as nginx writes a size (`4M`). */
  readonly clientMaxBodySize: string;
  /**
   * TLS: nginx serves HTTPS on {@link port} with the certificate and key files of folder
   * `dir` (PEM, a cert-manager Secret's volume). nginx reads them at every handshake (a
   * variable in the path), so cert-manager's renewal takes effect with no reload: nginx
   * reads a fixed path only when it starts. @default - plain HTTP
   */
  readonly tls?: { readonly dir: string; readonly certFile: string; readonly keyFile: string };
}

/** Loki's push API: the only path a pusher reaches. */
export const LOKI_PUSH_PATH = '/loki/api/v1/push';
/** Loki's websocket tail API (read), which needs the upgrade headers. */
export const LOKI_TAIL_PATH = '/loki/api/v1/tail';
/**
 * The query APIs a reader reaches (Grafana's Loki datasource uses these): grafana/loki@v3.5.0
 * pkg/loki/modules.go (querier and query-frontend routes) and pkg/loki/loki.go (buildinfo,
 * format_query). Not the delete API (`/loki/api/v1/delete`, the compactor's), the rules API,
 * `/loki/api/v1/cache/generation_numbers` or any `/api/prom/` legacy path.
 */
export const LOKI_READ_PATHS: readonly string[] = [
  'query', 'query_range', 'label', 'labels', 'label/[^/]+/values', 'series', 'index/stats', 'index/shards', 'index/volume', 'index/volume_range',
  'patterns', 'detected_labels', 'detected_fields', 'detected_field/[^/]+/values', 'status/buildinfo', 'format_query',
];

/** Name of the upstream group of Loki's API. */
const UPSTREAM = 'loki_api';

/** Loki's tenant ids: at most 150 of these characters (Loki's own rule). */
const TENANT = /^[A-Za-z0-9!\-_.*'()]{1,150}$/;

/** An nginx double-quoted string; the callers' values hold no `"`, `\` or `$`. */
const quoted = (text: string) => `"${text}"`;

/** The problems of `config`, each naming the login or field; empty when it renders. */
export function lokiGatewayProblems(config: LokiGatewayConfig): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const l of config.logins) {
    if (!isDnsLabel(l.user)) problems.push(`login "${l.user}": expected a user name that is a DNS label (lower-case letters, digits and "-")`);
    if (seen.has(l.user)) problems.push(`login "${l.user}": expected each user once`);
    seen.add(l.user);
    if (!TENANT.test(l.tenant) || l.tenant === '.' || l.tenant === '..') problems.push(`login "${l.user}": tenant "${l.tenant}": expected a Loki tenant id`);
  }
  if (!/^[a-z0-9.-]+:\d{1,5}$/.test(config.upstream)) problems.push(`upstream "${config.upstream}": expected <host>:<port>`);
  if (!/^\/[-_.a-zA-Z0-9/]+$/.test(config.htpasswdFile)) problems.push(`htpasswdFile "${config.htpasswdFile}": expected an absolute path`);
  if (config.tls && !/^\/[-_.a-zA-Z0-9/]+[^/]$/.test(config.tls.dir)) problems.push(`tls.dir "${config.tls.dir}": expected an absolute path`);
  for (const f of config.tls ? [config.tls.certFile, config.tls.keyFile] : []) {
    if (!/^[-_.a-zA-Z0-9]+$/.test(f)) problems.push(`tls: "${f}": expected a file name in tls.dir`);
  }
  return problems;
}

/**
 * The text of nginx.conf. The chart passes it through Helm's `tpl`, so it holds no `{{`. The
 * parts that are not about access follow the chart's own file (`loki.nginxFile` at
 * helm-loki-6.30.0): worker and temp paths under /tmp (read-only root), timeouts of 600 s,
 * the access log on stderr, the body limit.
 */
export function renderLokiGatewayNginx(config: LokiGatewayConfig): string {
  const problems = lokiGatewayProblems(config);
  if (problems.length > 0) throw new Error(`Loki gateway: ${problems.join('; ')}`);
  const pushers = config.logins.filter((l) => l.access === 'push');
  const readers = config.logins.filter((l) => l.access === 'read');
  /** `$loki_<access>_refused`: 1 for a login that may not, 0 for one that may; the empty user passes, so auth_basic answers 401. */
  const refusedMap = (access: string, logins: readonly LokiGatewayLogin[]) => [
    `  map $remote_user $loki_${access}_refused {`,
    '    default 1;',
    '    "" 0;',
    ...logins.map((l) => `    ${quoted(l.user)} 0;`),
    '  }',
  ];
  // Each proxying location sets every header it needs itself: a location with one proxy_set_header inherits none.
  const proxy = (access: 'push' | 'read', extra: string[] = []) => [
    `      if ($loki_${access}_refused) { return 403; }`,
    '      # The login\'s tenant, whatever the client sent; the password never reaches Loki.',
    '      proxy_set_header X-Scope-OrgID $loki_tenant;',
    '      proxy_set_header Authorization "";',
    ...extra.map((l) => `      ${l}`),
    // The path nginx matched (normalized), not the client's raw one.
    `      proxy_pass       http://${UPSTREAM}$uri$is_args$args;`,
  ];
  const ssl = config.tls ? ' ssl' : '';
  const lines = [
    '# Rendered by Pronto (lib/addons/loki-gateway.ts), in place of the chart\'s loki.nginxFile: a login per',
    '# workload, the tenant set from the login, and only the API each login needs.',
    'worker_processes  5;',
    'error_log  /dev/stderr;',
    'pid        /tmp/nginx.pid;',
    'worker_rlimit_nofile 8192;',
    '',
    'events {',
    '  worker_connections  4096;',
    '}',
    '',
    'http {',
    '  client_body_temp_path /tmp/client_temp;',
    '  proxy_temp_path       /tmp/proxy_temp_path;',
    '  fastcgi_temp_path     /tmp/fastcgi_temp;',
    '  uwsgi_temp_path       /tmp/uwsgi_temp;',
    '  scgi_temp_path        /tmp/scgi_temp;',
    '',
    `  client_max_body_size  ${config.clientMaxBodySize};`,
    '  proxy_read_timeout    600;',
    '  proxy_send_timeout    600;',
    '  proxy_connect_timeout 600;',
    '  proxy_http_version    1.1;',
    '  server_tokens         off;',
    '',
    '  default_type application/octet-stream;',
    '  log_format   main \'$remote_addr - $remote_user [$time_local]  $status "$request" $body_bytes_sent "$http_user_agent"\';',
    '  access_log   /dev/stderr  main;',
    '  sendfile     on;',
    '  tcp_nopush   on;',
    '',
    `  upstream ${UPSTREAM} {`,
    `    server ${config.upstream};`,
    '  }',
    '',
    '  # The tenant of each login: nothing the client sends chooses it.',
    '  map $remote_user $loki_tenant {',
    '    default "";',
    ...config.logins.map((l) => `    ${quoted(l.user)} ${quoted(l.tenant)};`),
    '  }',
    ...refusedMap('push', pushers),
    ...refusedMap('read', readers),
    ...(config.tls ? [
      '',
      '  # A variable in the path: nginx reads the files at every handshake, so a renewed certificate is served',
      '  # without a reload (a fixed path is read once, when nginx starts).',
      '  map $server_port $loki_tls_dir {',
      `    default ${quoted(config.tls.dir)};`,
      '  }',
      `  ssl_certificate     $loki_tls_dir/${config.tls.certFile};`,
      `  ssl_certificate_key $loki_tls_dir/${config.tls.keyFile};`,
      '  ssl_protocols       TLSv1.2 TLSv1.3;',
    ] : []),
    '',
    '  server {',
    `    listen             ${config.port}${ssl};`,
    `    listen             [::]:${config.port}${ssl};`,
    '',
    '    auth_basic           "Loki";',
    `    auth_basic_user_file ${config.htpasswdFile};`,
    '',
    '    # The readiness probe (the chart\'s GET /).',
    '    location = / {',
    '      auth_basic off;',
    '      return 200 \'OK\';',
    '    }',
    '',
    '    location = /loki/api/v1/push {',
    '      limit_except POST { deny all; }',
    ...proxy('push'),
    '    }',
    '',
    `    location = ${LOKI_TAIL_PATH} {`,
    ...proxy('read', ['proxy_set_header Upgrade $http_upgrade;', 'proxy_set_header Connection "upgrade";']),
    '    }',
    '',
    `    location ~ ^/loki/api/v1/(${LOKI_READ_PATHS.join('|')})$ {`,
    ...proxy('read'),
    '    }',
    '',
    '    # Every other API (delete requests, rules, flush, rings, config, OTLP): nobody\'s.',
    '    location / {',
    '      return 404;',
    '    }',
    '  }',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The agent template of the htpasswd file: one `user:hash` line per login, each hash the
 * field named after the user in the Vault entry read (a crypt(3) hash such as SHA-512 crypt,
 * `openssl passwd -6`). A field that is missing renders `<no value>`, which matches no
 * password: that login is refused, the others work.
 */
export function lokiGatewayHtpasswdTemplate(logins: readonly LokiGatewayLogin[]): string {
  return logins.map((l) => `${l.user}:{{ index .Data.data ${JSON.stringify(l.user)} }}`).join('\n');
}
