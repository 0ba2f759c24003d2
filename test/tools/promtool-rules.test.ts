/**
 * The metrics capability's rules in real promtool (Debian package prometheus; .ci/run installs
 * it; skipped loudly without it): `promtool check rules` on every PrometheusRule of every
 * shipped environment with the section on, and `promtool test rules` on the unit tests of
 * test/promtool/*.test.yaml. Those are templates: each is expanded once per catalog service,
 * with the values the catalog and the environment give (objectives, thresholds, opening hours),
 * so a new service is tested without editing them, and every alert the capability emits must
 * have at least one firing and one silent case. promtool runs twice in all.
 */
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'fs';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { openingWindow, sloOf } from '../../charts/capabilities/metrics';
import { renderEnvironment } from '../../charts/synthesize';
import { EnvironmentConfig, parseEnvironment } from '../../config/load';
import { Manifest } from '../../lib/core';
import { errorBudget, formatNumber, leLabel, utcWindowOpen } from '../../lib/metrics';
import { ENVIRONMENTS } from '../helpers';
import { UNIT_TEST_ENV, withMetrics } from '../lib/metrics/fixture';
import { checkRules, promtoolOrSkip, scratch, testRules, writeRawRuleFile } from './promtool';

const TEMPLATES = path.join(__dirname, '..', 'promtool');

type Groups = Array<{ name: string; rules: Array<Record<string, any>> }>;

/** The PrometheusRules of an environment, by name. */
function prometheusRules(manifests: Manifest[]): Map<string, Groups> {
  return new Map(manifests.filter((m) => m.kind === 'PrometheusRule').map((m) => [m.metadata!.name!, (m.spec as any).groups as Groups]));
}

/** Minutes between two evaluations in the templates that use the opening hours, and between two samples. */
const OPENING_HOURS_STEP = 10;
const OPENING_HOURS_SAMPLE = 5;

/** The first multiple of {@link OPENING_HOURS_STEP} ≥ `from` for which `ok` holds for it and the `span` minutes before it. */
function firstMinute(ok: (minute: number) => boolean, from: number, span = 0): number {
  for (let t = Math.ceil(from / OPENING_HOURS_STEP) * OPENING_HOURS_STEP; t < from + 14 * 1440; t += OPENING_HOURS_STEP) {
    let all = true;
    for (let m = t - span; m <= t && all; m++) all = ok(m);
    if (all) return t;
  }
  throw new Error('no such minute within two weeks: the opening hours leave no time to test');
}

/** The values a template's `${...}` take for one service (or for the namespace alone). */
function placeholders(config: EnvironmentConfig, service: string | undefined, ruleFileOf: (name: string) => string): (name: string, args: string[]) => string {
  const section = config.capabilities.metrics!;
  const window = openingWindow(section.openingHoursUtc);
  const span = Math.max(section.noOrdersMinutes, 10) + 20;
  const openAt = firstMinute((m) => utcWindowOpen(window, m), span + 10, span);
  const closedAt = firstMinute((m) => !utcWindowOpen(window, m), 20);
  const svc = service ? config.services.find((s) => s.name === service)! : undefined;
  const slo = svc ? sloOf(section, svc) : undefined;
  const per1000 = (objective: number, factor: string) => 1000 * Math.min(1, Number(factor) * errorBudget(objective));
  return (name, args) => {
    switch (name) {
      case 'service': return service!;
      case 'namespace': return config.namespace.name;
      case 'container': return config.services[0].name;
      case 'ruleFile': return ruleFileOf(args[0]);
      case 'openAt': return `${openAt}m`;
      case 'closedAt': return `${closedAt}m`;
      case 'samples': return String(Math.ceil(Math.max(openAt, closedAt) / OPENING_HOURS_SAMPLE) + 2);
      case 'noOrdersMinutes': return String(section.noOrdersMinutes);
      case 'le': return leLabel(slo!.latency.thresholdSeconds);
      case 'availability_objective': return formatNumber(slo!.availability.objectivePercent / 100);
      case 'latency_objective': return formatNumber(slo!.latency.objectivePercent / 100);
      case 'availability_bad': return formatNumber(per1000(slo!.availability.objectivePercent, args[0]));
      case 'availability_good': return formatNumber(1000 - per1000(slo!.availability.objectivePercent, args[0]));
      case 'availability_bad_total': return formatNumber(per1000(slo!.availability.objectivePercent, args[0]) * Number(args[1]));
      case 'availability_good_total': return formatNumber((1000 - per1000(slo!.availability.objectivePercent, args[0])) * Number(args[1]));
      case 'latency_within': return formatNumber(1000 - per1000(slo!.latency.objectivePercent, args[0]));
      // Within the threshold and answered 2xx, when the failed ones (availability_bad at the same factor) are fast too.
      case 'latency_within_ok': return formatNumber(1000 - per1000(slo!.latency.objectivePercent, args[0]) - per1000(slo!.availability.objectivePercent, args[0]));
      case 'latency_within_ok_total': return formatNumber((1000 - per1000(slo!.latency.objectivePercent, args[0]) - per1000(slo!.availability.objectivePercent, args[0])) * Number(args[1]));
      default: throw new Error(`unknown template placeholder \${${[name, ...args].join(':')}}`);
    }
  };
}

function expand(template: string, value: (name: string, args: string[]) => string): string {
  return template.replace(/\$\{([a-z_]+)((?::[^}:]+)*)\}/gi, (_m, name: string, args: string) => value(name, args ? args.slice(1).split(':') : []));
}

/** `{{ $labels.x }}` of an annotation, as Prometheus expands it for an alert with `labels`. */
function expandAnnotation(text: string, labels: Record<string, string>): string {
  return text.replace(/\{\{\s*\$labels\.([a-zA-Z_]+)\s*\}\}/g, (_m, k: string) => labels[k] ?? '');
}

interface AlertCase { readonly alert: string; readonly service?: string; readonly fires: boolean }

const describeIf = promtoolOrSkip('promtool check rules / test rules on the metrics capability\'s PrometheusRules');

describeIf('the metrics capability\'s rules in promtool', () => {
  const { dir, remove } = scratch();
  afterAll(remove);

  const unitConfig = parseEnvironment(UNIT_TEST_ENV, 'config/test.yaml');
  const unitRules = prometheusRules(renderEnvironment(unitConfig).manifests);
  const serviceNames = unitConfig.services.map((s) => s.name);

  test('promtool check rules passes on every rule file of every shipped environment', () => {
    const files: string[] = [];
    for (const env of ENVIRONMENTS) {
      const rendered = renderEnvironment(parseEnvironment(withMetrics(env), `config/${env}.yaml`));
      expect(rendered.findings).toEqual([]);
      const rules = prometheusRules(rendered.manifests);
      expect(rules.size).toBeGreaterThan(0);
      mkdirSync(path.join(dir, 'check', env), { recursive: true });
      for (const [name, groups] of rules) files.push(writeRawRuleFile(path.join(dir, 'check', env), `${name}.yaml`, groups));
    }
    const result = checkRules(files);
    expect(result.output).not.toContain('FAILED');
    expect(result.status).toBe(0);
    for (const file of files) expect(result.output).toContain(`Checking ${file}`);
  });

  test('promtool test rules: every alert fires when it should and stays silent when it should not, for every catalog service', () => {
    // Rule files: each PrometheusRule whole, and each per-service group alone (its unit tests evaluate only that).
    const ruleFile = (name: string, service?: string): string => {
      const groups = unitRules.get(name);
      if (!groups) throw new Error(`no PrometheusRule ${name} (templates name ${[...unitRules.keys()].join(', ')})`);
      const own = service ? groups.filter((g) => g.name.endsWith(`.${service}`)) : groups;
      const perService = groups.some((g) => serviceNames.some((s) => g.name.endsWith(`.${s}`)));
      const chosen = perService && service ? own : groups;
      if (chosen.length === 0) throw new Error(`PrometheusRule ${name} has no group of ${service}`);
      const file = perService && service ? `${name}.${service}.yaml` : `${name}.yaml`;
      writeRawRuleFile(dir, file, chosen);
      return file;
    };
    const templates = readdirSync(TEMPLATES).filter((f) => f.endsWith('.test.yaml')).sort();
    expect(templates.length).toBeGreaterThan(0);
    const cases: AlertCase[] = [];
    const testFiles: string[] = [];
    for (const template of templates) {
      // Comments describe the placeholders; only the YAML is expanded.
      const text = readFileSync(path.join(TEMPLATES, template), 'utf8').split('\n').filter((l) => !/^\s*#/.test(l)).join('\n');
      const services = text.includes('${service}') ? serviceNames : [undefined];
      for (const service of services) {
        const expanded = parse(expand(text, placeholders(unitConfig, service, (name) => ruleFile(name, service))));
        const rules = (expanded.rule_files as string[]).flatMap((f) => (parse(readFileSync(path.join(dir, f), 'utf8')).groups as Groups).flatMap((g) => g.rules));
        for (const t of expanded.tests) {
          for (const check of t.alert_rule_test ?? []) {
            const expected = check.exp_alerts as Array<{ exp_labels: Record<string, string>; exp_annotations?: Record<string, string> }>;
            cases.push({ alert: check.alertname, service, fires: expected.length > 0 });
            for (const e of expected) {
              const rule = rules.find((r) => r.alert === check.alertname && Object.entries(r.labels ?? {}).every(([k, v]) => e.exp_labels[k] === v));
              if (!rule) throw new Error(`${template} (${service ?? 'once'}): "${t.name}" expects ${check.alertname} ${JSON.stringify(e.exp_labels)}, which no rule emits`);
              e.exp_annotations = Object.fromEntries(Object.entries(rule.annotations as Record<string, string>).map(([k, v]) => [k, expandAnnotation(v, e.exp_labels)]));
            }
          }
        }
        const file = path.join(dir, `${template.replace('.test.yaml', '')}${service ? `.${service}` : ''}.test.yaml`);
        writeFileSync(file, stringify(expanded, { lineWidth: 0 }));
        testFiles.push(file);
      }
    }
    const result = testRules(testFiles);
    expect(result.output).not.toContain('FAILED');
    expect(result.status).toBe(0);

    // Every alert emitted, for every service it is emitted for, has a firing and a silent case.
    const emitted = [...unitRules.values()].flat().flatMap((g) => g.rules.filter((r) => r.alert)
      .map((r) => ({ alert: r.alert as string, service: serviceNames.find((s) => g.name.endsWith(`.${s}`)) })));
    expect(emitted.length).toBeGreaterThan(0);
    for (const { alert, service } of emitted) {
      const mine = cases.filter((c) => c.alert === alert && (service === undefined || c.service === service));
      expect({ alert, service, firing: mine.some((c) => c.fires) }).toEqual({ alert, service, firing: true });
      expect({ alert, service, silent: mine.some((c) => !c.fires) }).toEqual({ alert, service, silent: true });
    }
  });
});
