/**
 * The runbooks (docs/runbooks/) and the alerts are one to one: every alert a shipped
 * environment emits (the PrometheusRules of its render) links to exactly one section headed by
 * its name, with the five parts; every section of an alert page is such an alert, and every
 * section of procedures.md a procedure with its three parts. The links between the pages
 * resolve, and the objects the commands name (`kubectl -n pronto … deployment/pgbouncer`,
 * `-l app.kubernetes.io/name=pg-roles`, `-c postgres-exporter`, `job="postgres"`, …) are
 * objects, labels and containers the output has, so a renamed workload fails here first.
 */
import { existsSync, readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { kubePrometheusStackContract } from '../lib/addons';
import { Manifest } from '../lib/core';
import { ENVIRONMENTS, environment, synthEnvironment } from './helpers';

const FOLDER = path.join(__dirname, '..', 'docs', 'runbooks');
/** The index and the procedures: the pages that hold no alert. */
const INDEX = 'README';
const PROCEDURES = 'procedures';
const ALERT_PARTS = ['What fired', 'What the user sees', 'Check first', 'Fix', 'Confirm'];
const PROCEDURE_PARTS = ['When', 'Steps', 'Confirm'];
/** How many numbered checks "Check first" has, each with its command. */
const CHECKS = 3;
/** A command a runbook may tell the reader to run. */
const COMMAND = /`(kubectl|promtool|psql|argocd|curl|npm run) [^`]+`/;

/** One `## ` section of a page. */
interface Section {
  readonly page: string;
  readonly title: string;
  /** The `### ` headings, in order. */
  readonly parts: string[];
  /** Its text, up to the next `## `. */
  readonly body: string;
}

/** The anchor GitHub and GitLab give a heading: lower case, punctuation dropped, spaces as `-`. */
export function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

/** The `## ` sections of `text` (code blocks skipped). */
export function sectionsOf(page: string, text: string): Section[] {
  const lines = withoutCodeBlocks(text).split('\n');
  const starts = lines.flatMap((l, i) => (/^## /.test(l) ? [i] : []));
  return starts.map((start, k) => {
    const body = lines.slice(start + 1, starts[k + 1] ?? lines.length).join('\n');
    return { page, title: lines[start].slice(3).trim(), parts: [...body.matchAll(/^### (.+)$/gm)].map((m) => m[1].trim()), body };
  });
}

/** The text of one `### ` part of a section. */
function partOf(section: Section, part: string): string {
  const m = new RegExp(`^### ${part}\\n([\\s\\S]*?)(?=^### |$(?![\\s\\S]))`, 'm').exec(section.body);
  return m ? m[1] : '';
}

/** `text` with fenced code blocks blanked (their `#` lines are no headings), line count kept. */
function withoutCodeBlocks(text: string): string {
  return text.replace(/^```[\s\S]*?^```$/gm, (block) => block.replace(/[^\n]/g, ''));
}

/** An alert as a render emits it: its name, its runbook_url, and the runbooks folder of its environment. */
export interface EmittedAlert {
  readonly alert: string;
  readonly url: string;
  readonly base: string;
}

/**
 * What is wrong between `pages` (page name → markdown) and `alerts`: each problem names the
 * alert or the page and section. Empty when they are one to one and every part is there.
 */
export function runbookProblems(pages: Readonly<Record<string, string>>, alerts: readonly EmittedAlert[]): string[] {
  const problems: string[] = [];
  const sections = Object.entries(pages).filter(([page]) => page !== INDEX).flatMap(([page, text]) => sectionsOf(page, text));
  const names = new Set(alerts.map((a) => a.alert));
  for (const name of [...names].sort()) {
    const found = sections.filter((s) => s.title === name);
    if (found.length !== 1) {
      problems.push(`${name}: expected exactly one runbook section "## ${name}", found ${found.length}${found.length ? ` (${found.map((s) => `${s.page}.md`).join(', ')})` : ''}`);
      continue;
    }
    const [section] = found;
    if (section.page === PROCEDURES) problems.push(`${name}: its runbook is in ${PROCEDURES}.md, which holds procedures only`);
    for (const a of alerts.filter((x) => x.alert === name)) {
      const expected = `${a.base}/${section.page}.md#${anchorOf(name)}`;
      if (a.url !== expected) problems.push(`${name}: runbook_url ${a.url}, expected ${expected} (its section is in ${section.page}.md)`);
    }
    if (section.parts.join('|') !== ALERT_PARTS.join('|')) {
      problems.push(`${section.page}.md#${anchorOf(name)}: expected the parts ${ALERT_PARTS.join(', ')} in that order, found ${section.parts.join(', ') || 'none'}`);
    }
    const checks = partOf(section, 'Check first').split(/^\d+\. /m).slice(1);
    if (checks.length !== CHECKS || !checks.every((c) => COMMAND.test(c))) {
      problems.push(`${section.page}.md#${anchorOf(name)}: expected "Check first" to hold ${CHECKS} numbered checks, each with its command, found ${checks.length} (${checks.filter((c) => COMMAND.test(c)).length} with a command)`);
    }
    if (!COMMAND.test(partOf(section, 'Confirm'))) problems.push(`${section.page}.md#${anchorOf(name)}: expected "Confirm" to say how, with a command`);
  }
  for (const s of sections) {
    if (s.page === PROCEDURES) {
      if (s.parts.join('|') !== PROCEDURE_PARTS.join('|')) {
        problems.push(`${s.page}.md#${anchorOf(s.title)}: expected the parts ${PROCEDURE_PARTS.join(', ')} in that order, found ${s.parts.join(', ') || 'none'}`);
      }
    } else if (!names.has(s.title)) {
      problems.push(`${s.page}.md#${anchorOf(s.title)}: "## ${s.title}" is no alert any shipped environment emits (a procedure belongs in ${PROCEDURES}.md)`);
    }
  }
  return problems;
}

/** Relative links (`[x](page.md#anchor)`, `(#anchor)`, `(../file.md)`) of `pages` that lead nowhere. */
export function brokenLinks(pages: Readonly<Record<string, string>>, folder: string): string[] {
  const anchors = (text: string) => new Set([...withoutCodeBlocks(text).matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1])));
  const broken: string[] = [];
  for (const [page, text] of Object.entries(pages)) {
    for (const [, target] of withoutCodeBlocks(text).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [file, anchor] = target.split('#');
      const name = file === '' ? page : path.basename(file, '.md');
      const local = file === '' || (path.dirname(file) === '.' && file.endsWith('.md'));
      if (local && pages[name] === undefined) broken.push(`${page}.md: ${target}: no page ${name}.md`);
      else if (local && anchor !== undefined && !anchors(pages[name]).has(anchor)) broken.push(`${page}.md: ${target}: no heading with that anchor`);
      else if (!local && !existsSync(path.join(folder, file))) broken.push(`${page}.md: ${target}: no such file`);
    }
  }
  return broken;
}

/** What the output has, for the commands to name: objects by kind, pod labels, containers, namespaces. */
interface OutputNames {
  readonly namespace: string;
  /** Namespaces of the platform the commands may name, each with the Services they may use there. */
  readonly foreign: ReadonlyMap<string, ReadonlySet<string>>;
  readonly objects: ReadonlySet<string>;
  readonly appNames: ReadonlySet<string>;
  readonly containers: ReadonlySet<string>;
  readonly claims: ReadonlySet<string>;
  readonly applications: ReadonlySet<string>;
}

const KINDS: Readonly<Record<string, string>> = {
  deploy: 'Deployment', deployment: 'Deployment', deployments: 'Deployment', statefulset: 'StatefulSet', cronjob: 'CronJob',
  svc: 'Service', service: 'Service', networkpolicy: 'NetworkPolicy', servicemonitor: 'ServiceMonitor',
};

function outputNames(manifests: readonly Manifest[], namespace: string, prometheusNamespace: string): OutputNames {
  const objects = new Set<string>();
  const appNames = new Set<string>();
  const containers = new Set<string>();
  const claims = new Set<string>();
  for (const m of manifests as any[]) {
    objects.add(`${m.kind}/${m.metadata?.name}`);
    const pod = m.spec?.template ?? m.spec?.jobTemplate?.spec?.template;
    if (!pod) continue;
    if (pod.metadata?.labels?.['app.kubernetes.io/name']) appNames.add(pod.metadata.labels['app.kubernetes.io/name']);
    for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) containers.add(c.name);
    // Containers the Vault injector adds, as the pod declares them for the capacity guard.
    const injected = pod.metadata?.annotations?.['pronto.io/injected-containers'];
    if (injected) for (const name of Object.keys(JSON.parse(injected))) containers.add(name);
    if (m.kind === 'StatefulSet') {
      objects.add(`Pod/${m.metadata.name}-0`);
      for (const t of m.spec.volumeClaimTemplates ?? []) claims.add(`${t.metadata.name}-${m.metadata.name}-0`);
    }
  }
  const prometheus = kubePrometheusStackContract(prometheusNamespace).services;
  return {
    namespace, objects, appNames, containers, claims,
    foreign: new Map([[prometheusNamespace, new Set(Object.values(prometheus).map((s) => s.name))]]),
    applications: new Set((manifests as any[]).filter((m) => m.kind === 'Application').map((m) => m.metadata.name)),
  };
}

/** The commands of `text` (inline code spans and fenced blocks) that name something of the output, each with what does not exist. */
export function unknownNames(text: string, names: OutputNames): string[] {
  const commands = [
    ...[...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]),
    ...[...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1].replace(/\\\n/g, ' ')),
  ];
  // Names the runbooks create themselves (a Job run now, the restore's one-off pod).
  const created = new Set([...text.matchAll(/create job --from=cronjob\/[a-z0-9-]+ ([a-z0-9-]+)/g)].map((m) => m[1]));
  for (const m of text.matchAll(/name: "([a-z0-9-]+)", namespace/g)) created.add(m[1]);
  const problems: string[] = [];
  const need = (ok: boolean, what: string, command: string) => {
    if (!ok) problems.push(`${what}, in: ${command.slice(0, 160)}`);
  };
  for (const command of commands) {
    if (command.includes('kubectl')) {
      for (const [, ns] of command.matchAll(/ -n ([a-z0-9-]+)/g)) {
        need(ns === names.namespace || names.foreign.has(ns), `namespace ${ns}: neither the environment's (${names.namespace}) nor a platform one`, command);
      }
      const foreign = [...command.matchAll(/ -n ([a-z0-9-]+)/g)].map((m) => names.foreign.get(m[1])).find(Boolean);
      for (const [, kind, name] of command.matchAll(/\b(deploy|deployment|statefulset|cronjob|svc|service|pod|job)\/([a-z0-9][a-z0-9-]*)(?![<\w-])/g)) {
        if (foreign) need(foreign.has(name), `${kind}/${name}: no such Service of the platform`, command);
        else if (kind === 'job' || kind === 'pod') need(created.has(name) || names.objects.has(`Pod/${name}`), `${kind}/${name}: neither created by the runbooks nor a pod of the output`, command);
        else need(names.objects.has(`${KINDS[kind]}/${name}`), `${kind}/${name}: no ${KINDS[kind]} named ${name} in the output`, command);
      }
      for (const [, kind, list] of command.matchAll(/\b(?:get|describe) (deployments|deployment|statefulset|cronjob|service|networkpolicy|servicemonitor) ((?:[a-z0-9][a-z0-9-]* ?)+)/g)) {
        for (const name of list.trim().split(' ').filter((n) => !n.startsWith('-'))) need(names.objects.has(`${KINDS[kind]}/${name}`), `${kind} ${name}: no ${KINDS[kind]} named ${name} in the output`, command);
      }
      for (const [, name] of command.matchAll(/\b(?:exec|logs|describe pod|get pod) ([a-z0-9][a-z0-9-]*-\d+)\b/g)) need(names.objects.has(`Pod/${name}`), `pod ${name}: no StatefulSet pod of that name`, command);
      for (const [, name] of command.matchAll(/app\.kubernetes\.io\/name=([a-z0-9][a-z0-9-]*)(?![<\w-])/g)) need(names.appNames.has(name), `app.kubernetes.io/name=${name}: no pod has that label`, command);
      for (const [, name] of command.matchAll(/kubernetes\.io\/service-name=([a-z0-9][a-z0-9-]*)(?![<\w-])/g)) need(names.objects.has(`Service/${name}`), `Service ${name}: not in the output`, command);
      for (const [, name] of command.matchAll(/ -c ([a-z0-9][a-z0-9-]*)(?![<\w-])/g)) need(names.containers.has(name), `container ${name}: no pod has it`, command);
      for (const [, name] of command.matchAll(/\b(?:pvc |claimName: ")([a-z0-9][a-z0-9-]*)/g)) need(names.claims.has(name), `claim ${name}: no StatefulSet claims it`, command);
    }
    if (command.includes('promtool')) {
      for (const [, label, value] of command.matchAll(/\b(service|job|cronjob|container)="([a-z0-9-]+)"/g)) {
        const known = label === 'cronjob' ? names.objects.has(`CronJob/${value}`) : label === 'container' ? names.containers.has(value) : names.objects.has(`Service/${value}`);
        need(known, `${label}="${value}": not a ${label === 'cronjob' ? 'CronJob' : label === 'container' ? 'container' : 'Service'} of the output`, command);
      }
      for (const [, values] of command.matchAll(/\bservice=~"([a-z0-9|-]+)"/g)) {
        for (const value of values.split('|')) need(names.objects.has(`Service/${value}`), `service "${value}": not a Service of the output`, command);
      }
    }
    if (command.startsWith('argocd app')) {
      for (const [, name] of command.matchAll(/argocd app \w+ ([a-z0-9][a-z0-9-]*)(?![<\w-])/g)) need(names.applications.has(name), `Application ${name}: not in the output`, command);
    }
  }
  return problems;
}

// ---------------------------------------------------------------- the shipped runbooks

const PAGES: Readonly<Record<string, string>> = Object.fromEntries(readdirSync(FOLDER).filter((f) => f.endsWith('.md'))
  .map((f) => [path.basename(f, '.md'), readFileSync(path.join(FOLDER, f), 'utf8')]));

const RENDERS = ENVIRONMENTS.map((env) => {
  const config = environment(env);
  return { env, config, manifests: synthEnvironment(config) };
});

const ALERTS: EmittedAlert[] = RENDERS.flatMap(({ config, manifests }) => {
  const base = config.capabilities.metrics?.runbookBaseUrl ?? '';
  return (manifests as any[]).filter((m) => m.kind === 'PrometheusRule')
    .flatMap((r) => r.spec.groups.flatMap((g: any) => g.rules.filter((x: any) => x.alert)))
    .map((r: any) => ({ alert: r.alert, url: r.annotations.runbook_url, base }));
});

/** Every problem at once: the per-alert tests pick theirs. */
const PROBLEMS = runbookProblems(PAGES, ALERTS);

describe('the runbooks and the alerts, one to one', () => {
  test('the shipped environments emit alerts (metrics, database and backups), each with its runbook_url', () => {
    expect(ALERTS.length).toBeGreaterThan(0);
    for (const a of ALERTS) expect(a.url.startsWith(`${a.base}/`)).toBe(true);
  });

  test.each([...new Set(ALERTS.map((a) => a.alert))].sort())('%s: one section, the five parts, three checks with commands; its runbook_url is that section', (alert) => {
    expect(PROBLEMS.filter((p) => p.startsWith(`${alert}:`) || p.includes(`#${anchorOf(alert)}:`))).toEqual([]);
  });

  test('every section of an alert page is an alert a shipped environment emits; procedures.md holds the procedures, each with its parts', () => {
    expect(PROBLEMS).toEqual([]);
    expect(sectionsOf(PROCEDURES, PAGES[PROCEDURES]).map((s) => s.title)).toEqual(['Restore the database by hand', 'Roll back a blue-green promotion']);
  });

  test('every page an alert links to exists, and no page is left without an alert (index and procedures aside)', () => {
    const linked = new Set(ALERTS.map((a) => a.url.slice(a.base.length + 1).split('.md#')[0]));
    expect(Object.keys(PAGES).filter((p) => p !== INDEX && p !== PROCEDURES).sort()).toEqual([...linked].sort());
  });

  test('every link between the pages, and to the rest of the docs, resolves', () => {
    expect(brokenLinks(PAGES, FOLDER)).toEqual([]);
  });

  test.each(RENDERS.map((r) => r.env))('every object, label, container and Application the commands name is in the output of %s', (env) => {
    const { config, manifests } = RENDERS.find((r) => r.env === env)!;
    const names = outputNames(manifests, config.namespace.name, config.capabilities.metrics!.prometheus.namespace);
    expect(Object.entries(PAGES).flatMap(([page, text]) => unknownNames(text, names).map((p) => `${page}.md: ${p}`))).toEqual([]);
  });
});

describe('the runbook checks catch', () => {
  const base = 'https://git.example.com/p/-/blob/main/docs/runbooks';
  const alert = (name: string, page = 'services'): EmittedAlert => ({ alert: name, url: `${base}/${page}.md#${name.toLowerCase()}`, base });
  const runbook = (name: string, parts = ALERT_PARTS, checks = 3) => [
    `## ${name}`, '',
    ...parts.flatMap((p) => [`### ${p}`, '', p === 'Check first'
      ? Array.from({ length: checks }, (_, i) => `${i + 1}. look: \`kubectl -n pronto get pods\``).join('\n')
      : p === 'Confirm' ? '`promtool query instant http://localhost:9090 \'up\'`' : 'text', '']),
  ].join('\n');
  const procedures = '# Procedures\n\n## Restore\n\n### When\n\nx\n\n### Steps\n\n1. x\n\n### Confirm\n\nx\n';

  test('a complete pair passes', () => {
    expect(runbookProblems({ services: runbook('ProntoX'), procedures }, [alert('ProntoX')])).toEqual([]);
  });

  test('an alert without a runbook, and a runbook without an alert', () => {
    expect(runbookProblems({ services: runbook('ProntoOld'), procedures }, [alert('ProntoNew')])).toEqual([
      'ProntoNew: expected exactly one runbook section "## ProntoNew", found 0',
      'services.md#prontoold: "## ProntoOld" is no alert any shipped environment emits (a procedure belongs in procedures.md)',
    ]);
  });

  test('a runbook on two pages, or on another page than its runbook_url', () => {
    expect(runbookProblems({ services: runbook('ProntoX'), database: runbook('ProntoX'), procedures }, [alert('ProntoX')]))
      .toContain('ProntoX: expected exactly one runbook section "## ProntoX", found 2 (services.md, database.md)');
    expect(runbookProblems({ database: runbook('ProntoX'), procedures }, [alert('ProntoX', 'services')]))
      .toContain(`ProntoX: runbook_url ${base}/services.md#prontox, expected ${base}/database.md#prontox (its section is in database.md)`);
  });

  test('a part missing or out of order, two checks, a check without its command', () => {
    expect(runbookProblems({ services: runbook('ProntoX', ['What fired', 'Check first', 'Fix', 'Confirm']), procedures }, [alert('ProntoX')]))
      .toContain('services.md#prontox: expected the parts What fired, What the user sees, Check first, Fix, Confirm in that order, found What fired, Check first, Fix, Confirm');
    expect(runbookProblems({ services: runbook('ProntoX', ALERT_PARTS, 2), procedures }, [alert('ProntoX')]))
      .toContain('services.md#prontox: expected "Check first" to hold 3 numbered checks, each with its command, found 2 (2 with a command)');
    const vague = runbook('ProntoX').replace('2. look: `kubectl -n pronto get pods`', '2. look around');
    expect(runbookProblems({ services: vague, procedures }, [alert('ProntoX')]))
      .toContain('services.md#prontox: expected "Check first" to hold 3 numbered checks, each with its command, found 3 (2 with a command)');
  });

  test('a procedure without its parts; a heading inside a code block is no section', () => {
    expect(runbookProblems({ procedures: '## Restore\n\n### Steps\n\n1. x\n' }, [])).toEqual([
      'procedures.md#restore: expected the parts When, Steps, Confirm in that order, found Steps',
    ]);
    expect(sectionsOf('x', '## A\n\n```sh\n## not a heading\n```\n')).toEqual([expect.objectContaining({ title: 'A' })]);
  });

  test('a link to a missing page or heading', () => {
    expect(brokenLinks({ a: '# A\n\n## One\n\n[x](b.md#two) [y](#one) [z](#none) [w](missing.md)\n', b: '## Two\n' }, FOLDER))
      .toEqual(['a.md: #none: no heading with that anchor', 'a.md: missing.md: no page missing.md']);
  });

  test('a command naming a workload, label, container, claim, namespace or Application the output does not have', () => {
    const names = outputNames(RENDERS[0].manifests, 'pronto', 'monitoring');
    const text = [
      '`kubectl -n pronto logs deploy/pgbouncr -c pgbouncer`', '`kubectl -n pronto get cronjob pg-role`',
      '`kubectl -n pronto logs -l app.kubernetes.io/name=pg-base-backups -c postgres-exportr`', '`kubectl -n pronto exec postgres-1 -c postgres -- true`',
      '`kubectl -n pronto get pvc data-postgres-9`', '`kubectl -n prontoo get pods`', '`kubectl -n monitoring port-forward svc/prometheus 9090`',
      '`promtool query instant http://localhost:9090 \'up{job="postgress"}\'`', '`argocd app sync pronto-production`',
      '`kubectl -n pronto logs deploy/pgbouncer -c pgbouncer`', '`kubectl -n pronto get deployments <service>-blue`',
    ].join('\n');
    expect(unknownNames(text, names).map((p) => p.split(', in:')[0])).toEqual([
      'deploy/pgbouncr: no Deployment named pgbouncr in the output',
      'cronjob pg-role: no CronJob named pg-role in the output',
      'app.kubernetes.io/name=pg-base-backups: no pod has that label',
      'container postgres-exportr: no pod has it',
      'pod postgres-1: no StatefulSet pod of that name',
      'claim data-postgres-9: no StatefulSet claims it',
      'namespace prontoo: neither the environment\'s (pronto) nor a platform one',
      'svc/prometheus: no such Service of the platform',
      'job="postgress": not a Service of the output',
      'Application pronto-production: not in the output',
    ]);
  });
});
