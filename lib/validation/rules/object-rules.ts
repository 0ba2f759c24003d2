import {
  ANNOTATION_FOREIGN_NAMESPACE, DnsNameSyntax, RESERVED_NAMESPACES, dnsNameProblem, isReservedNamespace, jsonBytes, labelValueProblem, qualifiedNameProblem,
} from '../../core';
import { validateSchema } from '../schema-validator';
import { Finding, Manifest, Rule, finding, rule } from '../finding';
import { ManifestIndex, isNamespaced } from '../manifest-index';

const PSA_MODES = ['enforce', 'audit', 'warn'];
/** cdk8s appends `-` and 8 hex digits of the construct path hash to names unless told not to. */
const HASH_SUFFIX = /-[0-9a-f]{8}$/;

/**
 * What an object may weigh, from the API server's validation and etcd's defaults:
 * - annotations: `TotalAnnotationSizeLimitB` (apimachinery pkg/api/validation/objectmeta.go:
 *   the sum of every key's and value's length), also checked on a pod template's metadata;
 * - a ConfigMap's data and binaryData: `MaxSecretSize`, 1 MiB (pkg/apis/core/validation
 *   `ValidateConfigMap`: the sum of the values' lengths, binaryData's as bytes, keys not counted);
 * - any object: etcd's default `--max-request-bytes`, 1.5 MiB, measured on the object's JSON
 *   (the API server stores protobuf for built-in kinds, which is smaller, and JSON for custom
 *   resources: JSON is the bound that holds for both).
 */
export const OBJECT_SIZE_LIMITS = { annotationsBytes: 262_144, configMapDataBytes: 1_048_576, objectBytes: 1_572_864 } as const;

export const OBJECT_RULES: Rule[] = [
  rule('schema', 'Every object is valid against the Kubernetes 1.28 API, or its CRD: no unknown fields, right types, values within their enumerations and ranges, required fields set.',
    'Fix the field named; an unknown field is usually a typo or a field at the wrong level.',
    (index) => index.manifests.flatMap((m) => validateSchema(m).map((e) => finding('schema', m, e.path, e.message)))),

  rule('secret-without-data', 'No Secret object carries data: secrets come from Vault.',
    'Remove the Secret; deliver the value through a Vault agent template under /run/secrets.',
    (index) => index.ofKind('Secret').flatMap((s) => ['data', 'stringData']
      .filter((field) => Object.keys(s[field] ?? {}).length > 0)
      .map((field) => finding('secret-without-data', s, field, `carries ${Object.keys(s[field]).length} key(s)`)))),

  rule('namespace-set', 'Every namespaced object names its namespace, and never "default".',
    'Create the object in a chart with a namespace (ServicesChart sets it).',
    (index) => index.manifests.filter((m) => isNamespaced(m) && (!m.metadata?.namespace || m.metadata.namespace === 'default'))
      .map((m) => finding('namespace-set', m, 'metadata.namespace', `expected the application namespace, found ${m.metadata?.namespace ?? 'none'}`))),

  rule('namespace-guardrails', 'Each namespace used is ours (in the output, with Pod Security "restricted" labels, a ResourceQuota and a LimitRange) '
    + `or another team's (not in the output, and every object in it carries ${ANNOTATION_FOREIGN_NAMESPACE}); ${RESERVED_NAMESPACES.join(', ')} and every other kube-* namespace are never in the output.`,
    `Synthesize the namespace chart with the rest (ProntoNamespace creates all three); for a namespace another team runs, leave the Namespace out and annotate the object ${ANNOTATION_FOREIGN_NAMESPACE}: "<who owns it>".`,
    namespaceGuardrails),

  rule('name-without-hash', 'Object names are readable: no generated hash suffix.',
    'Set disableResourceNameHashes on the chart and name objects through lib/core/naming.',
    (index) => index.manifests.filter((m) => HASH_SUFFIX.test(m.metadata?.name ?? ''))
      .map((m) => finding('name-without-hash', m, 'metadata.name', `"${m.metadata.name}" ends in a hash`))),

  rule('object-metadata', 'Object names are DNS-1123 subdomains (Namespace names DNS-1123 labels, Service names DNS-1035 labels), label and annotation keys are qualified names, and label values are valid label values.',
    'Use lower-case names of letters, digits and "-" (a Service name starts with a letter); keys are [<DNS subdomain>/]<name>, and names and label values have at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit.',
    (index) => {
      // Pod templates (spec.template, CronJob jobTemplate.spec.template) by owner; a bare Pod's metadata is its own.
      const templates = new Map(index.pods.filter((p) => p.metadataPath !== 'metadata').map((p) => [p.owner, p]));
      // The same few keys and values recur on every object: check each distinct one once.
      const check: MetadataChecks = { key: memo(qualifiedNameProblem), value: memo(labelValueProblem) };
      return index.manifests.flatMap((m) => {
        const template = templates.get(m);
        return [...nameProblems(m), ...metadataProblems(m.metadata, 'metadata', check),
          ...(template ? metadataProblems(template.metadata, template.metadataPath, check) : [])]
          .map(([path, message]) => finding('object-metadata', m, path, message));
      });
    }),

  rule('object-size', `Every object fits what the API server and etcd store: annotations of at most ${OBJECT_SIZE_LIMITS.annotationsBytes} bytes (an object's and a pod template's, which its pods carry), `
    + `a ConfigMap's data of at most ${OBJECT_SIZE_LIMITS.configMapDataBytes} bytes, and the object as JSON of at most ${OBJECT_SIZE_LIMITS.objectBytes} bytes.`,
    'Split what grows with the number of services: one object (or one rendered file) per service instead of one holding every service\'s part.',
    (index) => {
      const templates = new Map(index.pods.filter((p) => p.metadataPath !== 'metadata').map((p) => [p.owner, p]));
      return index.manifests.flatMap((m) => sizeProblems(m, templates.get(m)).map(([path, message]) => finding('object-size', m, path, message)));
    }),
];


/** Bytes of a map's keys and values, as the API server sums annotations. */
function mapBytes(map: Record<string, unknown> | undefined): number {
  let total = 0;
  for (const [key, value] of Object.entries(map ?? {})) total += Buffer.byteLength(key) + (typeof value === 'string' ? Buffer.byteLength(value) : 0);
  return total;
}

/** Bytes of a ConfigMap's data as the API server sums them: the values only, binaryData decoded (it is base64 in JSON). */
function configMapBytes(m: Manifest): number {
  let total = 0;
  for (const value of Object.values(m.data ?? {})) total += typeof value === 'string' ? Buffer.byteLength(value) : 0;
  for (const value of Object.values(m.binaryData ?? {})) total += typeof value === 'string' ? Buffer.from(value, 'base64').length : 0;
  return total;
}

/** `[path, message]` for each limit of {@link OBJECT_SIZE_LIMITS} that `m` (with its pod template) exceeds. */
function sizeProblems(m: Manifest, template: { metadata: Record<string, any>; metadataPath: string } | undefined): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  const over = (path: string, bytes: number, limit: number, what: string) => {
    if (bytes > limit) problems.push([path, `${what}: ${bytes} bytes, over the ${limit} bytes the API server accepts`]);
  };
  over('metadata.annotations', mapBytes(m.metadata?.annotations), OBJECT_SIZE_LIMITS.annotationsBytes, 'annotations');
  if (template) over(`${template.metadataPath}.annotations`, mapBytes(template.metadata?.annotations), OBJECT_SIZE_LIMITS.annotationsBytes, 'the pods\' annotations');
  if (m.kind === 'ConfigMap') over('data', configMapBytes(m), OBJECT_SIZE_LIMITS.configMapDataBytes, 'the ConfigMap\'s data and binaryData');
  over('metadata.name', jsonBytes(m), OBJECT_SIZE_LIMITS.objectBytes, 'the whole object as JSON (etcd stores no larger request)');
  return problems;
}

/** Kinds whose names become DNS labels, and the syntax they need; every other kind's name is a DNS-1123 subdomain. */
const NAME_SYNTAX: Record<string, DnsNameSyntax> = { Namespace: 'dns-1123-label', Service: 'dns-1035-label' };
const SYNTAX_NAMES: Record<DnsNameSyntax, string> = {
  'dns-1123-label': 'DNS-1123 label',
  'dns-1035-label': 'DNS-1035 label (a Service name is a DNS label that starts with a letter)',
  'dns-1123-subdomain': 'DNS-1123 subdomain',
};

/** `[path, message]` when `metadata.name` is not what Kubernetes accepts for its kind. */
function nameProblems(m: Manifest): Array<[string, string]> {
  const name = m.metadata?.name;
  if (typeof name !== 'string' || name.length === 0) return [['metadata.name', 'not set']];
  const syntax = NAME_SYNTAX[m.kind] ?? 'dns-1123-subdomain';
  const problem = dnsNameProblem(name, syntax);
  return problem ? [['metadata.name', `"${name}" is not a ${SYNTAX_NAMES[syntax]}: ${problem}`]] : [];
}

/** The syntax checks of label keys, label values and annotation keys. */
interface MetadataChecks {
  key(key: string): string | undefined;
  value(value: string): string | undefined;
}

/** `check`, remembering its answer for each argument. */
function memo(check: (s: string) => string | undefined): (s: string) => string | undefined {
  const seen = new Map<string, string | undefined>();
  return (s) => {
    if (!seen.has(s)) seen.set(s, check(s));
    return seen.get(s);
  };
}

/** `[path, message]` for each malformed label key, label value and annotation key of `metadata` (at `at`). */
function metadataProblems(metadata: Record<string, any> | undefined, at: string, check: MetadataChecks): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  for (const [key, value] of entriesOf(metadata?.labels)) {
    const keyProblem = check.key(key);
    if (keyProblem) problems.push([`${at}.labels.${key}`, `label key "${key}" (value ${JSON.stringify(value)}) is not a qualified name: ${keyProblem}`]);
    // A value that is not a string is the schema rule's to report.
    const valueProblem = typeof value === 'string' ? check.value(value) : undefined;
    if (valueProblem) problems.push([`${at}.labels.${key}`, `label value "${value}" (key "${key}") is not a valid label value: ${valueProblem}`]);
  }
  for (const [key] of entriesOf(metadata?.annotations)) {
    const keyProblem = check.key(key);
    if (keyProblem) problems.push([`${at}.annotations.${key}`, `annotation key "${key}" is not a qualified name: ${keyProblem}`]);
  }
  return problems;
}

/** The entries of a map; nothing for anything else (a malformed map is the schema rule's to report). */
function entriesOf(map: unknown): Array<[string, unknown]> {
  return typeof map === 'object' && map !== null && !Array.isArray(map) ? Object.entries(map) : [];
}

/**
 * Owned namespaces (in the output) carry the guardrails; foreign ones (not in the output)
 * are declared so, object by object; Kubernetes' own namespaces are never owned.
 */
function namespaceGuardrails(index: ManifestIndex): Finding[] {
  const found: Finding[] = [];
  const add = (m: Manifest, path: string, message: string) => found.push(finding('namespace-guardrails', m, path, message));
  // (d) Namespaces Kubernetes runs are never in the output.
  for (const namespace of index.ofKind('Namespace')) {
    const name = namespace.metadata?.name;
    if (isReservedNamespace(name)) {
      add(namespace, 'metadata.name', `"${name}" is a namespace Kubernetes runs: never emit it; mark the objects in it with ${ANNOTATION_FOREIGN_NAMESPACE} instead`);
    }
  }
  const objectsIn = new Map<string, Manifest[]>();
  for (const m of index.manifests) {
    const ns = m.metadata?.namespace;
    if (!isNamespaced(m) || !ns) continue;
    const list = objectsIn.get(ns);
    if (list) list.push(m);
    else objectsIn.set(ns, [m]);
  }
  for (const ns of [...objectsIn.keys()].sort()) {
    const objects = objectsIn.get(ns)!;
    const namespace = index.find('Namespace', undefined, ns);
    if (!namespace) {
      // (b) A foreign namespace: each object in it says so, and who owns it.
      for (const m of objects) {
        const note = m.metadata?.annotations?.[ANNOTATION_FOREIGN_NAMESPACE];
        if (String(note ?? '').trim()) continue;
        add(m, note === undefined ? 'metadata.namespace' : `metadata.annotations.${ANNOTATION_FOREIGN_NAMESPACE}`,
          `namespace "${ns}" is not in the output: either add the Namespace to the output, or mark this object as living in a namespace ` +
          `Pronto does not own with ${ANNOTATION_FOREIGN_NAMESPACE}: "<who owns it>"${note === undefined ? '' : ' (found an empty value)'}`);
      }
      continue;
    }
    // (a) An owned namespace carries the guardrails.
    const labels = namespace.metadata?.labels ?? {};
    for (const mode of PSA_MODES) {
      if (labels[`pod-security.kubernetes.io/${mode}`] !== 'restricted') {
        add(namespace, `metadata.labels.pod-security.kubernetes.io/${mode}`, `expected restricted, found ${labels[`pod-security.kubernetes.io/${mode}`]}`);
      }
    }
    for (const kind of ['ResourceQuota', 'LimitRange']) {
      if (!objects.some((o) => o.kind === kind)) add(namespace, 'metadata.name', `no ${kind} in this namespace`);
    }
    // (c) An object in an owned namespace does not claim it is foreign.
    for (const m of objects) {
      const note = m.metadata?.annotations?.[ANNOTATION_FOREIGN_NAMESPACE];
      if (note === undefined) continue;
      add(m, `metadata.annotations.${ANNOTATION_FOREIGN_NAMESPACE}`,
        `says namespace "${ns}" belongs to someone else (${JSON.stringify(note)}), but Pronto owns it: the Namespace is in the output; remove the annotation, or the Namespace`);
    }
  }
  return found;
}
