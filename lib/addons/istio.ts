import { AddonChart, AddonContract, KINDS } from './contract';

/**
 * Istio 1.27.0's Helm charts (istio/istio manifests/charts/, published with the release's
 * version, hub and tag by istio/release-builder): one version for all four. The add-on is
 * named after istiod; {@link istioContracts} names each chart.
 */
export const ISTIO_CHART: AddonChart = { repoURL: 'https://istio-release.storage.googleapis.com/charts', name: 'istiod', version: '1.27.0' };

/** How the pods' traffic reaches the mesh (circuitBreakers.mesh.dataPlane). */
export type IstioDataPlane = 'ambient' | 'cni';

/** The four charts, in install order: the chart name and the release (the Application) of each. */
export const ISTIO_PARTS = {
  base: { chart: 'base', release: 'istio-base' },
  istiod: { chart: 'istiod', release: 'istiod' },
  cni: { chart: 'cni', release: 'istio-cni' },
  ztunnel: { chart: 'ztunnel', release: 'ztunnel' },
} as const;
export type IstioPart = keyof typeof ISTIO_PARTS;

/** The contract of each chart Pronto installs for `dataPlane`; ztunnel only for ambient. */
export interface IstioContracts {
  readonly base: AddonContract;
  readonly istiod: AddonContract;
  readonly cni: AddonContract;
  readonly ztunnel?: AddonContract;
}

/**
 * The ValidatingWebhookConfiguration of base (defaultRevision "default"). istiod patches its
 * `failurePolicy` to Fail (and its caBundle) at run time: it selects every one labelled
 * `istio.io/rev: default` (pkg/webhooks/validation/controller/controller.go).
 */
export const ISTIO_DEFAULT_VALIDATOR = 'istiod-default-validator';

/** istiod's own ValidatingWebhookConfiguration (`istio-validator-<global.istioNamespace>`), patched like {@link ISTIO_DEFAULT_VALIDATOR}. */
export function istioRevisionValidator(namespace: string): string {
  return `istio-validator-${namespace}`;
}

/** Labels of the istiod pods (revision ""): the Service selects `app` and `istio`. */
const ISTIOD_POD_LABELS = { app: 'istiod', istio: 'pilot' } as const;

const SOURCE = 'istio/istio@1.27.0 (7359d8be2504f2b191f7d94156af08e6590d2d1c)';

/**
 * What the charts render with {@link istioValues} in `namespace`. Each writes only its release
 * namespace: base and istiod put some objects into `global.istioNamespace` (default
 * istio-system) and ztunnel finds istiod through `istioNamespace`, so the values set both to
 * `namespace`; the CNI chart writes into `default` only with `provider: multus` (not ours).
 */
export function istioContracts(namespace: string, dataPlane: IstioDataPlane, chart: AddonChart = ISTIO_CHART): IstioContracts {
  const contract = (part: IstioPart, rest: Pick<AddonContract, 'services' | 'writes' | 'sources'>): AddonContract =>
    ({ chart: { ...chart, name: ISTIO_PARTS[part].chart }, release: ISTIO_PARTS[part].release, namespace, ...rest });
  const base = contract('base', {
    services: {},
    writes: {
      namespaces: [namespace],
      // The 14 CRDs as templates (base.enableCRDTemplates), and istiod-default-validator (defaultRevision "default").
      // No ValidatingAdmissionPolicy (experimental.stableValidationPolicy false).
      clusterScoped: [KINDS.CustomResourceDefinition, KINDS.ValidatingWebhookConfiguration],
      // istio-reader-service-account, in global.istioNamespace.
      namespaced: [KINDS.ServiceAccount],
    },
    sources: [
      `${SOURCE}: manifests/charts/base/values.yaml (global.istioNamespace istio-system, base.enableCRDTemplates true, defaultRevision "default", experimental.stableValidationPolicy false)`,
      `${SOURCE}: manifests/charts/base/templates/crds.yaml (files/crd-all.gen.yaml: 14 CustomResourceDefinitions), defaultrevision-validatingwebhookconfiguration.yaml (istiod-default-validator, failurePolicy Ignore, service istiod in global.istioNamespace), defaultrevision-validatingadmissionpolicy.yaml, reader-serviceaccount.yaml (namespace global.istioNamespace)`,
      `${SOURCE}: pilot/pkg/features/pilot.go (VALIDATION_WEBHOOK_CONFIG_NAME default istio-istio-system: the validation controller runs), pkg/webhooks/validation/controller/controller.go (selects istio.io/rev=<REVISION>, sets caBundle and failurePolicy Fail)`,
    ],
  });
  const istiod = contract('istiod', {
    services: {
      // gRPC over TLS: the injected proxies and ztunnel fetch configuration and certificates here.
      xds: { name: 'istiod', port: 15012, targetPort: 15012, protocol: 'grpcs', podLabels: ISTIOD_POD_LABELS },
      // The injection and validation webhooks.
      webhook: { name: 'istiod', port: 443, targetPort: 15017, protocol: 'https', podLabels: ISTIOD_POD_LABELS },
    },
    writes: {
      namespaces: [namespace],
      // istiod-clusterrole, istiod-gateway-controller and istio-reader-clusterrole (each -<namespace>) and their bindings;
      // istio-sidecar-injector (-<namespace> outside istio-system) and istio-validator-<global.istioNamespace>.
      clusterScoped: [KINDS.ClusterRole, KINDS.ClusterRoleBinding, KINDS.MutatingWebhookConfiguration, KINDS.ValidatingWebhookConfiguration],
      // ConfigMaps istio, istio-sidecar-injector and values; the HPA (autoscaleEnabled) and PDB (global.defaultPodDisruptionBudget);
      // ServiceAccount, Role and RoleBinding istiod in global.istioNamespace. No gateway-class ConfigMaps (gatewayClasses {}),
      // no jwks ConfigMap, revision tags, remote Service/Endpoints or ValidatingAdmissionPolicy.
      namespaced: [KINDS.ServiceAccount, KINDS.ConfigMap, KINDS.Service, KINDS.Deployment, KINDS.HorizontalPodAutoscaler, KINDS.PodDisruptionBudget,
        KINDS.Role, KINDS.RoleBinding],
    },
    sources: [
      `${SOURCE}: manifests/charts/istio-control/istio-discovery/values.yaml (autoscaleEnabled, autoscaleMin 1, autoscaleMax 5; configMap true; global.istioNamespace istio-system, defaultPodDisruptionBudget.enabled, configValidation true, operatorManageWebhooks false, omitSidecarInjectorConfigMap false; istiodRemote.enabled false; revision "", revisionTags [], gatewayClasses {}; experimental.stableValidationPolicy false), files/profile-ambient.yaml, templates/zzy_descope_legacy.yaml (pilot.* moves to the top)`,
      `${SOURCE}: manifests/charts/istio-control/istio-discovery/templates/serviceaccount.yaml, role.yaml, rolebinding.yaml (namespace global.istioNamespace), clusterrole.yaml, clusterrolebinding.yaml, reader-clusterrole.yaml, reader-clusterrolebinding.yaml, mutatingwebhook.yaml, validatingwebhookconfiguration.yaml (istio-validator-<global.istioNamespace>, failurePolicy Ignore, istio.io/rev default)`,
      `${SOURCE}: manifests/charts/istio-control/istio-discovery/templates/deployment.yaml (pod labels app: istiod, istio: pilot; REVISION default), service.yaml (istiod: 15010, 15012, 443 -> 15017, 15014), autoscale.yaml, poddisruptionbudget.yaml, configmap.yaml, configmap-values.yaml, istiod-injector-configmap.yaml, gateway-class-configmap.yaml, configmap-jwks.yaml, revision-tags.yaml, remote-istiod-service.yaml, remote-istiod-endpoints.yaml, validatingadmissionpolicy.yaml`,
    ],
  });
  const cni = contract('cni', {
    services: {},
    writes: {
      namespaces: [namespace],
      // istio-cni and istio-cni-repair-role (repair.enabled), plus istio-cni-ambient for ambient, and their bindings.
      clusterScoped: [KINDS.ClusterRole, KINDS.ClusterRoleBinding],
      // istio-cni-node and istio-cni-config in the release namespace. No ResourceQuota (resourceQuotas.enabled false; the gke
      // platform profile turns it on), no NetworkAttachmentDefinition (into `default`, only with provider multus).
      namespaced: [KINDS.ServiceAccount, KINDS.ConfigMap, KINDS.DaemonSet],
    },
    sources: [
      `${SOURCE}: manifests/charts/istio-cni/values.yaml (provider default, repair.enabled true, ambient.enabled false, resourceQuotas.enabled false), files/profile-ambient.yaml (cni.ambient.enabled), files/profile-platform-gke.yaml, templates/zzy_descope_legacy.yaml (cni.* moves to the top)`,
      `${SOURCE}: manifests/charts/istio-cni/templates/daemonset.yaml, configmap-cni.yaml, serviceaccount.yaml, clusterrole.yaml, clusterrolebinding.yaml (all in .Release.Namespace), resourcequota.yaml, network-attachment-definition.yaml (namespace default, provider multus)`,
    ],
  });
  if (dataPlane !== 'ambient') return { base, istiod, cni };
  const ztunnel = contract('ztunnel', {
    services: {},
    // ClusterRole and binding only on openshift.
    writes: { namespaces: [namespace], clusterScoped: [], namespaced: [KINDS.ServiceAccount, KINDS.DaemonSet] },
    sources: [
      `${SOURCE}: manifests/charts/ztunnel/values.yaml (istioNamespace istio-system, resourceQuotas.enabled false), templates/zzz_profile.yaml (global.* flattened to the top), templates/daemonset.yaml (CA_ADDRESS and XDS_ADDRESS istiod.<istioNamespace>.svc:15012), rbac.yaml, resourcequota.yaml`,
    ],
  });
  return { base, istiod, cni, ztunnel };
}

/**
 * The values Pronto gives each chart: the `namespace` istiod runs in wherever a chart refers
 * to it, and the data plane: the ambient profile for istiod and the CNI, or the CNI plugin
 * under injected sidecars (`pilot.cni.enabled`). ztunnel needs no profile.
 */
export function istioValues(namespace: string, dataPlane: IstioDataPlane): Record<IstioPart, Record<string, unknown>> {
  const ambient = dataPlane === 'ambient';
  const profile = ambient ? { profile: 'ambient' } : {};
  return {
    base: { global: { istioNamespace: namespace } },
    istiod: { ...profile, ...(ambient ? {} : { pilot: { cni: { enabled: true } } }), global: { istioNamespace: namespace } },
    cni: { ...profile },
    ztunnel: { istioNamespace: namespace },
  };
}
