/**
 * The recommended `app.kubernetes.io/*` labels, and the only source of selector labels.
 *
 * Selectors use the service name (and the blue-green slot), never the construct path,
 * because a Deployment's `spec.selector` is immutable: a selector derived from the
 * construct tree would break `kubectl apply` and Argo CD sync on a mere refactor.
 *
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
 */

import { dnsNameProblem } from './naming';

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
/**
 * Marks an object that Pronto emits into a namespace it does not own (monitoring, Vault,
 * Argo CD, kube-system …). The value says who owns that namespace, e.g.
 * `kube-prometheus-stack`; the validation gate requires it to be non-empty.
 */
export const ANNOTATION_FOREIGN_NAMESPACE = 'pronto.io/foreign-namespace';

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

/**
 * Labels that select a service's Services from another object's metadata selector (a
 * ServiceMonitor): its name and `part-of`, never `app.kubernetes.io/instance`. Argo CD's
 * label tracking (its default before 3.0) rewrites `instance` on every object it syncs to
 * the Application's name, so a selector on it would match nothing; pod templates keep it.
 */
export function objectSelectorLabels(name: string): Record<string, string> {
  return { [LABEL_NAME]: name, [LABEL_PART_OF]: PART_OF };
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

/** Labels whose value changes with a release: never in a field the API server freezes (a StatefulSet's claim templates, a selector). */
export const RELEASE_LABELS: readonly string[] = [LABEL_VERSION];

/** `labels` without the {@link RELEASE_LABELS}: what frozen fields may carry. */
export function withoutReleaseLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([key]) => !RELEASE_LABELS.includes(key)));
}

/** Longest label value, and longest name part of a label or annotation key. */
export const MAX_LABEL_VALUE_LENGTH = 63;
/** Label values and the name part of keys: alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric. */
const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const NAME_PART_EXPECTED = 'letters, digits, "-", "_" and ".", starting and ending with a letter or digit';

/**
 * Why `key` is not a qualified name (the syntax of label and annotation keys: an optional
 * DNS-1123 subdomain prefix and `/`, then a name of at most 63 characters), or undefined
 * when it is one.
 */
export function qualifiedNameProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'empty';
  const parts = key.split('/');
  if (parts.length > 2) return `bad characters (${parts.length - 1} "/": expected at most one, between the prefix and the name)`;
  const name = parts[parts.length - 1];
  if (parts.length === 2) {
    const prefixProblem = dnsNameProblem(parts[0], 'dns-1123-subdomain');
    if (prefixProblem) return `prefix "${parts[0]}" is not a DNS-1123 subdomain: ${prefixProblem}`;
  }
  if (name.length === 0) return 'empty name after the prefix';
  if (name.length > MAX_LABEL_VALUE_LENGTH) {
    return `too long (${name.length} characters${parts.length === 2 ? ' after the prefix' : ''}, at most ${MAX_LABEL_VALUE_LENGTH})`;
  }
  if (!NAME_PART.test(name)) return `bad characters (expected ${NAME_PART_EXPECTED}${parts.length === 2 ? ' after the prefix' : ''})`;
  return undefined;
}

/** Why `value` is not a valid label value (empty, or at most 63 characters of the name syntax), or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (typeof value !== 'string') return 'not a string';
  if (value.length === 0) return undefined;
  if (value.length > MAX_LABEL_VALUE_LENGTH) return `too long (${value.length} characters, at most ${MAX_LABEL_VALUE_LENGTH})`;
  if (!NAME_PART.test(value)) return `bad characters (expected ${NAME_PART_EXPECTED})`;
  return undefined;
}

/** A label or annotation key: `[<DNS-1123 subdomain>/]<name>`, the name at most 63 characters. */
export function isQualifiedName(key: string): boolean {
  return qualifiedNameProblem(key) === undefined;
}

/** A label value: empty, or at most 63 letters, digits, `-`, `_`, `.`, starting and ending alphanumeric. */
export function isLabelValue(value: string): boolean {
  return labelValueProblem(value) === undefined;
}
