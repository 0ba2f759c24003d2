/**
 * Where a catalog problem is written. The catalog is TypeScript, validated as an object at
 * load time, so zod's error path (`order-service.calls.0`) is all a problem carries; the
 * line is found by reading the file's text when there is a problem to report, never on the
 * happy path.
 */
import { readFileSync } from 'fs';
import * as path from 'path';

/** A catalog's source: its name in messages and its text (undefined when it cannot be read). */
export interface CatalogSource {
  /** As messages print it, e.g. `config/catalog.ts`. */
  readonly file: string;
  /** Read only when a problem is reported. */
  readonly text: () => string | undefined;
}

/** The shipped catalog, config/catalog.ts, named relative to the repository as users see it. */
export const SHIPPED_CATALOG: CatalogSource = {
  file: 'config/catalog.ts',
  text: () => {
    try {
      return readFileSync(path.join(__dirname, 'catalog.ts'), 'utf8');
    } catch {
      // A message without its line still names the field; a failed read must not hide the problem.
      return undefined;
    }
  },
};

/**
 * The line of a path in `source` as messages print it ('' when it cannot be told). The text
 * is read on first use, and once: only a catalog with problems is ever read.
 */
export function catalogLocator(source: CatalogSource): (at: readonly PropertyKey[]) => string {
  let text: { value: string | undefined } | undefined;
  return (at) => {
    text ??= { value: source.text() };
    const line = text.value === undefined ? undefined : catalogLine(text.value, at);
    return line === undefined ? '' : String(line);
  };
}

/** The object literal every service is a key of. */
const CATALOG_START = /^export const CATALOG\b/;

/**
 * 1-based line of `at` (`['order-service', 'calls', 0]`) in the catalog's text: the line of
 * the service's key, then of each named field below it, looked for in order within the
 * service's entry (array indexes are skipped: elements are often built by helpers or written
 * on one line). The deepest field found wins; undefined when the service is not written in
 * `text` (a catalog built in code, such as a test's).
 */
export function catalogLine(text: string, at: readonly PropertyKey[]): number | undefined {
  const lines = text.split('\n');
  const [service, ...fields] = at;
  if (typeof service !== 'string') return undefined;
  const start = Math.max(0, lines.findIndex((l) => CATALOG_START.test(l)));
  const entry = findKey(lines, service, start, lines.length);
  if (entry === undefined) return undefined;
  const end = entryEnd(lines, entry);
  let line = entry;
  for (const field of fields) {
    if (typeof field !== 'string') continue;
    // The next field may be on the same line as its parent (`route: { path: '/' }`).
    const found = findKey(lines, field, line, end);
    if (found === undefined) break;
    line = found;
  }
  return line + 1;
}

/** Index of the first line in [from, to) that writes `key:` (bare or quoted), comments aside. */
function findKey(lines: readonly string[], key: string, from: number, to: number): number | undefined {
  const pattern = new RegExp(`(^|[\\s{,])(['"]?)${escapeRegExp(key)}\\2\\s*:`);
  for (let i = from; i < to; i++) {
    const trimmed = lines[i].trim();
    if (trimmed.startsWith('//') || trimmed.startsWith('*') || trimmed.startsWith('/*')) continue;
    if (pattern.test(lines[i])) return i;
  }
  return undefined;
}

/**
 * Index just past a service's entry: up to the first later line indented no deeper than its
 * key, included when it is the entry's closing `},` (an entry written on one line ends there).
 */
function entryEnd(lines: readonly string[], entry: number): number {
  const indent = indentOf(lines[entry]);
  for (let i = entry + 1; i < lines.length; i++) {
    if (lines[i].trim() !== '' && indentOf(lines[i]) <= indent) return lines[i].trim().startsWith('}') ? i + 1 : i;
  }
  return lines.length;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
