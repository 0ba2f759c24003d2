// @ts-check
/**
 * Lint = layering plus a few hygiene rules that keep the layering checkable. No style rules.
 *
 *   main.ts → charts/ → lib/ → {imports/, cdk8s, cdk8s-plus-28, constructs}
 *   config/ → {zod, yaml, a few Node built-ins, PURE_CORE, lib/addons}
 *   charts/capabilities/<a>/ never imports charts/capabilities/<b>/ nor config/sections/<b>.ts:
 *   capabilities meet through ports (charts/capabilities/ports.ts)
 *
 * The layering is `import/no-restricted-paths`: it resolves every `import`, `import type`,
 * `export … from`, `import()` and `require()` to a file and checks that file against the zones
 * below. Node built-ins have no file, so `import/no-nodejs-modules` guards them per folder.
 * test/architecture.test.ts proves each edge and, within `npm test`, runs `eslint .` on the sources (`npm run lint` also lints test/).
 */
const fs = require('fs');
const path = require('path');
const tsParser = require('@typescript-eslint/parser');
const importPlugin = require('eslint-plugin-import');

/**
 * The files of lib/core that config/ and the capability config sections may import. Each must
 * stay pure: it imports no cdk8s, cdk8s-plus-28 or constructs, and nothing of ours but other
 * files of this list (enforced below). Add a file here when config/ needs it.
 */
const PURE_CORE = ['quantity', 'image', 'image-sources', 'naming', 'labels', 'manifest', 'namespaces', 'release', 'resources', 'breaker', 'cidr', 'run-as-ids'];

/** Node built-ins config/ may use (read the environment files, build paths and messages). */
const CONFIG_BUILTINS = ['fs', 'fs/promises', 'path', 'util', 'crypto', 'os'];

const ROOT = __dirname;
/** An absolute glob for `rel` under this repository (the repository path itself is escaped). */
const at = (rel) => `${ROOT.replace(/[\\*?[\]{}()!+@]/g, '\\$&')}/${rel}`;
/** A glob matching exactly the file `rel` (a zone's `from` and `except` must be all globs or all paths). */
const file = (rel) => at(rel.replace(/[^/]+$/, '@($&)'));
const withNodePrefix = (names) => names.flatMap((name) => [name, `node:${name}`]);

const PURE_CORE_FILES = PURE_CORE.map((name) => file(`lib/core/${name}.ts`));
/** The add-on contracts (lib/addons): plain data about pinned charts, pure like PURE_CORE, read by config sections and capabilities alike. */
const ADDON_FILES = [at('lib/addons/*.ts')];
/** Capability config sections (zod schemas) that config/ assembles into the environment schema. */
const SECTIONS = [at('config/sections/**')];
const CDK8S = ['cdk8s', 'cdk8s-plus-28', 'constructs'].map((name) => at(`node_modules/${name}/**`));
/** Every file of ours (not node_modules/), and the same without tests. */
const OURS = [at('*'), at('!(node_modules)/**')];
const SOURCES = [at('*'), at('!(node_modules|test)/**')];

/** lib/ capabilities that exist now; a new folder gets its rule on the next run. */
const CAPABILITIES = subfolders('lib').filter((name) => name !== 'core');

/** charts/capabilities/ units that exist now: each folder is one capability. */
const CAPABILITY_UNITS = subfolders('charts/capabilities');

/** The folders directly under `rel`, sorted; none when it does not exist. */
function subfolders(rel) {
  const dir = path.join(ROOT, rel);
  return fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort() : [];
}

/** @type {{ target: string | string[], from: string | string[], except?: string[], message: string }[]} */
const ZONES = [
  { target: SOURCES, from: file('main.ts'), message: 'Nothing imports main.ts (the entry point).' },
  { target: SOURCES, from: at('test/**'), message: 'Only tests import test/.' },
  {
    target: at('lib/**'),
    from: [at('config/**'), at('charts/**')],
    message: 'lib/ (constructs) never imports config/ or charts/: take what you need as props.',
  },
  {
    target: at('lib/core/**'),
    from: at('lib/!(core)/**'),
    message: 'lib/core is the bottom of lib/: it imports no other capability.',
  },
  ...CAPABILITIES.map((name) => ({
    target: CAPABILITIES.filter((other) => other !== name).map((other) => at(`lib/${other}/**`)),
    from: at(`lib/${name}/**`),
    except: [file(`lib/${name}/index.ts`)],
    message: `Import lib/${name} only through its index.ts ('../${name}').`,
  })),
  ...CAPABILITY_UNITS.map((name) => ({
    target: at(`charts/capabilities/${name}/**`),
    from: [
      ...CAPABILITY_UNITS.filter((other) => other !== name).map((other) => at(`charts/capabilities/${other}/**`)),
      ...CAPABILITY_UNITS.filter((other) => other !== name).map((other) => file(`config/sections/${other}.ts`)),
    ],
    message: `charts/capabilities/${name} reads no other capability's module or section: take what it needs from a port (charts/capabilities/ports.ts).`,
  })),
  {
    target: PURE_CORE_FILES,
    from: [...OURS, ...CDK8S],
    except: PURE_CORE_FILES,
    message: `This lib/core file is pure (PURE_CORE in eslint.config.js): it imports only other pure lib/core files (${PURE_CORE.join(', ')}), never cdk8s, cdk8s-plus-28 or constructs.`,
  },
  {
    target: at('config/**'),
    from: at('**'),
    except: [at('config/**'), at('node_modules/zod/**'), at('node_modules/yaml/**'), ...PURE_CORE_FILES, ...ADDON_FILES],
    message: `config/ imports only zod, yaml, config/, the add-on contracts (lib/addons) and the pure lib/core files (${PURE_CORE.join(', ')}).`,
  },
  {
    target: SECTIONS,
    from: at('**'),
    except: [at('node_modules/zod/**'), ...PURE_CORE_FILES, ...ADDON_FILES, ...SECTIONS],
    message: `Capability config sections import only zod, each other, the add-on contracts (lib/addons) and the pure lib/core files (${PURE_CORE.join(', ')}).`,
  },
  {
    target: ADDON_FILES,
    from: at('**'),
    except: ADDON_FILES,
    message: 'lib/addons (the add-on contracts) is pure data: it imports only itself.',
  },
  {
    target: at('imports/**'),
    from: [file('main.ts'), at('charts/**'), at('config/**'), at('lib/**')],
    message: 'imports/ (generated bindings and their generators) imports nothing of ours outside imports/.',
  },
];

/** String literals naming ../shared: a user's clone has no ../shared next to it. */
const SHARED = '/\\.\\.\\/shared|shared\\/crds/';
const NO_SHARED = [
  { selector: `Literal[value=${SHARED}]`, message: "No path into the sibling 'shared' checkout: a clone of this repository has none next to it." },
  { selector: `TemplateElement[value.raw=${SHARED}]`, message: "No path into the sibling 'shared' checkout: a clone of this repository has none next to it." },
];
/** Module references import/no-restricted-paths cannot see: written another way, they would bypass the layering. */
const CHECKABLE_IMPORTS = [
  { selector: 'TSExternalModuleReference', message: "Write `import … from '…'`: the layering rule does not see `import x = require(…)`." },
  { selector: 'TSImportType', message: "Write `import type { … } from '…'`: the layering rule does not see `import('…')` types." },
  {
    selector: "CallExpression[callee.name='require'] > TemplateLiteral.arguments, ImportExpression > TemplateLiteral.source",
    message: "Use a plain string: the layering rule does not see `require(`…`)` or `import(`…`)`.",
  },
];

/**
 * `cdk8s import` writes each binding (imports/*.ts) as an import header followed by thousands
 * of lines of classes. Lint only the header, up to the first line that is not a comment, a
 * blank or a one-line import: parsing the rest would cost a quarter of the lint time, and it
 * imports nothing. A file without the generator's first line is linted whole.
 */
const GENERATED_BINDING = /^\/\/ generated by cdk8s\r?\n/;
/** @type {import('eslint').Linter.Processor} */
const bindingHeader = {
  meta: { name: 'binding-header' },
  preprocess(text) {
    if (!GENERATED_BINDING.test(text)) return [text];
    const lines = text.split('\n');
    const end = lines.findIndex((line) => !/^\s*(\/\/.*|import\s[^;]*;\s*)?$/.test(line));
    return [end === -1 ? text : `${lines.slice(0, end).join('\n')}\n`];
  },
  postprocess: (messages) => messages.flat(),
  supportsAutofix: false,
};

module.exports = [
  {
    ignores: ['dist/', 'coverage/', '.pronto-synth-*/', 'imports/*.js', '.build/'],
  },
  {
    files: ['**/*.{ts,js,mjs,cjs}'],
    languageOptions: { parser: tsParser, ecmaVersion: 'latest', sourceType: 'module' },
    // Code may carry disable comments for rules this config does not run; they are not errors.
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    plugins: { import: importPlugin },
    settings: {
      // .ts first, as TypeScript resolves it (lib/validation has cdk8s-plugin.ts and .js).
      'import/resolver': { node: { extensions: ['.ts', '.js', '.json'] } },
    },
    rules: {
      'import/no-restricted-paths': ['error', { basePath: ROOT, zones: ZONES }],
      // A relative import the resolver cannot follow would escape the layering rule
      // (e.g. `require('../config/load.js')` naming a .ts file).
      'import/no-unresolved': ['error', { commonjs: true, ignore: ['^[^.]'] }],
      'no-restricted-syntax': ['error', ...NO_SHARED, ...CHECKABLE_IMPORTS],
    },
  },
  {
    files: ['imports/*.ts'],
    processor: bindingHeader,
  },
  {
    // Tests may import anything, in any form; the ../shared rule still holds.
    files: ['test/**'],
    rules: { 'no-restricted-syntax': ['error', ...NO_SHARED] },
  },
  {
    files: ['lib/**'],
    rules: {
      // lib/ never reads files, the environment or the command line: main.ts does.
      'import/no-nodejs-modules': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'lib/ never reads the environment: take the value as a prop (main.ts reads env).' },
        { object: 'process', property: 'argv', message: 'lib/ never reads the command line: take the value as a prop (main.ts reads argv).' },
      ],
    },
  },
  {
    // The cdk8s validation plugin gets the paths of the synthesized files from cdk8s.
    files: ['lib/validation/cdk8s-plugin.ts'],
    rules: { 'import/no-nodejs-modules': ['error', { allow: withNodePrefix(['path']) }] },
  },
  {
    files: ['config/**'],
    rules: { 'import/no-nodejs-modules': ['error', { allow: withNodePrefix(CONFIG_BUILTINS) }] },
  },
  {
    // Explicit empty options: a severity alone would keep config/**'s allow list.
    files: ['config/sections/**'],
    rules: { 'import/no-nodejs-modules': ['error', { allow: [] }] },
  },
];
