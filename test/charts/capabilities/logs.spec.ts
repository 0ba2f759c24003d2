/**
 * The logs capability: every catalog service gets the shipper sidecar, the shared volume
 * and its capture; the flow to Loki; on in every shipped environment (gate and capacity
 * guard), off byte-identical; config errors with file:line, field, expected and found.
 */
import { spawnSync } from 'child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { LOKI_PUSH_FILE, captureMode, logShipperConfigName, pusherLogin } from '../../../charts/capabilities/logs';
import { vaultRoleName } from '../../../charts/capabilities/secrets';
import { renderEnvironment } from '../../../charts/synthesize';
import { parseEnvironment } from '../../../config/load';
import { Manifest } from '../../../lib/core';
import { LOG_DIR, LOG_FILE, LOG_VOLUME, SHIPPERS } from '../../../lib/logs';
import { VALID_ENV } from '../../fixtures/environments';
import { CONFIG_DIR, ENVIRONMENTS, buildEnvironment, configProblems, stripSection, renderText } from '../../helpers';

const FILE = 'config/test.yaml';
const URL = 'http://loki-gateway.loki.svc.cluster.local/loki/api/v1/push';
const SECTION = `logs:\n  loki: { url: ${URL}, tenant: pronto }\n`;
const load = (text: string, file = FILE) => parseEnvironment(text, file);
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
const deployments = (manifests: Manifest[]) => manifests.filter((m) => m.kind === 'Deployment') as any[];
/** The Deployments of catalog service `svc` (one, or one per blue-green slot). */
const ofService = (manifests: Manifest[], svc: string) => deployments(manifests).filter((d) => d.spec.template.metadata.labels['app.kubernetes.io/name'] === svc);

/** One render per environment text and file, shared (read only). */
const renderShipped = renderText;

describe('the logs capability', () => {
  const text = `${VALID_ENV}${SECTION}  capture:\n    services: { order-service: file }\n`;
  const config = load(text);
  const section = config.capabilities.logs!;
  const on = buildEnvironment(config);

  test('its section is defaulted: Promtail, stdout capture, 16Mi rotation, the Loki Helm chart\'s gateway pods', () => {
    const plain = load(`${VALID_ENV}${SECTION}`).capabilities.logs!;
    expect(plain.logShipper).toBe('promtail');
    expect(plain.capture).toEqual({ mode: 'stdout', services: {}, rotateAtMi: 16 });
    expect(plain.loki).toEqual({ url: URL, tenant: 'pronto', namespace: 'loki', podLabels: { 'app.kubernetes.io/name': 'loki', 'app.kubernetes.io/component': 'gateway' }, port: 8080 });
    expect(plain.promtail.image).toEqual({ repository: 'docker.io/grafana/promtail', tag: '3.6.11' });
    expect(plain.alloy.image).toEqual({ repository: 'docker.io/grafana/alloy', tag: 'v1.18.1' });
  });

  test('every catalog service (every slot) has the sidecar, the shared volume mounted in both containers, and its capture', () => {
    for (const svc of config.services) {
      const pods = ofService(on.manifests, svc.name).map((d) => d.spec.template.spec);
      expect(pods.length).toBeGreaterThan(0);
      for (const pod of pods) {
        const [app, ...others] = pod.containers;
        const shipper = others.find((c: any) => c.name === 'promtail');
        expect(shipper).toBeDefined();
        expect(pod.volumes.map((v: any) => v.name)).toEqual(expect.arrayContaining([LOG_VOLUME, 'log-shipper-config']));
        expect(pod.volumes).toContainEqual({ name: 'log-shipper-config', configMap: { name: logShipperConfigName(svc.name), defaultMode: 0o444 } });
        for (const c of [app, shipper]) expect(c.volumeMounts).toContainEqual({ name: LOG_VOLUME, mountPath: LOG_DIR });
        const env = (app.env ?? []).map((e: any) => e.name);
        if (captureMode(section, svc.name) === 'stdout') {
          expect(app.command.slice(0, 2)).toEqual(['bash', '-c']);
          expect(app.command.slice(3, 6)).toEqual(['log-capture', LOG_FILE, String(16 * 1024 * 1024)]);
          expect(app.command.slice(6)).toEqual(svc.catalog.command);
          expect(env).not.toContain('LOG_FILE');
        } else {
          expect(app.command).toBeUndefined();
          expect(app.env).toEqual(expect.arrayContaining([{ name: 'LOG_FILE', value: LOG_FILE }, { name: 'LOG_FILE_MAX_BYTES', value: String(16 * 1024 * 1024) }]));
        }
      }
    }
    expect(config.services.filter((s) => captureMode(section, s.name) === 'file').map((s) => s.name)).toEqual(['order-service']);
  });

  test('one ConfigMap per service in the logs chart: its labels, structured metadata and positions on the shared volume', () => {
    expect(on.charts.capabilities.map((c) => c.node.id)).toEqual(['logs']);
    for (const svc of config.services) {
      const cm = on.manifests.find((m) => m.kind === 'ConfigMap' && m.metadata?.name === logShipperConfigName(svc.name)) as any;
      const promtail = parse(cm.data['promtail.yaml']);
      const job = promtail.scrape_configs[0];
      expect(job.static_configs[0].labels).toEqual({ service: svc.name, namespace: config.namespace.name, environment: config.name, __path__: LOG_FILE });
      expect(job.pipeline_stages.find((s: any) => s.labels).labels).toEqual({ level: null });
      expect(job.pipeline_stages.find((s: any) => s.structured_metadata).structured_metadata).toEqual({ session_id: null, user: null, trace_id: null });
      expect(promtail.positions.filename.startsWith(`${LOG_DIR}/`)).toBe(true);
      expect(promtail.clients).toEqual([{ url: URL, tenant_id: 'pronto' }]);
    }
  });

  test('Alloy: the same pods with the alloy sidecar, the equivalent pipeline, storage on the shared volume; passes the gate', () => {
    const alloy = buildEnvironment(load(`${VALID_ENV}${SECTION}  logShipper: alloy\n`));
    for (const d of deployments(alloy.manifests).filter((x) => config.services.some((s) => s.name === x.spec.template.metadata.labels['app.kubernetes.io/name']))) {
      const sidecar = d.spec.template.spec.containers.find((c: any) => c.name === 'alloy');
      expect(sidecar.command).toEqual(expect.arrayContaining([`--storage.path=${LOG_DIR}/alloy`, `${SHIPPERS.alloy.configDir}/${SHIPPERS.alloy.configFile}`]));
      expect(d.spec.template.spec.containers.some((c: any) => c.name === 'promtail')).toBe(false);
    }
    const cm = alloy.manifests.find((m) => m.kind === 'ConfigMap' && m.metadata?.name === logShipperConfigName('order-service')) as any;
    const text = cm.data['config.alloy'] as string;
    expect(text).toContain('stage.structured_metadata {\n    values = { "session_id" = "", "user" = "", "trace_id" = "" }');
    expect(text).toContain('"service" = "order-service"');
    expect(renderEnvironment(load(`${VALID_ENV}${SECTION}  logShipper: alloy\n`)).findings).toEqual([]);
  });

  test('flows: every service pod to Loki\'s pods on their port', () => {
    for (const svc of config.services) {
      expect(on.charts.graph.flows).toContainEqual(expect.objectContaining({
        from: expect.objectContaining({ kind: 'workload', name: svc.name }),
        to: { kind: 'foreign', name: 'loki', namespace: 'loki', podLabels: section.loki.podLabels },
        ports: [{ port: 8080, protocol: 'TCP' }], declaredBy: 'logs',
      }));
    }
  });


  test.each(ENVIRONMENTS)('on in the shipped %s: every object passes the gate and the capacity guard', (env) => {
    const raw = readFileSync(`${CONFIG_DIR}/${env}.yaml`, 'utf8');
    const envText = /^logs:/m.test(raw) ? raw : `${raw}\n${SECTION}`;
    const rendered = renderShipped(envText, `config/${env}.yaml`);
    expect(rendered.findings).toEqual([]);
    expect(rendered.files.map((f) => f.name)).toContain('logs.k8s.yaml');
  });

  test('Alloy on in the shipped prod (the shipper prod uses): the gate and the capacity guard pass', () => {
    const raw = readFileSync(`${CONFIG_DIR}/prod.yaml`, 'utf8');
    const prod = /^logs:/m.test(raw) ? raw : `${raw}\n${SECTION}  logShipper: alloy\n`;
    expect(load(prod, 'config/prod.yaml').capabilities.logs!.logShipper).toBe('alloy');
    // The shipped prod already ships Alloy: the same text as the case above, rendered once.
    expect(renderShipped(prod, 'config/prod.yaml').findings).toEqual([]);
  });

  test('off (absent or false): the output is byte-identical to the output without it', () => {
    // Objects as JSON: equal text for equal objects, key order included, at a fraction of YAML's cost.
    const render = (t: string) => buildEnvironment(load(t)).manifests.map((m) => JSON.stringify(m)).join('---\n');
    const without = render(VALID_ENV);
    expect(render(`${VALID_ENV}logs: false\n`)).toBe(without);
    expect(without).not.toContain('log-capture');
    expect(without).not.toContain('promtail');
  });
});

const problems = configProblems;

/** The shipped prod text, the one the tests above render (cached). */
const PROD = readFileSync(`${CONFIG_DIR}/prod.yaml`, 'utf8');
const V = 'vault.hashicorp.com/';

describe('Loki logins (security): the shippers log in, each with a password its app cannot read', () => {
  const config = load(PROD, 'config/prod.yaml');
  const secrets = config.capabilities.secrets!;
  const logs = config.capabilities.logs!;
  const rendered = renderShipped(PROD, 'config/prod.yaml');
  const kvPath = (p: string) => `${secrets.kv.mount}/data/${secrets.kv.prefix}/${p}`;
  const pods = config.services.flatMap((svc) => ofService(rendered.manifests, svc.name).map((d) => ({ svc: svc.name, template: d.spec.template })));

  test('with the Loki add-on, every service\'s shipper logs in as its service, its password the file the pod\'s agent renders (Promtail basic_auth / Alloy basic_auth { password_file })', () => {
    expect(pods.length).toBeGreaterThanOrEqual(config.services.length);
    for (const { svc } of pods) {
      const cm = rendered.manifests.find((m) => m.kind === 'ConfigMap' && m.metadata?.name === logShipperConfigName(svc)) as any;
      const alloy = cm.data['config.alloy'] as string;
      expect(alloy).toContain(`    basic_auth {\n      username      = "${svc}"\n      password_file = "/run/secrets/${LOKI_PUSH_FILE}"\n    }\n`);
    }
    // Promtail (dev and staging): the same login in its client.
    const dev = load(readFileSync(`${CONFIG_DIR}/dev.yaml`, 'utf8'), 'config/dev.yaml');
    const devCm = renderShipped(readFileSync(`${CONFIG_DIR}/dev.yaml`, 'utf8'), 'config/dev.yaml').manifests
      .find((m) => m.kind === 'ConfigMap' && m.metadata?.name === logShipperConfigName(dev.services[0].name)) as any;
    expect(parse(devCm.data['promtail.yaml']).clients).toEqual([{
      url: dev.capabilities.logs!.loki.url, tenant_id: dev.capabilities.logs!.loki.tenant,
      basic_auth: { username: dev.services[0].name, password_file: `/run/secrets/${LOKI_PUSH_FILE}` },
    }]);
  });

  test('the password is rendered for the shipper alone: mode 0400, owned by the agent\'s UID, which the shipper runs as and the app does not; the app gets no env var for it', () => {
    for (const { svc, template } of pods) {
      const a = template.metadata.annotations;
      expect(a[`${V}agent-inject-secret-${LOKI_PUSH_FILE}`]).toBe(kvPath(pusherLogin(svc).password.path));
      expect(a[`${V}agent-inject-perms-${LOKI_PUSH_FILE}`]).toBe('0400');
      expect(a[`${V}agent-inject-containers`].split(',')).toEqual([svc, logs.logShipper]);
      const [app, ...others] = template.spec.containers;
      const shipper = others.find((c: any) => c.name === logs.logShipper);
      expect(shipper.securityContext.runAsUser).toBe(Number(a[`${V}agent-run-as-user`]));
      expect(shipper.securityContext.runAsGroup).toBe(app.securityContext.runAsGroup);
      expect(app.securityContext.runAsUser).not.toBe(shipper.securityContext.runAsUser);
      expect(app.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(JSON.stringify(app.env ?? [])).not.toContain(LOKI_PUSH_FILE);
    }
  });

  test('each service\'s Vault policy reads its own shipper password and no other service\'s', () => {
    for (const svc of config.services) {
      const policy = rendered.files.find((f) => f.name === `vault/policies/${vaultRoleName(secrets, svc.name)}.hcl`)!.text;
      const granted = [...policy.matchAll(/^path "([^"]+)"/gm)].map((m) => m[1]).filter((p) => p.endsWith(`/${LOKI_PUSH_FILE}`));
      expect(granted).toEqual([kvPath(pusherLogin(svc.name).password.path)]);
    }
  });

  const root = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
  if (!root) console.warn('\n!!! SKIPPED: the shipper password\'s file modes against the kernel: needs root and setpriv (CI runs as root) !!!\n');
  (root ? test : test.skip)('ATTACK: a compromised app container cannot read its pod\'s shipper password (the kernel refuses, with the pod\'s own UIDs, groups and modes); the shipper and the app\'s own files still read', () => {
    const { template } = pods[0];
    const a = template.metadata.annotations;
    const pod = template.spec.securityContext;
    const [app, ...others] = template.spec.containers;
    const shipper = others.find((c: any) => c.name === logs.logShipper);
    const agent = { uid: Number(a[`${V}agent-run-as-user`]), gid: Number(a[`${V}agent-run-as-group`]) };
    const ownFile = Object.keys(a).map((k) => k.slice(`${V}agent-inject-perms-`.length)).find((f, i) => Object.keys(a)[i].startsWith(`${V}agent-inject-perms-`) && f !== LOKI_PUSH_FILE)!;
    const dir = mkdtempSync(path.join(tmpdir(), 'pronto-shipper-secret-'));
    try {
      // The agent's in-memory volume: owned by the pod's fsGroup, setgid (the kubelet's fsGroup handling), each file the agent's with its mode.
      chownSync(dir, 0, pod.fsGroup);
      chmodSync(dir, 0o2770);
      for (const [file, mode] of [[LOKI_PUSH_FILE, a[`${V}agent-inject-perms-${LOKI_PUSH_FILE}`]], [ownFile, a[`${V}agent-inject-perms-${ownFile}`]]]) {
        writeFileSync(path.join(dir, file), 'secret');
        chownSync(path.join(dir, file), agent.uid, pod.fsGroup);
        chmodSync(path.join(dir, file), parseInt(mode, 8));
      }
      /** `cat` of `file` as the container `c` runs: its UID and GID, the pod's fsGroup as a supplementary group, no capability. */
      const reads = (c: any, file: string) => spawnSync('setpriv', ['--reuid', String(c.securityContext.runAsUser), '--regid', String(c.securityContext.runAsGroup),
        '--groups', String(pod.fsGroup), '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', 'cat', path.join(dir, file)], { encoding: 'utf8' });
      const appTry = reads(app, LOKI_PUSH_FILE);
      expect(appTry.status).not.toBe(0);
      expect(appTry.stderr).toContain('Permission denied');
      expect(reads(shipper, LOKI_PUSH_FILE).stdout).toBe('secret');
      // Not vacuous: the app reads its own secrets, rendered by the same agent into the same folder.
      expect(reads(app, ownFile).stdout).toBe('secret');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('TLS to Loki (logs.loki.tls, opt-in): the add-on\'s gateway serves a cert-manager certificate, the shippers and Grafana verify it', () => {
  const TLS = 'tls: { issuer: { name: internal-ca }, caBundle: { configMap: internal-ca } }';
  const text = PROD.replace(/^( {2}loki: \{ url: )http:\/\/([^,]+),/m, `$1https://$2, ${TLS},`);
  const config = load(text, 'config/prod.yaml');
  const rendered = renderShipped(text, 'config/prod.yaml');
  const app = rendered.manifests.find((m) => m.kind === 'Application' && (m as any).spec.source.chart === 'loki') as any;
  const values = app.spec.source.helm.valuesObject;
  const CA = '/etc/pronto/ca/internal-ca/ca.crt';

  test('the gateway: HTTPS on its pods\' port with the certificate\'s files (reread at every handshake), its Service on 443, the readiness probe over HTTPS', () => {
    expect(text).not.toBe(PROD);
    expect(values.gateway.service).toEqual({ port: 443 });
    expect(values.gateway.readinessProbe.httpGet).toEqual({ path: '/', port: 'http-metrics', scheme: 'HTTPS' });
    expect(values.gateway.extraVolumes).toContainEqual({ name: 'tls', secret: { secretName: 'loki-gateway-tls', items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }], defaultMode: 0o440 } });
    expect(values.gateway.extraVolumeMounts).toEqual([{ name: 'tls', mountPath: '/etc/loki-gateway-tls', readOnly: true }]);
    const file: string = values.gateway.nginxConfig.file;
    expect(file).toContain('listen             8080 ssl;');
    expect(file).toContain('    default "/etc/loki-gateway-tls";');
    expect(file).toContain('  ssl_certificate     $loki_tls_dir/tls.crt;');
  });

  test('its Certificate is an object of the add-on, for every name of the gateway\'s Service, from the issuer; the platform project allows that kind', () => {
    const certificate = values.extraObjects.find((o: any) => o.kind === 'Certificate');
    expect(certificate.metadata).toMatchObject({ name: 'loki-gateway-tls', namespace: app.spec.destination.namespace });
    expect(certificate.spec).toMatchObject({
      secretName: 'loki-gateway-tls', issuerRef: { kind: 'ClusterIssuer', name: 'internal-ca' },
      dnsNames: ['loki-gateway', 'loki-gateway.loki', 'loki-gateway.loki.svc', 'loki-gateway.loki.svc.cluster.local'],
    });
    const platform = rendered.manifests.find((m) => m.kind === 'AppProject' && m.metadata.name === `pronto-${config.name}-platform`) as any;
    expect(platform.spec.namespaceResourceWhitelist).toContainEqual({ group: 'cert-manager.io', kind: 'Certificate' });
  });

  test('every shipper pushes to the https URL and verifies the gateway against the CA bundle, mounted read-only into it', () => {
    for (const svc of config.services) {
      const cm = rendered.manifests.find((m) => m.kind === 'ConfigMap' && m.metadata?.name === logShipperConfigName(svc.name)) as any;
      expect(cm.data['config.alloy']).toContain(`    url = "${config.capabilities.logs!.loki.url}"`);
      expect(cm.data['config.alloy']).toContain(`    tls_config {\n      ca_file = "${CA}"\n    }`);
      for (const d of ofService(rendered.manifests, svc.name)) {
        const shipper = d.spec.template.spec.containers.find((c: any) => c.name === 'alloy');
        expect(shipper.volumeMounts).toContainEqual({ name: 'ca-internal-ca', mountPath: '/etc/pronto/ca/internal-ca', readOnly: true });
      }
    }
    expect(config.capabilities.logs!.loki.url.startsWith('https://')).toBe(true);
  });

  test('Grafana verifies it too: the bundle mounted from its namespace, the datasource\'s CA read at provisioning', () => {
    const kps = rendered.manifests.find((m) => m.kind === 'Application' && (m as any).spec.source.chart === 'kube-prometheus-stack') as any;
    expect(kps.spec.source.helm.valuesObject.grafana.extraConfigmapMounts).toEqual([{ name: 'ca-internal-ca', mountPath: '/etc/pronto/ca/internal-ca', configMap: 'internal-ca', readOnly: true }]);
    const cm = rendered.manifests.find((m) => m.kind === 'ConfigMap' && m.metadata?.name === 'grafana-datasources') as any;
    const loki = parse(Object.values(cm.data as Record<string, string>)[0]).datasources.find((d: any) => d.type === 'loki');
    expect(loki.url.startsWith('https://')).toBe(true);
    expect(loki.jsonData.tlsAuthWithCACert).toBe(true);
    expect(loki.secureJsonData.tlsCACert).toBe(`$__file{${CA}}`);
  });

  test('every object passes the gate and the capacity guard', () => {
    expect(rendered.findings).toEqual([]);
  });

  test('off by default in every shipped environment (plain http)', () => {
    for (const env of ENVIRONMENTS) {
      const shipped = load(readFileSync(`${CONFIG_DIR}/${env}.yaml`, 'utf8'), `config/${env}.yaml`);
      expect([shipped.capabilities.logs!.loki.tls, shipped.capabilities.logs!.loki.url.startsWith('http://')]).toEqual([undefined, true]);
    }
  });

  test('fails on TLS with an http URL, and on TLS without the Loki add-on, naming the field', () => {
    const http = PROD.replace(/^( {2}loki: \{ url: http:\/\/[^,]+,)/m, `$1 ${TLS},`);
    expect(problems(() => buildEnvironment(load(http, 'config/prod.yaml')))).toContain(
      `config/prod.yaml:${lineOf(http, '  loki: {')}: logs.loki.url: expected the gateway of the Loki add-on (gitops.addons.loki, chart 6.30.0, logs.loki.tls on): https://loki-gateway.loki.svc.cluster.local/loki/api/v1/push`);
    const own = `${VALID_ENV}logs:\n  loki: { url: ${URL.replace('http:', 'https:')}, ${TLS} }\n`;
    expect(problems(() => buildEnvironment(load(own)))).toContain(
      `${FILE}:${lineOf(own, 'tls:')}: logs.loki.tls: expected no tls: the issuer signs the certificate of the Loki add-on's gateway, and no Loki add-on is installed (gitops.addons.loki)`);
  });
});

describe('logs config errors name file:line, field, expected and found', () => {

  test('an unknown log shipper', () => {
    const text = `${VALID_ENV}${SECTION}  logShipper: fluentbit\n`;
    expect(problems(() => load(text))).toContain(`${FILE}:${lineOf(text, 'fluentbit')}: logs.logShipper: expected promtail or alloy (Grafana Alloy is Promtail's successor), found "fluentbit"`);
  });

  test('logs on without a Loki URL: no loki at all, or loki without url', () => {
    const none = `${VALID_ENV}logs: {}\n`;
    expect(problems(() => load(none))).toContain(`${FILE}:${lineOf(none, 'logs:')}: logs.loki.url: expected the URL of Loki's push API, such as ${URL} (required: there is no default Loki), found nothing`);
    const noUrl = `${VALID_ENV}logs:\n  loki: { tenant: pronto }\n`;
    expect(problems(() => load(noUrl))).toContain(`${FILE}:${lineOf(noUrl, 'loki:')}: logs.loki.url: expected the URL of Loki's push API, such as ${URL} (required: there is no default Loki), found nothing`);
  });

  test.each([
    ['not a URL', 'loki-gateway', 'expected the URL of Loki\'s push API'],
    ['not the push path', 'http://loki-gateway.loki.svc/api/push', 'expected the path of Loki\'s push API, ending in /loki/api/v1/push'],
    ['another namespace than loki.namespace', 'http://loki-gateway.monitoring.svc/loki/api/v1/push', 'expected a Service of Loki\'s namespace (loki.namespace: loki)'],
    ['outside the cluster', 'https://logs.example.com/loki/api/v1/push', 'expected a Service of Loki\'s namespace (loki.namespace: loki): <name>.loki, <name>.loki.svc or <name>.loki.svc.cluster.local; a Loki outside the cluster is not supported yet'],
  ])('a Loki URL that is %s', (_name, url, message) => {
    const text = `${VALID_ENV}logs:\n  loki:\n    url: ${url}\n`;
    const got = problems(() => load(text));
    expect(got).toContain(`${FILE}:${lineOf(text, 'url:')}: logs.loki.url: ${message}`);
    expect(got).toContain(`found "${url}"`);
  });

  test('logins turned off while the Loki add-on\'s gateway requires them', () => {
    const text = PROD.replace(/^( {2}loki: \{ )(url: )/m, '$1basicAuth: false, $2');
    expect(text).not.toBe(PROD);
    expect(problems(() => buildEnvironment(load(text, 'config/prod.yaml')))).toContain(
      `config/prod.yaml:${lineOf(text, 'basicAuth: false')}: logs.loki.basicAuth: expected true or absent: the gateway of the Loki add-on (gitops.addons.loki) lets no one in without a login`);
  });

  test('logins without Vault, where their passwords are', () => {
    const text = `${VALID_ENV}logs:\n  loki: { url: ${URL}, tenant: pronto, basicAuth: true }\n`;
    expect(problems(() => buildEnvironment(load(text)))).toContain(
      `${FILE}:${lineOf(text, 'basicAuth')}: logs.loki.basicAuth: the shippers and Grafana log in to Loki with passwords from Vault, rendered into their pods by the Vault agent: turn on secrets`);
    // The Loki add-on's gateway asks for them with basicAuth absent: the message points at logs.loki.
    const noVault = ['secrets', 'database', 'backups'].reduce((t, key) => stripSection(t, key), PROD);
    expect(problems(() => buildEnvironment(load(noVault, 'config/prod.yaml')))).toContain(
      `config/prod.yaml:${lineOf(noVault, '  loki: {')}: logs.loki: the shippers and Grafana log in to Loki with passwords from Vault, rendered into their pods by the Vault agent: turn on secrets`);
  });

  test('basicAuth that is not a boolean', () => {
    const text = `${VALID_ENV}logs:\n  loki: { url: ${URL}, basicAuth: "yes" }\n`;
    expect(problems(() => load(text))).toContain(`${FILE}:${lineOf(text, 'basicAuth')}: logs.loki.basicAuth: expected true (every shipper and Grafana log in, passwords from Vault) or false (no login), found "yes"`);
  });

  test('an unknown service in the capture overrides', () => {
    const text = `${VALID_ENV}${SECTION}  capture:\n    services:\n      menu-app: file\n`;
    const names = load(VALID_ENV).services.map((s) => s.name).join(', ');
    expect(problems(() => buildEnvironment(load(text)))).toContain(
      `${FILE}:${lineOf(text, 'menu-app')}: logs.capture.services.menu-app: expected a catalog service (${names}), found "menu-app" (set to file)`);
  });

  test('an unknown capture mode, and a rotation size of zero', () => {
    const mode = `${VALID_ENV}${SECTION}  capture: { mode: syslog }\n`;
    expect(problems(() => load(mode))).toContain(`${FILE}:${lineOf(mode, 'syslog')}: logs.capture.mode: expected stdout (the app writes to stdout; its command is wrapped) or file (the app writes LOG_FILE itself), found "syslog"`);
    const zero = `${VALID_ENV}${SECTION}  capture: { rotateAtMi: 0 }\n`;
    expect(problems(() => load(zero))).toContain(`${FILE}:${lineOf(zero, 'rotateAtMi')}: logs.capture.rotateAtMi: expected a value ≥ 1, found 0`);
  });
});
