/**
 * The shippers' configurations: Promtail's and Alloy's pipelines are the same stages over
 * the same model, labels stay low-cardinality, session/user/trace go to structured metadata.
 */
import { parse } from 'yaml';
import {
  LEVEL_LABEL, LOG_FIELDS, LogPipeline, STATIC_LABELS, STREAM_LABELS, STRUCTURED_METADATA_FIELDS, renderAlloyConfig, renderPromtailConfig,
} from '../../../lib/logs';

const pipeline: LogPipeline = {
  logFile: '/var/log/pronto/app.log',
  positionsPath: '/var/log/pronto/positions.yaml',
  push: { url: 'http://loki-gateway.loki.svc.cluster.local/loki/api/v1/push', tenant: 'pronto' },
  labels: { service: 'order-service', namespace: 'pronto', environment: 'prod' },
  httpPort: 9080,
};

describe('renderPromtailConfig', () => {
  const config = parse(renderPromtailConfig(pipeline));
  const job = config.scrape_configs[0];
  const stage = (name: string) => job.pipeline_stages.find((s: any) => name in s)[name];

  test('tails the log file with the static labels, keeps positions where told, listens on the HTTP port', () => {
    expect(config.server).toEqual({ http_listen_port: 9080, grpc_listen_port: 0 });
    expect(config.positions).toEqual({ filename: pipeline.positionsPath });
    expect(job.static_configs).toEqual([{ targets: ['localhost'], labels: { ...pipeline.labels, __path__: pipeline.logFile } }]);
  });

  test('pushes to the URL with the tenant; without a tenant, no tenant_id', () => {
    expect(config.clients).toEqual([{ url: pipeline.push.url, tenant_id: 'pronto' }]);
    expect(parse(renderPromtailConfig({ ...pipeline, push: { url: pipeline.push.url } })).clients).toEqual([{ url: pipeline.push.url }]);
  });

  test('stages: json, labels (level only), structured metadata (session, user, trace), timestamp, drop filename', () => {
    expect(job.pipeline_stages.map((s: any) => Object.keys(s)[0])).toEqual(['json', 'labels', 'structured_metadata', 'timestamp', 'labeldrop']);
    expect(Object.keys(stage('json').expressions).sort()).toEqual([LEVEL_LABEL, ...STRUCTURED_METADATA_FIELDS, 'timestamp'].sort());
    expect(stage('labels')).toEqual({ level: null });
    expect(stage('structured_metadata')).toEqual({ session_id: null, user: null, trace_id: null });
    expect(stage('timestamp')).toEqual({ source: 'timestamp', format: 'RFC3339Nano' });
    expect(stage('labeldrop')).toEqual(['filename']);
  });

  test('no high-cardinality field of the log standard is ever a label', () => {
    const labels = [...Object.keys(job.static_configs[0].labels).filter((l) => l !== '__path__'), ...Object.keys(stage('labels'))];
    expect(labels.sort()).toEqual([...STREAM_LABELS].sort());
    for (const field of STRUCTURED_METADATA_FIELDS) expect(labels).not.toContain(field);
    expect(LOG_FIELDS).toEqual(['timestamp', 'level', 'service', 'message', 'session_id', 'user', 'trace_id']);
  });
});

describe('renderAlloyConfig', () => {
  const text = renderAlloyConfig(pipeline);
  const block = (header: string) => {
    const start = text.indexOf(`${header} {`);
    expect(start).toBeGreaterThanOrEqual(0);
    return text.slice(start, text.indexOf('\n}\n', start));
  };

  test('file match → source → process → write, wired by the components\' exports', () => {
    expect([...text.matchAll(/^([a-z_.]+) "app" \{$/gm)].map((m) => m[1])).toEqual(['local.file_match', 'loki.source.file', 'loki.process', 'loki.write']);
    expect(block('loki.source.file "app"')).toContain('targets    = local.file_match.app.targets');
    expect(block('loki.source.file "app"')).toContain('forward_to = [loki.process.app.receiver]');
    expect(block('loki.process "app"')).toContain('forward_to = [loki.write.app.receiver]');
  });

  test('the same targets, labels and push as Promtail\'s', () => {
    const match = block('local.file_match "app"');
    expect(match).toContain(`"__path__" = "${pipeline.logFile}"`);
    for (const label of STATIC_LABELS) expect(match).toContain(`"${label}" = "${pipeline.labels[label]}"`);
    expect(block('loki.write "app"')).toContain(`url = "${pipeline.push.url}"`);
    expect(block('loki.write "app"')).toContain('tenant_id = "pronto"');
    expect(renderAlloyConfig({ ...pipeline, push: { url: pipeline.push.url } })).not.toContain('tenant_id');
  });

  test('the same stages in the same order: json, labels (level), structured metadata, timestamp, drop filename', () => {
    const process = block('loki.process "app"');
    expect([...process.matchAll(/^ {2}(stage\.[a-z_]+) \{$/gm)].map((m) => m[1]))
      .toEqual(['stage.json', 'stage.labels', 'stage.structured_metadata', 'stage.timestamp', 'stage.label_drop']);
    expect(process).toContain('expressions = { "level" = "level", "session_id" = "session_id", "user" = "user", "trace_id" = "trace_id", "timestamp" = "timestamp" }');
    expect(process).toMatch(/stage\.labels \{\n {4}values = \{ "level" = "" \}/);
    expect(process).toMatch(/stage\.structured_metadata \{\n {4}values = \{ "session_id" = "", "user" = "", "trace_id" = "" \}/);
    expect(process).toMatch(/stage\.timestamp \{\n {4}source = "timestamp"\n {4}format = "RFC3339Nano"/);
    expect(process).toMatch(/stage\.label_drop \{\n {4}values = \["filename"\]/);
  });

  test('braces balance and every string is closed', () => {
    expect(text.split('{').length).toBe(text.split('}').length);
    for (const line of text.split('\n')) expect((line.replace(/\\"/g, '').match(/"/g) ?? []).length % 2).toBe(0);
  });
});

/**
 * The keys of the client settings the shippers read, as their pinned releases declare them: Promtail 3.6.11 inlines
 * prometheus/common v0.67.5's HTTPClientConfig in its client config (grafana/loki@v3.6.11
 * clients/pkg/promtail/client/config.go; vendor/github.com/prometheus/common/config/http_config.go: BasicAuth and TLSConfig
 * yaml tags); Alloy v1.18.1's loki.write endpoint squashes its own HTTPClientConfig (grafana/alloy@v1.18.1
 * internal/component/loki/write/types.go, internal/component/common/config/types.go: basic_auth and tls_config blocks).
 */
const UPSTREAM_KEYS = {
  promtailBasicAuth: ['username', 'username_file', 'username_ref', 'password', 'password_file', 'password_ref'],
  promtailTls: ['ca', 'ca_file', 'cert', 'cert_file', 'key', 'key_file', 'ca_ref', 'cert_ref', 'key_ref', 'server_name', 'insecure_skip_verify', 'min_version', 'max_version'],
  alloyBasicAuth: ['username', 'password', 'password_file'],
  alloyTls: ['ca_pem', 'ca_file', 'cert_pem', 'cert_file', 'key_pem', 'key_file', 'server_name', 'insecure_skip_verify', 'min_version'],
};

describe('the login and the CA: keys the shippers declare', () => {
  const secured: LogPipeline = {
    ...pipeline,
    push: { ...pipeline.push, url: 'https://loki-gateway.loki.svc.cluster.local/loki/api/v1/push', basicAuth: { username: 'order-service', passwordFile: '/run/secrets/loki-push' }, caFile: '/etc/pronto/ca/internal-ca/ca.crt' },
  };

  test('Promtail: basic_auth.password_file and tls_config.ca_file in the client, nothing Promtail does not read', () => {
    const [client] = parse(renderPromtailConfig(secured)).clients;
    expect(client).toEqual({
      url: secured.push.url, tenant_id: 'pronto',
      basic_auth: { username: 'order-service', password_file: '/run/secrets/loki-push' },
      tls_config: { ca_file: '/etc/pronto/ca/internal-ca/ca.crt' },
    });
    for (const key of Object.keys(client.basic_auth)) expect(UPSTREAM_KEYS.promtailBasicAuth).toContain(key);
    for (const key of Object.keys(client.tls_config)) expect(UPSTREAM_KEYS.promtailTls).toContain(key);
    // No password in the file itself, ever.
    expect(renderPromtailConfig(secured)).not.toMatch(/^\s*password:/m);
  });

  test('Alloy: basic_auth { password_file } and tls_config { ca_file } inside the endpoint block', () => {
    const text = renderAlloyConfig(secured);
    const endpoint = text.slice(text.indexOf('  endpoint {'), text.indexOf('\n  }\n', text.indexOf('  endpoint {')));
    expect(endpoint).toContain('    basic_auth {\n      username      = "order-service"\n      password_file = "/run/secrets/loki-push"\n    }\n');
    expect(endpoint).toContain('    tls_config {\n      ca_file = "/etc/pronto/ca/internal-ca/ca.crt"\n    }');
    const keys = (block: string) => [...endpoint.slice(endpoint.indexOf(`${block} {`)).split('}')[0].matchAll(/^ {6}([a-z_]+) +=/gm)].map((m) => m[1]);
    for (const key of keys('basic_auth')) expect(UPSTREAM_KEYS.alloyBasicAuth).toContain(key);
    for (const key of keys('tls_config')) expect(UPSTREAM_KEYS.alloyTls).toContain(key);
    expect(keys('basic_auth')).toEqual(['username', 'password_file']);
    expect(keys('tls_config')).toEqual(['ca_file']);
  });

  test('without them: no basic_auth, no tls_config', () => {
    expect(renderPromtailConfig(pipeline)).not.toMatch(/basic_auth|tls_config/);
    expect(renderAlloyConfig(pipeline)).not.toMatch(/basic_auth|tls_config/);
  });
});
