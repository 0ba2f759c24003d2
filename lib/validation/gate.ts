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
  /** Valid waivers, and how many findings each silenced, by object and rule. */
  readonly waivers: Array<Waiver & { readonly waived: number }>;
}

/** Ids of the rules a waiver may name. */
const RULE_IDS = new Set(RULES.map((r) => r.id));

/** Waivers must name a rule and say why; a bare annotation would be a blanket switch. */
export const WAIVER_RULE: Rule = {
  id: 'waiver-reason',
  requires: `Every ${WAIVER_PREFIX}<rule> annotation names an existing rule and gives a reason.`,
  fix: `Write the reason as the annotation value, e.g. ${WAIVER_PREFIX}no-service-account-token: "Vault agent authenticates with the pod's token".`,
  check: (index) => index.manifests.flatMap((m) => waiverAnnotations(m).flatMap(([key, rule, reason]) => {
    const path = `metadata.annotations.${key}`;
    if (!RULE_IDS.has(rule)) return [finding('waiver-reason', m, path, `names no rule ("${rule}")`)];
    return reason ? [] : [finding('waiver-reason', m, path, 'has no reason')];
  })),
};

/** Every rule, in report order. */
export const ALL_RULES: Rule[] = [...RULES, WAIVER_RULE];

/**
 * Runs every rule over one document set (all charts of one environment together, so that
 * cross-object rules see every PodDisruptionBudget, Service and NetworkPolicy). Pass a
 * {@link ManifestIndex} instead of the manifests to read its work counters afterwards
 * (the scaling test and the benchmark do).
 */
export function runGate(input: Manifest[] | ManifestIndex): GateResult {
  const index = input instanceof ManifestIndex ? input : new ManifestIndex(input);
  const waivers = index.manifests.flatMap((m) => waiverAnnotations(m)
    .filter(([, rule, reason]) => reason && RULE_IDS.has(rule))
    .map(([, rule, reason]) => ({ rule, object: objectRef(m), reason })));
  const key = (rule: string, object: string) => `${rule}\u0000${object}`;
  const waived = new Map(waivers.map((w) => [key(w.rule, w.object), 0]));
  const all = ALL_RULES.flatMap((rule) => rule.check(index));
  const findings = all.filter((f) => {
    const k = key(f.rule, f.object);
    const count = waived.get(k);
    if (count === undefined) return true;
    waived.set(k, count + 1);
    return false;
  });
  // By object, then rule: the same list whatever order the objects came in (one render, or the files of a folder).
  const ordered = [...waivers].sort((a, b) => a.object.localeCompare(b.object) || a.rule.localeCompare(b.rule));
  return { findings, waivers: ordered.map((w) => ({ ...w, waived: waived.get(key(w.rule, w.object))! })) };
}

/** The findings as a report grouped by rule, each group with what the rule requires and how to fix it. */
export function formatReport(findings: Finding[]): string {
  const byRule = new Map<string, Finding[]>();
  for (const f of findings) {
    const mine = byRule.get(f.rule);
    if (mine) mine.push(f);
    else byRule.set(f.rule, [f]);
  }
  const lines: string[] = [];
  for (const rule of ALL_RULES) {
    const mine = byRule.get(rule.id) ?? [];
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
