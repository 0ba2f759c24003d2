/**
 * The `secrets` capability: every service that has secrets (its data stores' credentials
 * and those it declares in config/catalog.ts) gets them from HashiCorp Vault, rendered by
 * the injected Vault agent into in-memory files under /run/secrets; the app finds each file
 * through an env var. The Vault administrators get, per environment, the matching
 * policies and Kubernetes-auth roles ({@link vaultAdminFiles}).
 */
import { DataStoreTls, secretsOf } from '../../../config/catalog';
import { ConfigError, EnvironmentConfig, ServiceModel } from '../../../config/load';
import { AddonContracts } from '../../../lib/addons';
import { ForeignEndpoint, agentRunAsIds, resourceName, workloadEndpoint } from '../../../lib/core';
import { DEFAULT_SECRET_VOLUME_PATH, VAULT_AGENT_CONTAINERS, VaultAuthOptions, VaultClient, VaultFile, addVaultAgent, kvReadPath, secretFilePaths, vaultFiles } from '../../../lib/secrets';
import { PodExtensionPoint } from '../../../lib/workload';
import { Capability, VaultReader } from '../capability';
import { Ports, VaultPort } from '../ports';

export type { VaultReader } from '../capability';
import { SectionValue } from '../../../config/sections';
import { kubernetesAuthMount, vaultTls } from '../../../config/sections/secrets';

type Section = SectionValue<'secrets'>;

/** Name of the Vault role and policy of `workload`: the KV prefix with "-" for "/", then the workload, e.g. `pronto-order-service`. */
export function vaultRoleName(section: Section, workload: string): string {
  return `${section.kv.prefix.replace(/\//g, '-')}-${workload}`;
}

/**
 * Adds the Vault agent to the pods of `reader`. A later capability calls it for its own
 * workloads; for a ScheduledJob (or any pod that runs to completion) pass
 * `runsToCompletion: true`, so the agent only pre-populates the files
 * (`agent-pre-populate-only: "true"`) and the Job can complete. Include the reader in
 * {@link vaultAdminFiles} so that its role and policy exist.
 */
export function addVaultSecrets(pod: PodExtensionPoint, reader: VaultReader, section: Section, config: Pick<EnvironmentConfig, 'name'>,
  runsToCompletion = false): void {
  const { kv, agent, kubernetesAuth } = section;
  const auth = kubernetesAuthMount(section, config.name);
  const tls = vaultTls(section);
  addVaultAgent(pod, {
    role: vaultRoleName(section, reader.name),
    address: section.address,
    // The per-pod CA file; an injector CA bundle reaches the agents through the injector itself.
    ...(tls?.caCertPath ? { tls: { caCertPath: tls.caCertPath, ...(tls.tlsSecret ? { tlsSecret: tls.tlsSecret } : {}) } } : {}),
    authPath: auth.path,
    appContainer: reader.appContainer,
    ...(reader.otherContainers ? { otherContainers: reader.otherContainers } : {}),
    ...(reader.secretVolumePath ? { secretVolumePath: reader.secretVolumePath } : {}),
    secrets: reader.secrets.map((s) => ({
      file: s.file, template: s.template, vaultPath: kvReadPath(kv.mount, kv.prefix, s.path),
      ...(s.env !== undefined ? { env: s.env } : {}), ...(s.mode !== undefined ? { mode: s.mode } : {}),
      ...(s.forEach !== undefined ? { forEach: s.forEach } : {}),
    })),
    resources: agent.resources,
    tokenAudience: auth.audience,
    tokenExpirationSeconds: kubernetesAuth.tokenExpirationSeconds,
    runsToCompletion,
    image: agentImageReference(section),
    runAs: agentRunAsIds(pod.owner, pod.runAs),
  });
}

/**
 * A catalog service as a Vault reader: its own secrets, then the entries the capabilities add
 * to its pods (`added`, {@link Ports.serviceSecrets}), whose containers get the files too;
 * undefined when it reads none. An added entry outside the service's own paths, or a file
 * named like another, is refused.
 */
export function serviceReader(svc: ServiceModel, added: Ports['serviceSecrets'] = {}, tls: DataStoreTls = {}): VaultReader | undefined {
  const own = secretsOf(svc.name, svc.catalog, tls);
  const extra = added[svc.name] ?? [];
  for (const e of extra) {
    if (!e.path.startsWith(`${svc.name}/`)) throw new Error(`${e.declaredBy}: Vault entry "${e.path}" for ${svc.name}: expected a path below ${svc.name}/ (a service reads only its own entries)`);
    const clash = [...own, ...extra.filter((x) => x !== e)].find((x) => x.file === e.file);
    if (clash) throw new Error(`${e.declaredBy}: Vault file "${e.file}" for ${svc.name} is rendered twice (also from ${clash.path})`);
  }
  if (own.length + extra.length === 0) return undefined;
  const others = [...new Set(extra.map((e) => e.container))];
  return {
    name: svc.name, serviceAccount: resourceName(svc.name), appContainer: svc.name,
    ...(others.length > 0 ? { otherContainers: others } : {}),
    secrets: [...own, ...extra.map(({ path, file, template, mode }) => ({ path, file, template, mode }))],
  };
}

/** The catalog services that read secrets, as Vault readers ({@link serviceReader}). */
export function catalogReaders(config: EnvironmentConfig, added: Ports['serviceSecrets'] = {}): VaultReader[] {
  return config.services.map((svc) => serviceReader(svc, added)).filter((r): r is VaultReader => r !== undefined);
}

/**
 * The files the Vault administrators apply for this environment, paths relative to
 * `dist/<env>/`: `vault/policies/<role>.hcl`, `vault/roles/<role>.json` and `vault/apply.sh`.
 * None when the capability is off. `extra` adds the readers of other capabilities, `added`
 * the entries they add to the services' own ({@link Ports.serviceSecrets}).
 */
export function vaultAdminFiles(config: EnvironmentConfig, extra: readonly VaultReader[] = [], added: Ports['serviceSecrets'] = {}): VaultFile[] {
  const section = config.capabilities.secrets;
  if (!section) return [];
  const clients: VaultClient[] = [...catalogReaders(config, added), ...extra].map((reader) => ({
    name: vaultRoleName(section, reader.name),
    workload: reader.name,
    serviceAccount: reader.serviceAccount,
    namespace: reader.namespace ?? config.namespace.name,
    paths: reader.secrets.flatMap((s) => secretFilePaths({ vaultPath: kvReadPath(section.kv.mount, section.kv.prefix, s.path), forEach: s.forEach })),
  }));
  const mount = kubernetesAuthMount(section, config.name);
  const auth: VaultAuthOptions = {
    authPath: mount.path,
    audience: mount.audience,
    tokenTtlSeconds: section.kubernetesAuth.tokenTtlSeconds,
    tokenMaxTtlSeconds: section.kubernetesAuth.tokenMaxTtlSeconds,
  };
  return vaultFiles(clients, auth).map((f) => ({ path: `vault/${f.path}`, text: f.text }));
}

/** The Vault server pods, in their own namespace. */
export function vaultServer(section: Section): ForeignEndpoint {
  return { kind: 'foreign', name: 'vault', namespace: section.server.namespace, podLabels: section.server.podLabels };
}

/**
 * The Vault port, and what an https address needs: the agent must trust Vault's certificate,
 * through a CA file in the agent containers (`tls.caCertPath`, from `tls.tlsSecret` under
 * /vault/tls) or the CA the injector Pronto installs hands every agent (`tls.injectorCaBundle`).
 */
export function vaultPort(section: Section, config: EnvironmentConfig, addons: AddonContracts): VaultPort {
  const tls = vaultTls(section) ?? {};
  const at = (field: string) => `${config.file}:${config.lineOf(['secrets', 'tls', field])}: secrets.tls.${field}`;
  const problems: string[] = [];
  if (section.address.startsWith('https:') && tls.caCertPath === undefined && tls.injectorCaBundle === undefined) {
    problems.push(`${config.file}:${config.lineOf(['secrets', 'address'])}: secrets.address: is https (${section.address}), so the agent must trust Vault's certificate: ` +
      'expected secrets.tls.caCertPath (a CA file from secrets.tls.tlsSecret, mounted at /vault/tls) or secrets.tls.injectorCaBundle (the injector Pronto installs hands it to every agent)');
  }
  if (tls.tlsSecret !== undefined && tls.caCertPath === undefined) {
    problems.push(`${at('caCertPath')}: expected the CA file inside secrets.tls.tlsSecret, such as /vault/tls/ca.crt: the mount alone sets no CA`);
  }
  if (tls.caCertPath?.startsWith('/vault/tls/') && tls.tlsSecret === undefined) {
    problems.push(`${at('tlsSecret')}: expected the Secret mounted at /vault/tls, where secrets.tls.caCertPath (${tls.caCertPath}) is`);
  }
  if (tls.injectorCaBundle !== undefined && !addons.vaultAgentInjector) {
    problems.push(`${at('injectorCaBundle')}: needs the Vault injector Pronto installs: turn on gitops.addons.vaultAgentInjector, or give secrets.tls.caCertPath and tlsSecret`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    address: section.address, authPath: kubernetesAuthMount(section, config.name).path, ...(tls.injectorCaBundle ? { injectorCaBundle: tls.injectorCaBundle } : {}),
    server: vaultServer(section), serverPort: section.server.port, agentImage: agentImageReference(section),
    agentRunAs: (workload, pod) => agentRunAsIds(workload, pod), secretDir: DEFAULT_SECRET_VOLUME_PATH,
    inject: (pod, reader, runsToCompletion) => addVaultSecrets(pod, reader, section, config, runsToCompletion),
  };
}

/** `repository:tag[@digest]` of the agent image the section names (secrets.agent.image). */
export function agentImageReference(section: Section): string {
  const { repository, tag, digest } = section.agent.image;
  return `${repository}:${tag}${digest ? `@${digest}` : ''}`;
}

export const secrets: Capability<Section> & { readonly id: 'secrets' } = {
  id: 'secrets',
  provides(section, config, addons) {
    return { vault: vaultPort(section, config, addons) };
  },
  injectedImages(section) {
    return [{
      injector: 'the Vault agent injector', containers: [VAULT_AGENT_CONTAINERS.init, VAULT_AGENT_CONTAINERS.sidecar],
      reference: agentImageReference(section), configPath: ['secrets', 'agent', 'image'],
    }];
  },
  files(_section, config, extras) {
    return vaultAdminFiles(config, extras.vaultReaders, extras.ports.serviceSecrets);
  },
  extendPod(pod, service, section, config, ports) {
    // A data store that speaks TLS: its URL says how to verify it (the database port; the database capability mounts the CA).
    const reader = serviceReader(service, ports.serviceSecrets, ports.database?.storeTls);
    if (reader) addVaultSecrets(pod, reader, section, config);
  },
  flows(graph, section, config, extras) {
    const to = vaultServer(section);
    // A reader of another namespace (an add-on's pod) is outside the graph, which covers Pronto's namespace only.
    const ours = (reader: VaultReader) => (reader.namespace ?? config.namespace.name) === config.namespace.name;
    for (const reader of [...catalogReaders(config, extras.ports.serviceSecrets), ...extras.vaultReaders].filter(ours)) {
      graph.addFlow({
        from: workloadEndpoint(reader.name, config.namespace.name), to, ports: [{ port: section.server.port, protocol: 'TCP' }],
        purpose: 'reads its secrets from Vault (the injected agent)', declaredBy: 'secrets',
      });
    }
  },
};
