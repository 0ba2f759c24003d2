/**
 * `npm run diff -- --env <env> [--against <folder>]`: what the environment's new output
 * would change in the output a cluster holds, without writing anything. `--against` is an
 * environment folder (`dist/<env>`, the default) or a checkout of the GitOps repository
 * (its `gitops.repository.path` folder is read). Prints the object summary, the updates the
 * API server would refuse and what to do, the objects left behind where nothing prunes,
 * the workloads that restart, the Vault files to apply first, then every changed object's
 * fields as a unified diff whose hunks name the object.
 *
 * Exit status: 0 the change applies, 1 a problem (config, gate, arguments) or an update the
 * API server refuses.
 */
import { existsSync } from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { ConfigError, loadEnvironment } from '../config/load';
import { Io } from '../config/promote';
import { publishFolder } from './publish';
import { formatActions, formatFieldDiffs, formatSummary, readOutput, renderedOutput, review } from './review';
import { renderEnvironment } from './synthesize';

export const USAGE = 'usage: npm run diff -- --env <environment> [--against <folder or GitOps checkout>] [--config <dir>]';

/** The environment folder `against` names: itself when it holds a kustomization, else its publish folder. */
export function againstFolder(against: string, folder: string): string {
  return existsSync(path.join(against, 'kustomization.yaml')) ? against : path.join(against, folder);
}

/** `npm run diff` with `argv`; returns the exit status. */
export function run(argv: readonly string[], io: Io): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv], strict: true, allowPositionals: false,
      options: { env: { type: 'string' }, against: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    io.err(`diff: ${(err as Error).message.split('\n')[0]}\n${USAGE}`);
    return 1;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (!values.env) {
    io.err(`diff: --env is required\n${USAGE}`);
    return 1;
  }
  try {
    const config = loadEnvironment(values.config ?? 'config', values.env);
    const rendered = renderEnvironment(config);
    if (rendered.findings.length > 0) throw new ConfigError([`${rendered.findings.length} policy finding(s) in ${config.name}:`, ...rendered.report.split('\n')]);
    const dir = againstFolder(values.against ?? path.join('dist', config.name), publishFolder(config));
    if (!existsSync(dir)) {
      io.err(`diff: ${dir}: does not exist (expected a folder written by npm run synth or publish)`);
      return 1;
    }
    const result = review(config, readOutput(dir), renderedOutput(rendered));
    io.out([`${config.name} against ${dir}/:`, ...formatSummary(result.changes).map((l) => `  ${l}`), ...formatActions(result), ...formatFieldDiffs(result.changes)].join('\n'));
    return result.refusals.length > 0 ? 1 : 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`diff: ${err.problems.join('\n')}`);
    return 1;
  }
}

if (require.main === module) {
  process.exitCode = run(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  });
}
