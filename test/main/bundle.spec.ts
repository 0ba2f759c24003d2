/**
 * scripts/bundle.js, which `npm run synth`, `cdk8s synth`, publish and diff start main.ts
 * through: it runs a TypeScript entry point from a bundle and never from a stale one. The
 * mechanism in a scratch project of three modules (a copy of the script, this repository's
 * tsconfig.json and node_modules), where sources can be edited freely; then the bundle of
 * main.ts itself, which must have been compiled from every module a synth runs, the catalog
 * included.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'fs';
import * as path from 'path';
import { ROOT, scratchFolder } from './harness';

const SCRIPT = path.join(ROOT, 'scripts', 'bundle.js');

/** A project like this repository, with `a.ts` printing what `lib/b.ts` and `lib/data.js` hold. */
function scratchProject(): string {
  const dir = scratchFolder('pronto-bundle-');
  mkdirSync(path.join(dir, 'scripts'));
  mkdirSync(path.join(dir, 'lib'));
  copyFileSync(SCRIPT, path.join(dir, 'scripts', 'bundle.js'));
  copyFileSync(path.join(ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
  writeFileSync(path.join(dir, 'package.json'), '{ "private": true }\n');
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(path.join(dir, 'lib', 'b.ts'), "export const value: string = 'one';\nexport const folder = __dirname;\n");
  // A module that is also a command (as charts/publish.ts is): it must not run when another entry point imports it.
  writeFileSync(path.join(dir, 'lib', 'command.ts'), "export const command = 'imported';\nif (require.main === module) console.log('RAN AS A COMMAND');\n");
  writeFileSync(path.join(dir, 'lib', 'data.js'), "module.exports = { loaded: 'data.js' };\n");
  // Generated CommonJS, as the validators in imports/ are: run from a code cache of its own.
  mkdirSync(path.join(dir, 'imports'));
  writeFileSync(path.join(dir, 'imports', 'gen.js'), "// generated\nmodule.exports = { loaded: 'gen.js' };\n");
  writeFileSync(path.join(dir, 'a.ts'), [
    "import { folder, value } from './lib/b';",
    "import { command } from './lib/command';",
    "const data = (): { loaded: string } => require('./lib/data.js');",
    "const generated = (): { loaded: string } => require('./imports/gen.js');",
    // A dynamic import of a module outside the bundle, which must work from a code cache too.
    "void import('./lib/data.js').then((d) => console.log(JSON.stringify({ value, folder, command, data: data().loaded, generated: generated().loaded,",
    "  imported: d.default.loaded, main: require.main === module, args: process.argv.slice(2) })));",
    '',
  ].join('\n'));
  return dir;
}

/** `node -r ./scripts/bundle.js a.ts …` in `dir`, as package.json starts main.ts. */
function run(dir: string, ...args: string[]) {
  const child = spawnSync(process.execPath, ['-r', './scripts/bundle.js', 'a.ts', ...args], { cwd: dir, encoding: 'utf8' });
  return { status: child.status, out: child.stdout.trim() ? JSON.parse(child.stdout) : undefined, stderr: child.stderr };
}

const bundleOf = (dir: string) => path.join(dir, '.build', 'a.js');
const builtAt = (dir: string) => statSync(bundleOf(dir)).mtimeMs;

describe('scripts/bundle.js', () => {
  let dir: string;
  beforeAll(() => {
    dir = scratchProject();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('runs an entry point from its bundle, built on first use: the entry is the main module and no other, __dirname is each module\'s own folder, repository JavaScript is required from where it is', () => {
    const first = run(dir, '--flag', 'x');
    expect(first).toEqual({ status: 0, stderr: '', out: { value: 'one', folder: path.join(dir, 'lib'), command: 'imported', data: 'data.js', generated: 'gen.js', imported: 'data.js', main: true, args: ['--flag', 'x'] } });
    expect(readFileSync(bundleOf(dir), 'utf8')).not.toContain('loaded:');
    const stamp = JSON.parse(readFileSync(`${bundleOf(dir)}.stamp.json`, 'utf8'));
    expect(Object.keys(stamp.inputs).sort()).toEqual(['a.ts', 'lib/b.ts', 'lib/command.ts', 'node_modules/esbuild/package.json', 'package.json', 'scripts/bundle.js', 'tsconfig.json']);
  });

  test('an unchanged source, even touched, reuses the bundle; an edited one rebuilds it before it runs', () => {
    const before = builtAt(dir);
    const b = path.join(dir, 'lib', 'b.ts');
    const later = new Date(Date.now() + 5000);
    utimesSync(b, later, later);
    expect(run(dir).out.value).toBe('one');
    expect(builtAt(dir)).toBe(before);
    writeFileSync(b, "export const value: string = 'two';\nexport const folder = __dirname;\n");
    expect(run(dir).out.value).toBe('two');
    expect(builtAt(dir)).not.toBe(before);
  });

  test('an edit that keeps the size and puts the old modification time back is still seen', () => {
    const b = path.join(dir, 'lib', 'b.ts');
    const { mtime, atime } = statSync(b);
    writeFileSync(b, "export const value: string = 'six';\nexport const folder = __dirname;\n");
    utimesSync(b, atime, mtime);
    expect(run(dir).out.value).toBe('six');
  });

  test('a run starts from V8\'s code cache of its bundle, made by the run before and kept for that bundle only: a rebuilt bundle of the same length runs its own code', () => {
    const cache = `${bundleOf(dir)}.v8cache`;
    const header = (file: string) => readFileSync(file).subarray(0, 32).toString('hex');
    const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
    const b = path.join(dir, 'lib', 'b.ts');
    writeFileSync(b, "export const value: string = 'red';\nexport const folder = __dirname;\n");
    expect(run(dir).out.value).toBe('red');
    expect(header(cache)).toBe(sha256(bundleOf(dir)));
    // Used, so not written again; the dynamic import works from it too.
    const written = statSync(cache).mtimeMs;
    expect(run(dir)).toEqual(expect.objectContaining({ status: 0, stderr: '', out: expect.objectContaining({ value: 'red', imported: 'data.js' }) }));
    expect(statSync(cache).mtimeMs).toBe(written);
    // V8 checks a cache against the source's length only: with the old bundle's cache, this edit would print 'red'.
    writeFileSync(b, "export const value: string = 'tan';\nexport const folder = __dirname;\n");
    expect(run(dir).out.value).toBe('tan');
    expect(header(cache)).toBe(sha256(bundleOf(dir)));
    // A cache V8 refuses (here: damaged) is ignored, and replaced.
    writeFileSync(cache, Buffer.concat([readFileSync(cache).subarray(0, 32), Buffer.alloc(4096, 7)]));
    expect(run(dir)).toEqual(expect.objectContaining({ status: 0, stderr: '', out: expect.objectContaining({ value: 'tan' }) }));
    expect(readFileSync(cache).length).not.toBe(32 + 4096);
    // The generated JavaScript the bundle requires has a cache of its own, kept the same way; other JavaScript has none.
    const generated = path.join(dir, 'imports', 'gen.js');
    expect(header(path.join(dir, '.build', 'code-cache', 'imports', 'gen.js.v8cache'))).toBe(sha256(generated));
    expect(existsSync(path.join(dir, '.build', 'code-cache', 'lib', 'data.js.v8cache'))).toBe(false);
    writeFileSync(generated, readFileSync(generated, 'utf8').replace("'gen.js'", "'GEN.JS'"));
    expect(run(dir).out.generated).toBe('GEN.JS');
  });

  test('a new module is picked up through the module that now imports it; a settings file (tsconfig.json) counts too', () => {
    writeFileSync(path.join(dir, 'lib', 'c.ts'), "export const extra = 'new';\n");
    writeFileSync(path.join(dir, 'lib', 'b.ts'), "import { extra } from './c';\nexport const value: string = extra;\nexport const folder = __dirname;\n");
    expect(run(dir).out.value).toBe('new');
    const before = builtAt(dir);
    writeFileSync(path.join(dir, 'tsconfig.json'), `${readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')}\n`);
    run(dir);
    expect(builtAt(dir)).not.toBe(before);
  });

  test('fails on a source that does not compile, or an import that is gone, naming the file: nothing runs, and the old bundle is not used', () => {
    writeFileSync(path.join(dir, 'lib', 'c.ts'), "export const extra = 'unterminated;\n");
    const broken = run(dir);
    expect(broken.status).not.toBe(0);
    expect(broken.out).toBeUndefined();
    expect(broken.stderr).toMatch(/\[ERROR\][^]*lib\/c\.ts:1:\d+/);
    expect(broken.stderr).toContain('scripts/bundle.js: could not build a.ts');
    expect(broken.stderr).not.toMatch(/^\s+at /m);
    rmSync(path.join(dir, 'lib', 'c.ts'));
    const missing = run(dir);
    expect(missing.status).not.toBe(0);
    expect(missing.out).toBeUndefined();
    expect(missing.stderr).toMatch(/Could not resolve "\.\/c"[^]*lib\/b\.ts:\d+:\d+/);
  });

  test('`node scripts/bundle.js` builds what is missing or stale and says so, and nothing else', () => {
    writeFileSync(path.join(dir, 'lib', 'b.ts'), "export const value: string = 'seven';\nexport const folder = __dirname;\n");
    const build = () => spawnSync(process.execPath, ['scripts/bundle.js', 'a.ts'], { cwd: dir, encoding: 'utf8' });
    expect(build().stdout).toMatch(/^a\.ts: bundled into \.build\/a\.js in \d+ ms \(lib\/b\.ts changed\)\n$/);
    expect(build().stdout).toBe('a.ts: bundle up to date (.build/a.js)\n');
    expect(run(dir).out.value).toBe('seven');
  });
});

describe('the bundle of main.ts', () => {
  test('npm run synth runs main.ts through scripts/bundle.js, and so do cdk8s synth (its validation plugin too), publish and diff', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const cdk8s = readFileSync(path.join(ROOT, 'cdk8s.yaml'), 'utf8');
    expect(pkg.scripts.synth).toBe('node -r ./scripts/bundle.js main.ts');
    expect(cdk8s).toMatch(/^app: node -r \.\/scripts\/bundle\.js main\.ts$/m);
    for (const entry of ['charts/publish.ts', 'charts/diff.ts']) expect(Object.values(pkg.scripts)).toContain(`node -r ./scripts/bundle.js ${entry}`);
    // npm ci runs `prepare`: the bundles exist before the first synth.
    expect(pkg.scripts.prepare).toBe('node scripts/bundle.js main.ts charts/publish.ts charts/diff.ts lib/validation/cdk8s-plugin.ts');
    // The validation plugin the CLI loads (cdk8s.yaml) runs from its bundle too.
    const plugin = /^ {2}- package: (\S+)$/m.exec(cdk8s)![1];
    expect(readFileSync(path.join(ROOT, plugin), 'utf8')).toMatch(/^require\('\.\.\/\.\.\/scripts\/bundle\.js'\);\nmodule\.exports = require\('\.\/cdk8s-plugin\.ts'\);$/m);
  });

  test('was compiled from every module a synth runs, config/catalog.ts and the packages included: editing any of them rebuilds it', () => {
    const stamp = path.join(ROOT, '.build', 'main.js.stamp.json');
    // npm ci's prepare, or the synths of this suite, built it; build it here when neither ran.
    if (!existsSync(stamp)) spawnSync(process.execPath, [SCRIPT, 'main.ts'], { cwd: ROOT });
    const inputs = Object.keys(JSON.parse(readFileSync(stamp, 'utf8')).inputs);
    const capabilities = readdirSync(path.join(ROOT, 'charts', 'capabilities'), { withFileTypes: true }).filter((e) => e.isDirectory())
      .map((e) => `charts/capabilities/${e.name}/index.ts`);
    const areas = readdirSync(path.join(ROOT, 'lib'), { withFileTypes: true }).filter((e) => e.isDirectory())
      .map((e) => `lib/${e.name}/index.ts`);
    expect(inputs).toEqual(expect.arrayContaining(['main.ts', 'config/catalog.ts', 'config/load.ts', 'charts/synthesize.ts', 'tsconfig.json',
      'scripts/bundle.js', ...capabilities, ...areas]));
    // The packages it holds count too: an upgraded or edited package rebuilds it.
    for (const pkg of ['cdk8s', 'cdk8s-plus-28', 'constructs', 'yaml', 'zod']) {
      expect(inputs.some((f) => f.includes(`node_modules/${pkg}/`))).toBe(true);
    }
  });
});
