/**
 * Every PromQL query the runbooks (docs/runbooks/) tell the on-call engineer to run parses:
 * each `promtool query instant|range … '<expr>'`, its placeholders (`<service>`, `<pod>`, …)
 * given a value, is written as a recording rule that `promtool check rules` parses, in one run
 * beside a file holding one broken query that must be the only failure (so a check that passes
 * everything would be caught). Which objects the queries name is test/runbooks.spec.ts's check.
 */
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { QueryCheck, checkQueriesWithBroken, promtoolOrSkip, scratch } from './promtool';

const FOLDER = path.join(__dirname, '..', '..', 'docs', 'runbooks');

/** One query of a runbook page. */
interface RunbookQuery {
  readonly page: string;
  readonly index: number;
  readonly expr: string;
}

/**
 * The queries of `text`: the expression after the server of every `promtool query instant|range`,
 * placeholders (`<pod>`) replaced by a label value; a query that is only a placeholder (`'<PromQL>'`) is none.
 */
export function runbookQueries(page: string, text: string): RunbookQuery[] {
  return [...text.matchAll(/promtool query (?:instant|range)[^`\n]*? http:\/\/localhost:9090 '([^']+)'/g)]
    .filter((m) => !/^<[^>]+>$/.test(m[1]))
    .map((m, index) => ({ page, index, expr: m[1].replace(/<[a-z]+>/g, 'placeholder') }));
}

const recordName = (q: RunbookQuery): string => `runbook:${q.page}:query${q.index}`;

describe('reading the runbooks\' queries', () => {
  test('takes each promtool query and gives its placeholders a value', () => {
    expect(runbookQueries('x', "`promtool query instant http://localhost:9090 'up{pod=\"<pod>\"}'` and "
      + "`promtool query range --start=$(date -d '1 hour ago' +%s) --step=1m http://localhost:9090 'sum(up)'`, not `promtool query instant http://localhost:9090 '<PromQL>'`"))
      .toEqual([{ page: 'x', index: 0, expr: 'up{pod="placeholder"}' }, { page: 'x', index: 1, expr: 'sum(up)' }]);
  });
});

promtoolOrSkip('every runbook query parses as PromQL (promtool check rules)')('runbook queries in promtool', () => {
  const broken: RunbookQuery = { page: 'broken', index: 0, expr: 'sum by (service) (rate(flask_http_request_total[5m])' };
  const group = (qs: RunbookQuery[], name: string) => [{ name, rules: qs.map((q) => ({ record: recordName(q), expr: q.expr })) }];
  let pages: string[];
  let queries: RunbookQuery[];
  let check: QueryCheck;
  let remove = () => {};
  afterAll(() => remove());

  beforeAll(() => {
    const tmp = scratch('pronto-promtool-runbooks-');
    remove = tmp.remove;
    pages = readdirSync(FOLDER).filter((f) => f.endsWith('.md')).map((f) => path.basename(f, '.md'));
    queries = pages.flatMap((page) => runbookQueries(page, readFileSync(path.join(FOLDER, `${page}.md`), 'utf8')));
    check = checkQueriesWithBroken(tmp.dir, 'runbooks.yaml', group(queries, 'runbooks'), group([broken], 'broken'));
  });

  test('the pages of the alerts ask Prometheus', () => {
    for (const page of ['services', 'containers', 'database', 'backups']) expect(queries.filter((q) => q.page === page).length).toBeGreaterThan(0);
  });

  test('every query parses', () => {
    expect(check.goodOutput).toContain(`SUCCESS: ${queries.length} rules found`);
  });

  test('a broken query fails, named by its rule: the check can fail', () => {
    expect(check.result.status).toBe(1);
    expect(check.result.output).toContain(`"${recordName(broken)}": could not parse expression`);
    expect(check.result.output).not.toContain(`${check.good}:`);
  });
});
