/**
 * YAML text of rendered objects, byte for byte what cdk8s's `Yaml.stringify(...docs)`
 * writes (the `yaml` package, pinned in package.json, with `{ keepUndefined: true,
 * lineWidth: 0, version: '1.1' }`), in a fraction of its time: the library builds a node
 * tree for every value before printing it, which made formatting the largest single cost of
 * a synth. This is a port of the library's printing rules (node_modules/yaml/dist/stringify/
 * stringify.js, stringifyPair.js, stringifyCollection.js, stringifyString.js and
 * stringifyNumber.js at 2.9.1) for the only values objects hold (plain objects, arrays,
 * strings, numbers, booleans, null), restricted to those options: no line folding
 * (`lineWidth: 0`), block collections, plain strings unless the YAML 1.1 schema would read
 * them as something else. Any other document (an object reached twice, which the library
 * prints as an anchor and alias; a class instance; a key longer than 1024 characters) is
 * handed to the library itself. test/lib/core/yaml.spec.ts compares the two over every
 * shipped output and over generated documents of awkward strings.
 */
import { Document, stringify } from 'yaml';

/** The options cdk8s's `Yaml.stringify` passes (node_modules/cdk8s/lib/yaml.js). */
const CDK8S_OPTIONS = { keepUndefined: true, lineWidth: 0, version: '1.1' } as const;

const INDENT_STEP = '  ';

/**
 * Tests of the scalar types a plain string must not look like (stringifyString.js
 * `plainString`, `actualString`): every default tag of the library's own YAML 1.1 schema
 * other than strings' (null, booleans, ints, floats, timestamps, `<<`).
 */
const PLAIN_LOOKALIKE: RegExp = (() => {
  const schema = new Document(null, CDK8S_OPTIONS).schema;
  const tests = [...schema.tags, ...(schema.compat ?? [])]
    .filter((tag) => tag.default && tag.tag !== 'tag:yaml.org,2002:str' && 'test' in tag && tag.test instanceof RegExp)
    .map((tag) => (tag as { test: RegExp }).test);
  // One pass instead of one per tag: each test is a whole-string pattern without flags.
  if (tests.some((t) => t.flags !== '' || !t.source.startsWith('^') || !t.source.endsWith('$'))) {
    throw new Error(`lib/core/yaml.ts: the yaml package's scalar tests changed shape (${tests.join(', ')}): review the port`);
  }
  return new RegExp(tests.map((t) => `(?:${t.source})`).join('|'));
})();

/** The one string the 1.1 schema's merge tag claims, and prints as itself (schema/yaml-1.1/merge.js). */
const MERGE_KEY = '<<';

const CONTROL_CHARACTERS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}]/u;
const NOT_PLAIN = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;
const DOCUMENT_MARKER = /^(%|---|\.\.\.)/m;
const BLOCK_END_NEWLINES = /(^|(?<!\n))\n+(?!\n|$)/g;

/** Thrown inside a document the port does not print; the library prints it instead. */
class Unsupported extends Error {}

/** Work counters, for the growth tests: documents printed, and those handed to the library. */
export const yamlStats = { documents: 0, delegated: 0 };

/** `docs` as multi-document YAML, exactly as cdk8s's `Yaml.stringify(...docs)` writes them. */
export function formatYaml(docs: readonly unknown[]): string {
  // Joined once, into one flat string: built with `+=`, the text of a whole file would be a tree of millions of
  // pieces, several times the size of the text, until written.
  const texts: string[] = [];
  try {
    for (let i = 0; i < docs.length; i++) {
      if (i > 0) texts.push('---\n');
      texts.push(docs[i] === undefined ? '\n' : formatDocument(docs[i]));
    }
  } finally {
    written.clear();
  }
  return texts.join('');
}

function formatDocument(value: unknown): string {
  yamlStats.documents++;
  if (isPlainObject(value)) {
    try {
      if (Object.keys(value).length === 0) return '{}\n';
      // The pieces of the document in order, joined once: nested strings built with `+=` would make a tree of
      // millions of pieces, which joining then has to walk.
      const out: string[] = [];
      mapBlock(value, 0, new Set([value]), out);
      out.push('\n');
      return out.join('');
    } catch (err) {
      if (!(err instanceof Unsupported)) throw err;
    }
  }
  yamlStats.delegated++;
  return stringify(value, CDK8S_OPTIONS);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/** A collection the library would print as a block map or sequence; throws {@link Unsupported} for anything else. */
function collection(value: object, seen: Set<object>): 'map' | 'seq' {
  // The library prints a second reference to an object as an alias of the first.
  if (seen.has(value)) throw new Unsupported();
  seen.add(value);
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) throw new Unsupported();
    return 'seq';
  }
  if (!isPlainObject(value)) throw new Unsupported();
  return 'map';
}

/** The indentation of depth `depth` (two spaces a step), and the same after a line break, made once. */
const INDENTS: string[] = [''];
const BREAKS: string[] = ['\n'];
function indentOf(depth: number): string {
  while (INDENTS.length <= depth) {
    INDENTS.push(INDENTS[INDENTS.length - 1] + INDENT_STEP);
    BREAKS.push(`\n${INDENTS[INDENTS.length - 1]}`);
  }
  return INDENTS[depth];
}

/** A non-empty block map whose entries start at depth `depth` (YAMLMap.toString, stringifyBlockCollection), onto `out`. */
function mapBlock(map: Record<string, unknown>, depth: number, seen: Set<object>, out: string[]): void {
  const keys = Object.keys(map);
  const inner = indentOf(depth + 1);
  const lineBreak = BREAKS[depth];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    // stringifyPair: the key is an implicit key one step in; a longer one would be written `? key`.
    const keyText = stringText(key, inner, true);
    if (keyText.length > 1024) throw new Unsupported();
    if (i > 0) out.push(lineBreak);
    out.push(keyText);
    const value = map[key];
    if (value !== null && typeof value === 'object') {
      // An empty collection is written in flow style on the key's line; any other on the lines below.
      out.push(':');
      nestedCollection(value, depth + 1, seen, out, BREAKS[depth + 1]);
    } else {
      out.push(': ', scalarText(value, inner));
    }
  }
}

/** A non-empty block sequence whose items start at depth `depth`, each `- ` then its value one step in, onto `out`. */
function seqBlock(items: readonly unknown[], depth: number, seen: Set<object>, out: string[]): void {
  const inner = indentOf(depth + 1);
  const lineBreak = BREAKS[depth];
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out.push(lineBreak);
    const item = items[i];
    if (item !== null && typeof item === 'object') {
      out.push('-');
      nestedCollection(item, depth + 1, seen, out, ' ');
    } else {
      out.push('- ', scalarText(item, inner));
    }
  }
}

/**
 * A collection inside another, at depth `depth`: an empty one in flow style after a space (`{}`, `[]`), any
 * other as a block, after `lead` (the line break and indentation below a key, or the space after `-`).
 */
function nestedCollection(value: object, depth: number, seen: Set<object>, out: string[], lead: string): void {
  if (collection(value, seen) === 'seq') {
    const items = value as unknown[];
    if (items.length === 0) {
      out.push(' []');
      return;
    }
    out.push(lead);
    seqBlock(items, depth, seen, out);
    return;
  }
  const map = value as Record<string, unknown>;
  if (Object.keys(map).length === 0) {
    out.push(' {}');
    return;
  }
  out.push(lead);
  mapBlock(map, depth, seen, out);
}

/** A value that is not a collection, at `indent` (the indent of its block scalar lines). */
function scalarText(value: unknown, indent: string): string {
  switch (typeof value) {
    case 'string':
      return stringText(value, indent, false);
    case 'number':
      // stringifyNumber.js, as the int and float tags print a number.
      if (!Number.isFinite(value)) return Number.isNaN(value) ? '.nan' : value < 0 ? '-.inf' : '.inf';
      return Object.is(value, -0) ? '-0' : JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return String(value);
    case 'undefined':
      // keepUndefined: the library keeps the key and writes null.
      return 'null';
    default:
      if (value === null) return 'null';
      throw new Unsupported();
  }
}

/** stringifyString with the string tag's `actualString`, in block context (never in a flow collection). */
function stringText(value: string, indent: string, implicitKey: boolean): string {
  // A line without a document marker is written the same wherever it is, key or value: the same names and
  // labels recur in every object, so their texts are kept for the file being written.
  const anywhere = !value.includes('\n') && !DOCUMENT_MARKER.test(value);
  if (anywhere) {
    const known = written.get(value);
    if (known !== undefined) return known;
  }
  const text = value === MERGE_KEY ? MERGE_KEY
    : CONTROL_CHARACTERS.test(value) ? doubleQuoted(value, indent, implicitKey) : plain(value, indent, implicitKey);
  if (anywhere) written.set(value, text);
  return text;
}

/** The texts of the one-line strings of the file being written (see {@link stringText}); emptied after each file. */
const written = new Map<string, string>();

function plain(value: string, indent: string, implicitKey: boolean): string {
  const multiline = value.includes('\n');
  if (implicitKey && multiline) return quoted(value, indent, implicitKey);
  if (NOT_PLAIN.test(value)) return implicitKey || !multiline ? quoted(value, indent, implicitKey) : block(value, indent);
  if (!implicitKey && multiline) return block(value, indent);
  if (DOCUMENT_MARKER.test(value)) {
    // Only a top-level scalar document has no indent, and this port prints maps only.
    if (indent === '') throw new Unsupported();
    if (implicitKey && indent === INDENT_STEP) return quoted(value, indent, implicitKey);
  }
  // Single line from here: nothing to fold (lineWidth 0).
  return PLAIN_LOOKALIKE.test(value) ? quoted(value, indent, implicitKey) : value;
}

function quoted(value: string, indent: string, implicitKey: boolean): string {
  return value.includes('"') && !value.includes("'") ? singleQuoted(value, indent, implicitKey) : doubleQuoted(value, indent, implicitKey);
}

function singleQuoted(value: string, indent: string, implicitKey: boolean): string {
  if ((implicitKey && value.includes('\n')) || /[ \t]\n|\n[ \t]/.test(value)) return doubleQuoted(value, indent, implicitKey);
  const at = indent || (DOCUMENT_MARKER.test(value) ? INDENT_STEP : '');
  return `'${value.replace(/'/g, "''").replace(/\n+/g, `$&\n${at}`)}'`;
}

/** doubleQuotedString: JSON, with YAML's own escapes, and long multi-line strings on several lines. */
function doubleQuoted(value: string, indent: string, implicitKey: boolean): string {
  const json = JSON.stringify(value);
  const at = indent || (DOCUMENT_MARKER.test(value) ? INDENT_STEP : '');
  let str = '';
  let start = 0;
  for (let i = 0, ch = json[i]; ch; ch = json[++i]) {
    if (ch === ' ' && json[i + 1] === '\\' && json[i + 2] === 'n') {
      // A space before a newline is escaped, so that folding keeps it.
      str += `${json.slice(start, i)}\\ `;
      i += 1;
      start = i;
      ch = '\\';
    }
    if (ch !== '\\') continue;
    switch (json[i + 1]) {
      case 'u': {
        str += json.slice(start, i);
        const code = json.substr(i + 2, 4);
        const named: Record<string, string> = { '0000': '\\0', '0007': '\\a', '000b': '\\v', '001b': '\\e', '0085': '\\N', '00a0': '\\_', '2028': '\\L', '2029': '\\P' };
        str += named[code] ?? (code.startsWith('00') ? `\\x${code.slice(2)}` : json.substr(i, 6));
        i += 5;
        start = i + 1;
        break;
      }
      case 'n':
        if (implicitKey || json[i + 2] === '"' || json.length < 40) {
          i += 1;
        } else {
          // A line break is written as a folded empty line (the fold eats the first newline).
          str += `${json.slice(start, i)}\n\n`;
          while (json[i + 2] === '\\' && json[i + 3] === 'n' && json[i + 4] !== '"') {
            str += '\n';
            i += 2;
          }
          str += at;
          // A space after the line break is escaped, so that folding keeps it.
          if (json[i + 2] === ' ') str += '\\';
          i += 1;
          start = i + 1;
        }
        break;
      default:
        i += 1;
    }
  }
  return start ? str + json.slice(start) : json;
}

/** blockString as a literal (`|`): lineWidth 0 never prefers folding. */
function block(input: string, indent: string): string {
  // A block cannot end in whitespace unless its last line has content.
  if (/\n[\t ]+$/.test(input)) return quoted(input, indent, false);
  const at = indent || (DOCUMENT_MARKER.test(input) ? INDENT_STEP : '');
  let value = input;
  // Chomping, from the whitespace at the end.
  let endStart = value.length;
  for (; endStart > 0; --endStart) {
    const ch = value[endStart - 1];
    if (ch !== '\n' && ch !== '\t' && ch !== ' ') break;
  }
  let end = value.substring(endStart);
  const endNlPos = end.indexOf('\n');
  const chomp = endNlPos === -1 ? '-' : value === end || endNlPos !== end.length - 1 ? '+' : '';
  if (end) {
    value = value.slice(0, -end.length);
    if (end[end.length - 1] === '\n') end = end.slice(0, -1);
    end = end.replace(BLOCK_END_NEWLINES, `$&${at}`);
  }
  // The indentation indicator, when the first line starts with a space.
  let startWithSpace = false;
  let startEnd = 0;
  let startNlPos = -1;
  for (; startEnd < value.length; ++startEnd) {
    const ch = value[startEnd];
    if (ch === ' ') startWithSpace = true;
    else if (ch === '\n') startNlPos = startEnd;
    else break;
  }
  let start = value.substring(0, startNlPos < startEnd ? startNlPos + 1 : startEnd);
  if (start) {
    value = value.substring(start.length);
    start = start.replace(/\n+/g, `$&${at}`);
  }
  const header = (startWithSpace ? (at ? '2' : '1') : '') + chomp;
  return `|${header}\n${at}${start}${value.replace(/\n+/g, `$&${at}`)}${end}`;
}
