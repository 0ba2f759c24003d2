/**
 * The stdout capture, run for real: the wrapper exactly as a rendered pod runs it (the
 * container's command after Kubernetes' `$(VAR)` expansion, emulated below) around a tiny
 * bash program. Skips with a loud notice where bash or awk is missing; runs bash once.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { ComputeResources, UpstreamImage } from '../../../lib/core';
import { CAPTURE_SCRIPT, CAPTURE_SCRIPT_NAME, LOG_FILE, addLogShipper, stdoutCaptureWrapper } from '../../../lib/logs';
import { Microservice, PodExtensionPoint } from '../../../lib/workload';

/**
 * Kubernetes' expansion of command and args (third_party/forked/golang/expansion): `$$` is
 * `$`, `$(NAME)` is the variable's value when defined and left as written otherwise.
 */
export function kubernetesExpand(input: string, env: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== '$' || i + 1 >= input.length) { out += input[i]; continue; }
    const next = input[i + 1];
    if (next === '$') { out += '$'; i++; continue; }
    if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) { out += '$('; i++; continue; }
      const name = input.slice(i + 2, close);
      out += name in env ? env[name] : `$(${name})`;
      i = close;
      continue;
    }
    out += `$${next}`;
    i++;
  }
  return out;
}

const resources: ComputeResources = {
  requests: { cpu: '20m', memory: '48Mi', ephemeralStorage: '32Mi' }, limits: { cpu: '100m', memory: '96Mi', ephemeralStorage: '64Mi' },
};

/** The app container's command of a service whose pods run `appCommand` under the stdout capture, as rendered. */
function renderedCommand(appCommand: string[], rotateBytes: number): string[] {
  const chart = Testing.chart();
  const pod = new PodExtensionPoint('order-service');
  addLogShipper(pod, {
    shipper: 'promtail', image: new UpstreamImage({ repository: 'docker.io/grafana/promtail', tag: '3.6.11' }), resources,
    capture: 'stdout', appCommand, rotateBytes, push: { url: 'http://loki-gateway.loki.svc/loki/api/v1/push' },
    labels: { service: 'order-service', namespace: 'pronto', environment: 'test' }, configMapName: 'order-service-log-shipper',
  });
  new Microservice(chart, 'svc', {
    name: 'order-service', component: 'api', extension: pod,
    container: { port: { name: 'http', number: 8080 }, resources: { requests: { cpu: '100m', memory: '128Mi', ephemeralStorage: '1Gi' }, limits: { cpu: '500m', memory: '256Mi', ephemeralStorage: '2Gi' } } },
    release: { strategy: 'rolling', scaling: { kind: 'fixed', replicas: 2 }, image: { repository: 'registry.example.com/pronto/order-service', tag: '1.0.0', gitSha: 'abc1234' } },
  });
  const deployment = Testing.synth(chart).find((m) => m.kind === 'Deployment');
  return deployment.spec.template.spec.containers[0].command;
}

const HAS_TOOLS = ['bash', 'awk'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);
if (!HAS_TOOLS) console.warn('\n!!! SKIPPED: the stdout capture run for real: bash or awk is missing (CI installs both) !!!\n');
const realOrSkip = HAS_TOOLS ? describe : describe.skip;

describe('the stdout capture wrapper', () => {
  test('is bash running the script, its name, the log file and the rotation size, before the app\'s command', () => {
    expect(stdoutCaptureWrapper('/var/log/pronto/app.log', 1024)).toEqual(['bash', '-c', CAPTURE_SCRIPT, CAPTURE_SCRIPT_NAME, '/var/log/pronto/app.log', '1024']);
  });

  test('the rendered command survives Kubernetes\' expansion unchanged, even a $(VAR) in the app\'s arguments', () => {
    const app = ['gunicorn', '--bind', '0.0.0.0:$(PORT)', 'app:app'];
    const rendered = renderedCommand(app, 1024);
    expect(rendered.map((arg) => kubernetesExpand(arg, { PORT: '9999', log_file: 'x' }))).toEqual([...stdoutCaptureWrapper(LOG_FILE, 1024), ...app]);
    expect(rendered[2]).toContain('"$$@"');
  });

  test('fails on a log file awk could not pass to mv, and on a rotation size of zero', () => {
    expect(() => stdoutCaptureWrapper('/var/log/my app.log', 1)).toThrow('expected an absolute path without quotes');
    expect(() => stdoutCaptureWrapper('app.log', 1)).toThrow('expected an absolute path');
    expect(() => stdoutCaptureWrapper('/var/log/app.log', 0)).toThrow('expected a whole number of bytes above zero, found 0');
  });
});

realOrSkip('the stdout capture, run with bash around a tiny program', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pronto-capture-'));
  const logFile = path.join(dir, 'app.log');
  const rotateBytes = 300;
  // Prints its PID, 20 lines of 40 bytes on stdout, one on stderr, then waits for SIGTERM and exits 42.
  const program = ['bash', '-c', [
    'trap \'echo "got TERM"; exit 42\' TERM',
    'echo "pid $$"',
    'for i in $(seq -w 1 20); do echo "{\\"message\\":\\"line $i of twenty\\"}"; done',
    'echo "on stderr" >&2',
    'echo ready',
    'while :; do sleep 0.05; done',
  ].join('\n')];
  let child: ChildProcess;
  let stdout = '';
  let exit: { code: number | null; signal: string | null };
  let pidLine = '';

  beforeAll(async () => {
    const command = renderedCommand(program, rotateBytes).map((arg) => kubernetesExpand(arg, {}))
      .map((arg) => (arg === LOG_FILE ? logFile : arg));
    child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk) => { stdout += chunk; });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "ready" within 10 s; stdout so far: ${stdout}`)), 10000);
      child.stdout!.on('data', () => { if (stdout.includes('ready\n')) { clearTimeout(timer); resolve(); } });
    });
    pidLine = stdout.split('\n')[0];
    child.kill('SIGTERM');
    exit = await new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  });
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('the program is exec\'ed: it has the wrapper\'s PID (PID 1 in a container)', () => {
    expect(pidLine).toBe(`pid ${child.pid}`);
  });

  test('SIGTERM reaches the program, and its exit code is the container\'s', () => {
    expect(exit).toEqual({ code: 42, signal: null });
    expect(stdout).toContain('got TERM\n');
  });

  test('every line of stdout and stderr reaches stdout (kubectl logs) and the log file, in order', () => {
    const expected = [`pid ${child.pid}`, ...Array.from({ length: 20 }, (_, i) => `{"message":"line ${String(i + 1).padStart(2, '0')} of twenty"}`), 'on stderr', 'ready', 'got TERM'];
    expect(stdout).toBe(`${expected.join('\n')}\n`);
    const files = [`${logFile}.1`, logFile].filter(existsSync).map((f) => readFileSync(f, 'utf8'));
    const inFiles = files.join('').split('\n').filter(Boolean);
    // The file keeps the lines since the last rotation but one: a suffix of what was written.
    expect(inFiles.length).toBeGreaterThan(0);
    expect(expected.slice(expected.length - inFiles.length)).toEqual(inFiles);
  });

  test('the file is rotated at the rotation size: two files, each at most the size plus one line', () => {
    expect(existsSync(`${logFile}.1`)).toBe(true);
    for (const file of [logFile, `${logFile}.1`]) expect(statSync(file).size).toBeLessThanOrEqual(rotateBytes + 64);
    expect(readFileSync(logFile, 'utf8')).toContain('got TERM\n');
  });
});
