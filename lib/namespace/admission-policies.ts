/**
 * Admission-time guardrails for the namespace Pronto owns: ValidatingAdmissionPolicies
 * (CEL, evaluated by the API server) that hold every pod and pod template applied there,
 * hand-applied YAML included, to the rules the validation gate holds our own output to,
 * and, when the environment has an image policy, to where images come from: an allowed
 * repository and a digest, checked on the pod as admitted (after the mutating webhooks
 * injected their containers) with the pattern synth's own check uses.
 *
 * Served as `admissionregistration.k8s.io/v1beta1`: the version Kubernetes 1.28 knows
 * (behind the `ValidatingAdmissionPolicy` feature gate and the v1beta1 API) and 1.30+
 * still serves beside v1 (on by default from 1.30).
 */
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { DIGEST_PINNED_IMAGE, VERSION_TAG, allowedImagePattern, recommendedLabels, resourceName } from '../core';

/** What the API server does with a request a guardrail rejects (the binding's `validationActions`). */
export type AdmissionEnforcement = 'Deny' | 'Warn' | 'Audit';

export interface AdmissionPoliciesProps {
  /** The namespace the bindings select (by `kubernetes.io/metadata.name`); also the prefix of every object name. */
  readonly namespace: string;
  /**
   * `Deny` rejects the request, `Warn` lets it through with a warning to the client,
   * `Audit` records the failure in the audit log only.
   * @default 'Deny'
   */
  readonly enforcement?: AdmissionEnforcement;
  /**
   * Repository prefixes every image must come from (`images.allowedRepositories`, plus the
   * repositories of the images webhooks inject), matched on exact path boundaries
   * ({@link allowedImagePattern}). Checked on the pod as admitted, after the mutating webhooks.
   * @default - images from any repository
   */
  readonly allowedRepositories?: readonly string[];
  /**
   * Every image must carry `@sha256:<digest>` (`images.requireDigest`).
   * @default false
   */
  readonly requireDigest?: boolean;
}

/** One guardrail: what it requires, as CEL over the list `variables.<list>`, and what it says when violated. */
export interface Guardrail {
  /** Stable id, e.g. `resources`. */
  readonly id: string;
  /** The container list it checks: `containers` (app and init) or `allContainers` (also ephemeral). */
  readonly list: 'containers' | 'allContainers';
  /** CEL, true when the container `c` complies. */
  readonly complies: string;
  /** The rule, in words: the start of the message. */
  readonly message: string;
}

/** A group of resources whose pod spec sits at the same place, checked by one policy. */
export interface PodSpecShape {
  /** Name part of the policy and binding, e.g. `pod` → `<namespace>-pod-guardrails`. */
  readonly id: string;
  /** What the policy matches: API group → resources. */
  readonly resources: ReadonlyArray<{ readonly apiGroup: string; readonly resources: readonly string[] }>;
  /** CEL of the pod spec within `object`. */
  readonly podSpec: string;
}

/**
 * Where the pod spec is, by kind. Pods catch everything (every workload's pods are
 * admitted as Pods, after the mutating webhooks, so injected containers are checked too),
 * but only when the controller creates them: the error then sits in the ReplicaSet's or
 * Job's events. Matching the workloads too rejects the `kubectl apply` itself.
 */
export const POD_SPEC_SHAPES: readonly PodSpecShape[] = [
  // `pods/ephemeralcontainers`: `kubectl debug` adds containers through this subresource.
  { id: 'pod', resources: [{ apiGroup: '', resources: ['pods', 'pods/ephemeralcontainers'] }], podSpec: 'object.spec' },
  {
    id: 'workload',
    resources: [
      { apiGroup: 'apps', resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'] },
      { apiGroup: 'batch', resources: ['jobs'] },
    ],
    podSpec: 'object.spec.template.spec',
  },
  { id: 'cronjob', resources: [{ apiGroup: 'batch', resources: ['cronjobs'] }], podSpec: 'object.spec.jobTemplate.spec.template.spec' },
];

/**
 * The gate's VERSION_TAG (lib/core/image.ts) as an RE2 fragment without anchors or
 * backslashes (`\d` is `[0-9]`, `\.` is `[.]`): a backslash in a CEL string literal is an
 * escape sequence, and `\.` is not a valid one.
 */
export const VERSION_TAG_RE2 = VERSION_TAG.source.replace(/^\^/, '').replace(/\$$/, '')
  .replace(/\\d/g, '[0-9]').replace(/\\\./g, '[.]');

/**
 * A pinned image, as the gate's `image-pinned` rule reads it: the last path segment carries
 * a version tag (a digest may follow), or there is no tag and a `sha256` digest. The
 * registry part may hold a port (`registry:5000/app:1.2.3`).
 */
export const PINNED_IMAGE = `^([^/@]*/)*[^/:@]+(:${VERSION_TAG_RE2}(@sha256:[a-f0-9]{64})?|@sha256:[a-f0-9]{64})$`;

/** `c.securityContext.<field>` when set, else `fallback` (CEL). */
const containerOr = (field: string, fallback: string) =>
  `(has(c.securityContext) && has(c.securityContext.${field}) ? c.securityContext.${field} : ${fallback})`;

/** A quantity that is set and not zero, as the gate's `resources-set` rule reads it. */
const nonZero = (quantity: string) => `!string(${quantity}).matches('^0+[a-zA-Z]*$')`;

/** The guardrails every policy holds, in the order the API server evaluates (and reports) them; {@link imageSourceGuardrails} follow. */
export const GUARDRAILS: readonly Guardrail[] = [
  {
    id: 'resources',
    // Ephemeral containers cannot set resources (the API refuses them), so they are not asked to.
    list: 'containers',
    complies: 'has(c.resources) && has(c.resources.requests) && has(c.resources.limits)'
      + ` && 'cpu' in c.resources.requests && ${nonZero('c.resources.requests.cpu')}`
      + ` && 'memory' in c.resources.requests && ${nonZero('c.resources.requests.memory')}`
      + ` && 'memory' in c.resources.limits && ${nonZero('c.resources.limits.memory')}`,
    message: 'every container and init container sets resources.requests.cpu, resources.requests.memory and resources.limits.memory (not zero)',
  },
  {
    id: 'image-pinned',
    list: 'allContainers',
    complies: `has(c.image) && c.image.matches('${PINNED_IMAGE}')`,
    message: 'every image is pinned to a version tag such as 1.4.2 or 16.4-bookworm (never latest or a major-only tag), '
      + 'optionally with @sha256:<digest>, or to a digest alone',
  },
  {
    id: 'not-privileged',
    list: 'allContainers',
    complies: `!${containerOr('privileged', 'false')}`,
    message: 'no container sets securityContext.privileged: true',
  },
  {
    id: 'run-as-non-root',
    list: 'allContainers',
    complies: containerOr('runAsNonRoot', 'variables.podRunAsNonRoot'),
    message: 'every container runs with securityContext.runAsNonRoot: true (on the container, or on the pod and not overridden)',
  },
  {
    id: 'not-root-user',
    list: 'allContainers',
    complies: `${containerOr('runAsUser', 'variables.podRunAsUser')} != 0`,
    message: 'no container runs as user 0 (securityContext.runAsUser of the container, or of the pod)',
  },
];

/**
 * The guardrails on where images come from: an allowed repository (when a list is given),
 * a digest (when required). Over every container, injected and ephemeral ones included.
 */
export function imageSourceGuardrails(allowedRepositories: readonly string[] | undefined, requireDigest: boolean): Guardrail[] {
  return [
    ...(allowedRepositories !== undefined ? [{
      id: 'image-repository',
      list: 'allContainers' as const,
      complies: `has(c.image) && c.image.matches('${allowedImagePattern(allowedRepositories)}')`,
      message: `every image comes from an allowed repository (${[...new Set(allowedRepositories)].join(', ')}; a registry exactly, then whole path segments)`,
    }] : []),
    ...(requireDigest ? [{
      id: 'image-digest',
      list: 'allContainers' as const,
      complies: `has(c.image) && c.image.matches('${DIGEST_PINNED_IMAGE}')`,
      message: 'every image is pinned by digest (@sha256: and 64 hex digits)',
    }] : []),
  ];
}

/**
 * The variables every policy declares, in order (a variable may use those before it).
 * `podSpec` is the shape's; the others read only `variables.podSpec`.
 */
export function policyVariables(shape: PodSpecShape): Array<{ name: string; expression: string }> {
  const spec = 'variables.podSpec';
  return [
    { name: 'podSpec', expression: shape.podSpec },
    { name: 'containers', expression: `${spec}.containers + (has(${spec}.initContainers) ? ${spec}.initContainers : [])` },
    { name: 'allContainers', expression: `variables.containers + (has(${spec}.ephemeralContainers) ? ${spec}.ephemeralContainers : [])` },
    { name: 'podRunAsNonRoot', expression: `has(${spec}.securityContext) && has(${spec}.securityContext.runAsNonRoot) ? ${spec}.securityContext.runAsNonRoot : false` },
    { name: 'podRunAsUser', expression: `has(${spec}.securityContext) && has(${spec}.securityContext.runAsUser) ? ${spec}.securityContext.runAsUser : -1` },
  ];
}

/** A guardrail as a policy validation: the rule, and a message naming the containers that break it. */
export function validation(rule: Guardrail): kplus.k8s.ValidationV1Beta1 {
  const list = `variables.${rule.list}`;
  return {
    expression: `${list}.all(c, ${rule.complies})`,
    message: `${rule.message}.`,
    messageExpression: `'${rule.message}; containers that do not: ' + ${list}.filter(c, !(${rule.complies})).map(c, c.name).join(', ')`,
    reason: 'Invalid',
  };
}

/** CEL: a CREATE, or an UPDATE whose pod spec (`object.…`) differs from the old object's. */
export function podSpecChanged(podSpec: string): string {
  return `request.operation != 'UPDATE' || ${podSpec} != ${podSpec.replace(/^object\./, 'oldObject.')}`;
}

/**
 * The guardrails of the namespace Pronto owns: for each place a pod spec sits (Pods;
 * Deployments, StatefulSets, DaemonSets, ReplicaSets and Jobs; CronJobs), one
 * ValidatingAdmissionPolicy `<namespace>-<shape>-guardrails` and its binding of the same
 * name, which applies it to that namespace only. Both are cluster-scoped; the namespace in
 * their names keeps environments that share a cluster apart.
 */
export class AdmissionPolicies extends Construct {
  /** Policy (and binding) names, in order. */
  public readonly names: string[];
  /** The guardrails every policy holds, in the order of its validations. */
  public readonly guardrails: readonly Guardrail[];

  public constructor(scope: Construct, id: string, props: AdmissionPoliciesProps) {
    super(scope, id);
    const namespace = resourceName(props.namespace);
    const enforcement = props.enforcement ?? 'Deny';
    if (props.allowedRepositories !== undefined && props.allowedRepositories.length === 0) {
      throw new Error(`${this.node.path}: allowedRepositories: expected at least one repository prefix, or none given (any repository)`);
    }
    this.guardrails = [...GUARDRAILS, ...imageSourceGuardrails(props.allowedRepositories, props.requireDigest ?? false)];
    this.names = [];
    for (const shape of POD_SPEC_SHAPES) {
      const name = resourceName(namespace, shape.id, 'guardrails');
      const labels = recommendedLabels({ name, component: 'admission-policy' });
      this.names.push(name);
      new kplus.k8s.KubeValidatingAdmissionPolicyV1Beta1(this, `${shape.id}-policy`, {
        metadata: { name, labels },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            matchPolicy: 'Equivalent',
            resourceRules: shape.resources.map((r) => ({
              apiGroups: [r.apiGroup], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: [...r.resources], scope: 'Namespaced',
            })),
          },
          // An UPDATE is checked only when the pod spec changes: a controller scaling an old
          // ReplicaSet down, or relabelling an old pod, must never be refused for what it left alone.
          matchConditions: [{ name: 'pod-spec-created-or-changed', expression: podSpecChanged(shape.podSpec) }],
          variables: policyVariables(shape),
          validations: this.guardrails.map(validation),
        },
      });
      new kplus.k8s.KubeValidatingAdmissionPolicyBindingV1Beta1(this, `${shape.id}-binding`, {
        metadata: { name, labels },
        spec: {
          policyName: name,
          validationActions: [enforcement],
          matchResources: {
            matchPolicy: 'Equivalent',
            namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [namespace] }] },
          },
        },
      });
    }
  }
}
