/**
 * Promtail's configuration (YAML) for one service's pod: tail the shared log file, parse
 * each line as JSON, keep the labels low-cardinality, attach the session, user and trace
 * as structured metadata, and push to Loki. Pure: model in, text out.
 *
 * @see https://grafana.com/docs/loki/latest/send-data/promtail/configuration/
 */
import {
  EXTRACTED_FIELDS, LEVEL_LABEL, LogPipeline, SHIPPER_FILENAME_LABEL, STRUCTURED_METADATA_FIELDS, TIMESTAMP_FIELD, TIMESTAMP_FORMAT,
} from './model';

/** A YAML double-quoted scalar (JSON strings are valid YAML). */
const q = (text: string) => JSON.stringify(text);

/** The text of `promtail.yaml`. */
export function renderPromtailConfig(p: LogPipeline): string {
  const lines = [
    '# Rendered by Pronto (lib/logs/promtail-config.ts): the log shipper of one service\'s pods.',
    'server:',
    `  http_listen_port: ${p.httpPort}`,
    '  grpc_listen_port: 0',
    'positions:',
    '  # On the shared emptyDir: survives a restart of this container, not of the pod.',
    `  filename: ${q(p.positionsPath)}`,
    'clients:',
    `  - url: ${q(p.push.url)}`,
    ...(p.push.tenant ? [`    tenant_id: ${q(p.push.tenant)}`] : []),
    // prometheus/common's HTTPClientConfig, inlined in Promtail's client config (grafana/loki@v3.6.11:
    // clients/pkg/promtail/client/config.go; vendor/github.com/prometheus/common/config/http_config.go).
    ...(p.push.basicAuth ? [
      '    basic_auth:',
      `      username: ${q(p.push.basicAuth.username)}`,
      `      password_file: ${q(p.push.basicAuth.passwordFile)}`,
    ] : []),
    ...(p.push.caFile ? ['    tls_config:', `      ca_file: ${q(p.push.caFile)}`] : []),
    'scrape_configs:',
    `  - job_name: ${q(p.labels.service)}`,
    '    static_configs:',
    '      - targets: [localhost]',
    '        labels:',
    ...Object.entries(p.labels).map(([k, v]) => `          ${k}: ${q(v)}`),
    `          __path__: ${q(p.logFile)}`,
    '    pipeline_stages:',
    '      - json:',
    '          expressions:',
    ...EXTRACTED_FIELDS.map((f) => `            ${f}: ${f}`),
    '      # Labels: low cardinality only.',
    '      - labels:',
    `          ${LEVEL_LABEL}:`,
    '      # High cardinality: structured metadata, never labels.',
    '      - structured_metadata:',
    ...STRUCTURED_METADATA_FIELDS.map((f) => `          ${f}:`),
    '      - timestamp:',
    `          source: ${TIMESTAMP_FIELD}`,
    `          format: ${TIMESTAMP_FORMAT}`,
    '      - labeldrop:',
    `          - ${SHIPPER_FILENAME_LABEL}`,
  ];
  return `${lines.join('\n')}\n`;
}
