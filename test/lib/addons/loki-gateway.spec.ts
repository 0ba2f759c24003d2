/**
 * The Loki gateway's nginx.conf renderer and the values around it (lib/addons/loki-gateway.ts,
 * lib/addons/loki.ts), read as text: every location that proxies sets the tenant from the
 * login and drops the client's credentials; only the push and query APIs are proxied; the
 * file survives Helm's `tpl`; bad models are refused with the login named. Real nginx runs the
 * shipped file in test/tools/loki-gateway.spec.ts.
 */
import {
  LOKI_GATEWAY, LOKI_GATEWAY_POD_LABELS, LOKI_POD_LABELS, LOKI_READ_PATHS, LokiGatewayConfig, lokiContract, lokiGatewayHtpasswdTemplate, lokiGatewayProblems,
  lokiNetworkPolicies, lokiValues, renderLokiGatewayNginx,
} from '../../../lib/addons';

const LOGINS = [
  { user: 'order-service', tenant: 'pronto-test', access: 'push' as const },
  { user: 'kitchen-display', tenant: 'pronto-test', access: 'push' as const },
  { user: 'grafana', tenant: 'pronto-test', access: 'read' as const },
];
const BASE: LokiGatewayConfig = {
  logins: LOGINS, htpasswdFile: '/vault/secrets/loki-htpasswd', upstream: 'loki.loki.svc.cluster.local:3100', port: 8080, clientMaxBodySize: '4M',
};

/** The `location … { … }` blocks of the text, with their bodies (one level of nested braces, `limit_except` and `if`). */
function locations(text: string): Array<{ match: string; body: string }> {
  return [...text.matchAll(/^ {4}location ([^{]+)\{\n([\s\S]*?)^ {4}\}/gm)].map((m) => ({ match: m[1].trim(), body: m[2] }));
}

describe('the Loki gateway\'s nginx.conf', () => {
  const text = renderLokiGatewayNginx(BASE);

  test('every location that proxies sets X-Scope-OrgID from the login and clears Authorization itself (nginx inherits proxy_set_header into no level that sets one)', () => {
    const proxying = locations(text).filter((l) => l.body.includes('proxy_pass'));
    expect(proxying.map((l) => l.match)).toEqual(['= /loki/api/v1/push', '= /loki/api/v1/tail', `~ ^/loki/api/v1/(${LOKI_READ_PATHS.join('|')})$`]);
    for (const l of proxying) {
      expect(l.body).toContain('proxy_set_header X-Scope-OrgID $loki_tenant;');
      expect(l.body).toContain('proxy_set_header Authorization "";');
      // The normalized path nginx matched, never the raw one.
      expect(l.body).toMatch(/proxy_pass +http:\/\/loki_api\$uri\$is_args\$args;/);
      expect(l.body).not.toContain('$request_uri');
    }
    // No level above sets any: nothing to inherit, nothing forgotten.
    expect(text.split('\n').filter((line) => line.includes('proxy_set_header') && !/^ {6}/.test(line))).toEqual([]);
  });

  test('the tenant of each login comes from a map on the authenticated user; pushers push only, readers read only', () => {
    expect(text).toContain('map $remote_user $loki_tenant {\n    default "";\n    "order-service" "pronto-test";\n    "kitchen-display" "pronto-test";\n    "grafana" "pronto-test";\n  }');
    expect(text).toContain('map $remote_user $loki_push_refused {\n    default 1;\n    "" 0;\n    "order-service" 0;\n    "kitchen-display" 0;\n  }');
    expect(text).toContain('map $remote_user $loki_read_refused {\n    default 1;\n    "" 0;\n    "grafana" 0;\n  }');
    const [push, tail, read] = locations(text).filter((l) => l.body.includes('proxy_pass'));
    expect(push.body).toContain('if ($loki_push_refused) { return 403; }');
    expect(push.body).toContain('limit_except POST { deny all; }');
    for (const l of [tail, read]) expect(l.body).toContain('if ($loki_read_refused) { return 403; }');
  });

  test('every request logs in (basic auth at the server), but the readiness probe; anything else is 404, before any upstream', () => {
    expect(text).toContain('    auth_basic           "Loki";\n    auth_basic_user_file /vault/secrets/loki-htpasswd;\n');
    const all = locations(text);
    expect(all.find((l) => l.match === '= /')!.body).toContain('auth_basic off;');
    expect(all.find((l) => l.match === '/')!.body.trim()).toBe('return 404;');
    expect(all.map((l) => l.match)).toHaveLength(5);
    for (const api of ['delete', 'rules', 'cache/generation_numbers']) expect(new RegExp(`^(${LOKI_READ_PATHS.join('|')})$`).test(api)).toBe(false);
  });

  test('the upstream is an upstream group (resolved at start, no resolver); plain HTTP by default, HTTPS with tls', () => {
    expect(text).toContain('  upstream loki_api {\n    server loki.loki.svc.cluster.local:3100;\n  }');
    expect(text).not.toContain('resolver');
    expect(text).toContain('    listen             8080;\n    listen             [::]:8080;');
    expect(text).not.toContain('ssl');
    const tls = renderLokiGatewayNginx({ ...BASE, tls: { dir: '/etc/loki-gateway-tls', certFile: 'tls.crt', keyFile: 'tls.key' } });
    expect(tls).toContain('    listen             8080 ssl;\n    listen             [::]:8080 ssl;');
    // A variable in the path: read at every handshake, so a renewed certificate needs no reload.
    expect(tls).toContain('  map $server_port $loki_tls_dir {\n    default "/etc/loki-gateway-tls";\n  }\n'
      + '  ssl_certificate     $loki_tls_dir/tls.crt;\n  ssl_certificate_key $loki_tls_dir/tls.key;\n  ssl_protocols       TLSv1.2 TLSv1.3;');
  });

  test('Helm passes the file through tpl: it holds no template action', () => {
    expect(text).not.toContain('{{');
  });

  test('no login: nobody passes (every map refuses every user but the empty one, which auth_basic then answers 401)', () => {
    const none = renderLokiGatewayNginx({ ...BASE, logins: [] });
    expect(none).toContain('map $remote_user $loki_push_refused {\n    default 1;\n    "" 0;\n  }');
    expect(none).toContain('map $remote_user $loki_read_refused {\n    default 1;\n    "" 0;\n  }');
  });

  test.each<[string, Partial<LokiGatewayConfig>, string]>([
    ['a user that is not a DNS label', { logins: [{ user: 'Order:Service', tenant: 't', access: 'push' }] }, 'login "Order:Service": expected a user name that is a DNS label (lower-case letters, digits and "-")'],
    ['a user twice', { logins: [LOGINS[0], LOGINS[0]] }, 'login "order-service": expected each user once'],
    ['a tenant Loki refuses', { logins: [{ user: 'a', tenant: 'a b', access: 'push' }] }, 'login "a": tenant "a b": expected a Loki tenant id'],
    ['an upstream with a scheme', { upstream: 'http://loki:3100' }, 'upstream "http://loki:3100": expected <host>:<port>'],
    ['a relative htpasswd file', { htpasswdFile: 'htpasswd' }, 'htpasswdFile "htpasswd": expected an absolute path'],
  ])('fails on %s, naming it', (_name, change, message) => {
    expect(lokiGatewayProblems({ ...BASE, ...change })).toContain(message);
    expect(() => renderLokiGatewayNginx({ ...BASE, ...change })).toThrow(message);
  });
});

describe('the htpasswd template and the add-on\'s values', () => {
  test('one line per login, its hash the field named after the user (index: user names hold "-")', () => {
    expect(lokiGatewayHtpasswdTemplate(LOGINS)).toBe(
      'order-service:{{ index .Data.data "order-service" }}\nkitchen-display:{{ index .Data.data "kitchen-display" }}\ngrafana:{{ index .Data.data "grafana" }}');
  });

  test('the values carry the file, the agent\'s annotations and token volume, and the NetworkPolicies; no Secret, no basicAuth of the chart\'s', () => {
    const contract = lokiContract('logs');
    const agent = { podAnnotations: { 'vault.hashicorp.com/agent-inject': 'true' }, volumes: [{ name: 'vault-token', projected: { sources: [] } }] };
    const values = lokiValues(contract, { retentionDays: 7, gateway: { nginx: { logins: LOGINS }, vaultAgent: agent, clients: [{ namespace: 'pronto', podLabels: { app: 'x' } }] } }) as any;
    expect(values.gateway.nginxConfig.file).toContain('server loki.logs.svc.cluster.local:3100;');
    expect(values.gateway.nginxConfig.file).toContain(`auth_basic_user_file ${LOKI_GATEWAY.secretVolumePath}/${LOKI_GATEWAY.htpasswdFile};`);
    expect(values.gateway.podAnnotations).toEqual(agent.podAnnotations);
    expect(values.gateway.extraVolumes).toEqual(agent.volumes);
    expect(values.gateway.basicAuth).toBeUndefined();
    expect(values.loki.tenants).toBeUndefined();
    expect(values.extraObjects).toEqual(lokiNetworkPolicies('logs', [{ namespace: 'pronto', podLabels: { app: 'x' } }]));
    expect(JSON.stringify(values)).not.toContain('{{');
    // Without an agent (no login): no annotations, no volume.
    const bare = lokiValues(contract, { retentionDays: 7, gateway: { nginx: { logins: [] }, clients: [] } }) as any;
    expect([bare.gateway.podAnnotations, bare.gateway.extraVolumes]).toEqual([undefined, undefined]);
  });

  test('the NetworkPolicies: Loki\'s pods take connections from Loki\'s pods; the gateway, besides, from each client on its port; no client, nobody else', () => {
    const [own, gateway] = lokiNetworkPolicies('loki', [{ namespace: 'pronto', podLabels: { 'app.kubernetes.io/name': 'order-service' } }]) as any[];
    expect(own.spec).toEqual({ podSelector: { matchLabels: LOKI_POD_LABELS }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: LOKI_POD_LABELS } }] }] });
    expect(gateway.spec).toEqual({
      podSelector: { matchLabels: LOKI_GATEWAY_POD_LABELS }, policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'pronto' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'order-service' } } }], ports: [{ port: LOKI_GATEWAY.port, protocol: 'TCP' }] }],
    });
    expect((lokiNetworkPolicies('loki', [])[1] as any).spec.ingress).toEqual([]);
  });
});
