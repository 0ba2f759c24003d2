/**
 * Renders a Vault agent template as a pod's annotation holds it
 * (`{{- with secret "<path>" -}}<body>{{- end }}`), for the suites that give real programs
 * the files the agent would render. Only the subset Pronto's templates use is understood:
 * `{{ .Data.data.<field> }}`, piped through `urlquery` (Go's url.QueryEscape) or `sha256Hex`
 * (consul-template's, lower-case hex). Anything else throws, so a template the agent would
 * render differently never passes silently.
 */
import { createHash } from 'crypto';

/** KV version 2 entries by their API path (`secret/data/…`): field → value. */
export type VaultEntries = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** Go's url.QueryEscape: unreserved characters kept, space as "+", every other byte as %XX. */
export function goQueryEscape(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((b) => {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) return c;
    if (c === ' ') return '+';
    return `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

const PIPES: Readonly<Record<string, (v: string) => string>> = {
  urlquery: goQueryEscape,
  sha256Hex: (v) => createHash('sha256').update(v, 'utf8').digest('hex'),
};

/**
 * The file the agent renders from `annotation` with the entries `kv`: one secret's template,
 * or a range over names (`{{- range $name := split "," "<names>" }}{{ with secret (printf
 * "<path with %s>" $name) }}<body>{{ end }}{{- end }}`, lib/secrets VaultSecretFile.forEach),
 * whose body is rendered per name, in order, with `{{ $name }}` the name.
 */
export function renderVaultTemplate(annotation: string, kv: VaultEntries): string {
  const range = /^\{\{- range \$name := split "," "([^"]+)" \}\}\{\{ with secret \(printf "([^"%]*%s[^"%]*)" \$name\) \}\}([\s\S]*)\{\{ end \}\}\{\{- end \}\}$/.exec(annotation);
  if (range) {
    const [, names, pattern, body] = range;
    // No trim marker touches the body's text (`{{- end }}` follows `{{ end }}` directly): each name's block keeps its newline.
    return names.split(',').map((name) => renderBody(pattern.replace('%s', name), body.replace(/\{\{ \$name \}\}/g, name), kv)).join('');
  }
  const m = /^\{\{- with secret "([^"]+)" -\}\}([\s\S]*)\{\{- end \}\}$/.exec(annotation);
  if (!m) throw new Error(`not a Vault agent template of one secret, nor a range over names: ${annotation}`);
  // `-}}` trims the whitespace after it, `{{-` the whitespace before it.
  return renderBody(m[1], m[2].replace(/^\s+/, '').replace(/\s+$/, ''), kv);
}

/** `body` with the fields of the entry at `path`. */
function renderBody(path: string, body: string, kv: VaultEntries): string {
  const entry = kv[path];
  if (!entry) throw new Error(`no test entry for ${path}`);
  const out = body.replace(/\{\{ \.Data\.data\.(\w+)((?: \| \w+)*) \}\}/g, (_all, field: string, pipes: string) => {
    const value = entry[field];
    if (value === undefined) throw new Error(`${path}: the test entry has no field "${field}"`);
    return pipes.split('|').map((p) => p.trim()).filter(Boolean).reduce((v, p) => {
      const fn = PIPES[p];
      if (!fn) throw new Error(`${path}: template function "${p}" is not understood here`);
      return fn(v);
    }, value);
  });
  if (out.includes('{{')) throw new Error(`${path}: template action not understood here: ${out}`);
  return out;
}
