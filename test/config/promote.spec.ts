import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { PromotionError, promote, run } from '../../config/promote';
import { VALID_ENV, lineOf } from '../fixtures/environments';

const FILE = 'config/test.yaml';

describe('promote', () => {
  test('flips the active slot and changes nothing else, comments and formatting included', () => {
    const result = promote(VALID_ENV, FILE, 'clients-app');
    expect(result.text).toBe(VALID_ENV.replace('activeSlot: blue', 'activeSlot: green'));
    expect(result.text).toContain('idleReplicas: 2   # warm for preview');
    const line = lineOf(VALID_ENV, 'activeSlot: blue');
    expect(result.diff).toEqual([`${line}: - activeSlot: blue`, `${line}: + activeSlot: green`]);
    expect(result.summary).toBe('config/test.yaml: clients-app active slot blue → green: now serving 1.5.0 (git c71d0e4); ' +
      'blue keeps 1.4.2 with 2 pods for rollback (promote again to roll back).');
  });

  test('promoting twice round-trips to the original bytes', () => {
    const once = promote(VALID_ENV, FILE, 'clients-app').text;
    expect(promote(once, FILE, 'clients-app').text).toBe(VALID_ENV);
  });

  test('refuses a service that is not blue-green', () => {
    expect(() => promote(VALID_ENV, FILE, 'order-service')).toThrow(PromotionError);
    expect(() => promote(VALID_ENV, FILE, 'order-service')).toThrow(
      'services.order-service.rollout.strategy is rolling: only blue-green services can be promoted');
  });

  test('refuses when the idle slot has no image', () => {
    const text = VALID_ENV.replace('        green:\n          image: { tag: 1.5.0, gitSha: c71d0e4 }\n', '        green: {}\n');
    expect(() => promote(text, FILE, 'clients-app')).toThrow(
      'services.clients-app.rollout.slots.green.image is not set: the idle slot has no image to promote');
  });

  test('refuses when the idle slot has no pods', () => {
    const text = VALID_ENV.replace('idleReplicas: 2', 'idleReplicas: 0');
    expect(() => promote(text, FILE, 'clients-app')).toThrow('rollout.idleReplicas is 0, so the idle slot "green" has no pods');
  });

  test('refuses an unknown service', () => {
    expect(() => promote(VALID_ENV, FILE, 'loyalty')).toThrow('services.loyalty: no such service');
  });

  test('refuses a file that is invalid before promotion', () => {
    const text = VALID_ENV.replace('tag: 1.3.0', 'tag: latest');
    expect(() => promote(text, FILE, 'clients-app')).toThrow('services.employees-app.image.tag');
  });

  test('refuses a file whose aliases would expand without bound, with a message', () => {
    const bomb = `${VALID_ENV}x: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n${'bcdef'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcde'[i]}`).join(', ')}]`).join('\n')}\n`;
    expect(() => promote(bomb, FILE, 'clients-app')).toThrow(PromotionError);
    expect(() => promote(bomb, FILE, 'clients-app')).toThrow('config/test.yaml:1: YAML:');
  });
});

// Every bad command line is in test/fixtures/inputs.ts (run by test/main.test.ts).
describe('npm run promote', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pronto-promote-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function promoteCommand(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const status = run(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
    return { status, stdout: out.join('\n'), stderr: err.join('\n') };
  }

  test('rewrites the environment file, changing only activeSlot, and prints the change', () => {
    const file = path.join(dir, 'test.yaml');
    writeFileSync(file, VALID_ENV);
    const result = promoteCommand('clients-app', '--env', 'test', '--config', dir);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(promote(VALID_ENV, file, 'clients-app').text);
    expect(result.stdout).toContain(`${file}: clients-app active slot blue → green`);
    expect(result.stdout).toContain('Next: npm run synth, review the diff, commit.');
  });

  test('--help prints the usage and exits 0', () => {
    const result = promoteCommand('--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run promote -- <service> --env <environment> \[--config <dir>\]/);
  });
});
