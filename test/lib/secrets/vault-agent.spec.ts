import { Testing } from 'cdk8s';
import { ANNOTATION_INJECTED, ContainerImage, Manifest, parseInjected, workloadRunAsId } from '../../../lib/core';
import {
  ANNOTATION_TOKEN_REASON, DEFAULT_SECRET_VOLUME_PATH, VAULT_AGENT_CONTAINERS, VAULT_TOKEN_VOLUME, VaultAgentProps, addVaultAgent,
} from '../../../lib/secrets';
import { PodExtensionPoint, ScheduledJob, Workload } from '../../../lib/workload';
import { gateFindingsInNamespace } from '../../helpers';
import { renderVaultTemplate } from '../../tools/vault-template';

const resources = {
  requests: { cpu: '25m', memory: '64Mi', ephemeralStorage: '64Mi' },
  limits: { cpu: '100m', memory: '128Mi', ephemeralStorage: '128Mi' },
};
const PROPS: VaultAgentProps = {
  role: 'pronto-billing',
  address: 'https://vault.vault.svc:8200',
  authPath: 'auth/kubernetes',
  appContainer: 'billing',
  secrets: [
    { file: 'db', env: 'DATABASE_URL_FILE', vaultPath: 'secret/data/pronto/billing/database', template: 'postgresql://{{ .Data.data.username }}@pgbouncer:6432/x' },
    { file: 'stripe-key', env: 'STRIPE_KEY_FILE', vaultPath: 'secret/data/pronto/billing/stripe', template: '{{ .Data.data.api_key }}' },
  ],
  resources,
  runAs: { user: 10100, group: 10001 },
  tokenAudience: 'vault',
  tokenExpirationSeconds: 3600,
};
const image = new ContainerImage({ repository: 'registry.example.com/pronto/billing', tag: '1.0.0', gitSha: 'abcdef1' });
const container = {
  name: 'billing', image, resources,
  ports: [{ name: 'http', number: 8080 }],
  probes: { liveness: { httpGet: { path: '/health/live', port: 'http' } }, readiness: { httpGet: { path: '/health/ready', port: 'http' } } },
};

function workload(props: Partial<VaultAgentProps> = {}): { manifests: Manifest[]; pod: any } {
  const chart = Testing.chart();
  const ext = new PodExtensionPoint('billing');
  addVaultAgent(ext, { ...PROPS, ...props });
  new Workload(chart, 'Billing', { name: 'billing', component: 'api', scaling: { kind: 'fixed', replicas: 2 }, containers: [container], extension: ext });
  const manifests = Testing.synth(chart) as Manifest[];
  return { manifests, pod: (manifests.find((m) => m.kind === 'Deployment') as any).spec.template };
}

describe('addVaultAgent', () => {
  const { manifests, pod } = workload();
  const a = pod.metadata.annotations;

  test('documented default: without runAs the agent runs under its pod\'s own ids, the workload\'s (no agent of another workload shares them)', () => {
    const { runAs: _explicit, ...rest } = PROPS;
    const chart = Testing.chart();
    const ext = new PodExtensionPoint('billing');
    addVaultAgent(ext, rest);
    new Workload(chart, 'Billing', { name: 'billing', component: 'api', scaling: { kind: 'fixed', replicas: 2 }, containers: [container], extension: ext });
    const template = (Testing.synth(chart).find((m) => m.kind === 'Deployment') as any).spec.template;
    const id = workloadRunAsId('billing');
    expect([template.metadata.annotations['vault.hashicorp.com/agent-run-as-user'], template.metadata.annotations['vault.hashicorp.com/agent-run-as-group']])
      .toEqual([String(id), String(id)]);
    expect(template.spec.securityContext).toMatchObject({ runAsUser: id, runAsGroup: id, fsGroup: id });
  });

  test('annotates the pod template for the injector, rendering exactly the files the app reads', () => {
    expect(a['vault.hashicorp.com/agent-inject']).toBe('true');
    expect(a['vault.hashicorp.com/role']).toBe('pronto-billing');
    expect(a['vault.hashicorp.com/service']).toBe('https://vault.vault.svc:8200');
    expect(a['vault.hashicorp.com/auth-path']).toBe('auth/kubernetes');
    expect(a['vault.hashicorp.com/secret-volume-path']).toBe('/run/secrets');
    expect(a['vault.hashicorp.com/agent-inject-containers']).toBe('billing');
    expect(a['vault.hashicorp.com/agent-pre-populate-only']).toBe('false');
    expect(a['vault.hashicorp.com/agent-run-as-user']).toBe('10100');
    expect(a['vault.hashicorp.com/agent-run-as-group']).toBe('10001');
    expect(a['vault.hashicorp.com/agent-set-security-context']).toBe('true');
    for (const s of PROPS.secrets) {
      expect(a[`vault.hashicorp.com/agent-inject-secret-${s.file}`]).toBe(s.vaultPath);
      expect(a[`vault.hashicorp.com/agent-inject-template-${s.file}`]).toBe(`{{- with secret "${s.vaultPath}" -}}${s.template}{{- end }}`);
      expect(a[`vault.hashicorp.com/agent-inject-file-${s.file}`]).toBe(s.file);
      expect(a[`vault.hashicorp.com/agent-inject-perms-${s.file}`]).toBe('0440');
    }
  });

  test('a file of several entries (forEach): four annotations however many names, a range that renders each name\'s block, the first entry as the secret', () => {
    const names = Array.from({ length: 50 }, (_, i) => `tenant-${i}`);
    const file = { file: 'tenants', env: 'TENANTS_FILE', vaultPath: 'secret/data/pronto/%s/key', template: '{{ $name }}={{ .Data.data.key }}\n', forEach: names };
    const many = workload({ secrets: [file] }).pod.metadata.annotations;
    const fewer = workload({ secrets: [{ ...file, forEach: names.slice(0, 2) }] }).pod.metadata.annotations;
    expect(Object.keys(many)).toEqual(Object.keys(fewer));
    expect(many['vault.hashicorp.com/agent-inject-secret-tenants']).toBe('secret/data/pronto/tenant-0/key');
    const template = many['vault.hashicorp.com/agent-inject-template-tenants'];
    expect(template).toBe(`{{- range $name := split "," "${names.join(',')}" }}{{ with secret (printf "secret/data/pronto/%s/key" $name) }}{{ $name }}={{ .Data.data.key }}\n{{ end }}{{- end }}`);
    const kv = Object.fromEntries(names.map((n) => [`secret/data/pronto/${n}/key`, { key: `k-${n}` }]));
    expect(renderVaultTemplate(template, kv)).toBe(names.map((n) => `${n}=k-${n}\n`).join(''));
  });

  test.each([
    ['a name with a comma', { forEach: ['a,b'] }, 'forEach: expected one or more names of lower-case letters, digits, "-" and "_", found "a,b"'],
    ['no names', { forEach: [] }, 'forEach: expected one or more names'],
    ['a name twice (Redis, for one, refuses a user defined twice)', { forEach: ['a', 'b', 'a'] }, 'forEach: expected each name once, found "a" twice'],
    ['a path without %s', { vaultPath: 'secret/data/pronto/key' }, 'vaultPath "secret/data/pronto/key": expected one %s where each name of forEach goes'],
    ['a path with another %', { vaultPath: 'secret/data/pronto/%s/%d' }, 'expected one %s where each name of forEach goes, and no other %'],
  ])('refuses a forEach file with %s', (_what, change, message) => {
    const file = { file: 'tenants', vaultPath: 'secret/data/pronto/%s/key', template: '{{ .Data.data.key }}', forEach: ['a'], ...change };
    expect(() => workload({ secrets: [file] })).toThrow(message);
  });

  test('states the agent resources and declares the init container and the sidecar as injected overhead', () => {
    expect(a['vault.hashicorp.com/agent-requests-cpu']).toBe('25m');
    expect(a['vault.hashicorp.com/agent-requests-mem']).toBe('64Mi');
    expect(a['vault.hashicorp.com/agent-requests-ephemeral']).toBe('64Mi');
    expect(a['vault.hashicorp.com/agent-limits-cpu']).toBe('100m');
    expect(a['vault.hashicorp.com/agent-limits-mem']).toBe('128Mi');
    expect(a['vault.hashicorp.com/agent-limits-ephemeral']).toBe('128Mi');
    expect(parseInjected(a[ANNOTATION_INJECTED])).toEqual([
      { name: VAULT_AGENT_CONTAINERS.sidecar, kind: 'sidecar', resources },
      { name: VAULT_AGENT_CONTAINERS.init, kind: 'init', resources },
    ]);
  });

  test('gives the app file paths, never values, and mounts the token into no container', () => {
    const app = pod.spec.containers[0];
    for (const s of PROPS.secrets) expect(app.env).toContainEqual({ name: s.env, value: `${DEFAULT_SECRET_VOLUME_PATH}/${s.file}` });
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.volumes).toContainEqual({
      name: VAULT_TOKEN_VOLUME,
      projected: { defaultMode: 0o440, sources: [{ serviceAccountToken: { audience: 'vault', expirationSeconds: 3600, path: 'token' } }] },
    });
    expect(a['vault.hashicorp.com/agent-service-account-token-volume-name']).toBe(VAULT_TOKEN_VOLUME);
    expect(a[ANNOTATION_TOKEN_REASON]).toContain('Vault agent');
    for (const c of pod.spec.containers) expect((c.volumeMounts ?? []).map((m: any) => m.name)).not.toContain(VAULT_TOKEN_VOLUME);
  });

  test('passes the whole validation gate', () => {
    expect(gateFindingsInNamespace(manifests)).toEqual([]);
  });

  test('a pod that runs to completion gets only the init container (agent-pre-populate-only)', () => {
    const chart = Testing.chart();
    const ext = new PodExtensionPoint('billing-report');
    addVaultAgent(ext, { ...PROPS, appContainer: 'report', runsToCompletion: true });
    new ScheduledJob(chart, 'Report', {
      name: 'billing-report', component: 'report', schedule: '0 4 * * *', activeDeadlineSeconds: 600, extension: ext,
      containers: [{ name: 'report', image, resources }],
    });
    const manifests = Testing.synth(chart) as Manifest[];
    const template = (manifests.find((m) => m.kind === 'CronJob') as any).spec.jobTemplate.spec.template;
    expect(template.metadata.annotations['vault.hashicorp.com/agent-pre-populate-only']).toBe('true');
    expect(parseInjected(template.metadata.annotations[ANNOTATION_INJECTED]).map((c) => c.kind)).toEqual(['init']);
    expect(gateFindingsInNamespace(manifests)).toEqual([]);
  });

  test.each<[string, Partial<VaultAgentProps>, string]>([
    ['no secret', { secrets: [] }, 'expected at least one secret'],
    ['a root-range agent UID', { runAs: { user: 100, group: 10001 } }, 'expected UID and GID ≥ 10000, found 100'],
    ['a token lifetime Kubernetes refuses', { tokenExpirationSeconds: 60 }, 'expected 600 to 86400, found 60'],
    ['an upper-case file name', { secrets: [{ ...PROPS.secrets[0], file: 'DB' }] }, 'file "DB": expected a lower-case DNS label'],
    ['a relative CA path', { tls: { caCertPath: 'ca.crt' } }, 'tls.caCertPath: expected an absolute file path, found "ca.crt"'],
    ['a TLS Secret name that is no name', { tls: { tlsSecret: 'Vault CA' } }, 'tls.tlsSecret: expected a Secret name, found "Vault CA"'],
    ['a template with its own with-secret', { secrets: [{ ...PROPS.secrets[0], template: '{{ with secret "x" }}{{ end }}' }] }, 'must not contain its own'],
    ['another reading container that is no container name', { otherContainers: ['Sidecar'] }, 'container "Sidecar": expected a container name'],
    ['the app container named again as another reader', { otherContainers: ['billing'] }, 'expected each container once, found billing, billing'],
    ['a relative secret volume path', { secretVolumePath: 'vault/secrets' }, 'secretVolumePath: expected an absolute path, found "vault/secrets"'],
  ])('refuses %s', (_name, props, message) => {
    expect(() => addVaultAgent(new PodExtensionPoint('billing'), { ...PROPS, ...props })).toThrow(message);
  });

  test('without an image, leaves the agent image to the injector; with one, the pod names it (vault.hashicorp.com/agent-image)', () => {
    expect(a['vault.hashicorp.com/agent-image']).toBeUndefined();
    const image = 'docker.io/hashicorp/vault:1.19.0';
    expect(workload({ image }).pod.metadata.annotations['vault.hashicorp.com/agent-image']).toBe(image);
  });

  test('without tls, leaves the CA to the injector\'s configuration; with it, names the CA file and the Secret that holds it', () => {
    expect(a['vault.hashicorp.com/ca-cert']).toBeUndefined();
    expect(a['vault.hashicorp.com/tls-secret']).toBeUndefined();
    const withTls = workload({ tls: { caCertPath: '/vault/tls/ca.crt', tlsSecret: 'vault-ca' } });
    expect(withTls.pod.metadata.annotations['vault.hashicorp.com/ca-cert']).toBe('/vault/tls/ca.crt');
    expect(withTls.pod.metadata.annotations['vault.hashicorp.com/tls-secret']).toBe('vault-ca');
    expect(gateFindingsInNamespace(withTls.manifests)).toEqual([]);
  });

  test('other containers that read the files (an add-on\'s sidecar) get the volume, not the env vars; the files may go elsewhere than /run/secrets', () => {
    const ext = new PodExtensionPoint('grafana');
    addVaultAgent(ext, { ...PROPS, appContainer: 'grafana', otherContainers: ['grafana-sc-datasources'], secretVolumePath: '/vault/secrets' });
    expect(ext.podAnnotations['vault.hashicorp.com/agent-inject-containers']).toBe('grafana,grafana-sc-datasources');
    expect(ext.podAnnotations['vault.hashicorp.com/secret-volume-path']).toBe('/vault/secrets');
    expect(ext.appEnv).toEqual(PROPS.secrets.map((s) => ({ name: s.env, value: `/vault/secrets/${s.file}` })));
  });

  test('refuses agent resources without ephemeral storage (the capacity guard needs every value)', () => {
    const broken = { ...resources, limits: { cpu: '100m', memory: '128Mi' } } as any;
    expect(() => addVaultAgent(new PodExtensionPoint('billing'), { ...PROPS, resources: broken })).toThrow('ephemeralStorage');
  });

  test('snapshot of the pod template', () => {
    expect(pod).toMatchSnapshot();
  });
});

describe('the gate rule no-service-account-token', () => {
  const findings = (mutate: (pod: any) => void): string[] => {
    const { manifests } = workload();
    mutate((manifests.find((m) => m.kind === 'Deployment') as any).spec.template);
    return gateFindingsInNamespace(manifests).filter((f) => f.startsWith('no-service-account-token'));
  };
  const P = 'Deployment pronto/billing spec.template.spec';

  test('passes a pod whose only token is the Vault agent\'s: projected, audience-bound, mounted into no container', () => {
    expect(findings(() => undefined)).toEqual([]);
  });

  test('fails the same token volume when no Vault agent claims it', () => {
    expect(findings((pod) => { delete pod.metadata.annotations['vault.hashicorp.com/agent-service-account-token-volume-name']; }))
      .toEqual([expect.stringContaining(`${P}.volumes[0]: volume "vault-token" projects a ServiceAccount token that no Vault agent claims`)]);
    expect(findings((pod) => { pod.metadata.annotations['vault.hashicorp.com/agent-inject'] = 'false'; }))
      .toEqual([expect.stringContaining(`${P}.volumes[0]: volume "vault-token" projects a ServiceAccount token that no Vault agent claims`)]);
  });

  test('fails the Vault agent\'s token when an app container mounts it', () => {
    expect(findings((pod) => { (pod.spec.containers[0].volumeMounts ??= []).push({ name: 'vault-token', mountPath: '/var/run/secrets/tokens' }); }))
      .toEqual([expect.stringContaining(`${P}.containers[0].volumeMounts[0]: container "billing" mounts the Vault agent's token volume "vault-token"`)]);
  });

  test('fails a token without an audience, or sharing its volume with other sources', () => {
    expect(findings((pod) => { delete pod.spec.volumes[0].projected.sources[0].serviceAccountToken.audience; }))
      .toEqual([expect.stringContaining(`${P}.volumes[0].projected.sources[0].serviceAccountToken.audience: expected an audience`)]);
    expect(findings((pod) => { pod.spec.volumes[0].projected.sources.push({ downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }); }))
      .toEqual([expect.stringContaining(`${P}.volumes[0].projected.sources: expected the Vault agent's token as the volume's only source`)]);
  });

  test('fails any other token: the automounted one (even with Vault annotations), or a second projected one', () => {
    expect(findings((pod) => { pod.spec.automountServiceAccountToken = true; }))
      .toEqual([expect.stringContaining(`${P}.automountServiceAccountToken: expected false, found true`)]);
    expect(findings((pod) => { pod.spec.volumes.push({ name: 'api-token', projected: { sources: [{ serviceAccountToken: { audience: 'api', path: 'token' } }] } }); }))
      .toEqual([expect.stringContaining(`${P}.volumes[1]: volume "api-token" projects a ServiceAccount token that no Vault agent claims`)]);
  });
});
