import { sha256Hex } from '../../../lib/core';
import { GatewayModel, IMAGE_PATHS, WAF_DENY_RULE, gatewayModelProblems, renderModSecurityConf, renderNginxConf } from '../../../lib/gateway';
import { MODEL } from './fixture';

/** The public server's part of the configuration (not the redirect, misdirected-host or probes' servers). */
const publicPart = (conf: string) => conf.split(/# (?:Probes only|Plain HTTP only|Any Host but)/)[0];

/** The body of each `location` block of the public server, by matcher. */
function locations(conf: string): Map<string, string> {
  return new Map([...publicPart(conf).matchAll(/location ([^{]+?) \{\n([\s\S]*?)\n\s*\}/g)].map((m) => [m[1], m[2]]));
}

/** The matchers of the public server's proxied locations, in order. */
const proxiedMatchers = (conf: string) => [...locations(conf)].filter(([, body]) => body.includes('proxy_pass')).map(([m]) => m);

describe('renderNginxConf', () => {
  const conf = renderNginxConf(MODEL);

  test('is deterministic and states what SREs look for', () => {
    expect(renderNginxConf(MODEL)).toBe(conf);
    for (const line of ['server_tokens off;', 'limit_req_status 429;', 'limit_conn_status 429;', 'real_ip_header X-Forwarded-For;', 'real_ip_recursive on;',
      'modsecurity on;', 'daemon off;', 'worker_shutdown_timeout 60s;', 'access_log /dev/stdout pronto_json;', `pid ${IMAGE_PATHS.writableDir}/nginx.pid;`]) {
      expect(conf).toContain(line);
    }
    for (const cidr of MODEL.trustedProxies) expect(conf).toContain(`set_real_ip_from ${cidr};`);
    expect(conf).toMatch(/log_format pronto_json escape=json/);
    expect(conf).toContain('https "max-age=31536000; includeSubDomains";');
  });

  test('every location repeats every security header with always, and the rate limits', () => {
    const locs = locations(conf);
    const proxied = [...locs].filter(([, body]) => body.includes('proxy_pass'));
    expect(proxied.length).toBe(MODEL.routes.filter((r) => r.path !== '/').length * 2 + 1 + MODEL.rateLimits.strictPaths.length * 2);
    for (const [matcher, body] of proxied) {
      for (const header of ['Strict-Transport-Security', 'Content-Security-Policy', 'X-Content-Type-Options', 'X-Frame-Options', 'Referrer-Policy', 'Permissions-Policy']) {
        expect([matcher, body]).toEqual([matcher, expect.stringMatching(new RegExp(`add_header ${header} .* always;`))]);
      }
      expect(body).toContain('limit_req zone=pronto_per_client burst=40 nodelay;');
      expect(body).toContain('limit_conn pronto_connections 50;');
      expect(body).toContain('proxy_set_header traceparent $pronto_traceparent;');
      expect(body).toContain('proxy_set_header X-Request-ID $pronto_request_id;');
    }
    for (const matcher of ['= /login', '/login/']) {
      expect(locs.get(matcher)).toContain('limit_req zone=pronto_login_payment burst=5 nodelay;');
      expect(locs.get(matcher)).toContain('proxy_pass http://svc_web;');
    }
    for (const matcher of ['/', '= /live', '/live/']) expect(locs.get(matcher)).not.toContain('pronto_login_payment');
  });

  test('strict paths match whole path segments: /loginfoo is not /login', () => {
    // A bare prefix `location /login` would also take /loginfoo.
    expect(conf).not.toMatch(/location \/login \{/);
    expect(conf).toContain('location = /login {');
    expect(conf).toContain('location /login/ {');
  });

  test('a strict path that is a route\'s own path makes that route\'s locations strict, without a second pair', () => {
    const both = renderNginxConf({ ...MODEL, rateLimits: { ...MODEL.rateLimits, strictPaths: ['/login', '/live', '/live/pay'] } });
    expect(proxiedMatchers(both)).toEqual(['/', '= /live', '/live/', '= /live/pay', '/live/pay/', '= /login', '/login/']);
    const locs = locations(both);
    for (const matcher of ['= /live', '/live/', '= /live/pay', '/live/pay/']) {
      expect(locs.get(matcher)).toContain('limit_req zone=pronto_login_payment burst=5 nodelay;');
      expect(locs.get(matcher)).toContain('proxy_pass http://svc_live;');
      expect(locs.get(matcher)).toContain('proxy_set_header Upgrade $pronto_upgrade;');
    }
    expect(locs.get('/')).not.toContain('pronto_login_payment');
  });

  test('responses are streamed, never spooled to the emptyDir; request bodies spool there', () => {
    expect(conf).toContain('proxy_max_temp_file_size 0;');
    expect(conf).toContain(`client_body_temp_path ${IMAGE_PATHS.writableDir}/nginx-client-body;`);
    expect(conf).toContain('client_max_body_size 1048576;');
  });

  test('routes: per-route CSP, and upgrade headers and long timeouts on long-lived routes only', () => {
    const locs = locations(conf);
    expect(locs.get('/live/')).toContain("connect-src 'self' wss:");
    expect(locs.get('/live/')).toContain('proxy_set_header Upgrade $pronto_upgrade;');
    expect(locs.get('/live/')).toContain('proxy_read_timeout 3600s;');
    expect(locs.get('/')).toContain('proxy_set_header Upgrade "";');
    expect(locs.get('/')).toContain('proxy_read_timeout 60s;');
    expect(conf).toContain('server web.shop.svc.cluster.local:80;');
  });

  test('the edge hardening: blocked paths, host allow-list, client timeouts, forwarded headers, WebSocket-only upgrades, 5xx bodies', () => {
    const locs = locations(conf);
    // Blocked paths under every route: 404 before any proxying.
    for (const prefix of MODEL.routes.map((r) => (r.path === '/' ? '' : r.path))) {
      for (const p of MODEL.blockedPaths) {
        for (const matcher of [`= ${prefix}${p}`, `^~ ${prefix}${p}/`]) {
          expect([matcher, locs.get(matcher)]).toEqual([matcher, expect.stringContaining('return 404;')]);
          expect(locs.get(matcher)).not.toContain('proxy_pass');
        }
      }
    }
    // Only the allowed hosts reach the public server; any other Host gets 421 from a default server.
    expect(publicPart(conf)).toContain(`server_name ${MODEL.hosts.join(' ')};`);
    expect(conf).toMatch(/listen 8080 default_server;\n(?:.*\n)*?\s+return 421;/);
    const anyHost = renderNginxConf({ ...MODEL, hosts: [] });
    expect(anyHost).toContain('server_name _;');
    expect(anyHost).not.toContain('default_server');
    for (const line of ['client_header_timeout 10s;', 'client_body_timeout 10s;', 'keepalive_timeout 15s;']) expect(conf).toContain(line);
    for (const matcher of proxiedMatchers(conf)) {
      const body = locs.get(matcher)!;
      expect(body).toContain('proxy_set_header X-Forwarded-Host $host;');
      for (const h of ['X-Forwarded-Port', 'X-Forwarded-Prefix', 'X-Forwarded-Server', 'Forwarded', 'X-Original-URL', 'X-Rewrite-URL']) expect(body).toContain(`proxy_set_header ${h} "";`);
      expect(body).toContain('proxy_intercept_errors on;');
    }
    expect(conf).toContain('"~*^websocket$" websocket;');
    expect(publicPart(conf)).toContain('error_page 500 502 503 504 /pronto-upstream-error;');
    expect(locs.get('= /pronto-upstream-error')).toContain('internal;');
  });

  test('a route with source ranges allows only them', () => {
    const restricted = renderNginxConf({ ...MODEL, routes: [MODEL.routes[0], { ...MODEL.routes[1], sourceRanges: ['203.0.113.0/24'] }] });
    const locs = locations(restricted);
    for (const matcher of ['= /live', '/live/']) expect(locs.get(matcher)).toMatch(/allow 203\.0\.113\.0\/24;\n\s+deny all;/);
    expect(locs.get('/')).not.toContain('deny all;');
  });

  test('TLS at the gateway: HTTPS listener with the certificate, HTTP only redirects', () => {
    const tls = renderNginxConf({ ...MODEL, tls: { mode: 'gateway', certificateFile: '/tls/tls.crt', keyFile: '/tls/tls.key' } });
    expect(tls).toContain('listen 8443 ssl;');
    expect(tls).toContain('ssl_certificate /tls/tls.crt;');
    expect(tls).toContain('return 308 https://$host$request_uri;');
  });
});

describe('renderModSecurityConf', () => {
  const conf = renderModSecurityConf(MODEL);
  test('blocks (never DetectionOnly), with the CRS and its setup from the model', () => {
    expect(conf).toMatch(/^SecRuleEngine On$/m);
    expect(conf).not.toMatch(/^SecRuleEngine DetectionOnly/m);
    expect(conf).toContain("setvar:'tx.allowed_methods=GET HEAD POST OPTIONS PUT PATCH DELETE'");
    expect(conf).toContain('setvar:tx.blocking_paranoia_level=2');
    expect(conf).toContain('setvar:tx.inbound_anomaly_score_threshold=7');
    expect(conf).toContain('setvar:tx.crs_setup_version=4180');
    expect(conf).toContain(`Include ${IMAGE_PATHS.crsRules}/*.conf`);
  });

  test('body limits: the whole body and the body without files (JSON, forms) each from the model', () => {
    expect(conf).toMatch(/^SecRequestBodyLimit 1048576$/m);
    expect(conf).toMatch(/^SecRequestBodyNoFilesLimit 262144$/m);
    const big = renderModSecurityConf({ ...MODEL, waf: { ...MODEL.waf, requestBodyLimitBytes: 10485760, requestBodyNoFilesLimitBytes: 1048576 } });
    expect(big).toMatch(/^SecRequestBodyNoFilesLimit 1048576$/m);
  });

  test('the audit log names the transaction only: no request headers or bodies, and no rule messages (part H holds matched values)', () => {
    expect(conf).toMatch(/^SecAuditLogParts AZ$/m);
    const parts = /^SecAuditLogParts (\w+)$/m.exec(conf)![1];
    for (const part of ['B', 'C', 'E', 'F', 'H', 'I', 'J', 'K']) expect([part, parts]).toEqual([part, expect.not.stringContaining(part)]);
  });

  test('no CRS rule writes its own message; each appends "<id>@<variable>" to TX:pronto_matches, which the one deny (rule 200020) reports', () => {
    const defaults = conf.split('\n').filter((l) => l.startsWith('SecDefaultAction'));
    expect(defaults.map((l) => /phase:(\d)/.exec(l)![1])).toEqual(['1', '2']);
    for (const line of defaults) {
      expect(line).toMatch(/"phase:\d,pass,nolog,/);
      expect(line).not.toMatch(/[",]log,|auditlog/);
      expect(line).toContain("setvar:'tx.pronto_m%{RULE.severity}= %{RULE.id}@%{MATCHED_VAR_NAME}'");
      // Never a value: no macro of the matched data.
      expect(line).not.toMatch(/MATCHED_VAR}|MATCHED_VARS|TX\.0|ARGS/);
    }
    // The CRS keeps its decision (rule 949110's condition); its deny moves to ours, after every CRS rule.
    const include = conf.indexOf(`Include ${IMAGE_PATHS.crsRules}/*.conf`);
    expect(conf.indexOf('SecRuleUpdateActionById 949110 "pass,setvar:tx.pronto_blocked=1"')).toBeGreaterThan(include);
    expect(conf).toMatch(new RegExp(`^SecRule TX:pronto_blocked "@eq 1" "id:${WAF_DENY_RULE},phase:2,deny,status:403,t:none,log,msg:'[^']*%\\{tx\\.pronto_matches\\}'"$`, 'm'));
    expect(conf.indexOf(`id:${WAF_DENY_RULE},`)).toBeGreaterThan(include);
  });

  test('bodies that do not parse, strictly, are refused (as modsecurity.conf-recommended)', () => {
    expect(conf).toMatch(/^SecRule REQBODY_ERROR "!@eq 0" "id:200002,phase:2,.*deny,status:400/m);
    expect(conf).toMatch(/^SecRule MULTIPART_STRICT_ERROR "!@eq 0" "id:200003,phase:2,.*deny,status:400,msg:'Multipart request body failed strict validation: .*FL %\{MULTIPART_FILE_LIMIT_EXCEEDED\}'"$/m);
  });
});

describe('gatewayModelProblems', () => {
  test.each<[string, Partial<GatewayModel>, string]>([
    ['an empty CSP', { headers: { ...MODEL.headers, defaultContentSecurityPolicy: ' ' } }, 'default Content-Security-Policy: expected a value'],
    ['a CSP with a variable', { routes: [{ ...MODEL.routes[0], contentSecurityPolicy: "default-src $host" }] }, 'expected no double quote, backslash, $'],
    ['a rate of zero', { rateLimits: { ...MODEL.rateLimits, requestsPerSecond: 0 } }, 'requestsPerSecond: expected an integer ≥ 1, found 0'],
    ['no routes', { routes: [] }, 'expected at least one public route'],
    ['a strict path under no route', { routes: [MODEL.routes[1]] }, 'strict path /login: expected a path under a public route'],
    ['a no-files limit over the body limit', { waf: { ...MODEL.waf, requestBodyNoFilesLimitBytes: 2097152 } }, 'requestBodyNoFilesLimitBytes: expected at most requestBodyLimitBytes (1048576), found 2097152'],
    ['a host that is not a DNS name', { hosts: ['shop.example.com:443'] }, 'gateway host: expected a DNS name such as shop.example.com, found "shop.example.com:443"'],
    ['a blocked path with a trailing slash', { blockedPaths: ['/metrics/'] }, 'gateway blocked path: expected a path such as /metrics, found "/metrics/"'],
    ['a route with an empty source list', { routes: [{ ...MODEL.routes[0], sourceRanges: [] }] }, 'gateway route /: expected at least one source range'],
    ['a zero header timeout', { timeouts: { ...MODEL.timeouts, clientHeaderSeconds: 0 } }, 'clientHeaderSeconds: expected an integer ≥ 1, found 0'],
  ])('%s', (_name, change, message) => {
    expect(gatewayModelProblems({ ...MODEL, ...change }).join('\n')).toContain(message);
    expect(() => renderNginxConf({ ...MODEL, ...change })).toThrow(message);
  });
  test('a valid model has none', () => expect(gatewayModelProblems(MODEL)).toEqual([]));
});

test('sha256Hex matches the standard test vectors', () => {
  expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  expect(sha256Hex('a'.repeat(1000))).toBe('41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3');
});
