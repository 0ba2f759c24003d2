/**
 * What test/main/*.test.ts share: the repository's paths, a light config folder, a
 * fingerprint of a folder tree, the kustomization of an environment folder, and `run()`
 * called in process.
 */
import { createHash } from 'crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { run as promote } from '../../config/promote';
import { run as synth } from '../../main';
import { LIGHT_CONFIG } from '../fixtures/environments';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CONFIG = path.join(ROOT, 'config');
export const STACK_FRAME = /^\s+at /m;

/**
 * A new scratch folder, in memory (/dev/shm) where the machine has one, else in the temporary
 * folder. The cases write a config folder and copy a dist/ into a folder each and remove them
 * all at the end: thousands of small files, which take seconds on a disk (a virtual disk
 * mounted with `discard` spends a millisecond on each) and milliseconds in memory. Same file
 * system semantics.
 */
export function scratchFolder(prefix: string): string {
  try {
    return mkdtempSync(path.join('/dev/shm', prefix));
  } catch {
    return mkdtempSync(path.join(tmpdir(), prefix));
  }
}

/**
 * Writes the environments of LIGHT_CONFIG (test/fixtures/environments.ts: config/'s
 * environment names, small valid contents), or of `config` (lightConfig(catalog) for another
 * catalog), into `dir`, created if need be; returns `dir`. For tests about arguments, bad
 * files and the output folder's mechanics, which prove the same with it as with the shipped
 * config at a fraction of the CPU.
 */
export function writeLightConfig(dir: string, config: Readonly<Record<string, string>> = LIGHT_CONFIG): string {
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(config)) writeFileSync(path.join(dir, file), text);
  return dir;
}

/** Runs a command in process; returns its status and what it printed. */
export async function inProcess(command: 'synth' | 'promote', argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
  const status = command === 'synth' ? await synth(argv, env, io) : promote(argv, io);
  return { status, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** Path → sha256 (files), `folder` or `-> target` (symlinks) for everything under `dir`. */
export function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const full = path.join(d, entry);
      const rel = path.relative(dir, full);
      const stat = lstatSync(full);
      if (stat.isDirectory()) {
        out[rel] = `folder ${(stat.mode & 0o777).toString(8)}`;
        walk(full);
      } else {
        let hash: string;
        try {
          hash = createHash('sha256').update(readFileSync(full)).digest('hex');
        } catch {
          hash = 'unreadable';
        }
        out[rel] = `${hash} ${(stat.mode & 0o777).toString(8)}`;
      }
    }
  };
  walk(dir);
  return out;
}

export function kustomizationOf(dir: string): { header: string; resources: string[] } {
  const text = readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8');
  return { header: text.split('\n')[0], resources: parseYaml(text).resources };
}
