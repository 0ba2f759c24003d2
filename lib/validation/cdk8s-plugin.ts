import * as path from 'path';
import { environmentFolderOf } from '../core/output-folders';
import { Manifest, objectRef } from './finding';
import { ALL_RULES, runGate } from './gate';

/** The parts of cdk8s-cli's ValidationContext this plugin uses. */
interface ValidationContext {
  readonly manifests: readonly string[];
  readonly report: {
    addViolation(violation: {
      ruleName: string; recommendation: string; fix: string;
      violatingResources: Array<{ resourceName: string; locations: string[]; manifestPath: string }>;
    }): void;
    submit(status: 'success' | 'failure', metadata?: Record<string, string>): void;
  };
  parseManifest(manifestPath: string): any[];
}

/**
 * The validation gate as a cdk8s validation plugin (named in cdk8s.yaml), so that
 * `cdk8s synth` prints cdk8s's own validation report. Each `dist/<env>/` folder, with the
 * folders inside it (`guardrails/`, `argocd/projects/`, `argocd/applications/`), is one
 * document set: cross-object rules see all charts of an environment together, as synth does.
 */
export class ProntoPolicy {
  public async validate(context: ValidationContext): Promise<void> {
    const byEnvironment = new Map<string, Array<{ file: string; manifest: Manifest }>>();
    for (const file of [...context.manifests].sort()) {
      const docs = context.parseManifest(file).filter((d) => d && d.kind && d.kind !== 'Kustomization');
      const env = environmentFolderOf(path.dirname(file).split(path.sep).join('/'));
      byEnvironment.set(env, [...(byEnvironment.get(env) ?? []), ...docs.map((manifest) => ({ file, manifest }))]);
    }
    const waivers: string[] = [];
    let failed = false;
    for (const entries of byEnvironment.values()) {
      const result = runGate(entries.map((e) => e.manifest));
      waivers.push(...result.waivers.map((w) => `${w.rule} on ${w.object}: ${w.reason}`));
      const fileOf = (object: string) => entries.find((e) => objectRef(e.manifest) === object)?.file ?? '';
      for (const rule of ALL_RULES) {
        const mine = result.findings.filter((f) => f.rule === rule.id);
        if (mine.length === 0) continue;
        failed = true;
        context.report.addViolation({
          ruleName: rule.id,
          recommendation: rule.requires,
          fix: rule.fix,
          violatingResources: mine.map((f) => ({ resourceName: f.object, locations: [`${f.path}: ${f.message}`], manifestPath: fileOf(f.object) })),
        });
      }
    }
    context.report.submit(failed ? 'failure' : 'success', { waivers: waivers.length ? waivers.join('; ') : 'none' });
  }
}
