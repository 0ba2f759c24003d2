import { VAULT_AGENT_CONTAINERS } from '../addons';
import { ComputeResources, InjectedContainer, isDnsLabel, isDnsSubdomain } from '../core';
import { PodExtensionPoint } from '../workload';

/** Prefix of every Vault Agent Injector annotation. */
export const VAULT_ANNOTATION_PREFIX = 'vault.hashicorp.com/';
/** Pod annotation stating why the pod holds a ServiceAccount token at all. */
export const ANNOTATION_TOKEN_REASON = 'pronto.io/service-account-token';
/** The projected volume that holds the agent's ServiceAccount token. */
export const VAULT_TOKEN_VOLUME = 'vault-token';
/** Where the rendered files appear in the app container (the injector's own default is /vault/secrets). */
export const DEFAULT_SECRET_VOLUME_PATH = '/run/secrets';
/** File mode of each rendered file: owner (the agent) and group (the pod's fsGroup, so the app) read, nobody writes. */
export const DEFAULT_SECRET_FILE_MODE = '0440';
/** Names the injector gives its init container and its sidecar (the injector's contract). */
export { VAULT_AGENT_CONTAINERS };

/** One file the agent renders from one Vault secret. */
export interface VaultSecretFile {
  /** File name under the secret volume path; also names the injector's annotations for it (lower-case DNS label, ≤ 40 characters). */
  readonly file: string;
  /** Vault API path read, e.g. `secret/data/pronto/order-service/database` (KV version 2 reads go through `<mount>/data/`). */
  readonly vaultPath: string;
  /**
   * Body of the agent template: the exact content of the file, reading the secret's fields
   * as `{{ .Data.data.<field> }}`. It is wrapped in `{{- with secret "<vaultPath>" -}}`, so
   * the file has no added whitespace.
   */
  readonly template: string;
  /**
   * Env var of the app container that carries the file's path, e.g. `DATABASE_URL_FILE`.
   * @default - none: the file is for another container of the pod (one of {@link VaultAgentProps.otherContainers}), which knows its path
   */
  readonly env?: string;
  /**
   * Mode of this file. `0400` lets only its owner read it: the agent's UID, so only a
   * container that runs as that UID (a sidecar holding its own credential), never the app,
   * which reads through the group. @default the agent's {@link VaultAgentProps.fileMode}
   */
  readonly mode?: '0400' | '0440';
  /**
   * One file from several KV entries of one shape: `vaultPath` holds `%s` where each name
   * goes, and `template` is rendered once per name, in order, reading the name as
   * `{{ $name }}` (a consul-template `range` over the names). However many entries, the file
   * takes four annotations: the API server accepts 256 KiB of annotations per pod, which
   * one template per entry would pass at a few hundred. @default - one entry, `vaultPath`
   */
  readonly forEach?: readonly string[];
}

/** A name {@link VaultSecretFile.forEach} may hold: it goes into a comma-separated list and a path. */
const FOR_EACH_NAME = /^[a-z0-9][-a-z0-9_]*$/;

/** The `agent-inject-template-*` annotation of `s`: its body wrapped in the secret it reads, or in a range over its names. */
export function agentTemplate(s: Pick<VaultSecretFile, 'file' | 'vaultPath' | 'template' | 'forEach'>): string {
  if (s.template.includes('with secret')) throw new Error(`file "${s.file}": the template body must not contain its own {{ with secret }}`);
  if (s.forEach === undefined) return `{{- with secret ${JSON.stringify(s.vaultPath)} -}}${s.template}{{- end }}`;
  const bad = s.forEach.find((n) => !FOR_EACH_NAME.test(n));
  if (s.forEach.length === 0 || bad !== undefined) {
    throw new Error(`file "${s.file}": forEach: expected one or more names of lower-case letters, digits, "-" and "_", found ${JSON.stringify(bad ?? s.forEach)}`);
  }
  const twice = s.forEach.find((n, i) => s.forEach!.indexOf(n) !== i);
  if (twice !== undefined) throw new Error(`file "${s.file}": forEach: expected each name once, found "${twice}" twice`);
  if (s.vaultPath.split('%').length !== 2 || !s.vaultPath.includes('%s')) {
    throw new Error(`file "${s.file}": vaultPath "${s.vaultPath}": expected one %s where each name of forEach goes, and no other %`);
  }
  return `{{- range $name := split "," ${JSON.stringify(s.forEach.join(','))} }}{{ with secret (printf ${JSON.stringify(s.vaultPath)} $name) }}`
    + `${s.template}{{ end }}{{- end }}`;
}

/** The KV paths `s` reads: its one path, or one per name of its `forEach`. */
export function secretFilePaths(s: { readonly vaultPath: string; readonly forEach?: readonly string[] }): string[] {
  return s.forEach === undefined ? [s.vaultPath] : s.forEach.map((n) => s.vaultPath.replace('%s', n));
}

/** Where the agent finds the CA that signed Vault's certificate. */
export interface VaultTls {
  /** Path, in the agent containers, of the CA certificate it trusts (`vault.hashicorp.com/ca-cert`), e.g. `/vault/tls/ca.crt`. */
  readonly caCertPath?: string;
  /** Secret of the pod's namespace the injector mounts into the agent containers at `/vault/tls` (`vault.hashicorp.com/tls-secret`); managed outside Git. */
  readonly tlsSecret?: string;
}

export interface VaultAgentProps {
  /** Vault role of the Kubernetes auth method, bound to the pod's ServiceAccount. */
  readonly role: string;
  /**
   * Vault address, e.g. `https://vault.vault.svc:8200` (`vault.hashicorp.com/service`).
   * Over HTTPS the agent must trust the server's certificate: it verifies it against
   * {@link VaultAgentProps.tls}, or, without it, against the CA the injector is configured
   * with (its `-vault-cacert-bytes` / `AGENT_INJECT_VAULT_CACERT_BYTES`, else the agent
   * image's system roots). Nothing here checks that this CA signed Vault's certificate: a
   * mismatch shows as the agent's TLS error and pods that never start.
   */
  readonly address: string;
  /** How the agent trusts Vault's HTTPS certificate. @default the injector's configured CA */
  readonly tls?: VaultTls;
  /** Mount path of the Kubernetes auth method, e.g. `auth/kubernetes`. */
  readonly authPath: string;
  /** The container that reads the files (it gets the secret volume and the env vars). */
  readonly appContainer: string;
  /**
   * Other containers of the pod that read the files too (an add-on's sidecar): they get the
   * secret volume, not the env vars. @default none: only the app container
   */
  readonly otherContainers?: readonly string[];
  /** The files to render; at least one. */
  readonly secrets: readonly VaultSecretFile[];
  /**
   * Requests and limits of each agent container (init and sidecar); declared as injected
   * overhead. The memory limit also bounds the injector's in-memory volumes: vault-k8s 1.6.2
   * gives them no sizeLimit (agent-inject/agent/container_volume.go), so kubelet sizes them
   * to the pod's memory limit, which exists only when every container, the agent's included, has one.
   */
  readonly resources: ComputeResources;
  /**
   * UID and GID of the agent containers, both ≥ 10000 (Pod Security restricted and the gate's
   * run-as-non-root). The agent serves one workload, and its files are that workload's: it
   * runs under the workload's own ids, never under ids the agents of other workloads share.
   * @default - the pod's ({@link PodExtensionPoint.runAs})
   */
  readonly runAs?: { readonly user: number; readonly group: number };
  /** Audience of the projected ServiceAccount token; the Vault role must accept exactly this one. */
  readonly tokenAudience: string;
  /** Lifetime of the projected token, in seconds (600 to 86400; Kubernetes refreshes it at 80 %). */
  readonly tokenExpirationSeconds: number;
  /**
   * The pod runs to completion (a Job or CronJob): the agent only pre-populates the files in
   * its init container and runs no sidecar, which would keep the pod from ever completing.
   * @default false
   */
  readonly runsToCompletion?: boolean;
  /** Mount path of the in-memory secret volume in the app container. @default '/run/secrets' */
  readonly secretVolumePath?: string;
  /** Mode of each rendered file. @default '0440' */
  readonly fileMode?: string;
  /**
   * Image of the agent containers (`repository:tag[@sha256:…]`), named on the pod
   * (`vault.hashicorp.com/agent-image`): whichever injector serves the namespace injects it, so
   * the image policy and the admission policies know the image the mutated pod will carry.
   * @default - the injector's own (its AGENT_INJECT_VAULT_IMAGE)
   */
  readonly image?: string;
}

/**
 * Has the Vault Agent Injector render `props.secrets` as files in an in-memory volume of
 * the app container, and gives the app each file's path in its env var: the pod-template
 * annotations the injector reads, an audience-bound projected ServiceAccount token that
 * only the injected agent mounts (the pod mounts no other token), and the agent's
 * containers declared as injected overhead for the capacity guard. Nothing else in the pod
 * sees a credential: no Secret object, no value in env.
 */
export function addVaultAgent(pod: PodExtensionPoint, props: VaultAgentProps): void {
  const where = `${pod.owner}: Vault agent`;
  if (props.secrets.length === 0) throw new Error(`${where}: expected at least one secret to render`);
  const runAs = props.runAs ?? pod.runAs;
  for (const id of [runAs.user, runAs.group]) {
    if (!Number.isInteger(id) || id < 10000) throw new Error(`${where}: runAs: expected UID and GID ≥ 10000, found ${id}`);
  }
  if (!(props.tokenExpirationSeconds >= 600 && props.tokenExpirationSeconds <= 86400)) {
    throw new Error(`${where}: tokenExpirationSeconds: expected 600 to 86400, found ${props.tokenExpirationSeconds}`);
  }
  const tls = props.tls ?? {};
  if (tls.caCertPath !== undefined && !/^\/[-_.a-zA-Z0-9/]*[^/]$/.test(tls.caCertPath)) {
    throw new Error(`${where}: tls.caCertPath: expected an absolute file path, found "${tls.caCertPath}"`);
  }
  if (tls.tlsSecret !== undefined && !isDnsSubdomain(tls.tlsSecret)) throw new Error(`${where}: tls.tlsSecret: expected a Secret name, found "${tls.tlsSecret}"`);
  const readers = [props.appContainer, ...(props.otherContainers ?? [])];
  const badContainer = readers.find((c) => !isDnsLabel(c));
  if (badContainer !== undefined) throw new Error(`${where}: container "${badContainer}": expected a container name (a DNS label)`);
  if (new Set(readers).size !== readers.length) throw new Error(`${where}: containers: expected each container once, found ${readers.join(', ')}`);
  const volumePath = props.secretVolumePath ?? DEFAULT_SECRET_VOLUME_PATH;
  if (!/^\/[-_.a-zA-Z0-9/]*[^/]$/.test(volumePath)) throw new Error(`${where}: secretVolumePath: expected an absolute path, found "${volumePath}"`);
  const mode = props.fileMode ?? DEFAULT_SECRET_FILE_MODE;
  const a = (key: string, value: string) => pod.addPodAnnotation(`${VAULT_ANNOTATION_PREFIX}${key}`, value);
  const r = props.resources;

  a('agent-inject', 'true');
  if (props.image !== undefined) a('agent-image', props.image);
  a('service', props.address);
  // Absent: the agent trusts the CA the injector is configured with.
  if (tls.caCertPath !== undefined) a('ca-cert', tls.caCertPath);
  if (tls.tlsSecret !== undefined) a('tls-secret', tls.tlsSecret);
  a('auth-type', 'kubernetes');
  a('auth-path', props.authPath);
  a('role', props.role);
  a('agent-service-account-token-volume-name', VAULT_TOKEN_VOLUME);
  a('agent-inject-containers', readers.join(','));
  a('secret-volume-path', volumePath);
  a('agent-pre-populate', 'true');
  a('agent-pre-populate-only', props.runsToCompletion ? 'true' : 'false');
  a('agent-run-as-user', String(runAs.user));
  a('agent-run-as-group', String(runAs.group));
  a('agent-set-security-context', 'true');
  a('agent-requests-cpu', r.requests.cpu);
  a('agent-requests-mem', r.requests.memory);
  a('agent-requests-ephemeral', r.requests.ephemeralStorage);
  a('agent-limits-cpu', r.limits.cpu);
  a('agent-limits-mem', r.limits.memory);
  a('agent-limits-ephemeral', r.limits.ephemeralStorage);
  for (const s of props.secrets) {
    if (!isDnsLabel(s.file) || s.file.length > 40) throw new Error(`${where}: file "${s.file}": expected a lower-case DNS label of at most 40 characters`);
    let template: string;
    try {
      template = agentTemplate(s);
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`);
    }
    // Names the file. With a template, vault-k8s (since 1.3.0: agent-inject/agent/config.go newTemplateConfigs)
    // renders what the template reads and uses this path for nothing else: a forEach file names its first entry.
    a(`agent-inject-secret-${s.file}`, secretFilePaths(s)[0]);
    a(`agent-inject-template-${s.file}`, template);
    a(`agent-inject-file-${s.file}`, s.file);
    a(`agent-inject-perms-${s.file}`, s.mode ?? mode);
    if (s.env !== undefined) pod.addAppEnv({ name: s.env, value: `${volumePath}/${s.file}` });
  }
  pod.addPodAnnotation(ANNOTATION_TOKEN_REASON,
    `${VAULT_TOKEN_VOLUME}: audience-bound (${props.tokenAudience}) projected token for the Vault agent's Kubernetes auth; mounted into no app container`);

  pod.addVolume({
    name: VAULT_TOKEN_VOLUME,
    projected: {
      defaultMode: 0o440,
      sources: [{ serviceAccountToken: { audience: props.tokenAudience, expirationSeconds: props.tokenExpirationSeconds, path: 'token' } }],
    },
  });

  const containers: InjectedContainer[] = [{ name: VAULT_AGENT_CONTAINERS.init, kind: 'init', resources: r }];
  if (!props.runsToCompletion) containers.push({ name: VAULT_AGENT_CONTAINERS.sidecar, kind: 'sidecar', resources: r });
  for (const c of containers) pod.declareInjected(c);
}
