/**
 * The frame every Pronto dashboard shares (uid, tags, time, refresh, variables, links
 * between the dashboards) and the two panel shapes they use, built with Grafana's typed
 * builders (@grafana/grafana-foundation-sdk). Pure: no cdk8s.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { DASHBOARD_VARIABLES as VAR } from './queries';
import { grafanaUid } from './uid';

/** What every Pronto dashboard is built from: the environment, never a list typed by hand. */
export interface ProntoDashboardProps {
  /** Environment name (the environment file's name), e.g. `prod`: in the uid, the title, the tags and the `environment` variable. */
  readonly environment: string;
  /** Namespace the services run in: the `namespace` variable every selector names. */
  readonly namespace: string;
  /** The catalog services, in catalog order: the values of the `service` variable. */
  readonly services: readonly string[];
  /** The Prometheus datasource the `datasource` variable starts on (its uid and name). */
  readonly datasource: { readonly uid: string; readonly name: string };
  /** Auto-refresh interval, e.g. `30s` (refreshing faster than Prometheus scrapes shows nothing new). @default '30s' */
  readonly refresh?: string;
}

/** One panel: a title, what to read first, a unit and its queries. */
export interface PanelSpec {
  readonly title: string;
  /** Shown in the panel's (i) tooltip: what the panel means and what to do when it looks wrong. */
  readonly description: string;
  /** Grafana unit id, e.g. `reqps`, `percentunit`, `s`, `bytes`. */
  readonly unit: string;
  readonly targets: readonly PanelTarget[];
  /** `stat`: one big number per series (instant queries); `timeseries`: a graph. @default 'timeseries' */
  readonly kind?: 'timeseries' | 'stat';
  /** Width in grid columns (of 24). @default 12 */
  readonly span?: number;
  /** Lines drawn at these values (`timeseries`) or colour steps (`stat`), green below the first. @default - none */
  readonly thresholds?: readonly number[];
  /** Series whose legend matches this regex are drawn dashed (requests and limits). @default - none */
  readonly dashed?: string;
  /** @default - Grafana scales the axis to the data */
  readonly min?: number;
}

/** One query of a panel. */
export interface PanelTarget {
  /** PromQL; may use the dashboard variables ({@link DASHBOARD_VARIABLES}) and `$__rate_interval`, `$__range`. */
  readonly expr: string;
  /** Legend, e.g. `{{service}}`. */
  readonly legend: string;
}

/** A row of panels. */
export interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

/** The tag every Pronto dashboard carries; the dashboards link to each other by it. */
export const PRONTO_TAG = 'pronto';

const DATASOURCE: dashboard.DataSourceRef = { type: 'prometheus', uid: `\${${VAR.datasource}}` };
const COLORS = ['green', 'orange', 'red'];

/**
 * A Pronto dashboard: uid `pronto-<environment>-<key>`, titled `Pronto <title> (<environment>)`
 * (titles are unique per folder, and one Grafana may show several environments), read-only
 * (the code is the source: Grafana cannot save a provisioned dashboard anyway), with the
 * variables datasource, environment, namespace and service (plus `extraVariables`), a
 * dropdown of the other Pronto dashboards of the environment, and `rows`.
 */
export function prontoDashboard(props: ProntoDashboardProps, key: string, title: string, description: string,
  rows: readonly RowSpec[], extraVariables: readonly dashboard.VariableModel[] = []): dashboard.Dashboard {
  if (props.services.length === 0) throw new Error(`dashboard ${key}: expected at least one service, found none`);
  const builder = new dashboard.DashboardBuilder(`Pronto ${title} (${props.environment})`)
    .uid(grafanaUid(PRONTO_TAG, props.environment, key))
    .description(description)
    .tags([PRONTO_TAG, props.environment])
    .readonly()
    .timezone('browser')
    .time({ from: 'now-6h', to: 'now' })
    .refresh(props.refresh ?? '30s')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .link(new dashboard.DashboardLinkBuilder('Pronto dashboards')
      .type(dashboard.DashboardLinkType.Dashboards)
      .tags([PRONTO_TAG, props.environment])
      .asDropdown(true)
      .includeVars(true)
      .keepTime(true));
  for (const variable of [...commonVariables(props), ...extraVariables]) builder.withVariable({ build: () => variable });
  let id = 0;
  for (const row of rows) {
    builder.withRow(new dashboard.RowBuilder(row.title).id(++id));
    for (const panel of row.panels) builder.withPanel(panelBuilder(panel, ++id));
  }
  return builder.build();
}

/** datasource, environment, namespace and service. */
function commonVariables(props: ProntoDashboardProps): dashboard.VariableModel[] {
  const option = (value: string): dashboard.VariableOption => ({ text: value, value });
  return [
    new dashboard.DatasourceVariableBuilder(VAR.datasource)
      .label('Prometheus')
      .type('prometheus')
      .current({ text: props.datasource.name, value: props.datasource.uid })
      .build(),
    new dashboard.CustomVariableBuilder(VAR.environment)
      .label('Environment')
      .values(props.environment)
      .allowCustomValue(false)
      .current(option(props.environment))
      .options([{ ...option(props.environment), selected: true }])
      .build(),
    new dashboard.ConstantVariableBuilder(VAR.namespace)
      .value(props.namespace)
      .build(),
    new dashboard.CustomVariableBuilder(VAR.service)
      .label('Service')
      .description('Catalog services (config/catalog.ts)')
      .values(props.services.join(','))
      .multi(true)
      .includeAll(true)
      .allowCustomValue(false)
      .current({ text: ['All'], value: ['$__all'] })
      .options([
        { text: 'All', value: '$__all', selected: true },
        ...props.services.map((s) => ({ ...option(s), selected: false })),
      ])
      .build(),
  ];
}

/** A query variable over `query` (a Grafana `label_values(…)`), multi-value, All = `.*`. */
export function labelValuesVariable(name: string, label: string, query: string): dashboard.VariableModel {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query({ query, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ text: ['All'], value: ['$__all'] })
    .build();
}

function panelBuilder(spec: PanelSpec, id: number): { build(): dashboard.Panel } {
  const targets = spec.targets.map((t, i) => {
    const target = new prometheus.DataqueryBuilder()
      .refId(String.fromCharCode(65 + i))
      .datasource(DATASOURCE)
      .expr(t.expr)
      .legendFormat(t.legend);
    return spec.kind === 'stat' ? target.instant() : target.range();
  });
  const thresholds = new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ value: null, color: COLORS[0] }, ...(spec.thresholds ?? []).map((value, i) => ({ value, color: COLORS[Math.min(i + 1, COLORS.length - 1)] }))]);
  if (spec.kind === 'stat') {
    const panel = new stat.PanelBuilder()
      .id(id).title(spec.title).description(spec.description).datasource(DATASOURCE)
      .span(spec.span ?? 12).height(5)
      .unit(spec.unit).thresholds(thresholds)
      .graphMode(common.BigValueGraphMode.None)
      .colorMode(common.BigValueColorMode.Value)
      .textMode(common.BigValueTextMode.ValueAndName)
      .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
      .targets(targets);
    if (spec.min !== undefined) panel.min(spec.min);
    return panel;
  }
  const panel = new timeseries.PanelBuilder()
    .id(id).title(spec.title).description(spec.description).datasource(DATASOURCE)
    .span(spec.span ?? 12).height(8)
    .unit(spec.unit).thresholds(thresholds)
    .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder()
      .mode(spec.thresholds ? common.GraphThresholdsStyleMode.Dashed : common.GraphThresholdsStyleMode.Off))
    .lineWidth(1).fillOpacity(0)
    .legend(new common.VizLegendOptionsBuilder()
      .displayMode(common.LegendDisplayMode.Table)
      .placement(common.LegendPlacement.Bottom)
      .showLegend(true)
      .calcs(['lastNotNull', 'max']))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .targets(targets);
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.dashed) panel.overrideByRegexp(spec.dashed, [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }]);
  return panel;
}
