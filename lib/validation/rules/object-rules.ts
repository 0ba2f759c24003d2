import { validateSchema } from '../schema-validator';
import { Finding, Rule, finding, rule } from '../finding';
import { isNamespaced } from '../manifest-index';

const PSA_MODES = ['enforce', 'audit', 'warn'];
/** cdk8s appends `-` and 8 hex digits of the construct path hash to names unless told not to. */
const HASH_SUFFIX = /-[0-9a-f]{8}$/;

export const OBJECT_RULES: Rule[] = [
  rule('schema', 'Every object is valid against the Kubernetes 1.28 API, or its CRD: no unknown fields, right types, required fields set.',
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

  rule('namespace-guardrails', 'Each namespace used is in the output with Pod Security "restricted" labels, a ResourceQuota and a LimitRange.',
    'Synthesize the namespace chart with the rest (ProntoNamespace creates all three).',
    (index) => {
      const used = new Set(index.manifests.filter(isNamespaced).map((m) => m.metadata?.namespace).filter(Boolean) as string[]);
      return [...used].sort().flatMap((ns): Finding[] => {
        const namespace = index.find('Namespace', undefined, ns);
        const subject = namespace ?? { kind: 'Namespace', metadata: { name: ns } };
        if (!namespace) return [finding('namespace-guardrails', subject, 'metadata.name', 'the Namespace is not in the output')];
        const labels = namespace.metadata?.labels ?? {};
        const found = PSA_MODES.filter((mode) => labels[`pod-security.kubernetes.io/${mode}`] !== 'restricted')
          .map((mode) => finding('namespace-guardrails', namespace, `metadata.labels.pod-security.kubernetes.io/${mode}`,
            `expected restricted, found ${labels[`pod-security.kubernetes.io/${mode}`]}`));
        for (const kind of ['ResourceQuota', 'LimitRange']) {
          if (!index.ofKind(kind).some((o) => o.metadata?.namespace === ns)) {
            found.push(finding('namespace-guardrails', namespace, 'metadata.name', `no ${kind} in this namespace`));
          }
        }
        return found;
      });
    }),

  rule('name-without-hash', 'Object names are readable: no generated hash suffix.',
    'Set disableResourceNameHashes on the chart and name objects through lib/core/naming.',
    (index) => index.manifests.filter((m) => HASH_SUFFIX.test(m.metadata?.name ?? ''))
      .map((m) => finding('name-without-hash', m, 'metadata.name', `"${m.metadata.name}" ends in a hash`))),
];
