import { Manifest } from '../core/manifest';
import { ManifestIndex } from './manifest-index';

/** One rule broken by one object, at one field. */
export interface Finding {
  /** Stable rule id, e.g. `image-pinned`. */
  readonly rule: string;
  /** `Kind namespace/name` of the object. */
  readonly object: string;
  /** Dotted field path inside the object, e.g. `spec.template.spec.containers[0].image`. */
  readonly path: string;
  /** What is wrong, with the value found. */
  readonly message: string;
}

/** A policy the output must satisfy. */
export interface Rule {
  /** Stable, kebab-case id, used in reports and waiver annotations. */
  readonly id: string;
  /** What the rule requires, in one sentence. */
  readonly requires: string;
  /** How to fix a finding. */
  readonly fix: string;
  /** Every finding over the whole document set. */
  check(index: ManifestIndex): Finding[];
}

export type { Manifest } from '../core/manifest';

/** `Deployment pronto/order-service`, or `Namespace pronto` for cluster-scoped objects. */
export function objectRef(m: Manifest): string {
  const ns = m.metadata?.namespace;
  return `${m.kind} ${ns ? `${ns}/` : ''}${m.metadata?.name ?? '(unnamed)'}`;
}

/** Builds a finding of `rule` on `m`. */
export function finding(rule: string, m: Manifest, path: string, message: string): Finding {
  return { rule, object: objectRef(m), path, message };
}

/** A rule from its parts; the rule files read as tables of these. */
export function rule(id: string, requires: string, fix: string, check: (index: ManifestIndex) => Finding[]): Rule {
  return { id, requires, fix, check };
}
