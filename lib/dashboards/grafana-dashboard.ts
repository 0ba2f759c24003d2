import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-28';
import { recommendedLabels, resourceName } from '../core';
import { MAX_GRAFANA_UID_LENGTH } from './uid';

/** The label the Grafana sidecar (kube-prometheus-stack: `sidecar.dashboards.label`) loads dashboards by. */
export const DASHBOARD_LABEL = 'grafana_dashboard';
/** The annotation that names the dashboard's folder (`sidecar.dashboards.folderAnnotation`). */
export const FOLDER_ANNOTATION = 'grafana_folder';
/**
 * Largest object `kubectl apply` (and Argo CD's default client-side apply) can keep in its
 * `last-applied-configuration` annotation: 256 KiB. A bigger ConfigMap needs server-side apply.
 */
export const MAX_APPLIED_BYTES = 262_144;

export interface GrafanaDashboardProps {
  /** ConfigMap name, e.g. `grafana-dashboard-red`. */
  readonly name: string;
  /** The dashboard, as Grafana's builders built it. Its uid names the file. */
  readonly dashboard: dashboard.Dashboard;
  /** Grafana folder (the {@link FOLDER_ANNOTATION} annotation). @default - no annotation: the sidecar's default folder */
  readonly folder?: string;
}

/**
 * A dashboard shipped as a ConfigMap labelled `grafana_dashboard: "1"`, the
 * kube-prometheus-stack sidecar convention: the sidecar writes `<uid>.json` into Grafana's
 * provisioning folder, in the folder the annotation names.
 */
export class GrafanaDashboard extends Construct {
  public readonly configMap: kplus.k8s.KubeConfigMap;
  /** The dashboard's uid (stable: links and bookmarks use it). */
  public readonly uid: string;
  /** The file the ConfigMap holds: the dashboard as JSON. */
  public readonly json: string;

  public constructor(scope: Construct, id: string, props: GrafanaDashboardProps) {
    super(scope, id);
    const uid = props.dashboard.uid;
    if (!uid || uid.length > MAX_GRAFANA_UID_LENGTH) {
      throw new Error(`${this.node.path}: expected a dashboard uid of 1 to ${MAX_GRAFANA_UID_LENGTH} characters, found ${JSON.stringify(uid ?? null)}`);
    }
    this.uid = uid;
    this.json = `${JSON.stringify(props.dashboard, null, 2)}\n`;
    const name = resourceName(props.name);
    this.configMap = new kplus.k8s.KubeConfigMap(this, 'Resource', {
      metadata: {
        name,
        labels: { ...recommendedLabels({ name, component: 'dashboards' }), [DASHBOARD_LABEL]: '1' },
        ...(props.folder ? { annotations: { [FOLDER_ANNOTATION]: props.folder } } : {}),
      },
      data: { [`${uid}.json`]: this.json },
    });
    const size = new TextEncoder().encode(JSON.stringify(this.configMap.toJson())).length;
    if (size > MAX_APPLIED_BYTES) {
      throw new Error(`${this.node.path}: dashboard ${uid} makes a ConfigMap of ${size} bytes, expected at most ${MAX_APPLIED_BYTES} (kubectl apply's last-applied annotation): split it`);
    }
  }
}
