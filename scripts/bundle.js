#!/usr/bin/env node
/**
 * Runs a TypeScript entry point of this repository (main.ts, charts/publish.ts, …) from a
 * bundle compiled once, instead of transforming every TypeScript file on every start (what
 * `node --import tsx` does): one JavaScript file per entry point, in .build/ (gitignored),
 * holding our modules and the packages they use (cdk8s, cdk8s-plus, zod, yaml, …: node
 * then finds, reads and compiles one file instead of several hundred).
 *
 *   node -r ./scripts/bundle.js main.ts [args…]   runs main.ts from its bundle, built first when
 *                                                 missing or stale (package.json, cdk8s.yaml)
 *   node scripts/bundle.js main.ts [more.ts…]     builds the bundles that are missing or stale
 *                                                 (npm's `prepare`, after `npm ci` or `npm install`)
 *
 * A bundle is never used stale. Beside it, a stamp lists every file it was compiled from
 * (each TypeScript and JSON module the entry reaches, each module of a package, this script,
 * tsconfig.json, package.json and the compiler's version) with its size, times and SHA-256. At start the stamp is checked:
 * a file whose size or times changed is hashed again, and any difference (a file edited,
 * replaced or deleted) rebuilds the bundle before it runs, in a process of its own (esbuild's
 * plugins need its asynchronous API). A new file matters only once an existing one imports it,
 * which changes that one. Two processes that rebuild at once each write the bundle, then the
 * stamp, by rename: a reader sees one complete pair or the other.
 * A run also starts from V8's code cache of its bundle (`<bundle>.v8cache`, written by the
 * run before, used only for the bundle whose SHA-256 it records), and so does the repository's
 * generated JavaScript a bundle requires (the validators in imports/): see runWithCodeCache.
 *
 * What differs from running the sources: `__dirname` and `__filename` keep their meaning in
 * every module of ours (set from the bundle's place; in a package's module they are the
 * bundle's: cdk8s's Yaml.load of a URL, which runs a script beside its module, would not
 * work, and Pronto does not use it); the generated validators in imports/*.js stay separate
 * files, still loaded on first use; and a stack trace points into .build/<entry>.js, whose
 * `// <file>` comments name the source (for TypeScript lines, run `node --import tsx <entry>.ts`).
 */
'use strict';
const { spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const Module = require('module');
const os = require('os');
const path = require('path');
const vm = require('vm');

const ROOT = path.resolve(__dirname, '..');
/** Changes whenever this script builds bundles differently, so that older ones are rebuilt. */
const FORMAT = 1;
/** Files besides the modules that decide what a bundle is. */
const SETTINGS = [path.relative(ROOT, __filename), 'tsconfig.json', 'package.json', 'node_modules/esbuild/package.json'];
/** A file written this close (ms) to the start of its build is always hashed again: its time alone cannot tell an edit. */
const RACY_MS = 2000;

/** Where bundles go: .build/ in the repository, or a folder in the temporary folder when the repository is read-only. */
function outputRoot() {
  const inRepo = path.join(ROOT, '.build');
  try {
    fs.accessSync(fs.existsSync(inRepo) ? inRepo : ROOT, fs.constants.W_OK);
    return inRepo;
  } catch {
    const id = crypto.createHash('sha256').update(ROOT).digest('hex').slice(0, 16);
    return path.join(os.tmpdir(), `pronto-bundles-${id}`);
  }
}

/** The bundle and stamp of `entry` (an absolute path of a .ts file inside the repository). */
function bundleOf(entry) {
  const rel = path.relative(ROOT, entry);
  if (rel.startsWith('..') || path.isAbsolute(rel) || !rel.endsWith('.ts')) {
    throw new Error(`scripts/bundle.js: ${entry} is not a TypeScript file of this repository (${ROOT})`);
  }
  const bundle = path.join(outputRoot(), rel.replace(/\.ts$/, '.js'));
  return { rel, bundle, stamp: `${bundle}.stamp.json` };
}

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** What the stamp records of a file: its identity on disk and its content's hash. */
function record(file, stat, hash, builtAt) {
  return {
    size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, sha256: hash,
    ...(stat.mtimeMs >= builtAt - RACY_MS || stat.ctimeMs >= builtAt - RACY_MS ? { racy: true } : {}),
  };
}

/** Why the bundle described by `stampFile` cannot be used, or undefined when it can. */
function staleness(stampFile, bundle) {
  let stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(stampFile, 'utf8'));
  } catch {
    return 'no bundle yet';
  }
  if (stamp.format !== FORMAT) return 'built by another version of scripts/bundle.js';
  if (!fs.existsSync(bundle)) return 'the bundle is missing';
  for (const [rel, was] of Object.entries(stamp.inputs)) {
    const file = path.join(ROOT, rel);
    let stat;
    try {
      stat = fs.statSync(file);
    } catch {
      return `${rel} is gone`;
    }
    if (stat.size !== was.size) return `${rel} changed`;
    if (!was.racy && stat.mtimeMs === was.mtimeMs && stat.ctimeMs === was.ctimeMs) continue;
    if (sha256(file) !== was.sha256) return `${rel} changed`;
  }
  return undefined;
}

/** Builds the bundle of `entry` now (esbuild, asynchronous API), then its stamp. */
async function build(entry) {
  const esbuild = require('esbuild');
  const { rel, bundle, stamp } = bundleOf(entry);
  const dir = path.dirname(bundle);
  fs.mkdirSync(dir, { recursive: true });
  const builtAt = Date.now();
  const inputs = {};
  const inRepo = (file) => !path.relative(ROOT, file).startsWith('..') && !path.relative(ROOT, file).split(path.sep).includes('node_modules');
  const plugin = {
    name: 'pronto',
    setup(b) {
      // Plain JavaScript of the repository (the generated validators, megabytes each) stays a file of its own,
      // required from the bundle's place when the code first asks for it.
      b.onResolve({ filter: /\.js$/ }, (args) => {
        if (!args.path.startsWith('.')) return undefined;
        const file = path.resolve(args.resolveDir, args.path);
        if (!inRepo(file)) return undefined;
        const relative = path.relative(dir, file).split(path.sep).join('/');
        return { path: relative.startsWith('.') ? relative : `./${relative}`, external: true };
      });
      // Every module of the repository is read here, so that the stamp holds exactly what was compiled.
      b.onLoad({ filter: /\.(ts|json)$/ }, (args) => {
        if (!inRepo(args.path)) return undefined;
        const stat = fs.statSync(args.path);
        const bytes = fs.readFileSync(args.path);
        inputs[path.relative(ROOT, args.path).split(path.sep).join('/')] = record(args.path, stat, crypto.createHash('sha256').update(bytes).digest('hex'), builtAt);
        let contents = bytes.toString('utf8');
        // Every module of a bundle shares the bundle's `module`: a module that runs as a command when it is the main
        // one (`require.main === module`: publish, promote, …) would run inside every bundle that imports it.
        // Only the entry point is the main module.
        if (args.path !== entry && /\brequire\.main\b/.test(contents)) contents = `const module = undefined;\n${contents}`;
        if (args.path.endsWith('.ts') && /\b__(dirname|filename)\b/.test(contents)) {
          // The module's own folder and file, as where the bundle runs from sees them.
          const from = (target) => JSON.stringify(path.relative(dir, target).split(path.sep).join('/'));
          contents = `const __dirname = require('path').join(__pronto_bundle_dir, ${from(path.dirname(args.path))});\n`
            + `const __filename = require('path').join(__pronto_bundle_dir, ${from(args.path)});\n${contents}`;
        }
        return { contents, loader: args.path.endsWith('.json') ? 'json' : 'ts' };
      });
    },
  };
  const temporary = `${bundle}.${process.pid}.tmp`;
  const result = await esbuild.build({
    entryPoints: [entry],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    metafile: true,
    // An import() becomes a require() in a promise: code run from V8's code cache has no dynamic import callback
    // (nodejs/node#43663), so a real import() would fail once the cache is used.
    supported: { 'dynamic-import': false },
    outfile: temporary,
    banner: { js: `// Bundle of ${rel}, built by scripts/bundle.js; do not edit (it is rebuilt whenever a source changes).\nconst __pronto_bundle_dir = __dirname;` },
    logLevel: 'error',
    plugins: [plugin],
  });
  // The packages' modules (node_modules, read by esbuild itself), and the settings.
  const others = [...Object.keys(result.metafile.inputs).map((input) => path.resolve(ROOT, input)), ...SETTINGS.map((s) => path.join(ROOT, s))];
  for (const file of others) {
    const rel = path.relative(ROOT, file).split(path.sep).join('/');
    inputs[rel] ??= record(file, fs.statSync(file), sha256(file), builtAt);
  }
  fs.renameSync(temporary, bundle);
  const temporaryStamp = `${stamp}.${process.pid}.tmp`;
  fs.writeFileSync(temporaryStamp, `${JSON.stringify({ format: FORMAT, entry: rel, inputs }, null, 1)}\n`);
  fs.renameSync(temporaryStamp, stamp);
  return bundle;
}

/** The bundle of `entry`, built first (in a child process) when missing or stale. */
function freshBundle(entry) {
  const { bundle, stamp } = bundleOf(entry);
  if (staleness(stamp, bundle) === undefined) return bundle;
  const child = spawnSync(process.execPath, [__filename, '--quiet', entry], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (child.status !== 0) {
    // Nothing runs: not the entry point, and not an older bundle of it.
    process.stderr.write(`scripts/bundle.js: could not build ${path.relative(ROOT, entry)} (${child.error?.message ?? `exit ${child.status}`}; the compiler's messages are above)\n`);
    process.exit(1);
  }
  return bundle;
}

/** The generated CommonJS modules of the repository that run from a code cache: imports/*.js (the validators). */
const GENERATED_JS = /^imports\/[^/]+\.js$/;

/** Bytes of the SHA-256 that heads a code cache file: the bundle the cache was made from. */
const HASH_BYTES = 32;

/**
 * Runs `bundle` as `module`, as `module._compile` would, with V8's code cache of the bundle:
 * the bytecode of the functions an earlier run compiled, in `<bundle>.v8cache`, so that a run
 * deserializes them instead of parsing and compiling several megabytes again (about a tenth
 * of a synth of every environment). The cache file starts with the SHA-256 of the bundle it
 * was made from, and is used only for that bundle: V8's own check compares the source's
 * length only, which a rebuilt bundle can share. A run without a usable cache (none yet, made
 * from another bundle, or refused by this V8) writes one when it ends; a cache that cannot be
 * written costs that time again next run, nothing else. V8 refuses a cache made under other
 * flags (`--max-old-space-size`, …): runs that alternate flags rewrite it each time. The first
 * run after a build decides what the cache holds: the functions that run compiled.
 */
function runWithCodeCache(module, bundle, cacheFile = `${bundle}.v8cache`) {
  const source = fs.readFileSync(bundle, 'utf8');
  // A `#!` line is allowed only as the very first line of what V8 compiles, which the wrapper is not: node strips it.
  if (source.startsWith('#!')) {
    module._compile(source, bundle);
    return;
  }
  const hash = crypto.createHash('sha256').update(source).digest();
  let cachedData;
  try {
    const bytes = fs.readFileSync(cacheFile);
    if (bytes.length > HASH_BYTES && bytes.subarray(0, HASH_BYTES).equals(hash)) cachedData = bytes.subarray(HASH_BYTES);
  } catch {
    // No cache yet.
  }
  // Positions on the first line as in the file, not in the wrapper (a stack trace's column).
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData, columnOffset: -Module.wrapper[0].length });
  if (cachedData === undefined || script.cachedDataRejected) {
    // At the end, so that the cache holds every function the run compiled, not only the top level.
    process.once('exit', () => {
      const temporary = `${cacheFile}.${process.pid}.tmp`;
      try {
        fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
        fs.writeFileSync(temporary, Buffer.concat([hash, script.createCachedData()]));
        fs.renameSync(temporary, cacheFile);
      } catch {
        fs.rmSync(temporary, { force: true });
      }
    });
  }
  const wrapper = script.runInThisContext({ displayErrors: true });
  wrapper.call(module.exports, module.exports, requireOf(module), module, bundle, path.dirname(bundle));
}

/** The `require` node gives the code of `module`: modules it loads are its children, resolved from its folder. */
function requireOf(module) {
  const require = (id) => module.require(id);
  require.resolve = (request, options) => Module._resolveFilename(request, module, false, options);
  require.resolve.paths = (request) => Module._resolveLookupPaths(request, module);
  require.main = process.mainModule;
  require.extensions = Module._extensions;
  require.cache = Module._cache;
  return require;
}

/** With `node -r ./scripts/bundle.js <entry>.ts`: TypeScript files are run from their bundles. */
function register() {
  Module._extensions['.ts'] = function runBundle(module, filename) {
    const bundle = freshBundle(filename);
    // The module is its bundle: relative requires, __dirname and stack traces refer to where the bundle is.
    module.filename = bundle;
    module.paths = Module._nodeModulePaths(path.dirname(bundle));
    runWithCodeCache(module, bundle);
  };
  // The generated JavaScript a bundle requires (the validators in imports/, megabytes each, CommonJS): from a code
  // cache too, in a folder of its own. Any other .js file is node's to load (it may be an ES module).
  const plainJs = Module._extensions['.js'];
  Module._extensions['.js'] = function runGeneratedJs(module, filename) {
    const rel = path.relative(ROOT, filename).split(path.sep).join('/');
    if (!GENERATED_JS.test(rel)) {
      plainJs(module, filename);
      return;
    }
    runWithCodeCache(module, filename, path.join(outputRoot(), 'code-cache', `${rel}.v8cache`));
  };
}

async function main(args) {
  const quiet = args.includes('--quiet');
  const entries = args.filter((a) => a !== '--quiet');
  if (entries.length === 0) {
    process.stderr.write('usage: node scripts/bundle.js <entry>.ts… (builds the bundles that are missing or stale)\n');
    return 1;
  }
  for (const entry of entries.map((e) => path.resolve(e))) {
    const { rel, bundle, stamp } = bundleOf(entry);
    const why = staleness(stamp, bundle);
    if (why === undefined) {
      if (!quiet) process.stdout.write(`${rel}: bundle up to date (${path.relative(ROOT, bundle)})\n`);
      continue;
    }
    const start = Date.now();
    try {
      await build(entry);
    } catch (err) {
      // esbuild has printed its messages (file:line: error).
      if (!err.errors) process.stderr.write(`${err.stack ?? err}\n`);
      return 1;
    }
    if (!quiet) process.stdout.write(`${rel}: bundled into ${path.relative(ROOT, bundle)} in ${Date.now() - start} ms (${why})\n`);
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
} else {
  register();
}

