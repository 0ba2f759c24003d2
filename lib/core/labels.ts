/**
 * The recommended `app.kubernetes.io/*` labels, and the only source of selector labels.
 *
 * Selectors use the service name (and the blue-green slot), never the construct path,
 * because a Deployment's `spec.selector` is immutable: a selector derived from the
 * construct tree would break `kubectl apply` and Argo CD sync on a mere refactor.
 *
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
 */

export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_VERSION = 'app.kubernetes.io/version';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
/** Blue-green slot of a Deployment's pods (`blue` or `green`). */
export const LABEL_SLOT = 'pronto.io/slot';
/** Git commit the running image was built from. */
export const ANNOTATION_GIT_SHA = 'pronto.io/git-sha';
/** Environment tier of a namespace; the validation gate applies production rules to `production`. */
export const ANNOTATION_TIER = 'pronto.io/tier';

/** The application every object belongs to. */
export const PART_OF = 'pronto';
/** The tool that manages every object. */
export const MANAGED_BY = 'cdk8s';

export interface LabelOptions {
  /** Service or component name, e.g. `order-service`. Also the instance name. */
  readonly name: string;
  /** Role in the architecture, e.g. `web`, `api`, `namespace`. */
  readonly component: string;
  /** Semantic version of what runs. @default - no version label (objects without an image) */
  readonly version?: string;
}

/** Labels that select the pods of a service; stable for the life of the service. */
export function selectorLabels(name: string, slot?: string): Record<string, string> {
  // Keys in sorted order, as cdk8s renders its own maps, so patched copies read the same.
  return {
    [LABEL_INSTANCE]: name,
    [LABEL_NAME]: name,
    ...(slot ? { [LABEL_SLOT]: slot } : {}),
  };
}

/** The full recommended label set for an object's metadata. */
export function recommendedLabels(options: LabelOptions): Record<string, string> {
  return {
    [LABEL_NAME]: options.name,
    [LABEL_INSTANCE]: options.name,
    ...(options.version ? { [LABEL_VERSION]: options.version } : {}),
    [LABEL_COMPONENT]: options.component,
    [LABEL_PART_OF]: PART_OF,
    [LABEL_MANAGED_BY]: MANAGED_BY,
  };
}
