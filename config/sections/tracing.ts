/**
 * The `tracing` section of the environment file: the OpenTelemetry collector Pronto runs,
 * where it exports to (Jaeger v2, in a namespace another team runs), the sampler every
 * service uses, and optionally the OpenTelemetry Operator's Python auto-instrumentation.
 * Pure: zod and the pure lib/core files only (config/ imports it).
 */
import { z } from 'zod';
import { DIGEST, REPOSITORY } from '../../lib/core/image';
import { OPERATOR_PYTHON_IMAGE } from '../../lib/addons/opentelemetry-operator';
import { isDnsLabel } from '../../lib/core/naming';
import { computeResourcesSchema, labelMapSchema, serviceTlsFieldSchema, upstreamImageSchema } from './schemas';

/** Collector pods: at least 2 everywhere, so a drain or a rollout never drops every service's spans. */
export const COLLECTOR_MIN_PODS = 2;

/** Requests and limits of the collector container, unless the section says otherwise. */
export const DEFAULT_COLLECTOR_RESOURCES = {
  requests: { cpu: '100m', memory: '256Mi', ephemeralStorage: '128Mi' },
  limits: { cpu: '500m', memory: '512Mi', ephemeralStorage: '256Mi' },
} as const;

/**
 * What the operator's Python init container (`opentelemetry-auto-instrumentation-python`,
 * which copies the SDK into the pod) is given: the operator's own defaults (50m/32Mi
 * requests, 500m/32Mi limits), stated, plus ephemeral storage.
 */
export const DEFAULT_PYTHON_INIT_RESOURCES = {
  requests: { cpu: '50m', memory: '32Mi', ephemeralStorage: '64Mi' },
  limits: { cpu: '500m', memory: '32Mi', ephemeralStorage: '256Mi' },
} as const;

/** Samplers of the OpenTelemetry SDK environment specification (`OTEL_TRACES_SAMPLER`). */
export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;

/** The memory the collector must have for its memory_limiter to leave room for the Go runtime. */
export const MIN_COLLECTOR_MEMORY_MI = 128;

const autoscaling = z.strictObject({
  minReplicas: z.int().min(COLLECTOR_MIN_PODS, { error: `expected at least ${COLLECTOR_MIN_PODS} collector pods` })
    .describe(`Fewest collector pods the HorizontalPodAutoscaler keeps (at least ${COLLECTOR_MIN_PODS})`),
  maxReplicas: z.int().min(COLLECTOR_MIN_PODS + 1).describe('Most collector pods it scales to, above minReplicas'),
  targetCPUUtilizationPercentage: z.int().min(10).max(100).default(70).describe('Average CPU use, in % of the CPU request, the HPA keeps'),
}).refine((a) => a.maxReplicas > a.minReplicas, {
  error: (iss) => `expected maxReplicas greater than minReplicas (${(iss.input as { minReplicas: number }).minReplicas})`, path: ['maxReplicas'],
});

/** `host:port` of an OTLP/gRPC endpoint, no scheme (the exporter's `endpoint`). */
const ENDPOINT = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*):(\d{1,5})$/;

/** A Python distribution version, as the operator's autoinstrumentation-python images are tagged (`0.59b0`). */
const PYTHON_TAG = /^v?\d+\.\d+(\.\d+)?((a|b|rc)\d+)?$/;

/** The collector image the section uses unless it names one: contrib 0.135.0, whose component names the configuration uses. */
export const DEFAULT_COLLECTOR_IMAGE = { repository: 'docker.io/otel/opentelemetry-collector-contrib', tag: '0.135.0' } as const;

/**
 * The collector image, checked by {@link upstreamImageSchema}. Its issues are re-reported as
 * plain (non-aborting) ones: zod reports an aborted branch of the section's `false | section`
 * union as the union's own, vaguer error, which would hide the field, the expectation and the value.
 */
const collectorImageSchema = z.strictObject({
  repository: z.string().describe('registry/repository of the image, without a tag'),
  tag: z.string().describe('Upstream release tag, major.minor at least (never latest): also the app.kubernetes.io/version label'),
  digest: z.string().optional().describe('Pins the image content (sha256:<64 hex characters>); the tag stays for humans'),
}).superRefine((image, ctx) => {
  const checked = upstreamImageSchema.safeParse(image);
  if (checked.success) return;
  for (const issue of checked.error.issues) {
    const field = issue.path[0] as keyof typeof image | undefined;
    ctx.addIssue({ code: 'custom', path: issue.path, input: field ? image[field] : image, message: issue.message });
  }
});

/** A sampler name; a refinement, not z.enum, so that the union reports this field's own line and message. */
const samplerSchema = z.string({ error: `expected one of ${SAMPLERS.join(', ')}` })
  .refine((v) => (SAMPLERS as readonly string[]).includes(v), { error: `expected one of ${SAMPLERS.join(', ')}` })
  .transform((v) => v as typeof SAMPLERS[number]).meta({ enum: [...SAMPLERS] });

export const tracingSectionSchema = z.strictObject({
  collector: z.strictObject({
    image: collectorImageSchema.default(DEFAULT_COLLECTOR_IMAGE)
      .describe('The OpenTelemetry collector, contrib distribution (k8sattributes is not in the core one), pinned by its release tag (optionally a digest). ' +
        'The configuration uses the component names of 0.135.0 (k8sattributes, otlp); releases from 0.146.0 on keep them as deprecated aliases'),
    replicas: z.int().min(COLLECTOR_MIN_PODS, { error: `expected at least ${COLLECTOR_MIN_PODS} collector pods` }).optional()
      .describe(`Fixed pod count (at least ${COLLECTOR_MIN_PODS}). Default: ${COLLECTOR_MIN_PODS} unless autoscaling is set`),
    autoscaling: autoscaling.optional().describe('HPA on CPU instead of a fixed count'),
    resources: computeResourcesSchema(DEFAULT_COLLECTOR_RESOURCES).prefault({})
      .describe('Requests and limits of the collector container; memory_limiter is derived from limits.memory (limit 80 %, spike 20 %)'),
  }).prefault({}).describe('The OpenTelemetry collector Deployment (otel-collector) every service sends its spans to over OTLP'),
  jaeger: z.strictObject({
    endpoint: z.string({ error: 'expected host:port of Jaeger\'s OTLP/gRPC receiver, such as jaeger-collector.tracing.svc:4317' })
      .regex(ENDPOINT, { error: 'expected host:port of Jaeger\'s OTLP/gRPC receiver, such as jaeger-collector.tracing.svc:4317 (no scheme, no path)' })
      .default('jaeger-collector.tracing.svc:4317')
      .describe('Jaeger v2\'s OTLP/gRPC receiver: a Service of jaeger.namespace (<name>.<namespace>[.svc[.cluster.local]]) on the port its pods listen on'),
    namespace: z.string().refine(isDnsLabel, { error: 'expected the namespace Jaeger runs in: a DNS label' }).default('tracing')
      .describe('Namespace of Jaeger (run by another team; never created or guarded)'),
    podLabels: labelMapSchema.refine((l) => Object.keys(l).length > 0, { error: 'expected at least one label that selects the Jaeger collector pods' })
      .default({ 'app.kubernetes.io/name': 'jaeger' })
      .describe('Labels of the Jaeger pods that receive OTLP (the collector\'s egress policy selects them)'),
    insecure: z.boolean().optional()
      .describe('Send OTLP without TLS (tls.insecure: true) or with TLS verified against the collector image\'s system roots (false). ' +
        'Absent: what the Jaeger add-on serves (gitops.addons.jaeger: plaintext); required for a Jaeger the cluster already has'),
    queryUrl: z.url({ protocol: /^https?$/, error: 'expected the http(s) URL of Jaeger\'s query API, such as http://jaeger-query.tracing.svc:16686' }).optional()
      .describe('Jaeger\'s query API as Grafana reaches it, for a Jaeger the cluster already has; absent: the Jaeger add-on\'s Service'),
  }).prefault({}).describe('The Jaeger v2 the collector exports to (run by another team, or installed as the jaeger add-on)'),
  sampler: samplerSchema.default('parentbased_traceidratio')
    .describe('OTEL_TRACES_SAMPLER of every service: parentbased_* keeps the caller\'s decision, so a trace is sampled whole'),
  // Any scalar is taken and then checked, so a non-number is reported at its own line (a type error would abort the section's union).
  ratio: z.union([z.number(), z.string(), z.boolean()], { error: 'expected a sampling ratio between 0 and 1, such as 0.1' })
    .refine((v) => typeof v === 'number' && v >= 0 && v <= 1, { error: 'expected a sampling ratio between 0 and 1, such as 0.1' })
    .transform((v) => v as number).default(0.1)
    .describe('OTEL_TRACES_SAMPLER_ARG: the share of new traces sampled (traceidratio samplers), 0..1'),
  apiServer: z.strictObject({
    ports: z.array(z.int().min(1).max(65535)).min(1).default([443, 6443])
      .describe('Ports the API server\'s endpoints listen on (kubectl get endpoints kubernetes -n default: 443 on most managed clusters, 6443 with kubeadm); ' +
        'the collector\'s egress to "kubernetes-api" (its blocks: networkPolicies.externalHosts) allows these'),
  }).prefault({}).describe('The Kubernetes API server, which k8sattributes reads pods and replicasets from'),
  tls: serviceTlsFieldSchema.optional()
    .describe('TLS for OTLP from the services to the collector: the collector\'s receivers (gRPC and HTTP) serve a certificate of the issuer for its Service\'s names, ' +
      'and each service verifies it against the CA bundle (OTEL_EXPORTER_OTLP_CERTIFICATE). Absent or false: plaintext (off by default in every environment; needs cert-manager)'),
  instrumentation: z.strictObject({
    python: z.strictObject({
      image: z.strictObject({
        repository: z.string().regex(REPOSITORY, { error: 'expected registry/repository, without a tag' }).describe('registry/repository of the image, without a tag'),
        tag: z.string().regex(PYTHON_TAG, { error: 'expected the release of opentelemetry-python-contrib the image carries, such as 0.59b0' })
          .describe('The opentelemetry-python-contrib release the image carries, such as 0.59b0'),
        digest: z.string().regex(DIGEST, { error: 'expected sha256:<64 lower-case hex characters>' }).optional()
          .describe('Pins the image content; the tag stays for humans'),
      }).optional().describe(`autoinstrumentation-python image the operator injects (init container ${'opentelemetry-auto-instrumentation-python'}); absent: the default of the operator release Pronto pins, ${OPERATOR_PYTHON_IMAGE.repository}:${OPERATOR_PYTHON_IMAGE.tag}. `
        + 'Written into the Instrumentation either way, so the image policy and the admission policies know what is injected; with images.requireDigest, give its digest'),
      resources: computeResourcesSchema(DEFAULT_PYTHON_INIT_RESOURCES).prefault({})
        .describe('Requests and limits of the injected init container (counted by the capacity guard)'),
      volumeSizeLimit: z.string().regex(/^[1-9]\d*(Mi|Gi)$/, { error: 'expected a quantity in whole Mi or Gi, such as 200Mi' }).default('200Mi')
        .describe('sizeLimit of the emptyDir the SDK is copied into'),
    }).prefault({}).describe('Python auto-instrumentation: every Pronto service is a Flask app'),
  }).optional().describe('OpenTelemetry Operator Python auto-instrumentation: an Instrumentation resource and the inject-python pod annotation; absent: off'),
}).superRefine((s, ctx) => {
  if (s.collector.replicas !== undefined && s.collector.autoscaling) {
    ctx.addIssue({ code: 'custom', path: ['collector', 'replicas'], input: s.collector.replicas, message: 'expected either replicas or autoscaling, not both (an HPA owns the replica count)' });
  }
  const problem = jaegerEndpointProblem(s.jaeger.endpoint, s.jaeger.namespace);
  if (problem) ctx.addIssue({ code: 'custom', path: ['jaeger', 'endpoint'], input: s.jaeger.endpoint, message: problem });
  const memory = s.collector.resources.limits.memory;
  const mi = Number(memory.slice(0, -2)) * (memory.endsWith('Gi') ? 1024 : 1);
  if (mi < MIN_COLLECTOR_MEMORY_MI) {
    ctx.addIssue({ code: 'custom', path: ['collector', 'resources', 'limits', 'memory'], input: memory,
      message: `expected at least ${MIN_COLLECTOR_MEMORY_MI}Mi (memory_limiter keeps 20 % of the limit for the runtime and spikes)` });
  }
});

/**
 * Why `endpoint` does not reach the Jaeger pods the collector's egress allows, or undefined:
 * its host must be a Service of `namespace` (`<name>.<namespace>`, `<name>.<namespace>.svc`
 * or `<name>.<namespace>.svc.cluster.local`) and its port between 1 and 65535.
 */
export function jaegerEndpointProblem(endpoint: string, namespace: string): string | undefined {
  const m = ENDPOINT.exec(endpoint);
  if (!m) return 'expected host:port such as jaeger-collector.tracing.svc:4317';
  const labels = m[1].split('.');
  const suffix = labels.slice(2).join('.');
  if (!(labels.length >= 2 && labels[1] === namespace && ['', 'svc', 'svc.cluster.local'].includes(suffix))) {
    return `expected a Service of Jaeger's namespace (jaeger.namespace: ${namespace}): <name>.${namespace}, <name>.${namespace}.svc or ` +
      `<name>.${namespace}.svc.cluster.local; a Jaeger outside the cluster is not supported yet: the collector's egress would need its address blocks`;
  }
  const port = Number(m[5]);
  if (port < 1 || port > 65535) return `expected a port between 1 and 65535, found ${port}`;
  return undefined;
}

export type TracingSection = z.output<typeof tracingSectionSchema>;
