import * as kplus from 'cdk8s-plus-28';
import {
  ANNOTATION_INJECTED, InjectedContainer, LABEL_INSTANCE, LABEL_NAME, LABEL_SLOT, MIN_RUN_AS_ID, RunAsIds, labelValueProblem, qualifiedNameProblem, resolveRunAsIds,
  resourcesProblems,
} from '../core';
import { ContainerPortSpec, ContainerSpec, ENV_NAME, EnvEntry, MountSpec, assertContainer } from './container';

/**
 * A pod volume. Exactly one source; only the types Pod Security "restricted" allows, and
 * no Secret volumes (secrets come from Vault as files) but one kind: the Secret cert-manager
 * writes for a Certificate (`certificate`), whose key is made in the cluster and never
 * passes through Git or Vault.
 */
export interface PodVolumeSpec {
  /** Volume name, unique in the pod. */
  readonly name: string;
  /** Scratch space; `medium: 'Memory'` keeps it in RAM (counted against the memory limit). */
  readonly emptyDir?: { readonly sizeLimit: string; readonly medium?: 'Memory' };
  /** Files of a ConfigMap. */
  readonly configMap?: { readonly name: string; readonly items?: ReadonlyArray<{ key: string; path: string }>; readonly defaultMode?: number };
  /** A projected volume, e.g. an audience-bound service-account token. */
  readonly projected?: kplus.k8s.ProjectedVolumeSource;
  /** A claim (StatefulSet claims come from its volume claim templates instead). */
  readonly persistentVolumeClaim?: { readonly claimName: string; readonly readOnly?: boolean };
  /**
   * The `kubernetes.io/tls` Secret cert-manager keeps for a Certificate (lib/tls's
   * ServiceCertificate makes the volume): only the files listed, with their mode.
   */
  readonly certificate?: { readonly secretName: string; readonly items: ReadonlyArray<{ key: string; path: string }>; readonly defaultMode: number };
}

/** The sources a {@link PodVolumeSpec} may have: exactly one of them. */
export const VOLUME_SOURCES = ['emptyDir', 'configMap', 'projected', 'persistentVolumeClaim', 'certificate'] as const;

/** A container added beside the app container. */
export interface SidecarSpec extends ContainerSpec {
  /**
   * Run as a native sidecar: an init container with `restartPolicy: Always`, started
   * before the app containers and stopped after them (Kubernetes 1.28 `SidecarContainers`).
   * @default false (a plain second container)
   */
  readonly native?: boolean;
  /**
   * UID and GID of this container when they are not the pod's: a sidecar that runs as the
   * Vault agent's UID to read a file only that UID may (mode 0400), which the app cannot.
   * Both ≥ 10000. @default - the pod's
   */
  readonly runAs?: { readonly user: number; readonly group: number };
}

/** A port added to the app container, with the Service port that forwards to it. */
export interface AppPortSpec extends ContainerPortSpec {
  /** Port of the matching Service port, which targets this port by name. @default - the container port number */
  readonly servicePort?: number;
}

/**
 * The app container's own command run under a wrapper, e.g. a shell that captures its
 * output. The container then runs `[...wrapper, ...command]`, taken literally: Kubernetes'
 * `$(VAR)` expansion is escaped (every `$` is written `$$`), so neither a shell script in the
 * wrapper nor the app's arguments can be changed by it.
 */
export interface AppCommandWrapper {
  /** What wraps the command (a capability id), named when a second wrapper is refused. */
  readonly by: string;
  /** The wrapper and its own arguments; it must run the command that follows it, and should `exec` it so the app stays PID 1. */
  readonly wrapper: readonly string[];
  /** The app's own command (entrypoint and arguments), as the image would run it. */
  readonly command: readonly string[];
}

/** `text` with every `$` doubled, so Kubernetes' `$(VAR)` expansion of command and args leaves it as written. */
export function escapeExpansion(text: string): string {
  return text.replace(/\$/g, () => '$$');
}

/** Labels that select pods; an extension must never change them. */
const SELECTOR_KEYS = [LABEL_NAME, LABEL_INSTANCE, LABEL_SLOT];

/**
 * The one way a capability changes a workload's pods: sidecars, volumes, mounts, env and
 * ports on the app container, pod annotations and labels, and containers that webhooks
 * inject at run time. The workload applies the same extension to every pod template it
 * owns, so every blue-green slot gets identical changes. Each method validates at the call.
 *
 * ```ts
 * pod.addVolume({ name: 'prometheus-multiproc', emptyDir: { sizeLimit: '64Mi' } });
 * pod.addAppMount({ volume: 'prometheus-multiproc', path: '/run/prometheus' });
 * pod.addAppEnv({ name: 'PROMETHEUS_MULTIPROC_DIR', value: '/run/prometheus' });
 * ```
 */
export class PodExtensionPoint {
  private readonly _sidecars: SidecarSpec[] = [];
  private readonly _volumes: PodVolumeSpec[] = [];
  private readonly _appMounts: MountSpec[] = [];
  private readonly _appEnv: EnvEntry[] = [];
  private readonly _appPorts: AppPortSpec[] = [];
  private readonly _annotations: Record<string, string> = {};
  private readonly _labels: Record<string, string> = {};
  private readonly _injected: InjectedContainer[] = [];
  private _appCommand?: AppCommandWrapper;

  /**
   * The numeric identity of the pods extended: the workload's own ids, which the pods run
   * as and which capabilities read (the Vault agent runs under them too, so no other
   * workload's agent shares them).
   */
  public readonly runAs: Required<RunAsIds>;

  /**
   * @param owner the workload or service extended (its `app.kubernetes.io/name`), named in error messages
   * @param runAs its ids. @default - its own, derived from `owner` ({@link resolveRunAsIds})
   */
  public constructor(public readonly owner: string, runAs?: RunAsIds) {
    this.runAs = resolveRunAsIds(owner, runAs);
  }

  /**
   * The ids a workload named `workload` runs under with this extension: `runAs` when given
   * (they must be this extension's, which its capabilities already used), else this
   * extension's. Throws on a mismatch.
   */
  public runAsFor(workload: string, runAs?: RunAsIds): Required<RunAsIds> {
    if (runAs === undefined) return this.runAs;
    const ids = resolveRunAsIds(workload, runAs);
    if (ids.user !== this.runAs.user || ids.group !== this.runAs.group || ids.fsGroup !== this.runAs.fsGroup || ids.agentUser !== this.runAs.agentUser) {
      throw new Error(`${workload}: runAs ${JSON.stringify(ids)} differs from the ids of its pod extension (${this.owner}: ${JSON.stringify(this.runAs)}), ` +
        'which capabilities already used: create the PodExtensionPoint with the same runAs');
    }
    return ids;
  }

  /** Adds a container beside the app container; its resources are required. */
  public addSidecar(spec: SidecarSpec): void {
    assertContainer(spec, `${this.owner}/${spec?.name}`);
    for (const id of spec.runAs ? [spec.runAs.user, spec.runAs.group] : []) {
      if (!Number.isInteger(id) || id < MIN_RUN_AS_ID) throw new Error(`${this.owner}/${spec.name}: runAs: expected UID and GID ≥ ${MIN_RUN_AS_ID}, found ${id}`);
    }
    this.unique('container', spec.name, this.containerNames());
    this._sidecars.push(spec);
  }

  /** Adds a pod volume. */
  public addVolume(volume: PodVolumeSpec): void {
    const sources = VOLUME_SOURCES.filter((s) => volume[s] !== undefined);
    if (sources.length !== 1) {
      throw new Error(`${this.owner}: volume "${volume.name}": expected exactly one source (${VOLUME_SOURCES.join(', ')}), found ${sources.length}`);
    }
    // Secrets reach pods from Vault, as files the agent renders; never from a Secret object.
    if (volume.projected?.sources?.some((s) => s.secret !== undefined)) {
      throw new Error(`${this.owner}: volume "${volume.name}": a projected volume may not include a Secret (secrets come from Vault)`);
    }
    this.unique('volume', volume.name, this._volumes.map((v) => v.name));
    this._volumes.push(volume);
  }

  /** Mounts a pod volume into the app container. */
  public addAppMount(mount: MountSpec): void {
    if (!mount.path.startsWith('/')) throw new Error(`${this.owner}: mount of "${mount.volume}": expected an absolute path, found "${mount.path}"`);
    this.unique('mount path', mount.path, this._appMounts.map((m) => m.path));
    this._appMounts.push(mount);
  }

  /**
   * Appends an env entry to the app container. `$(VAR)` may refer to the app's own
   * entries and to entries added before it; the workload checks that when it renders the pod.
   */
  public addAppEnv(entry: EnvEntry): void {
    if (!ENV_NAME.test(entry.name)) throw new Error(`${this.owner}: env "${entry.name}": expected a C identifier-like name`);
    this.unique('env', entry.name, this._appEnv.map((e) => e.name));
    this._appEnv.push(entry);
  }

  /** Adds a named port to the app container and a matching port to the workload's Service. */
  public addAppPort(port: AppPortSpec): void {
    this.unique('port', port.name, this._appPorts.map((p) => p.name));
    this._appPorts.push(port);
  }

  /** Sets a pod-template annotation; the workload's own annotations cannot be replaced. */
  public addPodAnnotation(key: string, value: string): void {
    const problem = qualifiedNameProblem(key);
    if (problem) throw new Error(`${this.owner}: pod annotation "${key}": expected a qualified name (${problem})`);
    if (key === ANNOTATION_INJECTED) throw new Error(`${this.owner}: pod annotation "${key}" is written from declareInjected(), not set directly`);
    this.unique('pod annotation', key, Object.keys(this._annotations));
    this._annotations[key] = value;
  }

  /** Sets a pod-template label; the selector labels and the workload's own labels cannot be changed. */
  public addPodLabel(key: string, value: string): void {
    if (SELECTOR_KEYS.includes(key)) throw new Error(`${this.owner}: pod label "${key}" selects the pods and cannot be set by an extension`);
    const problem = qualifiedNameProblem(key) ?? labelValueProblem(value);
    if (problem) throw new Error(`${this.owner}: pod label ${key}=${value}: ${problem}`);
    this.unique('pod label', key, Object.keys(this._labels));
    this._labels[key] = value;
  }

  /**
   * Declares a container that an admission webhook injects at run time, with the
   * resources the webhook is configured to give it, so the capacity guard counts it.
   */
  public declareInjected(container: InjectedContainer): void {
    const problems = resourcesProblems(container.resources, `${this.owner}/${container.name} (injected)`);
    if (problems.length > 0) throw new Error(problems.join('\n'));
    this.unique('container', container.name, this.containerNames());
    this._injected.push(container);
  }

  /**
   * Runs the app container's command under a wrapper (see {@link AppCommandWrapper}). One
   * wrapper per pod: two would each have to run the other, so a second call throws.
   */
  public wrapAppCommand(wrap: AppCommandWrapper): void {
    if (this._appCommand) {
      throw new Error(`${this.owner}: the app command is already wrapped by ${this._appCommand.by}; ${wrap.by} cannot wrap it too (one wrapper per pod)`);
    }
    if (wrap.wrapper.length === 0 || wrap.command.length === 0 || [...wrap.wrapper, ...wrap.command].some((arg) => typeof arg !== 'string')) {
      throw new Error(`${this.owner}: the wrapper of ${wrap.by} needs a non-empty wrapper and the app's non-empty command, all strings`);
    }
    this._appCommand = { by: wrap.by, wrapper: [...wrap.wrapper], command: [...wrap.command] };
  }

  public get sidecars(): readonly SidecarSpec[] { return [...this._sidecars]; }
  public get volumes(): readonly PodVolumeSpec[] { return [...this._volumes]; }
  public get appMounts(): readonly MountSpec[] { return [...this._appMounts]; }
  public get appEnv(): readonly EnvEntry[] { return [...this._appEnv]; }
  public get appPorts(): readonly AppPortSpec[] { return [...this._appPorts]; }
  public get podAnnotations(): Readonly<Record<string, string>> { return { ...this._annotations }; }
  public get podLabels(): Readonly<Record<string, string>> { return { ...this._labels }; }
  public get injected(): readonly InjectedContainer[] { return [...this._injected]; }
  /** The wrapper of the app command, if any. */
  public get appCommand(): AppCommandWrapper | undefined { return this._appCommand; }

  /** Names of the containers added so far: sidecars and declared injected containers. */
  private containerNames(): string[] {
    return [...this._sidecars.map((s) => s.name), ...this._injected.map((c) => c.name)];
  }

  private unique(what: string, name: string, existing: string[]): void {
    if (existing.includes(name)) throw new Error(`${this.owner}: ${what} "${name}" is added twice`);
  }
}
