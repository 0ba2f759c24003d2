/**
 * The one definition of the configuration's shape: the service catalog and the
 * per-environment files. Every object is strict (an unknown key is an error, so typos
 * never pass silently) and every default is visible here and in `config/environment.schema.json`.
 */
import { z } from 'zod';
import { SECTIONS, SectionSpec, imageTagSchema, labelMapSchema } from './sections';
import { sloSchema } from './sections/metrics';
import { ALLOWED_PREFIX, DIGEST, GIT_SHA, REPOSITORY, SEMVER_TAG } from '../lib/core/image';
import { DEFAULT_POD_SECURITY_VERSION, RESERVED_NAMESPACES, isReservedNamespace } from '../lib/core/namespaces';
import { DEFAULT_DRAIN_SECONDS, DEFAULT_REPLICAS, DEFAULT_TARGET_CPU_PERCENT, PRODUCTION_MIN_PODS, ROLLOUT_DEFAULTS } from '../lib/core/release';
import { cpuMillis, isByteQuantity, isCpuQuantity } from '../lib/core/quantity';
import { ComputeField, requestExceedsLimit } from '../lib/core/resources';
import { PINNED_RUN_AS_ID_RANGE, RUN_AS_ID_RANGE } from '../lib/core/run-as-ids';

// ---------------------------------------------------------------- catalog

const SERVICE_NAME = /^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$/;
const DATA_STORE = z.enum(['postgres', 'redis']);
export type DataStore = z.infer<typeof DATA_STORE>;

/** A Vault secret file name: a DNS label short enough for the injector's annotation names, lower-case (the injector lower-cases it). */
export const SECRET_FILE = /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/;
/** The env var that carries a secret file's path: upper-case, ending in `_FILE`, so it can never hold the value itself. */
export const SECRET_ENV = /^[A-Z][A-Z0-9_]*_FILE$/;

/**
 * One secret a service reads: a Vault KV entry, rendered by the Vault agent into one file
 * under /run/secrets, whose path the app finds in one env var.
 */
export const catalogSecretSchema = z.strictObject({
  path: z.string().regex(/^[a-z0-9-]+(\/[a-z0-9-]+)+$/, { error: 'expected a KV path <service>/<name> below the environment\'s KV prefix' })
    .describe('KV path below secrets.kv.prefix; starts with the service\'s own name (each service reads only its own paths)'),
  file: z.string().regex(SECRET_FILE, { error: 'expected a file name of 1 to 40 lower-case letters, digits and "-"' })
    .describe('File name under /run/secrets'),
  env: z.string().regex(SECRET_ENV, { error: 'expected an upper-case env var name ending in _FILE, such as DATABASE_URL_FILE' })
    .describe('Env var of the app container that carries the file\'s path'),
  template: z.string().min(1).refine((t) => t.includes('.Data.data.') && !t.includes('with secret'), {
    error: 'expected a template body reading fields as {{ .Data.data.<field> }} (the agent wraps it in {{ with secret "<path>" }})',
  }).describe('Vault agent template of the file\'s exact content; fields of the KV entry are {{ .Data.data.<field> }}'),
});
export type CatalogSecret = z.output<typeof catalogSecretSchema>;

/** What every Pronto image runs unless its catalog entry says otherwise: gunicorn with the image's config. */
export const DEFAULT_COMMAND = ['gunicorn', '--config', '/app/gunicorn.conf.py', 'app:app'] as const;

/** A pinned UID or GID: in the range derived ids never use, so no workload added later lands on it. */
const pinnedRunAsId = z.int().refine((id) => id >= PINNED_RUN_AS_ID_RANGE.first && id < PINNED_RUN_AS_ID_RANGE.first + PINNED_RUN_AS_ID_RANGE.size, {
  error: `expected an id from ${PINNED_RUN_AS_ID_RANGE.first} to ${PINNED_RUN_AS_ID_RANGE.first + PINNED_RUN_AS_ID_RANGE.size - 1} (pinned ids; derived ones are ${RUN_AS_ID_RANGE.first} and above)`,
});

export const catalogEntrySchema = z.strictObject({
  description: z.string().min(1).describe('What the service does, in a few words (the Deployment\'s description annotation and the docs)'),
  component: z.enum(['web', 'api']).describe('app.kubernetes.io/component of the service'),
  port: z.int().min(1024).max(65535).describe('Container port the app listens on (named "http")'),
  route: z.strictObject({
    path: z.string().regex(/^\/[-a-z0-9/]*$/).describe('URL path prefix the gateway sends to this service (an nginx location)'),
    longLivedConnections: z.boolean().default(false)
      .describe('WebSocket or server-sent events: the gateway passes Upgrade, does not buffer, and waits gateway.timeouts.longLivedSeconds instead of readSeconds'),
  }).optional().describe('Public route through the gateway; absent for internal services'),
  calls: z.array(z.string()).describe('Catalog services this one calls: the only flows its NetworkPolicies allow between services (and its circuit breakers)'),
  dataStores: z.array(DATA_STORE).describe('Data stores the service uses (see DATA_STORES in config/catalog.ts)'),
  externalHosts: z.array(z.string().regex(/^[a-z0-9.-]+:\d+$/)).default([]).describe('host:port outside the cluster'),
  secrets: z.array(catalogSecretSchema).default([])
    .describe('Vault secrets the service reads besides those of its data stores (derived from dataStores, see DATA_STORES)'),
  drainSeconds: z.int().min(1).max(600).default(DEFAULT_DRAIN_SECONDS).describe('Seconds to finish in-flight requests after SIGTERM'),
  command: z.array(z.string().min(1)).min(1).default([...DEFAULT_COMMAND])
    .describe('What the image runs (its entrypoint and arguments). Stated so a capability can wrap it (the logs capability\'s stdout capture); the image must keep it in sync'),
  runAs: z.strictObject({
    user: pinnedRunAsId.optional().describe('UID, GID and fsGroup of the service\'s pods. Default: derived from the service\'s name'),
    agentUser: pinnedRunAsId.optional().describe('UID of the pods\' Vault agent. Default: derived from "<service>/vault-agent"'),
  }).optional().describe(`Pinned ids, only where the gate's distinct-run-as-ids rule finds that a derived id (${RUN_AS_ID_RANGE.first} to ${RUN_AS_ID_RANGE.first + RUN_AS_ID_RANGE.size - 1}) is another workload's. Once set, never change them: files on volumes belong to them`),
  slo: sloSchema.prefault({})
    .describe('Availability and latency objectives (the metrics capability\'s recording rules and burn-rate alerts); an environment may override them (metrics.slo)'),
});

export const catalogSchema = z.record(z.string().regex(SERVICE_NAME).meta({ title: 'service' }), catalogEntrySchema);

export type CatalogEntry = z.input<typeof catalogEntrySchema>;
export type Catalog = Record<string, CatalogEntry>;
export type ResolvedCatalogEntry = z.output<typeof catalogEntrySchema>;

// ---------------------------------------------------------------- quantities

const cpu = z.union([z.string(), z.number()], { error: 'expected a CPU quantity such as 250m or 1.5' })
  .transform((v) => String(v))
  .refine(isCpuQuantity, { error: 'expected a CPU quantity such as 250m or 1.5', abort: true })
  .refine((v) => cpuMillis(v) > 0, { error: 'expected a CPU quantity greater than 0' });

const memory = z.string({ error: 'expected a memory quantity such as 256Mi or 1Gi' })
  .regex(/^[1-9]\d*(Mi|Gi)$/, { error: 'expected a memory quantity in whole Mi or Gi, such as 256Mi or 1Gi' });

const ephemeralStorage = z.string({ error: 'expected an ephemeral-storage quantity in whole Gi, such as 1Gi' })
  .regex(/^[1-9]\d*Gi$/, { error: 'expected an ephemeral-storage quantity in whole Gi, such as 1Gi' });

const anyMemory = z.string({ error: 'expected a memory quantity such as 8Gi' })
  .refine(isByteQuantity, { error: 'expected a memory quantity such as 512Mi or 8Gi' });

// ---------------------------------------------------------------- per service

const imageSchema = z.strictObject({
  repository: z.string().regex(REPOSITORY, { error: 'expected registry/repository such as registry.example.com/pronto/app, without a tag' })
    .optional().describe('Full repository. Default: <images.registry>/<service>'),
  tag: imageTagSchema(SEMVER_TAG, 'a semantic version tag such as 1.4.2 or v1.4.2 (never "latest")')
    .describe('Semantic version tag of the release (never latest): also the app.kubernetes.io/version label'),
  digest: z.string().regex(DIGEST, { error: 'expected sha256:<64 lower-case hex characters>' })
    .optional().describe('Pins the image content; the tag stays for humans'),
  gitSha: z.string({
    error: (iss) => (typeof iss.input === 'number'
      ? 'expected a quoted string: YAML reads an all-digit SHA as a number, write it as gitSha: "1234567"'
      : 'expected the git commit SHA the image was built from (7 to 40 hex characters)'),
  })
    .regex(GIT_SHA, { error: 'expected 7 to 40 lower-case hex characters' })
    .describe('Git commit the image was built from'),
});

const computeSchema = (cpuDefault: string, memoryDefault: string, storageDefault: string) => z.strictObject({
  cpu: cpu.default(cpuDefault).describe('CPU, above zero: millicores such as 250m, or cores such as 1.5'),
  memory: memory.default(memoryDefault).describe('Memory, in whole Mi or Gi'),
  ephemeralStorage: ephemeralStorage.default(storageDefault).describe('Ephemeral storage (logs, emptyDirs, the writable layer), in whole Gi'),
});

const resourcesSchema = z.strictObject({
  requests: computeSchema('100m', '128Mi', '1Gi').prefault({})
    .describe('What the scheduler reserves for the app container, and what the quota, the capacity guard and the HPA\'s CPU target count'),
  limits: computeSchema('500m', '256Mi', '2Gi').prefault({})
    .describe('The most the app container may use: CPU above it is throttled, memory above it is OOM-killed; each at least its request and at most namespace.limitRange.max'),
}).superRefine((r, ctx) => {
  const checks: Array<[ComputeField, (q: string) => boolean]> = [['cpu', isCpuQuantity], ['memory', isByteQuantity], ['ephemeralStorage', isByteQuantity]];
  for (const [field, valid] of checks) {
    // A malformed quantity is already reported by its own field.
    if (!valid(String(r.limits[field])) || !valid(String(r.requests[field]))) continue;
    if (requestExceedsLimit(field, r.requests[field], r.limits[field])) {
      ctx.addIssue({
        code: 'custom', path: ['limits', field], input: r.limits[field],
        message: `expected a limit ≥ the request (${r.requests[field]})`,
      });
    }
  }
});

const autoscalingSchema = z.strictObject({
  minReplicas: z.int().min(1).describe(`Fewest pods the HorizontalPodAutoscaler keeps (a production tier needs at least ${PRODUCTION_MIN_PODS})`),
  maxReplicas: z.int().min(2).describe('Most pods it scales to, above minReplicas; the capacity guard counts the quota at this many'),
  targetCPUUtilizationPercentage: z.int().min(10).max(100).default(DEFAULT_TARGET_CPU_PERCENT)
    .describe('Average CPU use, in % of the CPU request, that the HPA scales to keep'),
}).refine((a) => a.maxReplicas > a.minReplicas, {
  error: (iss) => `expected maxReplicas greater than minReplicas (${(iss.input as any).minReplicas})`,
  path: ['maxReplicas'],
});

const rolloutTiming = {
  maxSurge: z.union([z.int().min(1), z.string().regex(/^([1-9]\d?|100)%$/)],
    { error: 'expected a pod count ≥ 1 or a percentage such as 25%' }).default(ROLLOUT_DEFAULTS.maxSurge)
    .describe('Extra pods during a rollout; maxUnavailable is always 0'),
  minReadySeconds: z.int().min(0).default(ROLLOUT_DEFAULTS.minReadySeconds)
    .describe('Seconds a new pod must stay ready before it counts as available and the rollout moves on'),
  progressDeadlineSeconds: z.int().min(1).default(ROLLOUT_DEFAULTS.progressDeadlineSeconds)
    .describe('Seconds without progress after which the Deployment reports the rollout as failed (Argo CD shows it Degraded)'),
};

const rollingSchema = z.strictObject({
  strategy: z.literal('rolling').describe('One Deployment, updated pod by pod'),
  ...rolloutTiming,
});

const SLOT = z.enum(['blue', 'green']);

const blueGreenSchema = z.strictObject({
  strategy: z.literal('blueGreen').describe('Two Deployments (<service>-blue, <service>-green), each with its own image; the Service sends traffic to activeSlot, <service>-preview to the other'),
  activeSlot: SLOT.describe('Slot the Service sends traffic to; flip with `npm run promote`'),
  idleReplicas: z.int().min(0).default(0)
    .describe('Pods kept in the idle slot: 0 parks it; more keeps it warm for preview and rollback'),
  slots: z.strictObject({
    blue: z.strictObject({ image: imageSchema.optional().describe('Image of the blue slot (required)') }).describe('The <service>-blue Deployment'),
    green: z.strictObject({ image: imageSchema.optional().describe('Image of the green slot (required)') }).describe('The <service>-green Deployment'),
  }).describe('The image each slot runs: the idle one may repeat the active image'),
  ...rolloutTiming,
}).superRefine((bg, ctx) => {
  for (const slot of SLOT.options) {
    if (!bg.slots[slot].image) {
      ctx.addIssue({
        code: 'custom', path: ['slots', slot, 'image'], input: undefined,
        message: 'expected an image: a blue-green service needs an image for both slots (the idle one may repeat the active image)',
      });
    }
  }
});

const rolloutSchema = z.discriminatedUnion('strategy', [rollingSchema, blueGreenSchema],
  { error: 'expected strategy "rolling" or "blueGreen"' });

export const serviceConfigSchema = z.strictObject({
  image: imageSchema.optional().describe('Image of a rolling service (blue-green services set it per slot)'),
  replicas: z.int().min(0).optional().describe(`Fixed pod count. Default: ${DEFAULT_REPLICAS} unless autoscaling is set`),
  autoscaling: autoscalingSchema.optional().describe('A HorizontalPodAutoscaler on CPU instead of a fixed count'),
  resources: resourcesSchema.prefault({}).describe('Requests and limits of the app container (sidecars have their own, in their capability\'s section)'),
  rollout: rolloutSchema.prefault({ strategy: 'rolling' }).describe('How a new release replaces the running one: rolling, or blue-green with two slots'),
}).superRefine((svc, ctx) => {
  if (svc.replicas !== undefined && svc.autoscaling) {
    ctx.addIssue({ code: 'custom', path: ['replicas'], input: svc.replicas,
      message: 'expected either replicas or autoscaling, not both (an HPA owns the replica count)' });
  }
  if (svc.rollout.strategy === 'rolling' && !svc.image) {
    ctx.addIssue({ code: 'custom', path: ['image'], input: undefined,
      message: 'expected an image (repository optional, tag, gitSha) for a rolling service' });
  }
  if (svc.rollout.strategy === 'blueGreen' && svc.image) {
    ctx.addIssue({ code: 'custom', path: ['image'], input: svc.image,
      message: 'expected no top-level image on a blue-green service: set rollout.slots.blue.image and rollout.slots.green.image' });
  }
});

// ---------------------------------------------------------------- environment

const compute = (cpuDefault: string, memoryDefault: string) => z.strictObject({
  cpu: cpu.default(cpuDefault).describe('CPU: millicores such as 500m, or cores such as 4'),
  memory: anyMemory.default(memoryDefault).describe('Memory, such as 512Mi or 8Gi'),
});

/**
 * A quota's requests above its limits is a mistake, never a choice: every pod's limits are at
 * least its requests, so the limits line fills first and the requests above it can never be
 * used. Reported at the requests field, with both values (either may be a default).
 */
function quotaRequestsWithinLimits(
  quota: { requests: Record<'cpu' | 'memory', unknown>; limits: Record<'cpu' | 'memory', unknown> }, ctx: z.core.$RefinementCtx,
): void {
  const valid = { cpu: isCpuQuantity, memory: isByteQuantity };
  for (const field of ['cpu', 'memory'] as const) {
    const [request, limit] = [quota.requests[field], quota.limits[field]];
    // A malformed quantity is already reported by its own field.
    if (typeof request !== 'string' || typeof limit !== 'string' || !valid[field](request) || !valid[field](limit)) continue;
    if (requestExceedsLimit(field, request, limit)) {
      ctx.addIssue({
        code: 'custom', path: ['requests', field], input: request,
        message: `expected at most namespace.quota.limits.${field} (${limit}): requests above the limits can never be used`,
      });
    }
  }
}

const namespaceSchema = z.strictObject({
  name: z.string().regex(SERVICE_NAME, { error: 'expected a DNS label: lower-case letters, digits and "-", at most 32 characters' })
    .refine((name) => !isReservedNamespace(name), {
      error: `expected a namespace Pronto owns, never one Kubernetes runs (${RESERVED_NAMESPACES.join(', ')} or any other kube-*)`,
    })
    .default('pronto')
    .describe('The namespace Pronto owns: created with Pod Security labels, quota and limits'),
  podSecurityVersion: z.string().regex(/^v1\.\d+$/, { error: 'expected a pinned version such as v1.28' }).default(DEFAULT_POD_SECURITY_VERSION)
    .describe('Pod Security Standards version pinned in the admission labels'),
  quota: z.strictObject({
    requests: z.strictObject({
      cpu: cpu.default('8').describe('Sum of all CPU requests in the namespace'),
      memory: anyMemory.default('16Gi').describe('Sum of all memory requests in the namespace'),
      storage: z.string({ error: 'expected a storage quantity such as 100Gi' })
        .refine(isByteQuantity, { error: 'expected a storage quantity such as 100Gi' }).default('100Gi')
        .describe('Sum of all PersistentVolumeClaim storage requests'),
    }).prefault({}).describe('Sums of the requests of every pod and claim in the namespace; each at most its limit'),
    limits: compute('16', '32Gi').prefault({}).describe('Sums of the limits of every container in the namespace'),
    pods: z.int().min(1).default(100).describe('Pods in the namespace, Jobs\' and rollout surges\' included'),
    persistentVolumeClaims: z.int().min(0).default(10).describe('PersistentVolumeClaims in the namespace'),
  }).superRefine(quotaRequestsWithinLimits).prefault({}).describe('ResourceQuota; synth fails if the workloads at peak do not fit'),
  limitRange: z.strictObject({
    default: compute('500m', '256Mi').prefault({}).describe('Limits of a container that states none (every container Pronto renders states its own)'),
    defaultRequest: compute('100m', '128Mi').prefault({}).describe('Requests of a container that states none'),
    max: compute('4', '4Gi').prefault({}).describe('Largest limits one container may have: synth refuses a service above them'),
  }).prefault({}).describe('LimitRange for containers'),
  admissionPolicies: z.union([
    z.literal(false),
    z.strictObject({
      // A refinement, not z.enum: its issue does not abort, so the union reports this field's own line and message.
      enforcement: z.string({ error: 'expected Deny (reject), Warn (admit with a warning) or Audit (audit log only)' })
        .refine((v) => ['Deny', 'Warn', 'Audit'].includes(v), { error: 'expected Deny (reject), Warn (admit with a warning) or Audit (audit log only)' })
        .default('Deny').transform((v) => v as 'Deny' | 'Warn' | 'Audit')
        .meta({ enum: ['Deny', 'Warn', 'Audit'] }).describe('validationActions of the bindings: Deny rejects the request, Warn admits it with a warning, Audit only records it'),
    }),
  ], { error: 'expected false (off) or the admission policy settings (a mapping, e.g. { enforcement: Deny })' }).optional()
    .describe('ValidatingAdmissionPolicies (CEL) that hold every pod and workload applied in the namespace to the gate\'s rules '
      + '(resources, pinned images, not privileged, not root); needs Kubernetes ≥ 1.30, or 1.28–1.29 with the ValidatingAdmissionPolicy '
      + 'feature gate and admissionregistration.k8s.io/v1beta1 enabled. Absent or false: off'),
});

/** A capability's section: absent or `false` (off), or its own shape (on). */
function sectionField(id: string, spec: SectionSpec): z.ZodType {
  if (!spec.schema) {
    return z.literal(false, { error: `expected false or no "${id}" section: the ${id} capability (${spec.description}) is not built yet, so it cannot be switched on` })
      .optional().describe(`${spec.description} (not built yet: only false)`);
  }
  // A mapping is checked against the section alone (zod reports that branch's own errors), so messages stay precise.
  return z.union([z.literal(false), spec.schema], { error: `expected false (off) or the settings of the ${id} capability (a mapping)` })
    .optional().describe(spec.description);
}

const clusterSchema = z.strictObject({
  dns: z.strictObject({
    namespace: z.string().regex(SERVICE_NAME).default('kube-system').describe('Namespace of the cluster DNS (not ours)'),
    podLabels: labelMapSchema.default({ 'k8s-app': 'kube-dns' }).describe('Labels of the cluster DNS pods'),
  }).prefault({}).describe('The cluster DNS every pod\'s egress policy allows (port 53, UDP and TCP)'),
}).prefault({}).describe('Facts about the cluster Pronto runs in; namespaces named here are referred to, never created');

/** The environment-file schema with one field per capability section of `sections`. */
/** What every environment file has, whatever capabilities exist. */
const baseEnvironmentShape = {
  tier: z.enum(['development', 'staging', 'production'])
    .describe(`production requires at least ${PRODUCTION_MIN_PODS} pods per service (replicas or HPA minimum)`),
  namespace: namespaceSchema.prefault({}).describe('The namespace Pronto runs in, and its guardrails: Pod Security, quota, limit range, admission policies'),
  cluster: clusterSchema,
  images: z.strictObject({
    registry: z.string().regex(REPOSITORY, { error: 'expected registry/path such as registry.example.com/pronto' })
      .describe('Registry and path of Pronto\'s own images: a service\'s image is <registry>/<service> unless its image.repository says otherwise'),
    requireDigest: z.boolean().default(false)
      .describe('Every image the environment runs must be pinned by digest (@sha256:…), the images admission webhooks inject included (the Vault agent, the Python auto-instrumentation): synth refuses a tag alone, and so do the admission policies when on. Turn it on once the release pipeline writes each image\'s digest'),
    allowedRepositories: z.array(z.string().regex(ALLOWED_PREFIX,
      { error: 'expected a registry or registry/path prefix such as ghcr.io/cloudnative-pg' })).default([])
      .describe('Repository prefixes every image must come from (a registry, or registry/path; matched on whole path segments, after the registry exactly); empty: any. Synth refuses any other image, and so do the admission policies when on. The repositories of injected images (the Vault agent from secrets.agent.image, the Python auto-instrumentation from tracing.instrumentation.python.image) are admitted too, each exactly'),
  }).describe('Where images come from, and how strictly they are pinned'),
  services: z.record(z.string().meta({ title: 'service' }), serviceConfigSchema)
    .describe('Per catalog service (every one, and only those): its image, scale, resources and rollout in this environment'),
};

/** The environment-file schema with one field per capability section of `sections`. */
export function environmentSchemaFor(sections: Readonly<Record<string, SectionSpec>>) {
  return z.strictObject({
    ...baseEnvironmentShape,
    ...Object.fromEntries(Object.entries(sections).map(([id, spec]) => [id, sectionField(id, spec)])),
  });
}

export const environmentSchema = environmentSchemaFor(SECTIONS);

/** The environment file as validated, capability sections aside (config/sections types those). */
export type EnvironmentFile = z.output<z.ZodObject<typeof baseEnvironmentShape>>;
export type ServiceConfig = z.output<typeof serviceConfigSchema>;
export type ImageConfig = z.output<typeof imageSchema>;
