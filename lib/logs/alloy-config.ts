/**
 * Grafana Alloy's configuration for one service's pod, equivalent to Promtail's
 * (promtail-config.ts): local.file_match → loki.source.file → loki.process (the same stages)
 * → loki.write. Pure: model in, text out.
 *
 * @see https://grafana.com/docs/alloy/latest/reference/components/loki/loki.process/
 */
import {
  EXTRACTED_FIELDS, LEVEL_LABEL, LogPipeline, SHIPPER_FILENAME_LABEL, STRUCTURED_METADATA_FIELDS, TIMESTAMP_FIELD, TIMESTAMP_FORMAT,
} from './model';

/** An Alloy string literal (JSON's escapes are Alloy's). */
const q = (text: string) => JSON.stringify(text);

/** Component label used by every block. */
const NAME = 'app';

/** The text of `config.alloy`. */
export function renderAlloyConfig(p: LogPipeline): string {
  const lines = [
    '// Rendered by Pronto (lib/logs/alloy-config.ts): the log shipper of one service\'s pods.',
    '// Read positions live under --storage.path, on the shared emptyDir.',
    `local.file_match ${q(NAME)} {`,
    '  path_targets = [{',
    `    "__path__" = ${q(p.logFile)},`,
    ...Object.entries(p.labels).map(([k, v]) => `    ${q(k)} = ${q(v)},`),
    '  }]',
    '}',
    '',
    `loki.source.file ${q(NAME)} {`,
    `  targets    = local.file_match.${NAME}.targets`,
    `  forward_to = [loki.process.${NAME}.receiver]`,
    '}',
    '',
    `loki.process ${q(NAME)} {`,
    '  stage.json {',
    `    expressions = { ${EXTRACTED_FIELDS.map((f) => `${q(f)} = ${q(f)}`).join(', ')} }`,
    '  }',
    '  // Labels: low cardinality only.',
    '  stage.labels {',
    `    values = { ${q(LEVEL_LABEL)} = "" }`,
    '  }',
    '  // High cardinality: structured metadata, never labels.',
    '  stage.structured_metadata {',
    `    values = { ${STRUCTURED_METADATA_FIELDS.map((f) => `${q(f)} = ""`).join(', ')} }`,
    '  }',
    '  stage.timestamp {',
    `    source = ${q(TIMESTAMP_FIELD)}`,
    `    format = ${q(TIMESTAMP_FORMAT)}`,
    '  }',
    '  stage.label_drop {',
    `    values = [${q(SHIPPER_FILENAME_LABEL)}]`,
    '  }',
    `  forward_to = [loki.write.${NAME}.receiver]`,
    '}',
    '',
    `loki.write ${q(NAME)} {`,
    '  endpoint {',
    `    url = ${q(p.push.url)}`,
    ...(p.push.tenant ? [`    tenant_id = ${q(p.push.tenant)}`] : []),
    // grafana/alloy@v1.18.1: internal/component/loki/write/types.go (EndpointOptions squashes HTTPClientConfig),
    // internal/component/common/config/types.go (basic_auth block: username, password_file).
    ...(p.push.basicAuth ? [
      '    basic_auth {',
      `      username      = ${q(p.push.basicAuth.username)}`,
      `      password_file = ${q(p.push.basicAuth.passwordFile)}`,
      '    }',
    ] : []),
    // The tls_config block of the same HTTPClientConfig (ca_file).
    ...(p.push.caFile ? ['    tls_config {', `      ca_file = ${q(p.push.caFile)}`, '    }'] : []),
    '  }',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}
