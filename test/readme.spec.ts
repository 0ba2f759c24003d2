/**
 * The README's runbooks: every alert any shipped environment emits (metrics, database and
 * backups rules) has its `#### <AlertName>` entry under "## Runbooks", where its
 * runbook_url points.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { ENVIRONMENTS, environment, ofKind, synthEnvironment } from './helpers';

const README = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

/** The `####` headings of the README's "## Runbooks" section. */
function runbookHeadings(text: string): string[] {
  const start = text.indexOf('\n## Runbooks\n');
  if (start < 0) return [];
  const next = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/^#### (.+)$/gm)].map((m) => m[1].trim());
}

describe('README runbooks', () => {
  const alerts = new Map<string, string>();
  for (const env of ENVIRONMENTS) {
    const config = environment(env);
    for (const rule of ofKind(synthEnvironment(config), 'PrometheusRule')) {
      for (const group of rule.spec.groups) {
        for (const r of group.rules.filter((x: any) => x.alert)) alerts.set(r.alert, r.annotations.runbook_url);
      }
    }
  }

  test('the shipped environments emit alerts (from metrics, database and backups)', () => {
    expect(alerts.size).toBeGreaterThan(0);
  });

  test.each([...alerts.keys()].sort())('%s has a runbook entry, and its runbook_url is that entry\'s anchor', (alert) => {
    expect(runbookHeadings(README)).toContain(alert);
    expect(alerts.get(alert)).toMatch(new RegExp(`README\\.md#${alert.toLowerCase()}$`));
  });

  test('the check reads only the Runbooks section: a heading elsewhere does not count', () => {
    expect(runbookHeadings('## Other\n#### ProntoX\n## Runbooks\n#### ProntoY\n## Next\n#### ProntoZ\n')).toEqual(['ProntoY']);
  });
});
