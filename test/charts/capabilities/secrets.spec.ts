/**
 * The secrets capability: Vault agent injection for every catalog service that has
 * secrets, the flows to the Vault server, the Vault policies and roles for the
 * administrators, and nothing that carries a credential anywhere in the output.
 * Expectations derive from the catalog and the config, never from a list of services.
 */
import { readFileSync } from 'fs';
import { Testing } from 'cdk8s';
import * as path from 'path';
import { addVaultSecrets, catalogReaders, vaultAdminFiles, vaultRoleName } from '../../../charts/capabilities/secrets';
import { DEFAULT_AGENT_RESOURCES, kubernetesAuthMount } from '../../../config/sections/secrets';
import { VAULT_AGENT_IMAGE } from '../../../lib/addons';
import { TOKEN_SELF_PATHS } from '../../../lib/secrets';
import { CATALOG, secretsOf } from '../../../config/catalog';
import { crossEnvironmentProblems, parseEnvironment } from '../../../config/load';
import { Catalog } from '../../../config/schema';
import { ANNOTATION_INJECTED, ContainerImage, Manifest, parseInjected } from '../../../lib/core';
import { checkCapacity } from '../../../lib/namespace';
import { runGate } from '../../../lib/validation';
import { PodExtensionPoint, ScheduledJob } from '../../../lib/workload';
import { VALID_ENV } from '../../fixtures/environments';
import { CONFIG_DIR, ENVIRONMENTS, buildEnvironment, cached, configProblems, renderText } from '../../helpers';

const FILE = 'config/test.yaml';
const SECTION = 'secrets:\n  kv: { prefix: pronto/test }\n';
const ON = `${VALID_ENV}${SECTION}`;
const load = (text: string, catalog: Catalog = CATALOG) => parseEnvironment(text, FILE, catalog);
const synth = buildEnvironment;
/** One build per environment text, shared by the tests that read the same one (read only). */
const synthText = cached((text: string) => synth(load(text)));
const problems = (text: string, catalog: Catalog = CATALOG): string => configProblems(() => load(text, catalog));
const lineOfSection = VALID_ENV.split('\n').length;

/** The pod templates of a catalog service's Deployments (one per blue-green slot). */
const servicePods = (manifests: Manifest[], service: string): any[] => manifests
  .filter((m) => m.kind === 'Deployment' && m.metadata.labels?.['app.kubernetes.io/name'] === service)
  .map((m) => (m.spec as any).template);

/** A shipped environment file, with the section appended unless it has one. */
const shippedWithSection = (env: string): string => {
  const text = readFileSync(path.join(CONFIG_DIR, `${env}.yaml`), 'utf8');
  return /^secrets:/m.test(text) ? text : `${text.replace(/\n*$/, '\n')}secrets:\n  kv: { prefix: pronto/${env} }\n`;
};

describe('the secrets section', () => {
  test('defaults every value, and names the Vault server\'s namespace as foreign', () => {
    const config = load(`${VALID_ENV}secrets: {}\n`);
    expect(config.capabilities.secrets).toEqual({
      address: 'https://vault.vault.svc:8200',
      server: { namespace: 'vault', podLabels: { 'app.kubernetes.io/name': 'vault', component: 'server' }, port: 8200 },
      kubernetesAuth: { tokenExpirationSeconds: 3600, tokenTtlSeconds: 3600, tokenMaxTtlSeconds: 86400 },
      kv: { mount: 'secret', prefix: 'pronto' },
      agent: { resources: DEFAULT_AGENT_RESOURCES, image: { ...VAULT_AGENT_IMAGE } },
    });
    expect(config.namespaces.foreign).toContain('vault');
  });

  test.each<[string, string, string[]]>([
    ['an address with a path', 'secrets:\n  address: https://vault.example.com/v1\n', [`:${lineOfSection + 1}: secrets.address`, 'expected a URL such as https://vault.vault.svc:8200', 'found "https://vault.example.com/v1"']],
    ['an in-cluster address outside the server namespace', 'secrets:\n  address: http://vault.secrets.svc:8200\n', [`:${lineOfSection + 1}: secrets.address`, "expected a Service of the Vault server's namespace (server.namespace: vault)", 'found "http://vault.secrets.svc:8200"']],
    ['an external Vault', 'secrets:\n  address: https://vault.example.com:8200\n', [`:${lineOfSection + 1}: secrets.address`, 'an external Vault (or one elsewhere in the cluster) is not supported yet', "the agent's egress would need its address blocks", 'found "https://vault.example.com:8200"']],
    ['an external Vault whose host ends like the namespace', 'secrets:\n  address: https://vault.vault.example.com:8200\n', [`:${lineOfSection + 1}: secrets.address`, 'an external Vault (or one elsewhere in the cluster) is not supported yet']],
    ['a bare host name', 'secrets:\n  address: https://vault:8200\n', [`:${lineOfSection + 1}: secrets.address`, '<name>.vault, <name>.vault.svc or <name>.vault.svc.cluster.local']],
    ['another cluster domain', 'secrets:\n  address: https://vault.vault.svc.example.internal:8200\n', [`:${lineOfSection + 1}: secrets.address`, 'is not supported yet']],
    ['an address in the namespace of another server.namespace', 'secrets:\n  address: https://vault-active.vault:8200\n  server: { namespace: hashicorp }\n', [`:${lineOfSection + 1}: secrets.address`, '(server.namespace: hashicorp)']],
    ['a port other than server.port', 'secrets:\n  address: https://vault-active.vault.svc:443\n', [`:${lineOfSection + 1}: secrets.address`, 'expected the port the Vault server pods listen on (server.port: 8200), found 443']],
    ['no port, the scheme\'s default differing from server.port', 'secrets:\n  address: https://vault.vault.svc\n', [`:${lineOfSection + 1}: secrets.address`, 'found 443 (the https default)']],
    ['a relative CA path', 'secrets:\n  tls: { caCertPath: vault/ca.crt }\n', [`:${lineOfSection + 1}: secrets.tls.caCertPath`, 'expected an absolute file path', 'found "vault/ca.crt"']],
    ['a TLS Secret name that is no name', 'secrets:\n  tls: { tlsSecret: Vault_CA }\n', [`:${lineOfSection + 1}: secrets.tls.tlsSecret`, 'expected the name of a Secret', 'found "Vault_CA"']],
    ['an unknown TLS key', 'secrets:\n  tls: { caCert: /vault/tls/ca.crt }\n', ['secrets.tls: unknown key "caCert"']],
    // The agent runs under its workload's own ids: a UID all agents would share is no longer a setting.
    ['an agent UID', 'secrets:\n  agent:\n    runAsUser: 10100\n', [`:${lineOfSection + 2}: secrets.agent`, 'unknown key "runAsUser"']],
    ['an agent limit below its request', 'secrets:\n  agent:\n    resources:\n      limits: { memory: 32Mi }\n', ['secrets.agent.resources.limits.memory', 'expected a limit ≥ the request (64Mi)', 'found "32Mi"']],
    ['a malformed KV prefix', 'secrets:\n  kv: { prefix: /pronto/ }\n', ['secrets.kv.prefix', 'expected a path such as pronto or pronto/prod', 'found "/pronto/"']],
    ['a token lifetime Kubernetes refuses', 'secrets:\n  kubernetesAuth: { tokenExpirationSeconds: 60 }\n', ['secrets.kubernetesAuth.tokenExpirationSeconds', 'expected a value ≥ 600', 'found 60']],
    ['an unknown key', 'secrets:\n  adress: https://vault.vault.svc:8200\n', ['secrets: unknown key "adress"']],
    ['the server namespace being Pronto\'s own', 'secrets:\n  address: https://vault.pronto.svc:8200\n  server: { namespace: pronto }\n', ['namespace.name: expected a namespace other than those Pronto only refers to', 'found "pronto"']],
  ])('fails on %s with file, line, field, expectation and what was found', (_name, section, expected) => {
    const message = problems(`${VALID_ENV}${section}`);
    for (const part of [FILE, ...expected]) expect(message).toContain(part);
  });
});

describe('the Vault address names the server pods the flow goes to', () => {
  test.each([
    ['https://vault.vault:8200', 'vault', 8200],
    ['https://vault-active.vault:8200', 'vault', 8200],
    ['https://vault.vault.svc:8200', 'vault', 8200],
    ['https://vault-active.vault.svc.cluster.local:8200', 'vault', 8200],
    ['https://vault.hashicorp.svc:8200', 'hashicorp', 8200],
    ['https://vault.vault.svc', 'vault', 443],
    ['http://vault.vault.svc:8200', 'vault', 8200],
  ] as Array<[string, string, number]>)('accepts %s (server.namespace %s, server.port %s)', (address, namespace, port) => {
    const config = load(`${VALID_ENV}secrets:\n  address: ${address}\n  server: { namespace: ${namespace}, port: ${port} }\n`);
    expect(config.capabilities.secrets!.address).toBe(address);
    const flows = synth(config).charts.graph.flows.filter((f) => f.declaredBy === 'secrets');
    expect(flows.length).toBeGreaterThan(0);
    for (const f of flows) {
      expect(f.to).toMatchObject({ kind: 'foreign', namespace });
      expect(f.ports).toEqual([{ port, protocol: 'TCP' }]);
    }
  });
});

describe('how the agent trusts Vault\'s certificate (tls)', () => {
  const annotationsOf = (text: string) => {
    const config = load(text);
    const reader = catalogReaders(config)[0];
    return servicePods(synthText(text).manifests, reader.name).map((pod) => pod.metadata.annotations);
  };

  test('absent with an https address: the CA file ca.crt of the Secret vault-ca, mounted at /vault/tls', () => {
    expect(load(ON).capabilities.secrets!.tls).toBeUndefined();
    for (const a of annotationsOf(ON)) {
      expect(a['vault.hashicorp.com/ca-cert']).toBe('/vault/tls/ca.crt');
      expect(a['vault.hashicorp.com/tls-secret']).toBe('vault-ca');
    }
  });

  test('caCertPath and tlsSecret reach every reading pod as vault.hashicorp.com/ca-cert and tls-secret', () => {
    const all = annotationsOf(`${ON}  tls: { caCertPath: /vault/tls/ca.crt, tlsSecret: vault-ca }\n`);
    expect(all.length).toBeGreaterThan(0);
    for (const a of all) {
      expect(a['vault.hashicorp.com/ca-cert']).toBe('/vault/tls/ca.crt');
      expect(a['vault.hashicorp.com/tls-secret']).toBe('vault-ca');
    }
  });

  test('a CA file of the agent image alone: only its annotation; a Secret without the CA file in it is refused (the mount sets no CA)', () => {
    for (const a of annotationsOf(`${ON}  tls: { caCertPath: /etc/ssl/vault-ca.pem }\n`)) {
      expect(a['vault.hashicorp.com/ca-cert']).toBe('/etc/ssl/vault-ca.pem');
      expect(a['vault.hashicorp.com/tls-secret']).toBeUndefined();
    }
    const text = `${ON}  tls: { tlsSecret: vault-ca }\n`;
    expect(configProblems(() => synthText(text))).toContain('secrets.tls.caCertPath: expected the CA file inside secrets.tls.tlsSecret, such as /vault/tls/ca.crt: the mount alone sets no CA');
  });

  test('the pods still pass the whole gate and the capacity guard', () => {
    const text = `${ON}  tls: { caCertPath: /vault/tls/ca.crt, tlsSecret: vault-ca }\n`;
    const config = load(text);
    const { manifests } = synthText(text);
    expect(runGate(manifests).findings).toEqual([]);
    expect(checkCapacity(manifests, config.namespace.name)).toEqual([]);
  });
});

describe('the catalog\'s secrets', () => {
  test('every data store a service uses gives it its own credentials, below its own path', () => {
    for (const [svc, entry] of Object.entries(CATALOG)) {
      const all = secretsOf(svc, { dataStores: entry.dataStores, secrets: entry.secrets ?? [] });
      expect(all.length).toBe(entry.dataStores.length + (entry.secrets ?? []).length);
      for (const s of all) expect(s.path.startsWith(`${svc}/`)).toBe(true);
    }
  });

  const withSecrets = (svc: string, secrets: unknown[]): Catalog => ({ ...CATALOG, [svc]: { ...CATALOG[svc], secrets } as never });
  const someService = Object.keys(CATALOG).find((s) => CATALOG[s].dataStores.includes('postgres'))!;
  const other = Object.keys(CATALOG).find((s) => s !== someService)!;
  const valid = { path: `${someService}/extra`, file: 'extra', env: 'EXTRA_FILE', template: '{{ .Data.data.value }}' };

  test.each<[string, unknown, string]>([
    ['a path of another service', { ...valid, path: `${other}/extra` }, `${someService}.secrets.0.path: expected a path below the service's own "${someService}/"`],
    ['a file its data store already renders', { ...valid, file: 'db' }, `${someService}.secrets.0.file: expected a file no other secret of ${someService} uses, found "db"`],
    ['an env var its data store already sets', { ...valid, env: 'DATABASE_URL_FILE' }, 'expected a env no other secret'],
    ['an env var that would carry the value', { ...valid, env: 'EXTRA_SECRET' }, 'expected an upper-case env var name ending in _FILE'],
    ['a template without a field', { ...valid, template: 'hunter2' }, 'expected a template body reading fields as {{ .Data.data.<field> }}'],
  ])('fails on %s', (_name, secret, message) => {
    const found = problems(ON, withSecrets(someService, [secret]));
    expect(found).toContain('config/catalog.ts');
    expect(found).toContain(message);
  });
});

describe('the secrets capability, on', () => {
  const config = load(ON);
  const section = config.capabilities.secrets!;
  const { charts, manifests } = synthText(ON);

  test('every catalog service with secrets gets the Vault agent in every slot, rendering exactly its secrets', () => {
    for (const svc of config.services) {
      const secrets = secretsOf(svc.name, svc.catalog);
      const pods = servicePods(manifests, svc.name);
      expect(pods.length).toBeGreaterThan(0);
      for (const pod of pods) {
        const a = pod.metadata.annotations;
        if (secrets.length === 0) {
          expect(Object.keys(a).filter((k) => k.startsWith('vault.hashicorp.com/'))).toEqual([]);
          continue;
        }
        expect(a['vault.hashicorp.com/agent-inject']).toBe('true');
        // The pod names its agent image (secrets.agent.image): whichever injector serves the namespace injects exactly it.
        expect(a['vault.hashicorp.com/agent-image']).toBe(`${section.agent.image.repository}:${section.agent.image.tag}`);
        expect(a['vault.hashicorp.com/role']).toBe(vaultRoleName(section, svc.name));
        expect(a['vault.hashicorp.com/agent-inject-containers']).toBe(pod.spec.containers[0].name);
        expect(pod.spec.containers[0].name).toBe(svc.name);
        expect(a['vault.hashicorp.com/secret-volume-path']).toBe('/run/secrets');
        expect(a['vault.hashicorp.com/service']).toBe(section.address);
        expect(a['vault.hashicorp.com/auth-path']).toBe(kubernetesAuthMount(section, config.name).path);
        expect(a['vault.hashicorp.com/agent-pre-populate-only']).toBe('false');
        expect(Number(a['vault.hashicorp.com/agent-run-as-user'])).toBeGreaterThanOrEqual(10000);
        expect(Number(a['vault.hashicorp.com/agent-run-as-group'])).toBeGreaterThanOrEqual(10000);
        const injected = Object.keys(a).filter((k) => k.startsWith('vault.hashicorp.com/agent-inject-secret-'))
          .map((k) => [k.slice('vault.hashicorp.com/agent-inject-secret-'.length), a[k]]);
        expect(injected.sort()).toEqual(secrets.map((s) => [s.file, `${section.kv.mount}/data/${section.kv.prefix}/${s.path}`]).sort());
        for (const s of secrets) {
          expect(a[`vault.hashicorp.com/agent-inject-template-${s.file}`])
            .toBe(`{{- with secret "${section.kv.mount}/data/${section.kv.prefix}/${s.path}" -}}${s.template}{{- end }}`);
          expect(pod.spec.containers[0].env).toContainEqual({ name: s.env, value: `/run/secrets/${s.file}` });
        }
        expect(parseInjected(a[ANNOTATION_INJECTED])).toEqual(expect.arrayContaining([
          { name: 'vault-agent-init', kind: 'init', resources: section.agent.resources },
          { name: 'vault-agent', kind: 'sidecar', resources: section.agent.resources },
        ]));
      }
    }
  });

  test('every pod that reads secrets authenticates with an audience-bound token that no container of the manifest mounts', () => {
    for (const reader of catalogReaders(config)) {
      for (const pod of servicePods(manifests, reader.name)) {
        expect(pod.spec.automountServiceAccountToken).toBe(false);
        const volume = pod.spec.volumes.find((v: any) => v.name === pod.metadata.annotations['vault.hashicorp.com/agent-service-account-token-volume-name']);
        expect(volume.projected.sources).toEqual([{ serviceAccountToken: { audience: kubernetesAuthMount(section, config.name).audience, expirationSeconds: 3600, path: 'token' } }]);
        for (const c of pod.spec.containers) expect((c.volumeMounts ?? []).map((m: any) => m.name)).not.toContain(volume.name);
      }
    }
  });

  test('every service with secrets may reach the Vault server pods on their port', () => {
    const flows = charts.graph.flows.filter((f) => f.declaredBy === 'secrets');
    expect(flows.map((f) => f.from.name).sort()).toEqual(catalogReaders(config).map((r) => r.name).sort());
    for (const f of flows) {
      expect(f.to).toEqual({ kind: 'foreign', name: 'vault', namespace: section.server.namespace, podLabels: section.server.podLabels });
      expect(f.ports).toEqual([{ port: 8200, protocol: 'TCP' }]);
    }
  });

  test('the Vault files: one read-only policy per service on exactly its paths, one role bound to its ServiceAccount and namespace', () => {
    const files = vaultAdminFiles(config);
    const readers = catalogReaders(config);
    expect(files.filter((f) => f.path.startsWith('vault/policies/')).length).toBe(readers.length);
    for (const reader of readers) {
      const name = vaultRoleName(section, reader.name);
      const policy = files.find((f) => f.path === `vault/policies/${name}.hcl`)!.text;
      const granted = [...policy.matchAll(/^path "([^"]+)" \{\n {2}capabilities = \["read"\]\n\}$/gm)].map((m) => m[1])
        .filter((p) => !TOKEN_SELF_PATHS.some(([own]) => own === p));
      expect(granted).toEqual(secretsOf(reader.name, config.services.find((s) => s.name === reader.name)!.catalog)
        .map((s) => `secret/data/pronto/test/${s.path}`).sort());
      // Its secrets, then its own token's lookup and renewal (the role has no default policy).
      expect(policy.match(/capabilities/g)!.length).toBe(granted.length + TOKEN_SELF_PATHS.length);
      expect(JSON.parse(files.find((f) => f.path === `vault/roles/${name}.json`)!.text).token_no_default_policy).toBe(true);
      const role = JSON.parse(files.find((f) => f.path === `vault/roles/${name}.json`)!.text);
      expect(role.bound_service_account_names).toEqual([reader.name]);
      expect(role.bound_service_account_namespaces).toEqual([config.namespace.name]);
      expect(role.token_policies).toEqual([name]);
      expect(role.audience).toBe(kubernetesAuthMount(section, config.name).audience);
    }
    expect(files.map((f) => f.path)).toContain('vault/apply.sh');
  });

  test('a ScheduledJob reading secrets gets only the agent\'s init container (agent-pre-populate-only), and passes the gate', () => {
    const chart = Testing.chart();
    const pod = new PodExtensionPoint('nightly-report');
    addVaultSecrets(pod, {
      name: 'nightly-report', serviceAccount: 'nightly-report', appContainer: 'report',
      secrets: [{ path: 'nightly-report/database', file: 'db', env: 'DATABASE_URL_FILE', template: '{{ .Data.data.url }}' }],
    }, section, config, true);
    new ScheduledJob(chart, 'Report', {
      name: 'nightly-report', component: 'report', schedule: '0 4 * * *', activeDeadlineSeconds: 600, extension: pod,
      containers: [{ name: 'report', image: new ContainerImage({ repository: 'registry.example.com/pronto/report', tag: '1.0.0', gitSha: 'abcdef1' }),
        resources: DEFAULT_AGENT_RESOURCES }],
    });
    const cron = Testing.synth(chart).find((m) => m.kind === 'CronJob') as any;
    const a = cron.spec.jobTemplate.spec.template.metadata.annotations;
    expect(a['vault.hashicorp.com/agent-pre-populate-only']).toBe('true');
    expect(parseInjected(a[ANNOTATION_INJECTED])).toEqual([{ name: 'vault-agent-init', kind: 'init', resources: section.agent.resources }]);
  });

  test('passes the whole gate and the capacity guard', () => {
    expect(runGate(manifests).findings).toEqual([]);
    expect(checkCapacity(manifests, config.namespace.name)).toEqual([]);
  });
});

describe('the shipped environments with the section on', () => {
  /** One render per environment, shared by both tests (read only). */
  const renderShipped = (env: string) => renderText(shippedWithSection(env), `config/${env}.yaml`);

  test.each(ENVIRONMENTS.map((env) => [env]))('%s: every object passes the gate and the capacity guard', (env) => {
    const config = parseEnvironment(shippedWithSection(env), `config/${env}.yaml`);
    const rendered = renderShipped(env);
    expect(rendered.findings).toEqual([]);
    expect(checkCapacity(rendered.manifests, config.namespace.name)).toEqual([]);
    expect(vaultAdminFiles(config).length).toBeGreaterThan(0);
  });

  test.each(ENVIRONMENTS.map((env) => [env]))('%s: no Secret with data and no literal credential in any file written', (env) => {
    const config = parseEnvironment(shippedWithSection(env), `config/${env}.yaml`);
    const rendered = renderShipped(env);
    expect(rendered.manifests.filter((m) => m.kind === 'Secret')).toEqual([]);
    const files = [...rendered.files.map((f) => ({ path: f.name, text: f.text })), ...vaultAdminFiles(config)];
    expect(files.flatMap((f) => credentialsIn(f.text).map((c) => `${f.path}: ${c}`))).toEqual([]);
  });

  /** What each environment's output says of its Vault auth: the path apply.sh writes roles to, the roles' audiences, the pods' annotations and tokens. */
  const authOf = (env: string) => {
    const rendered = renderShipped(env);
    const file = (name: string) => rendered.files.find((f) => f.name === path.join('vault', name))!.text;
    const roles = rendered.files.filter((f) => f.name.startsWith(path.join('vault', 'roles'))).map((f) => JSON.parse(f.text));
    const pods = rendered.manifests.flatMap((m: any) => [m.spec?.template, m.spec?.jobTemplate?.spec?.template]).filter((t) => t?.metadata?.annotations?.['vault.hashicorp.com/agent-inject']);
    return {
      paths: new Set([...file('apply.sh').matchAll(/^vault write (\S+)\/role\//gm)].map((m) => m[1])),
      audiences: new Set(roles.map((r) => r.audience as string)),
      podPaths: new Set(pods.map((t) => t.metadata.annotations['vault.hashicorp.com/auth-path'] as string)),
      tokenAudiences: new Set(pods.flatMap((t) => t.spec.volumes.filter((v: any) => v.projected).flatMap((v: any) => v.projected.sources.map((s: any) => s.serviceAccountToken?.audience)))),
    };
  };

  test.each(ENVIRONMENTS.map((env) => [env]))('%s: one auth mount and one audience, the same for its roles, its pods\' annotations and their tokens', (env) => {
    const auth = authOf(env);
    expect(auth.paths.size).toBe(1);
    expect(auth.audiences.size).toBe(1);
    expect(auth.podPaths).toEqual(auth.paths);
    expect(auth.tokenAudiences).toEqual(auth.audiences);
  });

  test.each(ENVIRONMENTS.map((env) => [env]))('%s: the injector\'s in-memory volumes (no sizeLimit in vault-k8s 1.6.2) are bounded by the pod\'s memory limit: every container of every injected pod has one, the agent\'s included', (env) => {
    // kubelet sizes a memory emptyDir without sizeLimit to the pod's memory limit, and to node memory when any container lacks one
    // (pkg/volume/emptydir/empty_dir.go calculateEmptyDirMemorySize); its pages count against the writing container's limit.
    const rendered = renderShipped(env);
    const pods = rendered.manifests.flatMap((m: any) => [m.spec?.template, m.spec?.jobTemplate?.spec?.template]).filter((t) => t?.metadata?.annotations?.['vault.hashicorp.com/agent-inject']);
    expect(pods.length).toBeGreaterThan(0);
    for (const pod of pods) {
      const a = pod.metadata.annotations;
      const own = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].map((c: any) => ({ name: c.name, memory: c.resources?.limits?.memory }));
      const injected = parseInjected(a[ANNOTATION_INJECTED]).filter((c) => c.name.startsWith('vault-agent')).map((c) => ({ name: c.name, memory: c.resources.limits.memory }));
      expect(injected.map((c) => c.name)).toContain('vault-agent-init');
      expect(a['vault.hashicorp.com/agent-limits-mem']).toBe(injected[0].memory);
      for (const c of [...own, ...injected]) expect({ pod: pod.metadata.labels['app.kubernetes.io/name'], ...c }).toEqual({ pod: pod.metadata.labels['app.kubernetes.io/name'], name: c.name, memory: expect.stringMatching(/^\d+(Mi|Gi)$/) });
    }
  });

  test('no two environments share a role\'s auth mount or audience: a token of one cluster never logs in to another environment\'s roles', () => {
    const all = ENVIRONMENTS.map((env) => ({ env, ...authOf(env) }));
    for (const [i, a] of all.entries()) {
      for (const b of all.slice(i + 1)) {
        expect({ pair: `${a.env}/${b.env}`, sharedPaths: [...a.paths].filter((p) => b.paths.has(p)), sharedAudiences: [...a.audiences].filter((x) => b.audiences.has(x)) })
          .toEqual({ pair: `${a.env}/${b.env}`, sharedPaths: [], sharedAudiences: [] });
      }
    }
  });
});

describe('environments side by side: a shared Vault auth mount or audience is refused at synth', () => {
  const two = (extra: string) => ['staging', 'prod'].map((env) => parseEnvironment(`${shippedWithSection(env).replace(/^secrets:\n/m, `secrets:\n${extra}`)}`, `config/${env}.yaml`));

  test('by default each environment has its own: auth/kubernetes-<env> and vault-<env>', () => {
    expect(crossEnvironmentProblems(ENVIRONMENTS.map((env) => parseEnvironment(shippedWithSection(env), `config/${env}.yaml`)))).toEqual([]);
    const config = parseEnvironment(shippedWithSection('prod'), 'config/prod.yaml');
    expect(kubernetesAuthMount(config.capabilities.secrets!, config.name)).toEqual({ path: 'auth/kubernetes-prod', audience: 'vault-prod' });
  });

  test.each<[string, string, string[]]>([
    ['the same auth mount', '  kubernetesAuth: { path: auth/kubernetes }\n', ['secrets.kubernetesAuth.path', 'expected an auth mount of this environment\'s own (absent: auth/kubernetes-prod)', 'found "auth/kubernetes", which config/staging.yaml uses too']],
    ['the same audience', '  kubernetesAuth: { audience: vault }\n', ['secrets.kubernetesAuth.audience', 'expected a token audience of this environment\'s own (absent: vault-prod)', 'found "vault", which config/staging.yaml uses too']],
  ])('fails on %s, naming both files, the field and what was found', (_name, extra, parts) => {
    const configs = two(extra);
    const problems = crossEnvironmentProblems(configs);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^config/prod\\.yaml:${configs[1].lineOf(['secrets', 'kubernetesAuth'])}: `));
    for (const part of parts) expect(problems[0]).toContain(part);
  });
});

describe('the secrets capability, off', () => {
  test('absent or false: the output is byte-identical to the output without it, and no Vault file is written', () => {
    // Objects as JSON: equal text for equal objects, key order included, at a fraction of YAML's cost.
    const render = (text: string) => synth(load(text)).manifests.map((m) => JSON.stringify(m)).join('---\n');
    const without = render(VALID_ENV);
    expect(render(`${VALID_ENV}secrets: false\n`)).toBe(without);
    expect(without).not.toContain('vault.hashicorp.com');
    expect(vaultAdminFiles(load(VALID_ENV))).toEqual([]);
    expect(vaultAdminFiles(load(`${VALID_ENV}secrets: false\n`))).toEqual([]);
  });
});

describe('the credential scan', () => {
  test.each([
    ['password: hunter2'],
    ['  STRIPE_API_KEY: sk_live_abcdefghijklmnop'],
    ['value: postgresql://app:s3cret@pgbouncer:6432/orders'],
    ['-----BEGIN RSA PRIVATE KEY-----'],
    ['- name: DB_PASSWORD\n  value: hunter2'],
    ['kind: Secret\ndata:\n  password: aHVudGVyMg=='],
  ])('finds %s', (text) => {
    expect(credentialsIn(text)).not.toEqual([]);
  });

  test('accepts file paths, Vault paths and templates', () => {
    expect(credentialsIn([
      '- name: DATABASE_URL_FILE\n  value: /run/secrets/db',
      'vault.hashicorp.com/agent-inject-template-db: \'{{- with secret "secret/data/pronto/x/database" -}}postgresql://{{ .Data.data.username | urlquery }}:{{ .Data.data.password | urlquery }}@pgbouncer:6432/x{{- end }}\'',
      'path "secret/data/pronto/x/stripe" {',
    ].join('\n'))).toEqual([]);
  });
});

/** What in `text` looks like a credential: secret-like keys with literal values, inline URL credentials, known key formats, Secret data. */
function credentialsIn(text: string): string[] {
  const found: string[] = [];
  const SECRET_KEY = /(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY)/i;
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    // `key: value`, skipping annotation keys and values that are paths, templates or references.
    const kv = /^\s*-?\s*"?([A-Za-z0-9_.\-/]+)"?\s*:\s*(.+)$/.exec(line);
    // `secretName` names a Secret (cert-manager's certificate Secret, which a Certificate writes and a pod mounts by name), never holds one.
    if (kv && SECRET_KEY.test(kv[1]) && !kv[1].includes('/') && kv[1] !== 'secretName' && !isHarmless(kv[2])) found.push(`line ${i + 1}: ${kv[1]} has a literal value`);
    // An env entry whose name is secret-like and whose value is literal.
    const name = /^\s*-?\s*name:\s*"?([A-Z0-9_]+)"?\s*$/.exec(line);
    const value = /^\s*value:\s*(.+)$/.exec(lines[i + 1] ?? '');
    if (name && SECRET_KEY.test(name[1]) && !name[1].endsWith('_FILE') && value && !isHarmless(value[1])) found.push(`line ${i + 2}: ${name[1]} has a literal value`);
    // Credentials inside a URL that are not template expressions.
    for (const m of line.matchAll(/[a-z][a-z0-9+.-]*:\/\/([^\s/@'"{}]*):([^\s/@'"{}]+)@/gi)) found.push(`line ${i + 1}: URL with inline credentials (${m[1]}:…)`);
    if (/sk_(live|test)_[0-9a-zA-Z]{8,}|rk_(live|test)_[0-9a-zA-Z]{8,}|AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/.test(line)) {
      found.push(`line ${i + 1}: a known credential format`);
    }
  });
  if (/^kind: Secret$/m.test(text) && /^(data|stringData):/m.test(text)) found.push('a Secret with data');
  return found;
}

function isHarmless(value: string): boolean {
  const v = value.trim().replace(/,$/, '').replace(/^["']|["']$/g, '');
  // Empty, a path, a template, a reference, a scalar that is no secret, or the opening of a nested value.
  // `$__file{/path}`: Grafana reads the value from a file at provisioning time.
  return v === '' || v.startsWith('/') || v.startsWith('{{') || v.startsWith('$(') || v.startsWith('$__file{/') || /^(true|false|\d+|null|\{\}|\[\]|\{|\[|\||>)$/.test(v);
}
