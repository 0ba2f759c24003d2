import { Finding, Manifest, Rule, finding, objectRef } from './finding';
import { ManifestIndex } from './manifest-index';
import { RULES } from './rules';

/**
 * Annotation that waives one rule for one object: `pronto.io/waive-<rule-id>: "<reason>"`.
 * The reason is required and is printed in every synth summary.
 */
export const WAIVER_PREFIX = 'pronto.io/waive-';

/** A rule waived for one object, with the reason given. */
export interface Waiver {
  readonly rule: string;
  readonly object: string;
  readonly reason: string;
}

export interface GateResult {
  /** What fails the synth. */
  readonly findings: Finding[];
  /** Valid waivers, and how many findings each silenced. */
  readonly waivers: Array<Waiver & { readonly waived: number }>;
}

/** Waivers must name a rule and say why; a bare annotation would be a blanket switch. */
export const WAIVER_RULE: Rule = {
  id: 'waiver-reason',
  requires: `Every ${WAIVER_PREFIX}<rule> annotation names an existing rule and gives a reason.`,
  fix: `Write the reason as the annotation value, e.g. ${WAIVER_PREFIX}no-service-account-token: "Vault agent authenticates with the pod's token".`,
  check: (index) => index.manifests.flatMap((m) => waiverAnnotations(m).flatMap(([key, rule, reason]) => {
    const path = `metadata.annotations.${key}`;
    if (!RULES.some((r) => r.id === rule)) return [finding('waiver-reason', m, path, `names no rule ("${rule}")`)];
    return reason ? [] : [finding('waiver-reason', m, path, 'has no reason')];
  })),
};

/** Every rule, in report order. */
export const ALL_RULES: Rule[] = [...RULES, WAIVER_RULE];

/**
 * Runs every rule over one document set (all charts of one environment together, so that
 * cross-object rules see every PodDisruptionBudget, Service and NetworkPolicy).
 */
export function runGate(manifests: Manifest[]): GateResult {
  const index = new ManifestIndex(manifests);
  const waivers = manifests.flatMap((m) => waiverAnnotations(m)
    .filter(([, rule, reason]) => reason && RULES.some((r) => r.id === rule))
    .map(([, rule, reason]) => ({ rule, object: objectRef(m), reason })));
  const isWaived = (f: Finding) => waivers.some((w) => w.rule === f.rule && w.object === f.object);
  const all = ALL_RULES.flatMap((rule) => rule.check(index));
  return {
    findings: all.filter((f) => !isWaived(f)),
    waivers: waivers.map((w) => ({ ...w, waived: all.filter((f) => f.rule === w.rule && f.object === w.object).length })),
  };
}

/** The findings as a report grouped by rule, each group with what the rule requires and how to fix it. */
export function formatReport(findings: Finding[]): string {
  const lines: string[] = [];
  for (const rule of ALL_RULES) {
    const mine = findings.filter((f) => f.rule === rule.id);
    if (mine.length === 0) continue;
    lines.push(`[${rule.id}] ${rule.requires} (${mine.length})`);
    for (const f of mine) lines.push(`  ${f.object}: ${f.path}: ${f.message}`);
    lines.push(`  fix: ${rule.fix}`);
  }
  return lines.join('\n');
}

/** `[annotation key, rule id, reason]` of every waiver annotation on `m`. */
function waiverAnnotations(m: Manifest): Array<[string, string, string]> {
  return Object.entries((m.metadata?.annotations ?? {}) as Record<string, string>)
    .filter(([key]) => key.startsWith(WAIVER_PREFIX))
    .map(([key, value]) => [key, key.slice(WAIVER_PREFIX.length), String(value ?? '').trim()]);
}
