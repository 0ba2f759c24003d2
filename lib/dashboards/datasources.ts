/**
 * Grafana datasources as provisioning entries (apiVersion 1), linked so that one click goes
 * from a log line to its trace and from a trace to every log line of it. Pure: no cdk8s.
 *
 * @see https://grafana.com/docs/grafana/latest/administration/provisioning/#data-sources
 */
import { stringify } from 'yaml';

/** One entry of a datasource provisioning file. */
export interface GrafanaDatasource {
  readonly name: string;
  readonly type: 'prometheus' | 'loki' | 'jaeger';
  /** Stable uid: dashboards and the other datasources refer to it. */
  readonly uid: string;
  readonly url: string;
  /** Grafana's backend queries the datasource (the browser never reaches the cluster). */
  readonly access: 'proxy';
  /**
   * Never the default: kube-prometheus-stack provisions its own default Prometheus, and
   * Grafana refuses two defaults in one organisation.
   */
  readonly isDefault: false;
  /** Provisioned from Git: not editable in the UI. */
  readonly editable: false;
  readonly jsonData: Readonly<Record<string, unknown>>;
  /**
   * Values Grafana stores encrypted: non-secret values (a tenant id), or a file Grafana reads
   * when it provisions the datasource (a password the Vault agent renders into its pod), never
   * a secret itself. @default - none
   */
  readonly secureJsonData?: Readonly<Record<string, string | FileValue>>;
  /** Log in with basic auth as this user (the password in `secureJsonData.basicAuthPassword`). @default - no login */
  readonly basicAuth?: true;
  readonly basicAuthUser?: string;
}

/** A value Grafana reads from a file in its container at provisioning time (`$__file{<path>}`). */
export interface FileValue {
  readonly file: string;
}

/** Common fields of the datasource builders. */
export interface DatasourceProps {
  readonly name: string;
  readonly uid: string;
  /** How Grafana reaches it, e.g. `http://loki-gateway.loki.svc`. */
  readonly url: string;
}

export interface PrometheusDatasourceProps extends DatasourceProps {
  /** Prometheus's scrape interval, e.g. `30s`: Grafana's `$__rate_interval` is at least four of it. */
  readonly scrapeInterval: string;
}

/** Prometheus; `$__rate_interval` follows the scrape interval. */
export function prometheusDatasource(props: PrometheusDatasourceProps): GrafanaDatasource {
  return {
    ...base(props, 'prometheus'),
    jsonData: { timeInterval: props.scrapeInterval, httpMethod: 'POST', prometheusType: 'Prometheus' },
  };
}

export interface LokiDatasourceProps extends DatasourceProps {
  /** Tenant id sent as `X-Scope-OrgID`. @default - no header (single-tenant Loki, or a gateway that sets it) */
  readonly tenant?: string;
  /**
   * Basic-auth login: the user, and the file in Grafana's container with its password.
   * @default - no login
   */
  readonly login?: { readonly user: string; readonly passwordFile: string };
  /**
   * The CA file in Grafana's container that verifies an https URL's certificate
   * (`tlsAuthWithCACert`, `secureJsonData.tlsCACert` read at provisioning). @default - the system roots
   */
  readonly caFile?: string;
  /** uid of the trace datasource the `trace_id` of each line links to. @default - no link */
  readonly tracesDatasourceUid?: string;
}

/**
 * The `trace_id` field of a JSON log line (the Pronto log standard), as Loki returns it.
 * The field is also structured metadata; the line itself keeps it, so a regex on the line
 * finds it in every Grafana version.
 */
export const TRACE_ID_MATCHER = '"trace_id"\\s*:\\s*"([0-9a-fA-F]{16,32})"';

/** Loki; with a traces datasource, a derived field turns each line's `trace_id` into a link to the trace. */
export function lokiDatasource(props: LokiDatasourceProps): GrafanaDatasource {
  return {
    ...base(props, 'loki'),
    jsonData: {
      maxLines: 1000,
      ...(props.tracesDatasourceUid ? {
        derivedFields: [{
          name: 'trace_id',
          matcherType: 'regex',
          matcherRegex: TRACE_ID_MATCHER,
          datasourceUid: props.tracesDatasourceUid,
          url: '${__value.raw}',
          urlDisplayLabel: 'Open the trace',
        }],
      } : {}),
      ...(props.tenant ? { httpHeaderName1: 'X-Scope-OrgID' } : {}),
      ...(props.caFile ? { tlsAuthWithCACert: true } : {}),
    },
    ...(props.login ? { basicAuth: true, basicAuthUser: props.login.user } : {}),
    ...(props.tenant || props.login || props.caFile ? {
      secureJsonData: {
        ...(props.tenant ? { httpHeaderValue1: props.tenant } : {}),
        ...(props.login ? { basicAuthPassword: { file: props.login.passwordFile } } : {}),
        ...(props.caFile ? { tlsCACert: { file: props.caFile } } : {}),
      },
    } : {}),
  };
}

export interface JaegerDatasourceProps extends DatasourceProps {
  /** Trace to logs: the Loki datasource's uid and the namespace whose logs hold the trace. @default - no link */
  readonly logs?: { readonly datasourceUid: string; readonly namespace: string };
}

/**
 * Jaeger; with logs, trace to logs opens every log line of the trace, of every service,
 * by its `trace_id` structured metadata, a minute either side of the span.
 */
export function jaegerDatasource(props: JaegerDatasourceProps): GrafanaDatasource {
  return {
    ...base(props, 'jaeger'),
    jsonData: {
      nodeGraph: { enabled: true },
      ...(props.logs ? {
        tracesToLogsV2: {
          datasourceUid: props.logs.datasourceUid,
          spanStartTimeShift: '-1m',
          spanEndTimeShift: '1m',
          filterByTraceID: false,
          filterBySpanID: false,
          customQuery: true,
          query: `{namespace="${props.logs.namespace}"} | trace_id="\${__trace.traceId}"`,
        },
      } : {}),
    },
  };
}

function base(props: DatasourceProps, type: GrafanaDatasource['type']): Omit<GrafanaDatasource, 'jsonData'> {
  return { name: props.name, type, uid: props.uid, url: props.url, access: 'proxy', isDefault: false, editable: false };
}

/**
 * The provisioning file. Grafana expands `$VAR` and `${VAR}` in provisioning files as
 * environment variables, so every `$` of a Grafana template (`${__value.raw}`) is written
 * `$$` here to reach Grafana as written; a {@link FileValue} is the one expansion wanted,
 * `$__file{<path>}` (grafana/grafana pkg/services/provisioning/values/values.go).
 */
export function renderDatasources(datasources: readonly GrafanaDatasource[]): string {
  const escape = (value: unknown): unknown => {
    if (typeof value === 'string') return value.replace(/\$/g, '$$$$');
    if (Array.isArray(value)) return value.map(escape);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escape(v)]));
    return value;
  };
  const secure = (value: string | FileValue): string => {
    if (typeof value === 'string') return escape(value) as string;
    if (!/^\/[-_.a-zA-Z0-9/]+$/.test(value.file)) throw new Error(`datasource file value "${value.file}": expected an absolute path`);
    return `$__file{${value.file}}`;
  };
  const entries = datasources.map(({ secureJsonData, ...rest }) => ({
    ...(escape(rest) as object),
    ...(secureJsonData ? { secureJsonData: Object.fromEntries(Object.entries(secureJsonData).map(([k, v]) => [k, secure(v)])) } : {}),
  }));
  return stringify({ apiVersion: 1, datasources: entries }, { lineWidth: 0 });
}
