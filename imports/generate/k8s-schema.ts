/**
 * Generates `imports/k8s-1.28.schema.json`: a strict JSON Schema of the Kubernetes 1.28
 * API, derived from `imports/kubernetes/v1.28.0/_definitions.json` (the upstream v1.28.0
 * OpenAPI v2 definitions, the file `cdk8s import k8s@1.28` reads) through the same
 * {@link strictify} pipeline as the CRDs: every object type rejects unknown fields,
 * integers stay integers (int32 ones bounded to the int32 range), `required` and `$ref`s
 * are kept, descriptions are dropped.
 *
 * The upstream document states most enumerations and every range only in prose. The two
 * tables below ({@link ENUMS}, {@link RANGES}) add them as explicit rules, each naming its
 * definition and property; the generator fails if one names a field that does not exist.
 *
 * Output: `resources` (one schema per `<apiVersion>/<kind>`, taken from
 * `x-kubernetes-group-version-kind`) and `definitions` (what they reference).
 *
 *   npm run import     # regenerates this, the CRD schemas and the validators
 */
import { readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { strictify } from './crd-schemas';

type Schema = Record<string, any>;

/** The upstream definitions, kept in the repository. */
export const DEFINITIONS_FILE = path.join(__dirname, '..', 'kubernetes', 'v1.28.0', '_definitions.json');

/** Kubernetes quantity syntax, as the API server parses it (resource.ParseQuantity). */
export const QUANTITY = '^[+-]?(\\d+(\\.\\d*)?|\\.\\d+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?(\\d+(\\.\\d*)?|\\.\\d+)))?$';

const QUANTITY_DEF = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING_DEF = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const OBJECT_META_DEF = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** `core.v1.Container` → `io.k8s.api.core.v1.Container`; `meta.v1.X` → `io.k8s.apimachinery.pkg.apis.meta.v1.X`. */
function definitionName(short: string): string {
  return short.startsWith('meta.') ? `io.k8s.apimachinery.pkg.apis.${short}` : `io.k8s.api.${short}`;
}

interface EnumRule {
  /** Definition, without `io.k8s.api.` (or `io.k8s.apimachinery.pkg.apis.` for `meta.`). */
  readonly definition: string;
  /** Property; for an array of strings, the enum applies to its items. */
  readonly property: string;
  readonly values: readonly string[];
}

/**
 * Enumerations the API server enforces (or, where noted, that are the only values with an
 * effect) but that the OpenAPI document gives only in descriptions, quoted after each
 * rule. Values in alphabetical order, as the error message lists them.
 */
export const ENUMS: readonly EnumRule[] = [
  // "Image pull policy. One of Always, Never, IfNotPresent."
  { definition: 'core.v1.Container', property: 'imagePullPolicy', values: ['Always', 'IfNotPresent', 'Never'] },
  { definition: 'core.v1.EphemeralContainer', property: 'imagePullPolicy', values: ['Always', 'IfNotPresent', 'Never'] },
  // "This field may only be set for init containers, and the only allowed value is "Always"."
  { definition: 'core.v1.Container', property: 'restartPolicy', values: ['Always'] },
  // "File will use … FallbackToLogsOnError will use …" (TerminationMessagePolicy constants)
  { definition: 'core.v1.Container', property: 'terminationMessagePolicy', values: ['FallbackToLogsOnError', 'File'] },
  // "Protocol for port. Must be UDP, TCP, or SCTP."
  { definition: 'core.v1.ContainerPort', property: 'protocol', values: ['SCTP', 'TCP', 'UDP'] },
  // "Supports "TCP", "UDP", and "SCTP"."
  { definition: 'core.v1.ServicePort', property: 'protocol', values: ['SCTP', 'TCP', 'UDP'] },
  // "protocol represents the protocol (TCP, UDP, or SCTP) which traffic must match."
  { definition: 'networking.v1.NetworkPolicyPort', property: 'protocol', values: ['SCTP', 'TCP', 'UDP'] },
  // "Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer."
  { definition: 'core.v1.ServiceSpec', property: 'type', values: ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] },
  // "If set to "Local" … The default value, "Cluster" …"
  { definition: 'core.v1.ServiceSpec', property: 'externalTrafficPolicy', values: ['Cluster', 'Local'] },
  { definition: 'core.v1.ServiceSpec', property: 'internalTrafficPolicy', values: ['Cluster', 'Local'] },
  // "Must be ClientIP or None."
  { definition: 'core.v1.ServiceSpec', property: 'sessionAffinity', values: ['ClientIP', 'None'] },
  // "Services can be "SingleStack" …, "PreferDualStack" …, or "RequireDualStack" …"
  { definition: 'core.v1.ServiceSpec', property: 'ipFamilyPolicy', values: ['PreferDualStack', 'RequireDualStack', 'SingleStack'] },
  // "Valid values are "IPv4" and "IPv6"."
  { definition: 'core.v1.ServiceSpec', property: 'ipFamilies', values: ['IPv4', 'IPv6'] },
  // "Restart policy for all containers within the pod. One of Always, OnFailure, Never."
  { definition: 'core.v1.PodSpec', property: 'restartPolicy', values: ['Always', 'Never', 'OnFailure'] },
  // "Valid values are 'ClusterFirstWithHostNet', 'ClusterFirst', 'Default' or 'None'."
  { definition: 'core.v1.PodSpec', property: 'dnsPolicy', values: ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] },
  // "One of Never, PreemptLowerPriority."
  { definition: 'core.v1.PodSpec', property: 'preemptionPolicy', values: ['Never', 'PreemptLowerPriority'] },
  // "Valid values are "OnRootMismatch" and "Always"."
  { definition: 'core.v1.PodSecurityContext', property: 'fsGroupChangePolicy', values: ['Always', 'OnRootMismatch'] },
  // "Valid options are: Localhost … RuntimeDefault … Unconfined …"
  { definition: 'core.v1.SeccompProfile', property: 'type', values: ['Localhost', 'RuntimeDefault', 'Unconfined'] },
  // "Scheme to use for connecting to the host. Defaults to HTTP." (URIScheme constants; validation accepts only these)
  { definition: 'core.v1.HTTPGetAction', property: 'scheme', values: ['HTTP', 'HTTPS'] },
  // "- DoNotSchedule (default) … - ScheduleAnyway …"
  { definition: 'core.v1.TopologySpreadConstraint', property: 'whenUnsatisfiable', values: ['DoNotSchedule', 'ScheduleAnyway'] },
  // "Options are: - Honor: … - Ignore: …"
  { definition: 'core.v1.TopologySpreadConstraint', property: 'nodeAffinityPolicy', values: ['Honor', 'Ignore'] },
  { definition: 'core.v1.TopologySpreadConstraint', property: 'nodeTaintsPolicy', values: ['Honor', 'Ignore'] },
  // "Valid operators are In, NotIn, Exists and DoesNotExist."
  { definition: 'meta.v1.LabelSelectorRequirement', property: 'operator', values: ['DoesNotExist', 'Exists', 'In', 'NotIn'] },
  // "Valid operators are In, NotIn, Exists, DoesNotExist. Gt, and Lt."
  { definition: 'core.v1.NodeSelectorRequirement', property: 'operator', values: ['DoesNotExist', 'Exists', 'Gt', 'In', 'Lt', 'NotIn'] },
  // "accessModes contains the desired access modes" (PersistentVolumeAccessMode constants; validation accepts only these)
  { definition: 'core.v1.PersistentVolumeClaimSpec', property: 'accessModes', values: ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'] },
  // "Value of Filesystem is implied when not included in claim spec." (PersistentVolumeMode: Block, Filesystem)
  { definition: 'core.v1.PersistentVolumeClaimSpec', property: 'volumeMode', values: ['Block', 'Filesystem'] },
  // "Type of resource that this limit applies to." The API server accepts any string, but only
  // these three are ever enforced (LimitRanger): anything else is a LimitRange that silently does nothing.
  { definition: 'core.v1.LimitRangeItem', property: 'type', values: ['Container', 'PersistentVolumeClaim', 'Pod'] },
  // "Valid operators are In, NotIn, Exists, DoesNotExist."
  { definition: 'core.v1.ScopedResourceSelectorRequirement', property: 'operator', values: ['DoesNotExist', 'Exists', 'In', 'NotIn'] },
  // "The name of the scope that the selector applies to." / "A collection of filters" (ResourceQuotaScope constants)
  { definition: 'core.v1.ScopedResourceSelectorRequirement', property: 'scopeName', values: ['BestEffort', 'CrossNamespacePodAffinity', 'NotBestEffort', 'NotTerminating', 'PriorityClass', 'Terminating'] },
  { definition: 'core.v1.ResourceQuotaSpec', property: 'scopes', values: ['BestEffort', 'CrossNamespacePodAffinity', 'NotBestEffort', 'NotTerminating', 'PriorityClass', 'Terminating'] },
  // "Type of deployment. Can be "Recreate" or "RollingUpdate"."
  { definition: 'apps.v1.DeploymentStrategy', property: 'type', values: ['Recreate', 'RollingUpdate'] },
  // "Default is RollingUpdate." (StatefulSetUpdateStrategyType: OnDelete, RollingUpdate)
  { definition: 'apps.v1.StatefulSetUpdateStrategy', property: 'type', values: ['OnDelete', 'RollingUpdate'] },
  // "Can be "RollingUpdate" or "OnDelete"."
  { definition: 'apps.v1.DaemonSetUpdateStrategy', property: 'type', values: ['OnDelete', 'RollingUpdate'] },
  // "The default policy is `OrderedReady` … The alternative policy is `Parallel` …"
  { definition: 'apps.v1.StatefulSetSpec', property: 'podManagementPolicy', values: ['OrderedReady', 'Parallel'] },
  // "The default policy of `Retain` … The `Delete` policy …"
  { definition: 'apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy', property: 'whenDeleted', values: ['Delete', 'Retain'] },
  { definition: 'apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy', property: 'whenScaled', values: ['Delete', 'Retain'] },
  // "Valid values are: - "Allow" (default) … - "Forbid" … - "Replace" …"
  { definition: 'batch.v1.CronJobSpec', property: 'concurrencyPolicy', values: ['Allow', 'Forbid', 'Replace'] },
  // "It can be `NonIndexed` (default) or `Indexed`."
  { definition: 'batch.v1.JobSpec', property: 'completionMode', values: ['Indexed', 'NonIndexed'] },
  // "Possible values are: - TerminatingOrFailed … - Failed …"
  { definition: 'batch.v1.JobSpec', property: 'podReplacementPolicy', values: ['Failed', 'TerminatingOrFailed'] },
  // "Possible values are: - FailJob … - FailIndex … - Ignore … - Count …"
  { definition: 'batch.v1.PodFailurePolicyRule', property: 'action', values: ['Count', 'FailIndex', 'FailJob', 'Ignore'] },
  // "Possible values are: - In: … - NotIn: …"
  { definition: 'batch.v1.PodFailurePolicyOnExitCodesRequirement', property: 'operator', values: ['In', 'NotIn'] },
  // "Valid policies are IfHealthyBudget and AlwaysAllow."
  { definition: 'policy.v1.PodDisruptionBudgetSpec', property: 'unhealthyPodEvictionPolicy', values: ['AlwaysAllow', 'IfHealthyBudget'] },
  // "It should be one of "ContainerResource", "External", "Object", "Pods" or "Resource""
  { definition: 'autoscaling.v2.MetricSpec', property: 'type', values: ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'] },
  // "type represents whether the metric type is Utilization, Value, or AverageValue"
  { definition: 'autoscaling.v2.MetricTarget', property: 'type', values: ['AverageValue', 'Utilization', 'Value'] },
  // "If not set, the default value Max is used." (ScalingPolicySelect: Max, Min, Disabled)
  { definition: 'autoscaling.v2.HPAScalingRules', property: 'selectPolicy', values: ['Disabled', 'Max', 'Min'] },
  // "type is used to specify the scaling policy." (HPAScalingPolicyType: Pods, Percent)
  { definition: 'autoscaling.v2.HPAScalingPolicy', property: 'type', values: ['Percent', 'Pods'] },
  // "Valid options are ["Ingress"], ["Egress"], or ["Ingress", "Egress"]."
  { definition: 'networking.v1.NetworkPolicySpec', property: 'policyTypes', values: ['Egress', 'Ingress'] },
  // "PathType can be one of the following values: * Exact … * Prefix … * ImplementationSpecific …"
  { definition: 'networking.v1.HTTPIngressPath', property: 'pathType', values: ['Exact', 'ImplementationSpecific', 'Prefix'] },
];

interface RangeRule {
  readonly definition: string;
  /** An integer property, or an int-or-string one (the range then bounds its integer values). */
  readonly property: string;
  readonly minimum?: number;
  readonly maximum?: number;
}

const PORT = { minimum: 1, maximum: 65535 };
const COUNT = { minimum: 0 };
const POSITIVE = { minimum: 1 };

/**
 * Ranges the API server enforces (quoted from the description where it states them).
 * An int32 field without a `maximum` here is still bounded by the int32 range.
 */
export const RANGES: readonly RangeRule[] = [
  // Port numbers: "This must be a valid port number, 0 < x < 65536." and the like.
  { definition: 'core.v1.ContainerPort', property: 'containerPort', ...PORT },
  { definition: 'core.v1.ContainerPort', property: 'hostPort', ...PORT },
  { definition: 'core.v1.ServicePort', property: 'port', ...PORT },
  { definition: 'core.v1.ServicePort', property: 'nodePort', ...PORT },
  // "Number must be in the range 1 to 65535. Name must be an IANA_SVC_NAME."
  { definition: 'core.v1.ServicePort', property: 'targetPort', ...PORT },
  { definition: 'core.v1.ServiceSpec', property: 'healthCheckNodePort', ...PORT },
  { definition: 'core.v1.HTTPGetAction', property: 'port', ...PORT },
  { definition: 'core.v1.TCPSocketAction', property: 'port', ...PORT },
  { definition: 'core.v1.GRPCAction', property: 'port', ...PORT },
  { definition: 'networking.v1.NetworkPolicyPort', property: 'port', ...PORT },
  { definition: 'networking.v1.NetworkPolicyPort', property: 'endPort', ...PORT },
  { definition: 'networking.v1.ServiceBackendPort', property: 'number', ...PORT },

  // Replica counts and history limits: never negative.
  { definition: 'apps.v1.DeploymentSpec', property: 'replicas', ...COUNT },
  { definition: 'apps.v1.DeploymentSpec', property: 'minReadySeconds', ...COUNT },
  { definition: 'apps.v1.DeploymentSpec', property: 'progressDeadlineSeconds', ...COUNT },
  { definition: 'apps.v1.DeploymentSpec', property: 'revisionHistoryLimit', ...COUNT },
  { definition: 'apps.v1.StatefulSetSpec', property: 'replicas', ...COUNT },
  { definition: 'apps.v1.StatefulSetSpec', property: 'minReadySeconds', ...COUNT },
  { definition: 'apps.v1.StatefulSetSpec', property: 'revisionHistoryLimit', ...COUNT },
  { definition: 'apps.v1.DaemonSetSpec', property: 'minReadySeconds', ...COUNT },
  { definition: 'apps.v1.DaemonSetSpec', property: 'revisionHistoryLimit', ...COUNT },
  { definition: 'apps.v1.ReplicaSetSpec', property: 'replicas', ...COUNT },
  { definition: 'apps.v1.ReplicaSetSpec', property: 'minReadySeconds', ...COUNT },
  { definition: 'core.v1.ReplicationControllerSpec', property: 'replicas', ...COUNT },
  // maxSurge/maxUnavailable, minAvailable: non-negative integers (or percentages).
  { definition: 'apps.v1.RollingUpdateDeployment', property: 'maxSurge', ...COUNT },
  { definition: 'apps.v1.RollingUpdateDeployment', property: 'maxUnavailable', ...COUNT },
  { definition: 'policy.v1.PodDisruptionBudgetSpec', property: 'minAvailable', ...COUNT },
  { definition: 'policy.v1.PodDisruptionBudgetSpec', property: 'maxUnavailable', ...COUNT },
  // "minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled" (it is not):
  // at least 1; maxReplicas "cannot be less than minReplicas", so at least 1 too.
  { definition: 'autoscaling.v2.HorizontalPodAutoscalerSpec', property: 'minReplicas', ...POSITIVE },
  { definition: 'autoscaling.v2.HorizontalPodAutoscalerSpec', property: 'maxReplicas', ...POSITIVE },
  { definition: 'autoscaling.v1.HorizontalPodAutoscalerSpec', property: 'minReplicas', ...POSITIVE },
  { definition: 'autoscaling.v1.HorizontalPodAutoscalerSpec', property: 'maxReplicas', ...POSITIVE },
  { definition: 'autoscaling.v1.HorizontalPodAutoscalerSpec', property: 'targetCPUUtilizationPercentage', ...POSITIVE },
  // A utilization target of 0 % would scale out forever.
  { definition: 'autoscaling.v2.MetricTarget', property: 'averageUtilization', ...POSITIVE },
  // "StabilizationWindowSeconds must be greater than or equal to zero and less than or equal to 3600"
  { definition: 'autoscaling.v2.HPAScalingRules', property: 'stabilizationWindowSeconds', minimum: 0, maximum: 3600 },
  // "PeriodSeconds must be greater than zero and less than or equal to 1800" / "value … must be greater than zero"
  { definition: 'autoscaling.v2.HPAScalingPolicy', property: 'periodSeconds', minimum: 1, maximum: 1800 },
  { definition: 'autoscaling.v2.HPAScalingPolicy', property: 'value', ...POSITIVE },

  // Jobs and CronJobs.
  { definition: 'batch.v1.JobSpec', property: 'parallelism', ...COUNT },
  { definition: 'batch.v1.JobSpec', property: 'completions', ...COUNT },
  { definition: 'batch.v1.JobSpec', property: 'backoffLimit', ...COUNT },
  { definition: 'batch.v1.JobSpec', property: 'backoffLimitPerIndex', ...COUNT },
  { definition: 'batch.v1.JobSpec', property: 'maxFailedIndexes', ...COUNT },
  { definition: 'batch.v1.JobSpec', property: 'ttlSecondsAfterFinished', ...COUNT },
  // "value must be positive integer"
  { definition: 'batch.v1.JobSpec', property: 'activeDeadlineSeconds', ...POSITIVE },
  { definition: 'batch.v1.CronJobSpec', property: 'startingDeadlineSeconds', ...COUNT },
  // "Value must be non-negative integer."
  { definition: 'batch.v1.CronJobSpec', property: 'successfulJobsHistoryLimit', ...COUNT },
  { definition: 'batch.v1.CronJobSpec', property: 'failedJobsHistoryLimit', ...COUNT },

  // Pods. "Value must be non-negative integer. The value zero indicates stop immediately"
  { definition: 'core.v1.PodSpec', property: 'terminationGracePeriodSeconds', ...COUNT },
  // "Value must be a positive integer."
  { definition: 'core.v1.PodSpec', property: 'activeDeadlineSeconds', ...POSITIVE },
  { definition: 'core.v1.Probe', property: 'initialDelaySeconds', ...COUNT },
  // "Minimum value is 1." (0 is silently replaced by the default: we reject it, as it never means what it says)
  { definition: 'core.v1.Probe', property: 'periodSeconds', ...POSITIVE },
  { definition: 'core.v1.Probe', property: 'timeoutSeconds', ...POSITIVE },
  { definition: 'core.v1.Probe', property: 'failureThreshold', ...POSITIVE },
  { definition: 'core.v1.Probe', property: 'successThreshold', ...POSITIVE },
  { definition: 'core.v1.Probe', property: 'terminationGracePeriodSeconds', ...COUNT },
  // User and group ids are never negative.
  { definition: 'core.v1.SecurityContext', property: 'runAsUser', ...COUNT },
  { definition: 'core.v1.SecurityContext', property: 'runAsGroup', ...COUNT },
  { definition: 'core.v1.PodSecurityContext', property: 'runAsUser', ...COUNT },
  { definition: 'core.v1.PodSecurityContext', property: 'runAsGroup', ...COUNT },
  { definition: 'core.v1.PodSecurityContext', property: 'fsGroup', ...COUNT },
  // "MaxSkew … must be greater than zero" / "minDomains … must be greater than 0"
  { definition: 'core.v1.TopologySpreadConstraint', property: 'maxSkew', ...POSITIVE },
  { definition: 'core.v1.TopologySpreadConstraint', property: 'minDomains', ...POSITIVE },
  // "in the range 1-100."
  { definition: 'core.v1.WeightedPodAffinityTerm', property: 'weight', minimum: 1, maximum: 100 },
  { definition: 'core.v1.PreferredSchedulingTerm', property: 'weight', minimum: 1, maximum: 100 },
];

/** The property a rule names, or an error naming the rule. */
function property(definitions: Record<string, Schema>, rule: { definition: string; property: string }): { owner: Schema; schema: Schema } {
  const owner = definitions[definitionName(rule.definition)];
  const schema = owner?.properties?.[rule.property];
  if (!schema) throw new Error(`k8s-schema rule: ${rule.definition}.${rule.property} is not in ${path.basename(DEFINITIONS_FILE)}`);
  return { owner, schema };
}

function applyEnum(definitions: Record<string, Schema>, rule: EnumRule): void {
  const { schema } = property(definitions, rule);
  const target = schema.type === 'array' ? schema.items : schema;
  if (target?.type !== 'string' || target.enum) {
    throw new Error(`k8s-schema rule: ${rule.definition}.${rule.property} is not a plain string (or array of strings)`);
  }
  target.enum = [...rule.values];
}

function applyRange(definitions: Record<string, Schema>, rule: RangeRule): void {
  const { owner, schema } = property(definitions, rule);
  const bounds = { ...(rule.minimum !== undefined ? { minimum: rule.minimum } : {}), ...(rule.maximum !== undefined ? { maximum: rule.maximum } : {}) };
  if (schema.type === 'integer') Object.assign(schema, bounds);
  else if (schema.$ref === `#/definitions/${INT_OR_STRING_DEF}`) {
    // Bounds apply to numbers only, so the string form (a port name, a percentage) is untouched.
    owner.properties[rule.property] = { 'x-kubernetes-int-or-string': true, format: 'int32', ...bounds };
  } else {
    throw new Error(`k8s-schema rule: ${rule.definition}.${rule.property} is neither an integer nor an int-or-string`);
  }
}

/** The top-level kinds: a single group/version/kind of their own (no `*List`) and ObjectMeta metadata. */
function kinds(definitions: Record<string, Schema>): Array<{ name: string; apiVersion: string; kind: string }> {
  const result: Array<{ name: string; apiVersion: string; kind: string }> = [];
  for (const [name, definition] of Object.entries(definitions)) {
    const gvks = definition['x-kubernetes-group-version-kind'] as Array<{ group: string; version: string; kind: string }> | undefined;
    // DeleteOptions, WatchEvent and Status are shared by every group: envelopes, not objects.
    if (gvks?.length !== 1 || gvks[0].kind.endsWith('List')) continue;
    if (definition.properties?.metadata?.$ref !== `#/definitions/${OBJECT_META_DEF}`) continue; // APIGroup, APIVersions
    const { group, version, kind } = gvks[0];
    result.push({ name, apiVersion: group ? `${group}/${version}` : version, kind });
  }
  return result;
}

/** Names of the definitions `roots` reference, directly or not. */
function reachable(definitions: Record<string, Schema>, roots: Schema[]): Set<string> {
  const seen = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string' && value.startsWith('#/definitions/')) {
          const name = value.slice('#/definitions/'.length);
          if (!seen.has(name)) {
            seen.add(name);
            visit(definitions[name]);
          }
        } else visit(value);
      }
    }
  };
  roots.forEach(visit);
  return seen;
}

const sorted = <T>(entries: Array<[string, T]>): Record<string, T> => Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** The schema, as the text written to imports/k8s-1.28.schema.json. */
export function generate(file = DEFINITIONS_FILE): string {
  const upstream: Record<string, Schema> = JSON.parse(readFileSync(file, 'utf8')).definitions;

  // The two definitions upstream writes as `oneOf`: a quantity is a string in quantity syntax
  // (or a plain number); an IntOrString holds an int32 or a string.
  upstream[QUANTITY_DEF] = { anyOf: [{ type: 'string', pattern: QUANTITY }, { type: 'number' }] };
  upstream[INT_OR_STRING_DEF] = { 'x-kubernetes-int-or-string': true, format: 'int32' };
  for (const rule of ENUMS) applyEnum(upstream, rule);
  for (const rule of RANGES) applyRange(upstream, rule);
  const definitions = Object.fromEntries(Object.entries(upstream).map(([name, schema]) => [name, strictify(schema)]));

  // A whole object: its definition without status (never written, only reported), with
  // its fixed apiVersion and kind.
  const resources: Array<[string, Schema]> = kinds(upstream).map(({ name, apiVersion, kind }) => {
    const { status: _status, apiVersion: _a, kind: _k, ...properties } = definitions[name].properties;
    return [`${apiVersion}/${kind}`, {
      type: 'object',
      properties: { apiVersion: { const: apiVersion }, kind: { const: kind }, ...properties },
      required: ['apiVersion', 'kind', ...(definitions[name].required ?? [])],
      additionalProperties: false,
    }];
  });
  // Only what the resources use (ObjectMeta is also what custom resources' metadata is checked against).
  const used = reachable(definitions, resources.map(([, schema]) => schema));
  if (!used.has(OBJECT_META_DEF)) throw new Error(`${OBJECT_META_DEF} is not referenced`);

  return `${JSON.stringify({
    $comment: 'Generated by imports/generate/k8s-schema.ts from imports/kubernetes/v1.28.0/_definitions.json (Kubernetes v1.28.0). Do not edit.',
    resources: sorted(resources),
    definitions: sorted(Object.entries(definitions).filter(([name]) => used.has(name))),
  })}\n`;
}

if (require.main === module) {
  const out = path.join(__dirname, '..', 'k8s-1.28.schema.json');
  writeFileSync(out, generate());
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}
