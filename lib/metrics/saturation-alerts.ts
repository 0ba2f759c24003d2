/**
 * Saturation of every container in the Pronto namespace (catalog services, sidecars and
 * platform workloads alike): CPU throttling, memory working set near the limit, restarts
 * and crash loops, from cAdvisor (`container_*`, scraped from the kubelet) and
 * kube-state-metrics (`kube_pod_*`).
 */
import { formatNumber } from './promql';
import { AlertingRule, RuleGroup, runbookUrl } from './rules';

export const ALERT_CPU_THROTTLING = 'ProntoCPUThrottlingHigh';
export const ALERT_MEMORY_NEAR_LIMIT = 'ProntoMemoryNearLimit';
export const ALERT_CONTAINER_RESTARTING = 'ProntoContainerRestarting';
export const ALERT_CRASH_LOOPING = 'ProntoContainerCrashLooping';

/** The runbook page of the containers' saturation alerts: docs/runbooks/containers.md. */
export const CONTAINERS_RUNBOOK_PAGE = 'containers';

/** Share of CFS periods throttled above which a container is throttled (kubernetes-mixin's 25 %). */
export const CPU_THROTTLING_THRESHOLD = 0.25;
/** Share of the memory limit above which the working set is near it (the OOM killer acts at the limit). */
export const MEMORY_LIMIT_THRESHOLD = 0.9;
/** Restarts within an hour that make a container "restarting". */
export const RESTARTS_PER_HOUR = 3;

export interface SaturationAlertsProps {
  /** The namespace whose containers are watched. */
  readonly namespace: string;
  /** Base of the runbook URLs ({@link runbookUrl}). */
  readonly runbookBaseUrl: string;
}

export function saturationAlertGroup(props: SaturationAlertsProps): RuleGroup {
  const ns = `namespace="${props.namespace}"`;
  // cAdvisor also reports the pod's cgroup (container="") and the pause container (container="POD").
  const containers = `${ns}, container!="", container!="POD"`;
  const rule = (r: Omit<AlertingRule, 'runbookUrl'>): AlertingRule => ({ ...r, runbookUrl: runbookUrl(props.runbookBaseUrl, CONTAINERS_RUNBOOK_PAGE, r.alert) });
  const where = '{{ $labels.namespace }}/{{ $labels.pod }} container {{ $labels.container }}';
  return {
    name: 'pronto.saturation',
    rules: [
      rule({
        alert: ALERT_CPU_THROTTLING,
        expr: [
          `sum by (namespace, pod, container) (increase(container_cpu_cfs_throttled_periods_total{${containers}}[5m]))`,
          '/',
          `sum by (namespace, pod, container) (increase(container_cpu_cfs_periods_total{${containers}}[5m]))`,
          `> ${formatNumber(CPU_THROTTLING_THRESHOLD)}`,
        ].join('\n'),
        for: '15m',
        severity: 'warning',
        summary: `${where} is CPU-throttled`,
        description: `More than ${formatNumber(CPU_THROTTLING_THRESHOLD * 100)} % of the container's CPU periods were throttled for 15 minutes: it wants more CPU than its limit, and latency suffers. `
          + 'Check first its CPU use against its request and limit (saturation dashboard) and whether the HPA is already at its maximum; then raise the limit or the replicas in the environment file.',
      }),
      rule({
        alert: ALERT_MEMORY_NEAR_LIMIT,
        expr: [
          `max by (namespace, pod, container) (container_memory_working_set_bytes{${containers}})`,
          '/ on (namespace, pod, container)',
          `max by (namespace, pod, container) (kube_pod_container_resource_limits{${ns}, resource="memory"})`,
          `> ${formatNumber(MEMORY_LIMIT_THRESHOLD)}`,
        ].join('\n'),
        for: '15m',
        severity: 'warning',
        summary: `${where} uses more than ${formatNumber(MEMORY_LIMIT_THRESHOLD * 100)} % of its memory limit`,
        description: `The container's working set stayed above ${formatNumber(MEMORY_LIMIT_THRESHOLD * 100)} % of its memory limit for 15 minutes; at the limit the kernel kills it (OOMKilled). `
          + 'Check first whether it grows steadily (a leak: compare with the last release) or follows traffic (raise the limit in the environment file), and the gunicorn worker count.',
      }),
      rule({
        alert: ALERT_CONTAINER_RESTARTING,
        expr: `sum by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total{${ns}}[1h]))\n>= ${RESTARTS_PER_HOUR}`,
        severity: 'warning',
        summary: `${where} restarted ${RESTARTS_PER_HOUR} or more times within an hour`,
        description: `The container restarted at least ${RESTARTS_PER_HOUR} times in the last hour. `
          + 'Check first the reason of its last termination (kubectl describe pod: OOMKilled, Error, a failed liveness probe) and the logs of the previous run (kubectl logs --previous).',
      }),
      rule({
        alert: ALERT_CRASH_LOOPING,
        expr: `max by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{${ns}, reason="CrashLoopBackOff"}[5m]))\n>= 1`,
        for: '15m',
        severity: 'warning',
        summary: `${where} is crash looping`,
        description: 'The container has been waiting in CrashLoopBackOff for 15 minutes: it exits soon after every start. '
          + 'Check first the logs of the previous run (kubectl logs --previous) and its last termination reason; then a recent config, secret or image change (a missing Vault file, a bad env value).',
      }),
    ],
  };
}
