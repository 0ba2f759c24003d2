/**
 * Entry point of `npm run synth` and `cdk8s synth`: the only code that reads argv and the
 * environment (at the bottom, when this is the entry module; tests call {@link run}).
 *
 * It validates every requested environment (config, capacity, validation gate), reporting
 * the problems of all of them, and writes nothing unless all pass. Then it stages the
 * files next to the output folder and swaps them in with renames: `dist/<env>/` is
 * replaced, folders Pronto generated for environments that no longer exist are removed,
 * and nothing else is touched. On any failure, or SIGINT/SIGTERM, the output folder and
 * everything outside it stay as they were.
 *
 * Under `cdk8s synth` (CDK8S_OUTDIR set) the app delivers to dist/ exactly as above and
 * also writes the same files into the CLI's output folder (`output:` in cdk8s.yaml, a
 * scratch folder the CLI empties before every run) for the CLI to list and for the
 * validation plugin to check. When the plugin will run (CDK8S_RECORD_CONSTRUCT_METADATA
 * is true) and the gate finds policy findings, the failing files go only into the
 * scratch folder and the app exits 0, so that cdk8s prints its own report and exits 2.
 */
import { Dirent, accessSync, constants, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync,
  renameSync, rmSync, rmdirSync, statSync } from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { changesSince, formatSummary } from './charts/review';
import { GENERATED_HEADER, RenderedEnvironment, renderEnvironment, summaryOf, writeEnvironment } from './charts/synthesize';
import { OutputChanges, applyRefusals } from './lib/changes';
import { Io as CommandIo } from './config/promote';
import { ConfigError, EnvironmentConfig, crossEnvironmentProblems, environmentNameProblem, listEnvironments, parseEnvironment, readEnvironmentFile } from './config/load';

/** Where {@link run} reports (as `npm run promote` does), and how it learns about signals. */
export interface Io extends CommandIo {
  /**
   * The signal received so far, if any. Checked before each environment and before the
   * output is swapped in, so an interrupted synth changes nothing.
   */
  interrupted?(): 'SIGINT' | 'SIGTERM' | undefined;
}

export const USAGE = 'usage: npm run synth -- [--env <name>]... [--config <dir>] [--outdir <dir>]';

const HELP = `${USAGE}

Validates <config>/<env>.yaml for every environment (or only the --env ones), builds the
manifests, runs the capacity guard and the validation gate, and writes <outdir>/<env>/:
one <chart>.k8s.yaml per chart and a kustomization.yaml listing them in apply order.
Nothing is written unless every environment passes; the problems of all are reported.
After a successful synth, output folders Pronto generated for environments that no
longer exist in <config> are removed.

  --env <name>     synthesize this environment only (repeatable; default: every <config>/*.yaml)
  --config <dir>   folder of environment files (default: config)
  --outdir <dir>   output folder (default: dist)
  -h, --help       print this help

Under \`cdk8s synth\` the same files also go into the CLI's output folder (cdk8s.yaml
\`output:\`, a scratch folder; never point it at dist: the CLI empties it first).

Exit status: 0 written, 1 a problem (config, capacity, policy, arguments, files),
2 an internal error, 130/143 interrupted by SIGINT/SIGTERM.`;

interface Options {
  readonly envs: string[];
  readonly configDir: string;
  readonly outdir: string;
  /** The cdk8s CLI's output folder (CDK8S_OUTDIR), when run by `cdk8s synth`. */
  readonly scratch?: string;
  /** The cdk8s CLI will run the validation plugin over {@link scratch}. */
  readonly pluginWillRun: boolean;
}

/** A user's mistake, reported as `lines` without a stack trace. */
class Refusal extends Error {
  public constructor(public readonly lines: string[], public readonly usage = false) {
    super(lines.join('\n'));
  }
}

class Interrupted extends Error {
  public constructor(public readonly signal: 'SIGINT' | 'SIGTERM') {
    super(signal);
  }
}

const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs `npm run synth` with `argv` (without the program name) and the environment
 * variables `env`; returns the exit status. Writes only through `io`.
 */
export async function run(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: Io): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseCommandLine(argv, env);
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    io.err(`synth: ${err.lines.join('\n  ')}\n${USAGE} (--help for details)`);
    return 1;
  }
  if (options === 'help') {
    io.out(HELP);
    return 0;
  }
  const synth = new Synth(options, io);
  try {
    return await synth.run();
  } catch (err) {
    if (err instanceof Interrupted) {
      io.err(`synth interrupted (${err.signal}): ${synth.unchanged()}`);
      return SIGNAL_EXIT[err.signal];
    }
    if (err instanceof Refusal || err instanceof ConfigError || isFileSystemError(err)) {
      const lines = err instanceof Refusal ? err.lines : err instanceof ConfigError ? err.problems : [`cannot write the output: ${err.message}`];
      io.err(`synth failed, ${synth.unchanged()}:\n${lines.map((l) => `  ${l}`).join('\n')}`);
      return 1;
    }
    io.err(`synth failed, ${synth.unchanged()}: internal error (a bug, please report it):\n${(err as Error).stack ?? err}`);
    return 2;
  } finally {
    synth.cleanUp();
  }
}

function parseCommandLine(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Options | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        env: { type: 'string', multiple: true },
        config: { type: 'string' },
        outdir: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
      tokens: true,
    });
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    const positional = /^Unexpected argument '(.*)'/.exec(message);
    throw new Refusal([positional ? `unexpected argument "${positional[1]}" (environments are chosen with --env ${positional[1]})` : message], true);
  }
  const { values, tokens } = parsed;
  for (const name of ['config', 'outdir']) {
    if (tokens.filter((t) => t.kind === 'option' && t.name === name).length > 1) throw new Refusal([`--${name} given more than once`], true);
  }
  if (values.help) return 'help';
  const envs = [...new Set(values.env ?? [])];
  const problems = envs.flatMap((e) => {
    const problem = environmentNameProblem(e);
    return problem ? [`--env: ${problem}`] : [];
  });
  for (const name of ['config', 'outdir'] as const) {
    if (values[name] === '') problems.push(`--${name}: expected a folder, found an empty value`);
  }
  if (problems.length > 0) throw new Refusal(problems, true);
  const scratch = env.CDK8S_OUTDIR || undefined;
  return {
    envs,
    configDir: values.config ?? 'config',
    outdir: values.outdir ?? 'dist',
    scratch,
    // The cdk8s CLI sets this when it will run validation plugins over what we write.
    pluginWillRun: scratch !== undefined && env.CDK8S_RECORD_CONSTRUCT_METADATA === 'true',
  };
}

/** One synth run: its staging folder, and what it found. */
class Synth {
  private staging?: string;
  /** The first folder this run created to hold the staging folder, removed on failure. */
  private createdParent?: string;
  private delivered = false;
  /** `cdk8s synth --output dist`: the CLI emptied the output folder before the app ran. */
  private readonly outputIsScratch: boolean;

  public constructor(private readonly options: Options, private readonly io: Io) {
    const { scratch, outdir } = options;
    this.outputIsScratch = scratch !== undefined && path.resolve(scratch) === path.resolve(outdir);
  }

  /** What happened to the output folder, for messages about a run that did not deliver. */
  public unchanged(): string {
    const out = `${this.options.outdir}/`;
    return this.outputIsScratch
      ? `${out} was deleted by the cdk8s CLI before the app ran (it is the CLI's output folder: run cdk8s synth without --output ${this.options.outdir}), and nothing was written`
      : `${out} left unchanged`;
  }

  public async run(): Promise<number> {
    const { options } = this;
    const known = listEnvironments(options.configDir);
    const envs = options.envs.length > 0 ? options.envs : known;
    if (envs.length === 0) {
      throw new Refusal([`${options.configDir}: no environment files (expected one <env>.yaml per environment, e.g. ${path.join(options.configDir, 'dev.yaml')})`]);
    }
    this.checkOutputFolders(envs);
    this.stage();

    const rendered: RenderedEnvironment[] = [];
    const problems: string[] = [];
    const loaded: EnvironmentConfig[] = [];
    for (const env of envs) {
      await this.checkpoint();
      const config = this.load(env, problems);
      if (!config) continue;
      loaded.push(config);
      try {
        rendered.push(renderEnvironment(config));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems.push(...err.problems);
      }
    }
    // What only environments side by side show (two sharing a Vault auth mount); with --env, among those given.
    problems.push(...crossEnvironmentProblems(loaded));
    const failing = rendered.filter((r) => r.findings.length > 0);
    if (problems.length > 0 || failing.length > 0) return this.fail(envs, problems, rendered, failing);

    await this.checkpoint();
    for (const r of rendered) writeEnvironment(r, path.join(this.staging!, r.environment));
    if (options.scratch && !this.outputIsScratch) {
      for (const r of rendered) writeEnvironment(r, path.join(options.scratch, r.environment));
    }
    await this.checkpoint();
    // What each environment changes in the folder it replaces, read before the swap.
    const since = new Map(rendered.map((r) => [r.environment, changesSince(path.join(options.outdir, r.environment), r)]));
    const removed = this.swap(envs, this.stale(known));
    this.delivered = true;
    this.summarize(rendered, removed, since);
    return 0;
  }

  /** Reads and validates one environment; its problems go to `problems`. */
  private load(env: string, problems: string[]): EnvironmentConfig | undefined {
    const { configDir } = this.options;
    const nameProblem = environmentNameProblem(env);
    if (nameProblem) {
      // Only a listed file can get here: --env values were checked with the arguments.
      problems.push(`${path.join(configDir, `${env}.yaml`)}: file name: ${nameProblem}; rename the file`);
      return undefined;
    }
    try {
      const { file, text } = readEnvironmentFile(configDir, env);
      try {
        return parseEnvironment(text, file);
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        // Input the YAML library or the loader could not cope with (hostile or huge) is still the file's problem.
        throw new ConfigError([`${file}:1: cannot be read as an environment file (${(err as Error).name}: ${(err as Error).message.split('\n')[0]})`]);
      }
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  }

  private fail(envs: string[], problems: string[], rendered: RenderedEnvironment[], failing: RenderedEnvironment[]): number {
    const { options, io } = this;
    const findings = failing.reduce((n, r) => n + r.findings.length, 0);
    const reports = failing.map((r) => `${r.environment}: ${r.findings.length} policy finding(s)\n${r.report}`);
    if (problems.length === 0 && options.pluginWillRun && options.scratch) {
      // cdk8s runs the validation plugin over the scratch folder, prints its report and exits 2.
      for (const r of rendered) writeEnvironment(r, path.join(options.scratch, r.environment));
      io.err(`synth failed, ${this.unchanged()}: ${findings} policy finding(s) in ${failing.map((r) => r.environment).join(', ')}; ` +
        `the manifests are in ${options.scratch}/ only, for the cdk8s validation report\n${reports.join('\n')}`);
      return 0;
    }
    const bad = new Set([...failing.map((r) => r.environment), ...envs.filter((e) => !rendered.some((r) => r.environment === e))]);
    const head = `synth failed, ${this.unchanged()}: ${bad.size} of ${envs.length} environment(s) have problems (${[...bad].join(', ')})`;
    const noPlugin = options.scratch && failing.length > 0 ? '\n(cdk8s synth --no-validate: the validation plugin is off, so the app reports the findings)' : '';
    io.err([head, ...problems.map((p) => `  ${p}`), ...reports].join('\n') + noPlugin);
    return 1;
  }

  private async checkpoint(): Promise<void> {
    // The synth is synchronous: let signal handlers run before going on.
    await new Promise((resolve) => setImmediate(resolve));
    const signal = this.io.interrupted?.();
    if (signal) throw new Interrupted(signal);
  }

  // ------------------------------------------------------------ the output folder

  /**
   * Refuses, before any work, output folders that cannot be used: a file where a folder
   * should be, a folder that cannot be written, an environment's folder that Pronto did
   * not generate (it would be replaced), or the CLI's scratch folder inside dist/.
   */
  private checkOutputFolders(envs: string[]): void {
    const { outdir, scratch } = this.options;
    const problems = [checkWritableFolder(outdir, '--outdir')];
    if (scratch !== undefined && !this.outputIsScratch) {
      const [a, b] = [path.resolve(scratch), path.resolve(outdir)];
      if (a.startsWith(b + path.sep) || b.startsWith(a + path.sep)) {
        problems.push(`${scratch}: the cdk8s output folder (CDK8S_OUTDIR) and ${outdir} overlap: set cdk8s.yaml output: to a folder of its own, such as .cdk8s.out`);
      }
      problems.push(checkWritableFolder(scratch, 'CDK8S_OUTDIR'));
    }
    if (!this.outputIsScratch && isFolder(outdir)) {
      for (const env of envs) {
        const target = path.join(outdir, env);
        if (exists(target) && !isGenerated(target)) {
          problems.push(`${target}: exists and was not generated by Pronto (no kustomization.yaml starting with "${GENERATED_HEADER}"): ` +
            'move it away, synth replaces this folder');
        }
      }
    }
    const found = problems.filter((p): p is string => p !== undefined);
    if (found.length > 0) throw new Refusal(found);
  }

  /** Creates the staging folder next to the output folder, so that the swap is a rename on one file system. */
  private stage(): void {
    const parent = path.dirname(path.resolve(this.options.outdir));
    this.createdParent = mkdirSync(parent, { recursive: true });
    this.staging = mkdtempSync(path.join(parent, '.pronto-synth-'));
  }

  /** Folders of the output that Pronto generated for environments no longer in the config. */
  private stale(known: string[]): string[] {
    const { outdir } = this.options;
    if (!isFolder(outdir)) return [];
    return readdirSync(outdir, { withFileTypes: true })
      .filter((entry: Dirent) => entry.isDirectory() && !known.includes(entry.name) && isGenerated(path.join(outdir, entry.name)))
      .map((entry) => entry.name)
      .sort();
  }

  /**
   * Moves each staged environment into the output folder and the folders it replaces (and
   * the stale ones) into the staging folder, to be deleted with it. Undoes every move if
   * one fails. Returns the stale folders removed.
   */
  private swap(envs: string[], stale: string[]): string[] {
    const { outdir } = this.options;
    const staging = this.staging!;
    const createdOutdir = mkdirSync(outdir, { recursive: true });
    const replaced = path.join(staging, '.previous', 'replaced');
    const removed = path.join(staging, '.previous', 'stale');
    mkdirSync(replaced, { recursive: true });
    mkdirSync(removed);
    const done: Array<[string, string]> = [];
    const move = (from: string, to: string) => {
      renameSync(from, to);
      done.push([from, to]);
    };
    try {
      for (const env of envs) {
        const target = path.join(outdir, env);
        if (exists(target)) move(target, path.join(replaced, env));
        move(path.join(staging, env), target);
      }
      for (const env of stale) move(path.join(outdir, env), path.join(removed, env));
    } catch (err) {
      for (const [from, to] of done.reverse()) renameSync(to, from);
      if (createdOutdir) rmdirSync(createdOutdir);
      throw err;
    }
    return stale;
  }

  /** Removes the staging folder, and on failure the folders created to hold it. */
  public cleanUp(): void {
    if (!this.staging) return;
    try {
      rmSync(this.staging, { recursive: true, force: true });
    } catch (err) {
      this.io.err(`warning: could not remove the staging folder ${this.staging}: ${(err as Error).message}`);
      return;
    }
    if (this.delivered || !this.createdParent) return;
    // Only empty folders, innermost first, up to the first one this run created.
    for (let dir = path.dirname(this.staging); ; dir = path.dirname(dir)) {
      try {
        rmdirSync(dir);
      } catch {
        return;
      }
      if (dir === this.createdParent) return;
    }
  }

  private summarize(rendered: RenderedEnvironment[], removed: string[], since: ReadonlyMap<string, OutputChanges | undefined>): void {
    const { options } = this;
    const lines: string[] = [];
    if (this.outputIsScratch) {
      lines.push(`warning: ${options.outdir}/ is the cdk8s CLI's output folder (--output ${options.outdir}): the CLI deleted it, and ` +
        'everything in it, before the app ran; it now holds only what this run wrote. Run cdk8s synth without --output ' +
        '(cdk8s.yaml sets output: .cdk8s.out, a scratch folder).');
    }
    for (const r of rendered) {
      const s = summaryOf(r);
      const total = Object.values(s.kinds).reduce((a, b) => a + b, 0);
      const kinds = Object.entries(s.kinds).map(([kind, n]) => `${kind} ${n}`).join(', ');
      lines.push(`${s.environment}: ${path.join(options.outdir, s.environment)}/ ${s.files.length} files, ${total} objects (${kinds})`);
      if (s.waivers.length === 0) lines.push('  waivers: none');
      for (const w of s.waivers) lines.push(`  waived ${w.rule} on ${w.object}: ${w.reason}`);
      lines.push(...sinceLines(s.environment, since.get(s.environment)));
    }
    for (const env of removed) {
      lines.push(`removed ${path.join(options.outdir, env)}/: generated for environment "${env}", which is no longer in ${options.configDir}/`);
    }
    if (options.scratch && !this.outputIsScratch) lines.push(`(also written to ${options.scratch}/ for the cdk8s CLI)`);
    // The cdk8s CLI swallows the app's stdout: under it, the summary goes to stderr.
    (options.scratch ? this.io.err : this.io.out).call(this.io, lines.join('\n'));
  }
}

/** An error of the file system (no space, permissions, ...) while writing: the machine's problem, not a bug. */
function isFileSystemError(err: unknown): err is NodeJS.ErrnoException {
  // Duck-typed: errors of Node's own modules need not be instances of this realm's Error (jest).
  const e = err as Partial<NodeJS.ErrnoException> | null;
  return typeof e === 'object' && e !== null && typeof e.code === 'string' && typeof e.syscall === 'string' && typeof e.message === 'string';
}

/** Why `dir` cannot be used as an output folder, or undefined when it can. */
function checkWritableFolder(dir: string, option: string): string | undefined {
  // The folder itself, or else its nearest existing parent, must be a writable folder.
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    let stat;
    try {
      stat = statSync(at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && path.dirname(at) !== at) continue;
      if (code === 'ENOTDIR') continue;
      return `${option} ${dir}: cannot be used (${code})`;
    }
    if (!stat.isDirectory()) {
      return at === path.resolve(dir)
        ? `${option} ${dir}: is a file, expected a folder (or a path that does not exist yet)`
        : `${option} ${dir}: ${at} is a file, so the folder cannot be created`;
    }
    try {
      accessSync(at, constants.W_OK);
    } catch {
      return `${option} ${dir}: ${at === path.resolve(dir) ? 'the folder' : `its parent ${at}`} is not writable`;
    }
    return undefined;
  }
}

/** True when something (even a dangling symlink) is at `at`. */
function exists(at: string): boolean {
  try {
    lstatSync(at);
    return true;
  } catch {
    return false;
  }
}

function isFolder(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** True when `dir` is a real folder holding a kustomization.yaml that Pronto wrote. */
function isGenerated(dir: string): boolean {
  try {
    if (!lstatSync(dir).isDirectory()) return false;
    const file = path.join(dir, 'kustomization.yaml');
    return lstatSync(file).isFile() && readFileSync(file, 'utf8').startsWith(GENERATED_HEADER);
  } catch {
    return false;
  }
}


/** The summary's lines on what changed since the output this synth replaced. */
function sinceLines(env: string, changes: OutputChanges | undefined): string[] {
  if (!changes) return ['  since the last synth: nothing to compare (first synth of this folder)'];
  const [total, ...byKind] = formatSummary(changes);
  const refused = applyRefusals(changes).length;
  return [`  since the last synth: ${total}`, ...byKind.map((l) => `  ${l}`),
    ...(refused > 0 ? [`  ${refused} update(s) the API server refuses: npm run diff -- --env ${env} --against <what the cluster holds> says what to do`] : [])];
}

if (require.main === module) {
  let signal: 'SIGINT' | 'SIGTERM' | undefined;
  const interrupt = (received: 'SIGINT' | 'SIGTERM') => {
    signal ??= received;
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  run(process.argv.slice(2), process.env, {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    interrupted: () => signal,
  }).then((code) => {
    process.exitCode = code;
  }, (err) => {
    process.stderr.write(`synth failed: internal error (a bug, please report it):\n${(err as Error).stack ?? err}\n`);
    process.exitCode = 2;
  });
}
