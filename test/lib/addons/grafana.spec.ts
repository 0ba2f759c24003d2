/**
 * Grafana of the kube-prometheus-stack add-on, apart from the chart values (test/charts/capabilities/gitops.spec.ts):
 * the script the datasources sidecar runs after every change, run by a real `sh` and `python` against a stand-in
 * Grafana (a Node http server on 127.0.0.1), as the Vault agent renders it (no template action in it); and the
 * Role that lets the sidecars read Pronto's namespace, which refuses anything but reading ConfigMaps.
 */
import { spawn, spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { GRAFANA, GRAFANA_ADMIN, grafanaDatasourcesReloadScript } from '../../../lib/addons';
import { GrafanaSidecarRbac } from '../../../lib/dashboards';
import { addVaultAgent } from '../../../lib/secrets';
import { PodExtensionPoint } from '../../../lib/workload';

const PASSWORD = 'S3cret pass:word';
const dir = mkdtempSync(path.join(tmpdir(), 'pronto-grafana-reload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The sidecar image (python:alpine) has `python` on its PATH; here python3 stands in for it.
const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
const bin = path.join(dir, 'bin');
mkdirSync(bin);
if (python.status === 0) symlinkSync(python.stdout.trim(), path.join(bin, 'python'));
else console.warn('\n!!! SKIPPED: the datasources reload script in real sh and python: no python3 on the PATH !!!\n');
const withPython = python.status === 0 ? test : test.skip;

/**
 * The file the Vault agent renders from the template Pronto annotates the pod with: the body between
 * `{{- with secret "…" -}}` and `{{- end }}`, whose dashes trim the whitespace next to them (text/template).
 */
function agentRenders(file: string): string {
  const pod = new PodExtensionPoint('grafana');
  addVaultAgent(pod, {
    role: 'pronto-test-grafana', address: 'https://vault.vault.svc:8200', authPath: 'auth/kubernetes', appContainer: GRAFANA.container,
    secrets: [{ file, env: 'RELOAD_FILE', vaultPath: 'secret/data/pronto/test/grafana/admin', template: grafanaDatasourcesReloadScript() }],
    resources: { requests: { cpu: '25m', memory: '64Mi', ephemeralStorage: '64Mi' }, limits: { cpu: '100m', memory: '128Mi', ephemeralStorage: '128Mi' } },
    runAs: { user: 10100, group: 10001 }, tokenAudience: 'vault', tokenExpirationSeconds: 3600,
  });
  const template = pod.podAnnotations[`vault.hashicorp.com/agent-inject-template-${file}`];
  const body = /^\{\{- with secret "[^"]+" -\}\}([\s\S]*)\{\{- end \}\}$/.exec(template)![1];
  expect(body).not.toContain('{{');
  return body.replace(/^\s+/, '').replace(/\s+$/, '');
}

/** The script as the agent renders it, pointed at `port` and at a password file of this test. */
function scriptFor(port: number): string {
  const passwordFile = path.join(dir, 'grafana-admin');
  // As the agent renders it: the template's exact text, no trailing newline.
  writeFileSync(passwordFile, PASSWORD);
  const script = agentRenders(GRAFANA_ADMIN.reloadScriptFile);
  const file = path.join(dir, `reload-${port}.sh`);
  const url = GRAFANA.datasourcesReloadUrl.replace('http://localhost:3000', `http://127.0.0.1:${port}`);
  expect(script).toContain(GRAFANA.datasourcesReloadUrl);
  writeFileSync(file, script.replace(`${GRAFANA_ADMIN.secretVolumePath}/${GRAFANA_ADMIN.passwordFile}`, passwordFile).replace(GRAFANA.datasourcesReloadUrl, url));
  return file;
}

/** Runs `sh file` as k8s-sidecar does (not executable: through sh), without blocking the stand-in server. */
function run(file: string): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', [file], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('close', (status) => resolve({ status, out }));
  });
}

interface Seen { method?: string; url?: string; authorization?: string }

/** A stand-in Grafana answering `status`, recording the request. */
function grafana(status: number, port = 0): Promise<{ server: http.Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization });
    req.resume();
    req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{"message":"Datasources config reloaded"}' : '{"message":"Unauthorized"}'));
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, seen })));
}

const basic = `Basic ${Buffer.from(`${GRAFANA_ADMIN.user}:${PASSWORD}`).toString('base64')}`;

describe('the datasources reload script', () => {
  withPython('POSTs the reload as the admin, with the password of the file, and ends well', async () => {
    const { server, port, seen } = await grafana(200);
    try {
      const r = await run(scriptFor(port));
      expect(r).toEqual({ status: 0, out: '' });
      expect(seen).toEqual([{ method: 'POST', url: '/api/admin/provisioning/datasources/reload', authorization: basic }]);
    } finally {
      server.close();
    }
  });

  withPython('fails at once on a refused login (no retry: the password is wrong, k8s-sidecar logs the failure)', async () => {
    const { server, port, seen } = await grafana(401);
    try {
      const started = Date.now();
      const r = await run(scriptFor(port));
      expect(r.status).not.toBe(0);
      expect(r.out).toContain('HTTP Error 401');
      expect(seen).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      server.close();
    }
  });

  withPython('waits for a Grafana that is still starting (connection refused), then reloads', async () => {
    // A port nobody listens on until the stand-in starts, a second after the script.
    const probe = await grafana(200);
    const port = probe.port;
    await new Promise((resolve) => probe.server.close(resolve));
    const pending = run(scriptFor(port));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const { server, seen } = await grafana(200, port);
    try {
      expect(await pending).toEqual({ status: 0, out: '' });
      expect(seen.map((s) => s.authorization)).toEqual([basic]);
    } finally {
      server.close();
    }
  }, 20000);

  test('holds no credential and no template action (the agent renders it as it is)', () => {
    const script = grafanaDatasourcesReloadScript();
    expect(script).not.toContain('{{');
    expect(script).toContain(`open("${GRAFANA_ADMIN.secretVolumePath}/${GRAFANA_ADMIN.passwordFile}")`);
  });
});

describe('GrafanaSidecarRbac', () => {
  const props = { name: 'grafana-sidecar', serviceAccount: { name: GRAFANA.fullname, namespace: 'monitoring' }, rules: GRAFANA.sidecarRules };

  test('a Role reading ConfigMaps and its binding to Grafana\'s ServiceAccount of the monitoring namespace', () => {
    const chart = Testing.chart();
    new GrafanaSidecarRbac(chart, 'rbac', props);
    const [role, binding] = Testing.synth(chart) as any[];
    expect([role.kind, role.rules]).toEqual(['Role', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }]]);
    expect([binding.kind, binding.roleRef.name, binding.subjects]).toEqual(['RoleBinding', role.metadata.name, [{ kind: 'ServiceAccount', name: GRAFANA.fullname, namespace: 'monitoring' }]]);
  });

  test.each([
    ['Secrets', { apiGroups: [''], resources: ['configmaps', 'secrets'], verbs: ['get', 'list', 'watch'] }, '"secrets"'],
    ['a verb that writes', { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'update'] }, '"update"'],
    ['another API group', { apiGroups: ['apps'], resources: ['configmaps'], verbs: ['get'] }, '"apps"'],
  ])('refuses %s', (_name, rule, found) => {
    expect(() => new GrafanaSidecarRbac(Testing.chart(), 'rbac', { ...props, rules: [rule] })).toThrow(`expected get, list and watch on ConfigMaps only (the dashboards and datasources), found ${found}`);
  });
});
