/**
 * The layering is enforced by eslint (eslint.config.js), which `npm test` runs on the whole
 * tree. These tests prove the rules: each forbidden edge is reported, written every way an
 * import can be written, and each allowed edge is not.
 *
 * The virtual files are linted inside a scratch copy of the layout (stub files at the real
 * paths, the real eslint.config.js, this node_modules), so every import resolves, and
 * folders that do not exist yet (charts/capabilities/, lib/gateway/) are covered too.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { ESLint, Linter } from 'eslint';

const ROOT = path.resolve(__dirname, '..');

/** The lib/core files config/ may import: PURE_CORE in eslint.config.js. */
const PURE_CORE = ['quantity', 'image', 'naming', 'labels', 'manifest', 'namespaces', 'release', 'resources', 'breaker', 'cidr'];

/** The stub layout: an empty module at each path. */
const LAYOUT = [
  'main.ts',
  'charts/build-app.ts',
  'charts/services-chart.ts',
  'charts/capabilities/ports.ts',
  'charts/capabilities/gateway/index.ts',
  'charts/capabilities/gateway/gateway-chart.ts',
  'charts/capabilities/postgres/index.ts',
  'config/load.ts',
  'config/schema.ts',
  'config/sections/index.ts',
  'config/sections/gateway.ts',
  'config/sections/postgres.ts',
  // security.ts uses cdk8s-plus-28; unlisted.ts is a file PURE_CORE does not name.
  ...[...PURE_CORE, 'security', 'unlisted', 'index'].map((f) => `lib/core/${f}.ts`),
  'lib/workload/index.ts',
  'lib/workload/microservice.ts',
  'lib/namespace/index.ts',
  'lib/namespace/capacity.ts',
  'lib/validation/index.ts',
  'lib/validation/gate.ts',
  'lib/validation/cdk8s-plugin.ts',
  'lib/validation/rules/index.ts',
  'lib/validation/rules/pod-rules.ts',
  'lib/gateway/index.ts',
  'lib/gateway/nginx-config.ts',
  'imports/k8s.ts',
  'imports/argoproj.io.ts',
  'imports/generate/validators.ts',
  'test/helpers.ts',
];

/** Built, not written: a literal here would trip the rule under test. */
const SHARED = ['..', 'shared'].join('/');

let fixture: string;
let eslint: ESLint;

beforeAll(() => {
  fixture = mkdtempSync(path.join(os.tmpdir(), 'pronto-layering-'));
  for (const file of LAYOUT) {
    mkdirSync(path.dirname(path.join(fixture, file)), { recursive: true });
    writeFileSync(path.join(fixture, file), 'export {};\n');
  }
  // eslint-plugin-import looks for the package.json above each file.
  writeFileSync(path.join(fixture, 'package.json'), '{ "name": "layering-fixture", "private": true }\n');
  copyFileSync(path.join(ROOT, 'eslint.config.js'), path.join(fixture, 'eslint.config.js'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(fixture, 'node_modules'), 'dir');
  eslint = new ESLint({ cwd: fixture, overrideConfigFile: true, overrideConfig: configAt(fixture) });
});

afterAll(() => {
  if (fixture) rmSync(fixture, { recursive: true, force: true });
});

/** The flat config of eslint.config.js in `dir` (loaded with require: jest cannot run ESLint's own `import()`). */
function configAt(dir: string): Linter.Config[] {
  return require(path.join(dir, 'eslint.config.js'));
}

/** The problems of `code` linted as the file at `file` of the layout. */
async function problems(file: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(fixture, file) });
  return result.messages;
}

/** `rule: message` of every problem in `code`. */
async function lint(file: string, code: string): Promise<string[]> {
  return (await problems(file, code)).map((m) => `${m.ruleId}: ${m.message}`);
}

/** The rules `code` breaks, one entry per problem. */
async function rules(file: string, code: string): Promise<(string | null)[]> {
  return (await problems(file, code)).map((m) => m.ruleId);
}

const LAYERING = 'import/no-restricted-paths';
const BUILTINS = 'import/no-nodejs-modules';

/** The ways of writing a dependency on the module `spec` that the edge tests below try, one a line. */
function forms(spec: string): string[] {
  return [
    `import { a1 } from '${spec}';`,
    `import { a2 } from "${spec}";`,
    `import type { A3 } from '${spec}';`,
    `export { a4 } from '${spec}';`,
    `const m5 = require('${spec}');`,
    `const m6 = import("${spec}");`,
  ];
}

/** Every way of writing a dependency on the module `spec`. */
function edges(spec: string): string[] {
  return [
    `import { a } from '${spec}';`,
    `import { a } from "${spec}";`,
    `import * as m from '${spec}';`,
    `import '${spec}';`,
    `import type { A } from '${spec}';`,
    `import { type A } from '${spec}';`,
    `export { a } from '${spec}';`,
    `export type { A } from '${spec}';`,
    `export * from '${spec}';`,
    `export * as m from '${spec}';`,
    `const m = require('${spec}');`,
    `const m = require("${spec}");`,
    `const m = import('${spec}');`,
  ];
}

/** Asserts each form of the import of `spec` from `file` is reported by `rule`, and by nothing else. */
async function expectForbidden(file: string, spec: string, rule = LAYERING): Promise<void> {
  const lines = forms(spec);
  const found = await problems(file, lines.join('\n'));
  const byLine = lines.map((code, i) => [file, code, [...new Set(found.filter((m) => m.line === i + 1).map((m) => m.ruleId))]]);
  expect(byLine).toEqual(lines.map((code) => [file, code, [rule]]));
}

/** Asserts `file` may import `spec` (in each form) without any problem, resolution included. */
async function expectAllowed(file: string, spec: string): Promise<void> {
  expect([file, spec, await lint(file, forms(spec).join('\n'))]).toEqual([file, spec, []]);
}

describe('the layering rule sees every way of importing', () => {
  const FILE = 'lib/workload/microservice.ts';
  const SPEC = '../../config/load';

  test.each(edges(SPEC))('%s', async (code) => {
    expect(await rules(FILE, code)).toEqual([LAYERING]);
  });

  test('a resolved path names the file in the message', async () => {
    expect(await lint(FILE, `import { a } from "${SPEC}";`)).toEqual([
      `${LAYERING}: Unexpected path "${SPEC}" imported in restricted zone. lib/ (constructs) never imports config/ or charts/: take what you need as props.`,
    ]);
  });

  test('in JavaScript files too', async () => {
    expect(await rules('lib/validation/plugin.js', "module.exports = require('../../config/load');")).toEqual([LAYERING]);
  });

  test('with an explicit .ts extension', async () => {
    expect(await rules(FILE, `const m = require('${SPEC}.ts');`)).toEqual([LAYERING]);
  });

  test('forms the path rule cannot follow are errors of their own', async () => {
    expect(await rules(FILE, `import load = require('${SPEC}');`)).toEqual(['no-restricted-syntax']);
    expect(await rules(FILE, `type C = import('${SPEC}').EnvironmentConfig;`)).toEqual(['no-restricted-syntax']);
    expect(await rules(FILE, `const m = require(\`${SPEC}\`);`)).toEqual(['no-restricted-syntax']);
    expect(await rules(FILE, `const m = import(\`${SPEC}\`);`)).toEqual(['no-restricted-syntax']);
    // A path the resolver cannot follow (TypeScript would map .js to .ts) is unresolved, not silently allowed.
    expect(await rules(FILE, `const m = require('${SPEC}.js');`)).toEqual(['import/no-unresolved']);
    expect(await rules(FILE, `import { a } from '${SPEC}.js';`)).toEqual(['import/no-unresolved']);
  });
});

describe('main.ts', () => {
  test('may import anything of ours', async () => {
    for (const spec of ['./charts/build-app', './config/load', './lib/core', './lib/workload', './imports/k8s', 'fs', 'cdk8s']) {
      await expectAllowed('main.ts', spec);
    }
  });

  test('is imported by nothing but tests', async () => {
    await expectForbidden('charts/build-app.ts', '../main');
    await expectForbidden('config/load.ts', '../main');
    await expectForbidden('lib/workload/microservice.ts', '../../main');
    await expectForbidden('imports/generate/validators.ts', '../../main');
    await expectAllowed('test/main.test.ts', '../main');
  });
});

describe('charts/', () => {
  test('may import lib/, config/, imports/ and charts/', async () => {
    for (const spec of ['../lib/core', '../lib/core/security', '../lib/workload', '../config/load', '../imports/k8s', './services-chart', './capabilities/gateway/gateway-chart', 'cdk8s', 'fs']) {
      await expectAllowed('charts/build-app.ts', spec);
    }
  });

  test('may not import main.ts or tests', async () => {
    await expectForbidden('charts/build-app.ts', '../main');
    await expectForbidden('charts/build-app.ts', '../test/helpers');
  });
});

describe('capability config sections (config/sections/)', () => {
  const CONFIG = 'config/sections/gateway.ts';
  const SECTIONS = 'config/sections/index.ts';

  test('may import zod, each other and the pure lib/core files', async () => {
    for (const spec of ['zod', './index', './postgres', '../../lib/core/quantity', '../../lib/core/image']) await expectAllowed(CONFIG, spec);
    for (const spec of ['zod', './gateway', './postgres', '../../lib/core/naming']) await expectAllowed(SECTIONS, spec);
  });

  test('may not import cdk8s, cdk8s-plus-28, constructs or another package', async () => {
    for (const spec of ['cdk8s', 'cdk8s-plus-28', 'constructs', 'yaml']) {
      await expectForbidden(CONFIG, spec);
      await expectForbidden(SECTIONS, spec);
    }
  });

  test('may not import anything else of ours', async () => {
    for (const spec of ['../load', '../../charts/capabilities/gateway/gateway-chart', '../../charts/build-app', '../../lib/core', '../../lib/core/security', '../../lib/workload', '../../imports/k8s', '../../main']) {
      await expectForbidden(CONFIG, spec);
    }
    await expectForbidden(SECTIONS, '../../charts/build-app');
    await expectForbidden(SECTIONS, '../../charts/capabilities/gateway');
  });

  test('may not import Node built-ins', async () => {
    await expectForbidden(CONFIG, 'fs', BUILTINS);
    await expectForbidden(SECTIONS, 'node:path', BUILTINS);
  });
});

describe('capability units (charts/capabilities/<id>/)', () => {
  const CHART = 'charts/capabilities/gateway/gateway-chart.ts';

  test('may import cdk8s, lib/, the ports, config/ and their own section', async () => {
    for (const spec of ['cdk8s', '../../../lib/workload', '../ports', '../../../config/load', '../../../config/sections', '../../../config/sections/gateway', './index']) {
      await expectAllowed(CHART, spec);
    }
  });

  test('never read another capability: neither its folder nor its section', async () => {
    for (const spec of ['../postgres', '../postgres/index', '../../../config/sections/postgres']) await expectForbidden(CHART, spec);
    await expectForbidden('charts/capabilities/postgres/index.ts', '../gateway/gateway-chart');
  });
});

describe('config/', () => {
  const FILE = 'config/schema.ts';

  test('may import zod, yaml, some Node built-ins, config/ (the capability sections included) and the pure lib/core files', async () => {
    const specs = ['zod', 'yaml', 'fs', 'node:fs', 'fs/promises', 'path', 'node:path', 'util', 'crypto', 'os', './load'];
    const ours = ['./sections', './sections/gateway'];
    const pure = PURE_CORE.map((f) => `../lib/core/${f}`);
    for (const spec of [...specs, ...ours, ...pure]) await expectAllowed(FILE, spec);
  });

  test('may not import cdk8s, cdk8s-plus-28, constructs or another package', async () => {
    for (const spec of ['cdk8s', 'cdk8s-plus-28', 'constructs', 'ajv']) await expectForbidden(FILE, spec);
  });

  test('may not import other lib/core files (impure or not listed), the lib/core index or other lib/ folders', async () => {
    for (const spec of ['../lib/core/security', '../lib/core/unlisted', '../lib/core', '../lib/core/index', '../lib/workload', '../lib/validation/rules']) {
      await expectForbidden(FILE, spec);
    }
  });

  test('may not import charts/, imports/, main.ts or tests', async () => {
    for (const spec of ['../charts/build-app', '../charts/capabilities/ports', '../charts/capabilities/gateway', '../charts/capabilities/gateway/gateway-chart', '../imports/k8s', '../main', '../test/helpers']) {
      await expectForbidden(FILE, spec);
    }
  });

  test('may not import other Node built-ins', async () => {
    for (const spec of ['child_process', 'node:child_process', 'http']) await expectForbidden(FILE, spec, BUILTINS);
  });
});

describe('the pure lib/core files', () => {
  test('import no cdk8s, cdk8s-plus-28 or constructs, not even types', async () => {
    for (const file of PURE_CORE) {
      for (const spec of ['cdk8s', 'cdk8s-plus-28', 'constructs']) await expectForbidden(`lib/core/${file}.ts`, spec);
    }
  });

  test('import only other pure files of ours', async () => {
    await expectAllowed('lib/core/labels.ts', './naming');
    await expectAllowed('lib/core/image.ts', './labels');
    for (const spec of ['./security', './index', '.', '../workload', '../../config/load']) await expectForbidden('lib/core/labels.ts', spec);
  });

  test('the other lib/core files may use cdk8s', async () => {
    await expectAllowed('lib/core/security.ts', 'cdk8s-plus-28');
    await expectAllowed('lib/core/security.ts', './quantity');
  });
});

describe('lib/', () => {
  const FILE = 'lib/workload/microservice.ts';

  test('may import lib/core (index or file), imports/, cdk8s, cdk8s-plus-28 and constructs', async () => {
    for (const spec of ['../core', '../core/index', '../core/security', '../core/quantity', '../../imports/k8s', 'cdk8s', 'cdk8s-plus-28', 'constructs']) {
      await expectAllowed(FILE, spec);
    }
  });

  test('may not import config/, charts/, main.ts or tests', async () => {
    for (const spec of ['../../config/load', '../../config/schema', '../../charts/build-app', '../../charts/capabilities/gateway', '../../main', '../../test/helpers']) {
      await expectForbidden(FILE, spec);
    }
  });

  test('imports another capability only through its index.ts', async () => {
    await expectAllowed('lib/namespace/capacity.ts', '../workload');
    await expectAllowed('lib/namespace/capacity.ts', '../workload/index');
    await expectForbidden('lib/namespace/capacity.ts', '../workload/microservice');
    await expectForbidden('lib/validation/rules/pod-rules.ts', '../../workload/microservice');
    await expectAllowed('lib/validation/rules/pod-rules.ts', '../../workload');
    // a capability folder that did not exist when the rules were written
    await expectAllowed('lib/gateway/nginx-config.ts', '../validation');
    await expectForbidden('lib/gateway/nginx-config.ts', '../validation/rules');
    await expectForbidden('lib/gateway/nginx-config.ts', '../validation/gate');
    await expectForbidden('lib/workload/microservice.ts', '../gateway/nginx-config');
  });

  test('imports its own capability file by file', async () => {
    await expectAllowed('lib/validation/gate.ts', './rules/pod-rules');
    await expectAllowed('lib/validation/rules/pod-rules.ts', '../gate');
  });

  test('lib/core imports no other capability', async () => {
    await expectForbidden('lib/core/security.ts', '../workload');
    await expectForbidden('lib/core/index.ts', '../validation');
  });

  test('imports no Node built-in: no files, processes or paths', async () => {
    for (const spec of ['fs', 'node:fs', 'fs/promises', 'child_process', 'node:child_process', 'path', 'os']) await expectForbidden(FILE, spec, BUILTINS);
  });

  test('except path in the cdk8s validation plugin', async () => {
    await expectAllowed('lib/validation/cdk8s-plugin.ts', 'path');
    await expectAllowed('lib/validation/cdk8s-plugin.ts', 'node:path');
    await expectForbidden('lib/validation/cdk8s-plugin.ts', 'fs', BUILTINS);
  });

  test('reads neither the environment nor the command line', async () => {
    for (const code of ['const home = process.env.HOME;', "const home = process.env['HOME'];", 'const { env } = process;', 'const args = process.argv.slice(2);']) {
      expect([code, await rules(FILE, code)]).toEqual([code, ['no-restricted-properties']]);
    }
    expect(await lint('charts/build-app.ts', 'const home = process.env.HOME;')).toEqual([]);
  });
});

describe('imports/', () => {
  test('the generated bindings import nothing of ours', async () => {
    for (const spec of ['cdk8s', 'constructs', './argoproj.io']) await expectAllowed('imports/k8s.ts', spec);
    for (const spec of ['../lib/core', '../config/load', '../charts/build-app', '../main', '../test/helpers']) await expectForbidden('imports/k8s.ts', spec);
  });

  test('a file written by cdk8s import is checked by its import header', async () => {
    const binding = (header: string) =>
      `// generated by cdk8s\n${header}\nimport { Construct } from 'constructs';\n\n\n/* eslint-disable @stylistic/max-len */\nexport class X {}\n`;
    expect(await lint('imports/k8s.ts', binding("import { ApiObject } from 'cdk8s';"))).toEqual([]);
    expect(await problems('imports/k8s.ts', binding("import { a } from '../lib/core';"))).toEqual([
      expect.objectContaining({ ruleId: LAYERING, line: 2 }),
    ]);
  });

  test('the generators use imports/ and tools, nothing else of ours', async () => {
    for (const spec of ['../k8s', '../argoproj.io', 'typescript', 'ajv', 'yaml', 'fs']) await expectAllowed('imports/generate/validators.ts', spec);
    for (const spec of ['../../lib/core', '../../config/load', '../../charts/build-app']) await expectForbidden('imports/generate/validators.ts', spec);
  });
});

describe('test/', () => {
  test('may import anything', async () => {
    for (const spec of ['../main', '../charts/build-app', '../config/load', '../lib/core/security', '../lib/workload/microservice', '../imports/k8s', './helpers', 'fs']) {
      await expectAllowed('test/x.test.ts', spec);
    }
  });
});

describe(`no path into ${SHARED} (a clone has none next to it)`, () => {
  test.each(['main.ts', 'charts/build-app.ts', 'config/load.ts', 'lib/workload/microservice.ts', 'lib/validation/plugin.js', 'imports/generate/validators.ts', 'test/x.test.ts'])('in %s', async (file) => {
    for (const code of [`const d = '${SHARED}/crds';`, `const d = "${SHARED}";`, `const d = \`\${__dirname}/${SHARED}/crds\`;`, `const d = '${SHARED.slice(3)}/crds';`]) {
      expect([code, await rules(file, code)]).toEqual([code, ['no-restricted-syntax']]);
    }
  });
});

test('the sources lint clean (`eslint .`, the tests aside: see below)', () => {
  // A separate process, as `npm run lint` runs it: jest's module sandbox cannot run ESLint's file search.
  // test/ is left out here (a third of the lint's time within the 90 s budget): the only rule tests have is the
  // rule against paths into the sibling shared checkout, checked by the scan below, and an import a test cannot resolve fails that test. `npm run lint` lints all.
  const bin = path.join(path.dirname(require.resolve('eslint')), '..', 'bin', 'eslint.js');
  const run = spawnSync(process.execPath, [bin, '.', '--ignore-pattern', 'test/**', '--format', 'json'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0 && run.status !== 1) throw new Error(`eslint failed (exit ${run.status}): ${run.stderr}`);
  const results: ESLint.LintResult[] = JSON.parse(run.stdout);
  const errors = results.flatMap((r) =>
    r.messages.filter((m) => m.severity === 2).map((m) => `${path.relative(ROOT, r.filePath)}:${m.line}:${m.column} ${m.ruleId}: ${m.message}`),
  );
  expect(errors).toEqual([]);
  expect(run.status).toBe(0);
  // and it did lint the tree
  expect(results.map((r) => path.relative(ROOT, r.filePath))).toEqual(expect.arrayContaining(['main.ts', 'config/load.ts', 'lib/core/index.ts']));
});

test('no test names a path into the sibling shared checkout (a clone has none next to it)', () => {
  const shared = new RegExp(`${['\\.\\.', 'shared'].join('/')}|${['shared', 'crds'].join('/')}`);
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (/\.(ts|js)$/.test(entry.name)) files.push(file);
    }
  };
  walk(path.join(ROOT, 'test'));
  expect(files.length).toBeGreaterThan(20);
  // String literals only, as the lint rule checks them: this file builds the pattern from parts for that reason.
  expect(files.filter((f) => shared.test(readFileSync(f, 'utf8'))).map((f) => path.relative(ROOT, f))).toEqual([]);
});
