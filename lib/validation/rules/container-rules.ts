import { DIGEST, VERSION_TAG } from '../../core/image';
import { isIanaPortName } from '../../core/naming';
import { ComputeField, requestExceedsLimit } from '../../core/resources';
import { Rule, finding } from '../finding';
import { ContainerRef } from '../manifest-index';

/** A problem inside one container: the field (relative to the container) and what is wrong. */
type Problem = [field: string, message: string];

/** A rule checked container by container (init containers and native sidecars included). */
function containerRule(id: string, requires: string, fix: string, check: (ref: ContainerRef) => Problem[]): Rule {
  return {
    id, requires, fix,
    check: (index) => index.containers().flatMap((ref) =>
      check(ref).map(([field, message]) => finding(id, ref.pod.owner, `${ref.path}${field ? `.${field}` : ''}`, message))),
  };
}

/** Long-running containers serve traffic and can hang: app containers and native sidecars, outside Jobs. */
function longRunning(ref: ContainerRef): boolean {
  return !ref.plainInit && !ref.pod.runsToCompletion;
}

/** A container field, else the pod-level one (the container overrides the pod). */
function effective(ref: ContainerRef, field: string): any {
  return ref.container.securityContext?.[field] ?? ref.pod.spec.securityContext?.[field];
}

const SECRET_LIKE = /(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY)/i;
const MIN_ID = 10000;

/** Tag of an image reference; the registry port (`host:5000/app`) is not a tag. */
export function imageTag(image: string): string | undefined {
  const name = image.split('@')[0];
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.includes(':') ? last.slice(last.indexOf(':') + 1) : undefined;
}

function probeHandler(probe: any): string | undefined {
  if (!probe) return undefined;
  const handler = probe.httpGet ?? probe.tcpSocket ?? probe.grpc ?? probe.exec;
  return JSON.stringify(handler);
}

export const CONTAINER_RULES: Rule[] = [
  containerRule('resources-set', 'Every container requests CPU and memory and limits memory.',
    'Set resources.requests.cpu, resources.requests.memory and resources.limits.memory (config: services.<svc>.resources).',
    ({ container }) => (['requests.cpu', 'requests.memory', 'limits.memory'] as const)
      .filter((field) => {
        const [group, name] = field.split('.');
        const value = container.resources?.[group]?.[name];
        return value === undefined || String(value).match(/^0+[a-zA-Z]*$/);
      })
      .map((field): Problem => [`resources.${field}`, 'not set (or zero)'])),

  containerRule('requests-within-limits', 'No request exceeds its limit.', 'Lower the request or raise the limit.',
    ({ container }) => ([['cpu', 'cpu'], ['memory', 'memory'], ['ephemeral-storage', 'ephemeralStorage']] as Array<[string, ComputeField]>)
      .flatMap(([key, field]): Problem[] => {
        const request = container.resources?.requests?.[key];
        const limit = container.resources?.limits?.[key];
        if (request === undefined || limit === undefined) return [];
        try {
          return requestExceedsLimit(field, String(request), String(limit)) ? [[`resources.requests.${key}`, `request ${request} exceeds limit ${limit}`]] : [];
        } catch {
          return []; // a malformed quantity is the schema rule's finding
        }
      })),

  containerRule('image-pinned', 'Images are pinned to a version tag (never latest or a major-only tag), optionally with a digest.',
    'Use <repository>:<version>[@sha256:<digest>]: a semantic version for Pronto images (config: services.<svc>.image.tag), the upstream release tag for others.',
    ({ container }) => {
      const image = String(container.image ?? '');
      const tag = imageTag(image);
      if (tag && VERSION_TAG.test(tag)) return [];
      if (!tag && DIGEST.test(image.split('@')[1] ?? '')) return [];
      return [['image', `"${image}" is not pinned: expected a version tag${tag ? `, found "${tag}"` : ', found no tag'}`]];
    }),

  containerRule('read-only-root-filesystem', 'Containers run with a read-only root filesystem.',
    'Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the app writes.',
    ({ container }) => (container.securityContext?.readOnlyRootFilesystem === true ? []
      : [['securityContext.readOnlyRootFilesystem', `expected true, found ${container.securityContext?.readOnlyRootFilesystem}`]])),

  containerRule('run-as-non-root', `Containers run as non-root with numeric user and group ids ≥ ${MIN_ID}.`,
    `Set runAsNonRoot: true and runAsUser/runAsGroup ≥ ${MIN_ID} on the pod or container, matching the image's USER.`,
    (ref) => {
      const problems: Problem[] = [];
      if (effective(ref, 'runAsNonRoot') !== true) problems.push(['securityContext.runAsNonRoot', 'expected true (on the container or the pod)']);
      for (const field of ['runAsUser', 'runAsGroup']) {
        const id = effective(ref, field);
        if (!(Number.isInteger(id) && id >= MIN_ID)) problems.push([`securityContext.${field}`, `expected an id ≥ ${MIN_ID}, found ${id}`]);
      }
      return problems;
    }),

  containerRule('no-privilege-escalation', 'allowPrivilegeEscalation is explicitly false.',
    'Set securityContext.allowPrivilegeEscalation: false.',
    ({ container }) => (container.securityContext?.allowPrivilegeEscalation === false ? []
      : [['securityContext.allowPrivilegeEscalation', `expected false, found ${container.securityContext?.allowPrivilegeEscalation}`]])),

  containerRule('not-privileged', 'No container is privileged.', 'Remove securityContext.privileged or set it to false.',
    ({ container }) => (container.securityContext?.privileged === true ? [['securityContext.privileged', 'expected false, found true']] : [])),

  containerRule('capabilities-restricted', 'Containers drop ALL capabilities and add none but NET_BIND_SERVICE.',
    'Set securityContext.capabilities.drop: [ALL]; add only NET_BIND_SERVICE, and only if the port needs it.',
    ({ container }) => {
      const caps = container.securityContext?.capabilities ?? {};
      const problems: Problem[] = [];
      if (!(caps.drop ?? []).some((c: string) => c.toUpperCase() === 'ALL')) {
        problems.push(['securityContext.capabilities.drop', `expected to contain ALL, found ${JSON.stringify(caps.drop ?? [])}`]);
      }
      const added = (caps.add ?? []).filter((c: string) => c !== 'NET_BIND_SERVICE');
      if (added.length > 0) problems.push(['securityContext.capabilities.add', `only NET_BIND_SERVICE may be added, found ${added.join(', ')}`]);
      return problems;
    }),

  containerRule('seccomp-profile', 'Every container runs under the RuntimeDefault or a Localhost seccomp profile.',
    'Set securityContext.seccompProfile.type: RuntimeDefault on the pod (or every container).',
    (ref) => {
      const type = effective(ref, 'seccompProfile')?.type;
      return ['RuntimeDefault', 'Localhost'].includes(type) ? []
        : [['securityContext.seccompProfile.type', `expected RuntimeDefault or Localhost (on the container or the pod), found ${type}`]];
    }),

  containerRule('no-host-port', 'No container binds a host port.', 'Remove ports[].hostPort; expose the port through a Service.',
    ({ container }) => (container.ports ?? []).flatMap((p: any, i: number): Problem[] =>
      (p.hostPort ? [[`ports[${i}].hostPort`, `expected none, found ${p.hostPort}`]] : []))),

  containerRule('readiness-probe', 'Long-running containers that serve ports have a readiness probe.',
    'Add a readinessProbe (Pronto: GET /health/ready on the serving port).',
    (ref) => (longRunning(ref) && (ref.container.ports ?? []).length > 0 && !ref.container.readinessProbe
      ? [['readinessProbe', 'missing on a container that serves ports']] : [])),

  containerRule('liveness-probe', 'Long-running containers have a liveness probe.',
    'Add a livenessProbe that checks the process only (Pronto: GET /health/live).',
    (ref) => (longRunning(ref) && !ref.container.livenessProbe ? [['livenessProbe', 'missing']] : [])),

  containerRule('probes-differ', 'Readiness and liveness probes are not identical.',
    'Point readiness at dependencies (/health/ready) and liveness at the process (/health/live).',
    ({ container }) => {
      const readiness = probeHandler(container.readinessProbe);
      return readiness && readiness === probeHandler(container.livenessProbe)
        ? [['livenessProbe', `identical to readinessProbe (${readiness}): a dependency outage would restart healthy pods`]] : [];
    }),

  containerRule('probe-ports-declared', 'Probe ports are ports the container declares.',
    'Probe a port listed in the container\'s ports (by number or name).',
    ({ container }) => {
      const ports = container.ports ?? [];
      const declared = new Set<string>(ports.flatMap((p: any) => [String(p.containerPort), ...(p.name ? [p.name] : [])]));
      return (['startupProbe', 'livenessProbe', 'readinessProbe'] as const).flatMap((probe): Problem[] => {
        const p = container[probe];
        const handler = p?.httpGet ? 'httpGet' : p?.tcpSocket ? 'tcpSocket' : p?.grpc ? 'grpc' : undefined;
        if (!handler) return [];
        const port = p[handler].port;
        return declared.has(String(port)) ? [] : [[`${probe}.${handler}.port`, `port ${port} is not declared in ports`]];
      });
    }),

  containerRule('unique-env-names', 'Environment variable names are unique within a container.',
    'Remove the duplicate: only the last value takes effect, which hides mistakes.',
    ({ container }) => {
      const seen = new Set<string>();
      return (container.env ?? []).flatMap((e: any, i: number): Problem[] => {
        if (seen.has(e.name)) return [[`env[${i}].name`, `duplicate name "${e.name}"`]];
        seen.add(e.name);
        return [];
      });
    }),

  containerRule('port-names', 'Container ports have unique IANA-style names (≤ 15 characters, a-z, 0-9, -).',
    'Name every port, e.g. http or metrics; Services refer to ports by these names.',
    ({ container }) => {
      const seen = new Set<string>();
      return (container.ports ?? []).flatMap((p: any, i: number): Problem[] => {
        const name = p.name;
        if (name === undefined) return (container.ports.length > 1) ? [[`ports[${i}].name`, 'missing on a container with several ports']] : [];
        if (!isIanaPortName(name)) return [[`ports[${i}].name`, `"${name}" is not an IANA service name`]];
        if (seen.has(name)) return [[`ports[${i}].name`, `duplicate name "${name}"`]];
        seen.add(name);
        return [];
      });
    }),

  containerRule('no-literal-secrets', 'No secret-like environment variable (PASSWORD, TOKEN, SECRET, API_KEY …) has a literal value.',
    'Read secrets from the files the Vault agent renders under /run/secrets; never put them in env or in Git.',
    ({ container }) => (container.env ?? []).flatMap((e: any, i: number): Problem[] =>
      (SECRET_LIKE.test(e.name) && typeof e.value === 'string' && e.value.length > 0
        ? [[`env[${i}].value`, `"${e.name}" has a literal value`]] : []))),
];
