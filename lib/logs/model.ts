/**
 * The log standard and the pipeline every shipper runs on it, as data: the Promtail and the
 * Alloy renderers read the same model, so both ship the same labels and structured metadata.
 */

/** The shippers a pod can run; Promtail reached end of life in March 2026, Grafana Alloy is its successor. */
export type LogShipperKind = 'promtail' | 'alloy';

/**
 * How the app's lines reach the shared file. `stdout`: the app writes to stdout and stderr,
 * and its command is wrapped to append every line to the file as well. `file`: the app
 * appends its lines to the file itself (path in `LOG_FILE`) and rotates it.
 */
export type CaptureMode = 'stdout' | 'file';

/**
 * The log standard: one JSON object per line with at least these fields.
 * `timestamp` is RFC 3339 (fractional seconds allowed), `level` one of debug, info,
 * warning, error, critical; the others are strings (empty or absent when unknown).
 */
export const LOG_FIELDS = ['timestamp', 'level', 'service', 'message', 'session_id', 'user', 'trace_id'] as const;
export type LogField = typeof LOG_FIELDS[number];

/** The field read as the entry's time. */
export const TIMESTAMP_FIELD: LogField = 'timestamp';
/** Go time layout of {@link TIMESTAMP_FIELD}; RFC3339Nano also parses RFC 3339 without fractions. */
export const TIMESTAMP_FORMAT = 'RFC3339Nano';
/** The only label taken from the line: a handful of values. */
export const LEVEL_LABEL: LogField = 'level';
/**
 * High-cardinality fields, attached as Loki structured metadata (never labels: each value
 * would be a stream of its own). Queried as `{…} | session_id="…"`.
 */
export const STRUCTURED_METADATA_FIELDS: readonly LogField[] = ['session_id', 'user', 'trace_id'];
/** What the json stage extracts: the fields the later stages use. */
export const EXTRACTED_FIELDS: readonly LogField[] = [LEVEL_LABEL, ...STRUCTURED_METADATA_FIELDS, TIMESTAMP_FIELD];
/** Labels set from the pod, not the line (low cardinality: one value per service and environment). */
export const STATIC_LABELS = ['service', 'namespace', 'environment'] as const;
/** Every label a stream carries; the shippers' own `filename` label is dropped. */
export const STREAM_LABELS = [...STATIC_LABELS, LEVEL_LABEL] as const;
/** Label both shippers add to file entries on their own, dropped by the pipeline. */
export const SHIPPER_FILENAME_LABEL = 'filename';

/** Where Loki is. */
export interface LokiPush {
  /** Push API URL, e.g. `http://loki-gateway.loki.svc.cluster.local/loki/api/v1/push`. */
  readonly url: string;
  /** Tenant sent as `X-Scope-OrgID`. @default - no header (a single-tenant Loki) */
  readonly tenant?: string;
  /**
   * Basic-auth login: the user, and the file holding its password (read by the shipper at
   * every push, so a new password needs no restart). @default - no login
   */
  readonly basicAuth?: { readonly username: string; readonly passwordFile: string };
  /** CA file that verifies an https URL's certificate. @default - the image's system roots */
  readonly caFile?: string;
}

/** What one shipper's configuration is rendered from. */
export interface LogPipeline {
  /** The file the app's lines are in (absolute path on the shared volume). */
  readonly logFile: string;
  /** Where the shipper keeps its read positions: a file (Promtail) or a folder (Alloy's storage path), on the shared volume. */
  readonly positionsPath: string;
  /** Loki's push API. */
  readonly push: LokiPush;
  /** Values of {@link STATIC_LABELS}. */
  readonly labels: Readonly<Record<typeof STATIC_LABELS[number], string>>;
  /** Port of the shipper's HTTP server (readiness, metrics). */
  readonly httpPort: number;
}
