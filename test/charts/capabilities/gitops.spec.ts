/**
 * The gitops capability: the Argo CD objects (valid against the CRD schemas through the
 * gate, apart from the kustomization), the projects and applications in folders of their
 * own, the Pronto and guardrails AppProjects fenced to exactly what their folders render,
 * sync waves in the right order (and none without gitops), the add-ons on and off, and bad
 * sections reported with file:line. The projects attacked: gitops-projects.spec.ts.
 */
import { readFileSync } from 'fs';
import { ApiObject, Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { SECTIONS } from '../../../charts/capabilities';
import { ADDONS, CHART_WAVES, PROJECT_RULE, addonApplications, NAMESPACE_KIND_WAVES, ROOT_WAVES, SYNC_WAVES, argoNames, assignSyncWaves, emittedObjects } from '../../../charts/capabilities/gitops';
import { buildApp, environmentPorts } from '../../../charts/build-app';
import { GRAFANA_SIDECAR_ROLE } from '../../../charts/capabilities/metrics/grafana';
import { vaultRoleName } from '../../../charts/capabilities/secrets';
import { GRAFANA, GRAFANA_ADMIN, GRAFANA_LOKI_READER, grafanaDatasourcesReloadScript, kubePrometheusStackContract } from '../../../lib/addons';
import { renderEnvironment } from '../../../charts/synthesize';
import { parseEnvironment } from '../../../config/load';
import { kubernetesAuthMount } from '../../../config/sections/secrets';
import { ConnectionGraph, GUARDRAILS_FOLDER, Manifest } from '../../../lib/core';
import { ARGOCD_APPLICATIONS_FOLDER, ARGOCD_FOLDER, ARGOCD_PROJECTS_FOLDER, SYNC_OPTIONS_ANNOTATION, SYNC_WAVE_ANNOTATION } from '../../../lib/gitops';
import { WAIVER_PREFIX, isNamespaced, runGate } from '../../../lib/validation';
import { TOKEN_SELF_PATHS } from '../../../lib/secrets';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { CONFIG_DIR, ENVIRONMENTS, buildEnvironment, configProblems, stripSection, withOwnAddons } from '../../helpers';

const REPO = 'https://git.example.com/platform/gitops.git';
const section = (env: string, extra = '') => `gitops:\n  repository:\n    url: ${REPO}\n    path: pronto/${env}\n${extra}`;
const shipped = (env: string) => readFileSync(`${CONFIG_DIR}/${env}.yaml`, 'utf8');
/** The shipped environment without its gitops section: the base every case adds its own section to. */
const withoutGitops = (env: string) => stripSection(shipped(env), 'gitops');
/** Renders are memoized: several tests read the same environment. */
const renders = new Map<string, ReturnType<typeof renderEnvironment>>();
const render = (text: string, env = 'prod') => {
  const key = `${env}\n${text}`;
  if (!renders.has(key)) renders.set(key, renderEnvironment(parseEnvironment(text, `config/${env}.yaml`)));
  return renders.get(key)!;
};
const ofKind = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind) as any[];
const named = (manifests: Manifest[], kind: string, name: string) => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name) as any;
  if (!found) throw new Error(`no ${kind}/${name}`);
  return found;
};
const wave = (m: Manifest) => Number(m.metadata.annotations?.[SYNC_WAVE_ANNOTATION]);
const groupKind = (m: Manifest) => ({ group: m.apiVersion.includes('/') ? m.apiVersion.split('/')[0] : '', kind: m.kind });
const unique = (list: Array<{ group: string; kind: string }>) => [...new Map(list.map((g) => [`${g.group}/${g.kind}`, g])).entries()]
  .sort(([a], [b]) => a.localeCompare(b)).map(([, g]) => g);
/** The objects of the files the kustomization of `folder` ('' for the environment's) lists. */
const folderObjects = (rendered: ReturnType<typeof renderEnvironment>, folder: string): Manifest[] => {
  const file = (name: string) => rendered.files.find((f) => f.name === (folder ? `${folder}/${name}` : name))!.text;
  return (parse(file('kustomization.yaml')).resources as string[]).flatMap((r) => parseAllDocuments(file(r)).map((d) => d.toJS() as Manifest));
};

describe.each(ENVIRONMENTS)('gitops on in %s', (env) => {
  const text = `${withoutGitops(env)}${section(env)}`;
  const rendered = render(text, env);
  const config = parseEnvironment(text, `config/${env}.yaml`);
  const names = argoNames(config);
  const argo = rendered.manifests.filter((m) => m.apiVersion.startsWith('argoproj.io/'));
  const workloads = rendered.manifests.filter((m) => !m.apiVersion.startsWith('argoproj.io/'));

  test('every object, the Argo CD ones included, passes the whole gate (CRD schemas and policies)', () => {
    expect(rendered.findings).toEqual([]);
    expect(argo.map((m) => m.kind).sort()).toEqual(expect.arrayContaining(['AppProject', 'Application']));
    // The gate really checks them: a misplaced field is a schema finding.
    const broken = structuredClone(named(argo, 'Application', names.application));
    broken.spec.syncPolicy.automatic = { prune: true };
    expect(runGate([...rendered.manifests.filter((m) => m !== named(argo, 'Application', names.application)), broken]).findings.map((f) => f.rule)).toContain('schema');
  });

  test('the Argo CD objects are written apart, projects and Applications each in a folder with its own kustomization, the guardrails in theirs; never in the environment\'s', () => {
    const kustomization = parse(rendered.files.find((f) => f.name === 'kustomization.yaml')!.text).resources as string[];
    const nested = rendered.files.filter((f) => f.name.startsWith(`${ARGOCD_FOLDER}/`) || f.name.startsWith(`${GUARDRAILS_FOLDER}/`)).map((f) => f.name);
    expect(nested).toEqual([
      `${GUARDRAILS_FOLDER}/namespace.k8s.yaml`, `${GUARDRAILS_FOLDER}/kustomization.yaml`,
      `${ARGOCD_PROJECTS_FOLDER}/argocd-projects.k8s.yaml`, `${ARGOCD_PROJECTS_FOLDER}/kustomization.yaml`,
      `${ARGOCD_APPLICATIONS_FOLDER}/argocd-applications.k8s.yaml`, `${ARGOCD_APPLICATIONS_FOLDER}/kustomization.yaml`,
    ]);
    expect(kustomization.filter((r) => r.includes('/'))).toEqual([]);
    // Every workload object is in the environment's folder or the guardrails'; every Argo CD object in argocd/, the projects apart.
    const ref = (m: Manifest) => `${m.kind}/${m.metadata.name}`;
    expect([...folderObjects(rendered, GUARDRAILS_FOLDER), ...folderObjects(rendered, '')].map(ref).sort()).toEqual(workloads.map(ref).sort());
    expect(folderObjects(rendered, ARGOCD_PROJECTS_FOLDER).map(ref).sort()).toEqual(ofKind(argo, 'AppProject').map(ref).sort());
    expect(folderObjects(rendered, ARGOCD_APPLICATIONS_FOLDER).map(ref).sort()).toEqual(ofKind(argo, 'Application').map(ref).sort());
    expect(argo.every((m) => m.metadata.namespace === config.capabilities.gitops!.argocd.namespace)).toBe(true);
  });

  test('the Pronto AppProject allows exactly the namespaced kinds and namespaces of the environment\'s folder, and no cluster-scoped kind', () => {
    const project = named(argo, 'AppProject', names.project).spec;
    const applied = folderObjects(rendered, '');
    expect(applied.filter((m) => !isNamespaced(m))).toEqual([]);
    expect(project.clusterResourceWhitelist).toBeUndefined();
    expect(project.namespaceResourceWhitelist).toEqual(unique(applied.map(groupKind)));
    expect(project.namespaceResourceWhitelist).not.toContainEqual(expect.objectContaining({ kind: 'ResourceQuota' }));
    expect(project.destinations.map((d: any) => d.namespace)).toEqual([...new Set(applied.map((m) => m.metadata.namespace))].sort());
    expect(project.sourceRepos).toEqual([REPO]);
  });

  test('the guardrails AppProject allows exactly what guardrails/ renders: the Namespace, its quota and limits (and its admission policies, on in prod)', () => {
    const project = named(argo, 'AppProject', names.guardrailsProject).spec;
    const guardrails = folderObjects(rendered, GUARDRAILS_FOLDER);
    const admission = config.namespace.admissionPolicies ? ['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'] : [];
    expect(guardrails.map((m) => m.kind)).toEqual(['Namespace', 'ResourceQuota', 'LimitRange', ...admission, ...admission, ...admission]);
    expect(project.clusterResourceWhitelist).toEqual([{ group: '', kind: 'Namespace' }, ...admission.map((kind) => ({ group: 'admissionregistration.k8s.io', kind }))]);
    expect(project.namespaceResourceWhitelist).toEqual([{ group: '', kind: 'LimitRange' }, { group: '', kind: 'ResourceQuota' }]);
    expect(project.destinations).toEqual([{ server: 'https://kubernetes.default.svc', namespace: config.namespace.name }]);
    expect(project.sourceRepos).toEqual([REPO]);
    const app = named(argo, 'Application', names.guardrails).spec;
    expect(app).toMatchObject({ project: names.guardrailsProject, source: { repoURL: REPO, path: `pronto/${env}/${GUARDRAILS_FOLDER}` }, destination: { namespace: config.namespace.name } });
    expect(app.syncPolicy.syncOptions).toContain('CreateNamespace=false');
    // Never pruned: its deletion would delete everything in it.
    expect(named(workloads, 'Namespace', config.namespace.name).metadata.annotations[SYNC_OPTIONS_ANNOTATION]).toBe('Prune=false');
  });

  test('the root AppProject: Applications in Argo CD\'s namespace only, from the GitOps repository; the platform project: the add-ons\' Helm repositories only', () => {
    const argocd = config.capabilities.gitops!.argocd.namespace;
    const root = named(argo, 'AppProject', names.rootProject).spec;
    expect(root).toMatchObject({ sourceRepos: [REPO], destinations: [{ server: 'https://kubernetes.default.svc', namespace: argocd }], namespaceResourceWhitelist: [{ group: 'argoproj.io', kind: 'Application' }] });
    expect(root.clusterResourceWhitelist).toBeUndefined();
    expect(named(argo, 'Application', names.root).spec).toMatchObject({ project: names.rootProject, source: { path: `pronto/${env}/${ARGOCD_APPLICATIONS_FOLDER}` }, destination: { namespace: argocd } });
    const platform = named(argo, 'AppProject', names.platformProject).spec;
    const addons = ofKind(argo, 'Application').filter((a) => a.spec.source.chart);
    expect(platform.sourceRepos).toEqual([...new Set(addons.map((a) => a.spec.source.repoURL))].sort());
    expect(platform.sourceRepos).not.toContain(REPO);
    expect(platform.destinations.map((d: any) => d.namespace)).not.toContain(argocd);
    expect(JSON.stringify(platform)).not.toContain('argoproj.io');
    // Every Application names the project of its purpose.
    expect(Object.fromEntries(ofKind(argo, 'Application').map((a) => [a.metadata.name, a.spec.project]))).toEqual({
      [names.root]: names.rootProject, [names.guardrails]: names.guardrailsProject, [names.application]: names.project,
      ...Object.fromEntries(addons.map((a) => [a.metadata.name, names.platformProject])),
    });
  });

  test('the projects that need more than least privilege carry the gate\'s waiver, with a reason; the root needs none', () => {
    const waiver = (name: string) => named(argo, 'AppProject', name).metadata.annotations?.[`${WAIVER_PREFIX}${PROJECT_RULE}`];
    expect(waiver(names.rootProject)).toBeUndefined();
    expect(waiver(names.guardrailsProject)).toMatch(config.namespace.admissionPolicies
      ? /^the namespace pronto and its guardrails need the cluster-scoped kinds Namespace, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding; /
      : /^the namespace pronto and its guardrails need the cluster-scoped kinds Namespace; /);
    expect(waiver(names.project)).toMatch(/Role pronto\/otel-collector, RoleBinding pronto\/otel-collector/);
    expect(waiver(names.platformProject)).toMatch(/ClusterRoleBinding/);
    expect(rendered.waivers.filter((w) => w.rule === PROJECT_RULE).map((w) => w.object))
      .toEqual([names.guardrailsProject, names.project, names.platformProject].map((n) => `AppProject argocd/${n}`).sort());
  });

  test('the Pronto Application: repo, revision and path from config, no namespace creation, retries, HPA replicas ignored', () => {
    const app = named(argo, 'Application', names.application).spec;
    expect(app.source).toEqual({ repoURL: REPO, targetRevision: 'main', path: `pronto/${env}` });
    expect(app.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: config.namespace.name });
    expect(app.project).toBe(names.project);
    expect(app.syncPolicy.syncOptions).toEqual(expect.arrayContaining(['CreateNamespace=false', 'RespectIgnoreDifferences=true']));
    expect(app.syncPolicy.retry).toEqual({ limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '3m' } });
    const targets = ofKind(workloads, 'HorizontalPodAutoscaler').map((h) => `${h.spec.scaleTargetRef.kind}/${h.spec.scaleTargetRef.name}`).sort();
    expect((app.ignoreDifferences ?? []).map((d: any) => `${d.kind}/${d.name}`).sort()).toEqual(targets);
    for (const d of app.ignoreDifferences ?? []) expect(d).toMatchObject({ group: 'apps', jsonPointers: ['/spec/replicas'], namespace: config.namespace.name });
  });

  test('sync waves: namespace, quotas, service accounts and config, then the apps, the gateway last', () => {
    for (const m of workloads) expect([m.kind, m.metadata.name, Number.isInteger(wave(m))]).toEqual([m.kind, m.metadata.name, true]);
    const waveOf = (kind: string) => ofKind(workloads, kind).map(wave);
    const [namespace] = waveOf('Namespace');
    expect(Math.max(...waveOf('ResourceQuota'), ...waveOf('LimitRange'))).toBeGreaterThan(namespace);
    const config = [...waveOf('ServiceAccount'), ...waveOf('ConfigMap')];
    expect(Math.min(...config)).toBeGreaterThan(Math.max(...waveOf('ResourceQuota'), ...waveOf('LimitRange')));
    const services = ofKind(workloads, 'Deployment').filter((d) => d.metadata.name !== 'gateway').map(wave);
    expect(Math.min(...services)).toBeGreaterThan(Math.max(...config));
    if (config.length > 0 && workloads.some((m) => m.kind === 'Deployment' && m.metadata.name === 'gateway')) {
      expect(wave(named(workloads, 'Deployment', 'gateway'))).toBeGreaterThan(Math.max(...services));
    }
    // The root Application: itself, the guardrails, the add-ons, then Pronto. The projects have no wave: nothing syncs them.
    for (const p of ofKind(argo, 'AppProject')) expect(p.metadata.annotations[SYNC_WAVE_ANNOTATION]).toBeUndefined();
    expect(wave(named(argo, 'Application', names.root))).toBe(ROOT_WAVES.root);
    const addons = ofKind(argo, 'Application').filter((a) => a.spec.source.chart).map(wave);
    expect(wave(named(argo, 'Application', names.guardrails))).toBeLessThan(Math.min(...addons));
    expect(Math.max(...addons)).toBeLessThan(wave(named(argo, 'Application', names.application)));
  });

  test('the environment\'s objects are the same with gitops on, Argo CD\'s annotations aside, but the Role that lets the Grafana it installs read them, and that Grafana\'s Loki login', () => {
    // The cluster's own Loki, with logins as the add-on's gateway requires: the shippers log in alike.
    const ownText = withOwnAddons(withoutGitops(env));
    expect(ownText).toMatch(/^ {2}loki: \{ url: /m);
    const off = render(ownText.replace(/^( {2}loki: \{ )(url: )/m, '$1basicAuth: true, $2'), env).manifests;
    // Pronto's Grafana (kube-prometheus-stack) reads the dashboards and datasources through a Role here; a cluster's own Grafana brings its own access.
    const grafanaRbac = (m: Manifest) => m.metadata.name === GRAFANA_SIDECAR_ROLE && (m.kind === 'Role' || m.kind === 'RoleBinding');
    expect(workloads.filter(grafanaRbac).map((m) => m.kind)).toEqual(['Role', 'RoleBinding']);
    expect(off.filter(grafanaRbac)).toEqual([]);
    const strip = (m: Manifest) => {
      const copy = structuredClone(m);
      // Grafana's read login to Loki exists for the Grafana Pronto installs only (Vault renders its password into that pod).
      if (copy.kind === 'ConfigMap' && copy.metadata.name === 'grafana-datasources') {
        const [key, text] = Object.entries(copy.data as Record<string, string>)[0];
        const file = parse(text);
        for (const d of file.datasources) {
          delete d.basicAuth;
          delete d.basicAuthUser;
          if (d.secureJsonData) delete d.secureJsonData.basicAuthPassword;
        }
        copy.data = { [key]: stringify(file, { lineWidth: 0 }) };
      }
      delete copy.metadata.annotations?.[SYNC_WAVE_ANNOTATION];
      delete copy.metadata.annotations?.[SYNC_OPTIONS_ANNOTATION];
      if (copy.metadata.annotations && Object.keys(copy.metadata.annotations).length === 0) delete copy.metadata.annotations;
      // JSON: equal text for equal objects, key order included (synth formats its files from exactly these objects).
      return JSON.stringify(copy);
    };
    expect(workloads.filter((m) => !grafanaRbac(m)).map(strip)).toEqual(off.map(strip));
  });
});

test('some shipped environment autoscales, so the ignoreDifferences comparison above is not vacuous', () => {
  expect(ENVIRONMENTS.some((env) => /autoscaling:/.test(shipped(env)))).toBe(true);
});

describe('gitops off', () => {
  test.each(ENVIRONMENTS)('%s: no sync wave, no Argo CD object, no argocd/ folder; false is the same as absent', (env) => {
    const off = render(withOwnAddons(withoutGitops(env)), env);
    expect(off.manifests.some((m) => m.metadata.annotations?.[SYNC_WAVE_ANNOTATION] !== undefined)).toBe(false);
    expect(off.files.some((f) => f.name.startsWith(`${ARGOCD_FOLDER}/`))).toBe(false);
    // The guardrails are a folder of their own all the same: `kubectl apply -k` it first, then the environment's.
    expect(off.files.filter((f) => f.name.startsWith(`${GUARDRAILS_FOLDER}/`)).map((f) => f.name)).toEqual([`${GUARDRAILS_FOLDER}/namespace.k8s.yaml`, `${GUARDRAILS_FOLDER}/kustomization.yaml`]);
    expect(off.files.find((f) => f.name === 'kustomization.yaml')!.text).toContain(`# Apply ${GUARDRAILS_FOLDER}/ first (kubectl apply -k <this folder>/${GUARDRAILS_FOLDER}), then this folder.`);
    expect(off.manifests.some((m) => m.metadata.annotations?.[SYNC_OPTIONS_ANNOTATION] !== undefined)).toBe(false);
    const disabled = render(`${withOwnAddons(withoutGitops(env))}gitops: false\n`, env);
    // The same files: the same names; each chart file formatted from the same objects (compared as JSON, in
    // apply order, so without formatting the YAML twice); the other files' text as is.
    expect(disabled.files.map((f) => f.name)).toEqual(off.files.map((f) => f.name));
    expect(disabled.manifests.map((m) => JSON.stringify(m))).toEqual(off.manifests.map((m) => JSON.stringify(m)));
    const written = (r: typeof off) => r.files.filter((f) => !f.name.endsWith('.k8s.yaml')).map((f) => [f.name, f.text]);
    expect(written(disabled)).toEqual(written(off));
  });
});

describe('the guardrails\' own project', () => {
  test('with admission policies on, it allows them and their bindings (cluster-scoped); the Pronto project still allows no cluster-scoped kind', () => {
    const base = withoutGitops('prod');
    expect(base).toContain('\nnamespace:\n');
    // On in the shipped prod.
    expect(base).toMatch(/^ {2}admissionPolicies: \{ enforcement: Deny \}$/m);
    const rendered = render(`${base}${section('prod')}`);
    expect(rendered.findings).toEqual([]);
    const project = (name: string) => named(rendered.manifests, 'AppProject', name).spec;
    expect(project('pronto-prod-guardrails').clusterResourceWhitelist).toEqual([
      { group: '', kind: 'Namespace' },
      { group: 'admissionregistration.k8s.io', kind: 'ValidatingAdmissionPolicy' },
      { group: 'admissionregistration.k8s.io', kind: 'ValidatingAdmissionPolicyBinding' },
    ]);
    expect(project('pronto-prod').clusterResourceWhitelist).toBeUndefined();
    const guardrails = rendered.files.find((f) => f.name === `${GUARDRAILS_FOLDER}/namespace.k8s.yaml`)!.text;
    expect(guardrails).toContain('kind: ValidatingAdmissionPolicyBinding');
    expect(named(rendered.manifests, 'AppProject', 'pronto-prod-guardrails').metadata.annotations[`${WAIVER_PREFIX}${PROJECT_RULE}`])
      .toMatch(/cluster-scoped kinds Namespace, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding; /);
  });

  test('a cluster-scoped object outside the namespace chart fails the synth: the Pronto project allows none', () => {
    const text = `${withoutGitops('prod')}${section('prod')}`;
    const config = parseEnvironment(text, 'config/prod.yaml');
    const app = Testing.app();
    const stray = new Chart(app, 'stray');
    new kplus.k8s.KubeClusterRole(stray, 'r', { metadata: { name: 'stray' } });
    expect(() => buildApp(app, config)).toThrow('cluster-scoped ClusterRole outside the namespace chart: the Pronto AppProject allows no cluster-scoped kind');
  });
});

describe('sync-wave table', () => {
  test('gitops is the last capability, so its charts see every other chart', () => {
    expect(Object.keys(SECTIONS).at(-1)).toBe('gitops');
  });

  test('the data tier and the trace collector come before the apps, the gateway after them; every capability has a wave', () => {
    expect(SYNC_WAVES[CHART_WAVES.database]).toBeLessThan(SYNC_WAVES[CHART_WAVES.services]);
    expect(SYNC_WAVES[CHART_WAVES.backups]).toBeLessThan(SYNC_WAVES[CHART_WAVES.services]);
    expect(SYNC_WAVES[CHART_WAVES.gateway]).toBeGreaterThan(SYNC_WAVES[CHART_WAVES.services]);
    expect(Object.keys(CHART_WAVES).sort()).toEqual([...Object.keys(SECTIONS).filter((id) => id !== 'gitops'), 'services'].sort());
    expect(SYNC_WAVES[NAMESPACE_KIND_WAVES.Namespace]).toBeLessThan(SYNC_WAVES[NAMESPACE_KIND_WAVES.ResourceQuota]);
  });

  test('assignSyncWaves puts a data-tier StatefulSet before the apps and their ServiceAccounts in the config wave; fails on an unknown chart', () => {
    const app = Testing.app();
    const chart = (id: string) => new Chart(app, id, { namespace: 'pronto' });
    const [namespace, services, database, mystery] = ['namespace', 'services', 'database', 'mystery'].map(chart);
    new kplus.k8s.KubeNamespace(namespace, 'ns', { metadata: { name: 'pronto' } });
    new kplus.k8s.KubeServiceAccount(services, 'sa', { metadata: { name: 'order-service' } });
    new kplus.k8s.KubeDeployment(services, 'app', { metadata: { name: 'order-service-app' }, spec: { selector: {}, template: {} } });
    new kplus.k8s.KubeStatefulSet(database, 'pg', { metadata: { name: 'postgres' }, spec: { selector: {}, serviceName: 'postgres-headless', template: {} } });
    assignSyncWaves({ namespace, services, capabilityOf: new Map([[database, 'database']]) });
    const waveIn = (c: Chart, name: string) => Number(c.node.findAll().filter(ApiObject.isApiObject).find((o) => o.name === name)!.toJson().metadata.annotations[SYNC_WAVE_ANNOTATION]);
    expect(waveIn(database, 'postgres')).toBeLessThan(waveIn(services, 'order-service-app'));
    expect(waveIn(services, 'order-service-app')).toBe(SYNC_WAVES.apps);
    expect(waveIn(namespace, 'pronto')).toBe(SYNC_WAVES.namespace);
    expect(waveIn(services, 'order-service')).toBe(SYNC_WAVES.config);
    expect(waveIn(database, 'postgres')).toBe(SYNC_WAVES.backends);
    new kplus.k8s.KubeConfigMap(mystery, 'x', { metadata: { name: 'x' } });
    new kplus.k8s.KubeService(mystery, 'y', { metadata: { name: 'y' } });
    expect(() => assignSyncWaves({ namespace, services, capabilityOf: new Map([[mystery, 'mystery']]) })).toThrow('no sync wave for chart "mystery"');
  });
});

describe('add-ons', () => {
  const prod = withoutGitops('prod');
  const applications = (extra = '', base = prod) => render(`${base}${section('prod', extra)}`).manifests.filter((m) => m.kind === 'Application') as any[];
  const chartOf = (apps: any[], chart: string) => apps.find((a) => a.spec.source.chart === chart);

  test('every add-on is a Helm chart at an exact version; the conditional ones only with what they serve', () => {
    const apps = applications();
    const charts = apps.filter((a) => a.spec.source.chart);
    for (const a of charts) expect(a.spec.source.targetRevision).toMatch(/^\d+\.\d+\.\d+$/);
    expect(charts.map((a) => a.spec.source.chart).sort()).toEqual(['jaeger', 'kube-prometheus-stack', 'loki', 'prometheus-pushgateway', 'vault']);
    // The injector injects, into pods that name none, the agent image Pronto's pods name (secrets.agent.image).
    const agent = parseEnvironment(prod, 'config/prod.yaml').capabilities.secrets!.agent.image;
    expect(chartOf(apps, 'vault').spec.source.helm.valuesObject).toMatchObject({ server: { enabled: false }, injector: { enabled: true, agentImage: { repository: agent.repository, tag: agent.tag } } });
    expect(chartOf(apps, 'loki').spec.source.helm.valuesObject.loki.limits_config).toEqual({ allow_structured_metadata: true, retention_period: '744h' });
    const grafana = chartOf(apps, 'kube-prometheus-stack').spec.source.helm.valuesObject.grafana.sidecar;
    expect(grafana.dashboards).toMatchObject({ enabled: true, label: 'grafana_dashboard', labelValue: '1' });
    expect(grafana.datasources).toMatchObject({ enabled: true, label: 'grafana_datasource', labelValue: '1' });
    expect(grafana.dashboards.searchNamespace).toContain('pronto');
  });

  /** The add-ons of prod with its capability sections replaced by `sections` (absent when undefined). */
  const addonsWith = (sections: Record<string, unknown>) => {
    const config = parseEnvironment(`${prod}${section('prod')}`, 'config/prod.yaml');
    const capabilities = Object.fromEntries(Object.entries({ ...config.capabilities, ...sections }).filter(([, v]) => v !== undefined));
    const changed = { ...config, capabilities } as typeof config;
    return addonApplications(config.capabilities.gitops!, changed, environmentPorts(changed), new ConnectionGraph());
  };

  test('with metrics on, Prometheus selects ServiceMonitors and rules by metrics.prometheus.selectorLabels and keeps metrics.prometheus.retentionDays on a volume; without, the chart\'s defaults', () => {
    const selector = { team: 'pronto', release: 'kps' };
    const metrics = parseEnvironment(`${prod}${section('prod')}`, 'config/prod.yaml').capabilities.metrics!;
    const kps = addonsWith({ metrics: { ...metrics, prometheus: { ...metrics.prometheus, selectorLabels: selector } } }).find((a) => a.name === 'kube-prometheus-stack')!;
    expect((kps.source.values as any).prometheus.prometheusSpec).toMatchObject({
      serviceMonitorSelector: { matchLabels: selector }, ruleSelector: { matchLabels: selector },
      retention: `${metrics.prometheus.retentionDays}d`, storageSpec: { volumeClaimTemplate: { spec: { resources: { requests: { storage: metrics.prometheus.storage.size } } } } },
    });
    const without = addonsWith({ metrics: undefined, backups: undefined }).find((a) => a.name === 'kube-prometheus-stack')!;
    expect((without.source.values as any).prometheus).toBeUndefined();
  });

  test('a Prometheus namespace other than the add-on\'s is a config error naming both', () => {
    const metrics = parseEnvironment(`${prod}${section('prod')}`, 'config/prod.yaml').capabilities.metrics!;
    const message = configProblems(() => addonsWith({ metrics: { ...metrics, prometheus: { ...metrics.prometheus, namespace: 'observability' } } }));
    expect(message).toContain('metrics.prometheus.namespace: expected monitoring, the namespace gitops.addons.kubePrometheusStack installs Prometheus into, found "observability"');
  });

  test('each add-on can be switched off; the OpenTelemetry Operator and Istio come only with what they serve', () => {
    // The cluster's own add-ons: their addresses and TLS mode stated in the sections that use them.
    const own = prod.replace('metrics:\n', 'metrics:\n  prometheus: { url: "http://prometheus.monitoring.svc:9090" }\n  pushgateway: { url: "http://prometheus-pushgateway.monitoring.svc:9091" }\n')
      .replace('tracing:\n', 'tracing:\n  jaeger: { insecure: true, queryUrl: "http://jaeger-query.tracing.svc:16686" }\n');
    const off = applications('  addons:\n    loki: false\n    jaeger: false\n    kubePrometheusStack: false\n    pushgateway: false\n    vaultAgentInjector: false\n    opentelemetryOperator: false\n', own);
    expect(off.filter((a) => a.spec.source.chart)).toEqual([]);
    // No add-on, no platform project (it would have no source); the others are the same.
    const projects = render(`${own}${section('prod', '  addons:\n    loki: false\n    jaeger: false\n    kubePrometheusStack: false\n    pushgateway: false\n    vaultAgentInjector: false\n    opentelemetryOperator: false\n')}`)
      .manifests.filter((m) => m.kind === 'AppProject').map((m) => m.metadata.name);
    expect(projects).toEqual(['pronto-prod-root', 'pronto-prod-guardrails', 'pronto-prod']);
    const charts = (sections: Record<string, unknown>) => addonsWith(sections).map((a) => a.source.chart).sort();
    expect(charts({ circuitBreakers: { mesh: { type: 'istio', dataPlane: 'cni', controlPlane: { namespace: 'istio-system' } } } }))
      .toEqual(expect.arrayContaining(['base', 'cni', 'istiod']));
    expect(charts({ circuitBreakers: { mesh: { type: 'istio', dataPlane: 'ambient', controlPlane: { namespace: 'istio-system' } } } })).toEqual(expect.arrayContaining(['ztunnel']));
    expect(charts({ circuitBreakers: {} })).not.toContain('istiod');
    const tracing = parseEnvironment(`${prod}${section('prod')}`, 'config/prod.yaml').capabilities.tracing!;
    expect(charts({ tracing: { ...tracing, instrumentation: {} } })).toContain('opentelemetry-operator');
    expect(charts({ tracing: undefined })).not.toContain('opentelemetry-operator');
    for (const a of addonsWith({ circuitBreakers: { mesh: { type: 'istio', dataPlane: 'cni', controlPlane: { namespace: 'istio-system' } } } }).filter((x) => x.addon === 'istio')) {
      expect(a.source.version).toBe(ADDONS.istio.chart.version);
    }
  });

  test('Istio in a namespace other than istio-system: every chart is told it, so nothing is written into istio-system; istiod\'s validators keep the failurePolicy it patches', () => {
    for (const dataPlane of ['ambient', 'cni'] as const) {
      const istio = addonsWith({ circuitBreakers: { mesh: { type: 'istio', dataPlane, controlPlane: { namespace: 'mesh' } } } }).filter((a) => a.addon === 'istio');
      expect(istio.map((a) => a.source.chart)).toEqual(dataPlane === 'ambient' ? ['base', 'istiod', 'cni', 'ztunnel'] : ['base', 'istiod', 'cni']);
      for (const a of istio) {
        expect([a.name, a.namespace, a.contract.writes.namespaces]).toEqual([a.contract.release, 'mesh', ['mesh']]);
        expect(a.contract.chart.name).toBe(a.source.chart);
      }
      const values = (chart: string) => istio.find((a) => a.source.chart === chart)!.source.values as any;
      // base and istiod put objects into global.istioNamespace; ztunnel finds istiod through istioNamespace (the CNI chart refers to neither).
      expect(values('base')).toEqual({ global: { istioNamespace: 'mesh' } });
      expect(values('istiod').global).toEqual({ istioNamespace: 'mesh' });
      if (dataPlane === 'ambient') expect(values('ztunnel')).toEqual({ istioNamespace: 'mesh' });
      expect(values('istiod').profile).toBe(dataPlane === 'ambient' ? 'ambient' : undefined);
      expect(values('istiod').pilot).toEqual(dataPlane === 'ambient' ? undefined : { cni: { enabled: true } });
      expect(JSON.stringify(istio.map((a) => [a.source, a.contract.writes]))).not.toContain('istio-system');
      expect(istio.flatMap((a) => a.ignoreDifferences.map((d) => `${a.name}: ${d.kind}/${d.name} ${d.jqPathExpressions}`))).toEqual([
        'istio-base: ValidatingWebhookConfiguration/istiod-default-validator .webhooks[]?.failurePolicy',
        'istiod: ValidatingWebhookConfiguration/istio-validator-mesh .webhooks[]?.failurePolicy',
      ]);
    }
  });

  test('the OpenTelemetry Operator: its contract\'s release and namespace, webhook certificates from cert-manager (no chart-generated CA, no caBundle to ignore), server-side apply for its CRDs', () => {
    const tracing = parseEnvironment(`${prod}${section('prod')}`, 'config/prod.yaml').capabilities.tracing!;
    const operator = addonsWith({ tracing: { ...tracing, instrumentation: {} } }).find((a) => a.addon === 'opentelemetryOperator')!;
    expect([operator.name, operator.namespace]).toEqual([operator.contract.release, ADDONS.opentelemetryOperator.namespace]);
    expect(operator.source).toMatchObject({ chart: 'opentelemetry-operator', version: ADDONS.opentelemetryOperator.chart.version });
    expect((operator.source.values as any).admissionWebhooks).toEqual({ certManager: { enabled: true } });
    expect(operator.contract.writes.namespaced).toEqual(expect.arrayContaining([
      { group: 'cert-manager.io', kind: 'Certificate' }, { group: 'cert-manager.io', kind: 'Issuer' },
    ]));
    // cert-manager writes the Secret; the chart's own (a pre-install/pre-upgrade hook) is never rendered.
    expect(operator.contract.writes.namespaced).not.toContainEqual({ group: '', kind: 'Secret' });
    // The CA injector fills caBundle where the chart renders none: nothing for Argo CD to ignore.
    expect(operator.ignoreDifferences).toEqual([]);
    expect(operator.serverSideApply).toBe(true);
  });

  test('the OpenTelemetry Operator: an environment may move to a newer chart and name its own issuer (cert-manager still issues)', () => {
    const extra = '  addons:\n    opentelemetryOperator:\n      chart: { version: 0.123.0 }\n      values: { admissionWebhooks: { certManager: { issuerRef: { kind: ClusterIssuer, name: internal-ca } } } }\n';
    const config = parseEnvironment(`${prod}${section('prod', extra)}`, 'config/prod.yaml');
    const changed = { ...config, capabilities: { ...config.capabilities, tracing: { ...config.capabilities.tracing!, instrumentation: {} } } } as typeof config;
    const operator = addonApplications(config.capabilities.gitops!, changed, environmentPorts(changed), new ConnectionGraph()).find((a) => a.addon === 'opentelemetryOperator')!;
    expect(operator.source.version).toBe('0.123.0');
    expect((operator.source.values as any).admissionWebhooks).toEqual({ certManager: { enabled: true, issuerRef: { kind: 'ClusterIssuer', name: 'internal-ca' } } });
  });

  test('a chart version and values can be set per environment; values merge over ours', () => {
    const apps = applications('  addons:\n    loki:\n      chart: { version: 6.31.0 }\n      values: { loki: { storage: { type: s3 } } }\n');
    const loki = chartOf(apps, 'loki').spec.source;
    expect(loki.targetRevision).toBe('6.31.0');
    expect(loki.helm.valuesObject.loki.storage).toEqual({ type: 's3' });
    expect(loki.helm.valuesObject.loki.limits_config).toEqual({ allow_structured_metadata: true, retention_period: '744h' });
  });
});

describe('Grafana of the kube-prometheus-stack add-on: the admin password from Vault, the sidecars\' RBAC namespaced', () => {
  const text = `${withoutGitops('prod')}${section('prod')}`;
  const config = parseEnvironment(text, 'config/prod.yaml');
  const secrets = config.capabilities.secrets!;
  const rendered = render(text);
  const kps = ofKind(rendered.manifests, 'Application').find((a) => a.spec.source.chart === 'kube-prometheus-stack')!;
  const values = kps.spec.source.helm.valuesObject;
  const grafana = values.grafana;
  const contract = kubePrometheusStackContract(ADDONS.kubePrometheusStack.namespace);
  const annotations: Record<string, string> = grafana.podAnnotations;
  const a = (key: string) => annotations[`vault.hashicorp.com/${key}`];
  const vaultPath = `${secrets.kv.mount}/data/${secrets.kv.prefix}/${GRAFANA_ADMIN.vaultPath}`;
  const lokiReaderPath = `${secrets.kv.mount}/data/${secrets.kv.prefix}/${GRAFANA_LOKI_READER.vaultPath}`;
  /** The file the agent renders for `file`, where Grafana's containers see it. */
  const rendersAt = (file: string) => `${a('secret-volume-path')}/${a(`agent-inject-file-${file}`)}`;

  test('no default and no password in the values: kube-prometheus-stack\'s prom-operator is never given, the chart\'s admin Secret never used', () => {
    const file = rendered.files.find((f) => f.name === `${ARGOCD_APPLICATIONS_FOLDER}/argocd-applications.k8s.yaml`)!.text;
    for (const text of [JSON.stringify(values), file]) {
      expect(text).not.toContain('prom-operator');
      expect(text).not.toMatch(/adminPassword|GF_SECURITY_ADMIN_PASSWORD[^_]/);
    }
    // With env.GF_SECURITY_ADMIN_PASSWORD__FILE set, grafana 9.3.4 renders no admin Secret (templates/secret.yaml) and takes the
    // password from no Secret (templates/_pod.tpl); with env.GF_SECURITY_ADMIN_USER, the user from none either.
    expect(grafana.env).toEqual({ GF_SECURITY_ADMIN_USER: GRAFANA_ADMIN.user, GF_SECURITY_ADMIN_PASSWORD__FILE: `${GRAFANA_ADMIN.secretVolumePath}/${GRAFANA_ADMIN.passwordFile}` });
    for (const key of ['admin', 'adminUser', 'envValueFrom', 'envFromSecret', 'envFromSecrets', 'envRenderSecret', 'extraSecretMounts']) expect(grafana[key]).toBeUndefined();
  });

  test('the Vault agent renders exactly the password of grafana/admin into the file Grafana reads, with its own role and an audience-bound token', () => {
    expect(a('agent-inject')).toBe('true');
    expect(a('role')).toBe(vaultRoleName(secrets, 'grafana'));
    expect(a('service')).toBe(secrets.address);
    expect(a('auth-path')).toBe(kubernetesAuthMount(secrets, config.name).path);
    expect([a('tls-secret'), a('ca-cert')]).toEqual([secrets.tls!.tlsSecret, secrets.tls!.caCertPath]);
    const rendered = Object.keys(annotations).filter((k) => k.startsWith('vault.hashicorp.com/agent-inject-secret-')).map((k) => [k.slice('vault.hashicorp.com/agent-inject-secret-'.length), annotations[k]]);
    // And the password of its Loki login (the Loki port's read login), for the Loki datasource.
    expect(rendered.sort()).toEqual([[GRAFANA_ADMIN.passwordFile, vaultPath], [GRAFANA_ADMIN.reloadScriptFile, vaultPath], [GRAFANA_LOKI_READER.file, lokiReaderPath]]);
    expect(a(`agent-inject-template-${GRAFANA_LOKI_READER.file}`)).toBe(`{{- with secret "${lokiReaderPath}" -}}{{ .Data.data.${GRAFANA_LOKI_READER.field} }}{{- end }}`);
    expect(rendersAt(GRAFANA_LOKI_READER.file)).toBe(GRAFANA_LOKI_READER.path);
    expect(a(`agent-inject-template-${GRAFANA_ADMIN.passwordFile}`)).toBe(`{{- with secret "${vaultPath}" -}}{{ .Data.data.password }}{{- end }}`);
    expect(rendersAt(GRAFANA_ADMIN.passwordFile)).toBe(grafana.env.GF_SECURITY_ADMIN_PASSWORD__FILE);
    // In Grafana and the datasources sidecar only; under /vault/secrets, away from the ServiceAccount token under /var/run/secrets.
    expect(a('agent-inject-containers')).toBe(`${GRAFANA.container},${GRAFANA.sidecars.datasources}`);
    expect(a('secret-volume-path')).toBe('/vault/secrets');
    expect(a(`agent-inject-perms-${GRAFANA_ADMIN.passwordFile}`)).toBe('0440');
    // The agent logs in with a token for Vault's audience, in a pod volume no Grafana container mounts (extraContainerVolumes).
    expect(grafana.extraContainerVolumes).toEqual([{ name: a('agent-service-account-token-volume-name'), projected: {
      defaultMode: 0o440, sources: [{ serviceAccountToken: { audience: kubernetesAuthMount(secrets, config.name).audience, expirationSeconds: secrets.kubernetesAuth.tokenExpirationSeconds, path: 'token' } }],
    } }]);
    expect(grafana.extraVolumeMounts).toBeUndefined();
  });

  test('the datasources sidecar reloads Grafana as the admin through the script the agent renders (the chart would need a Secret); the dashboards need no reload', () => {
    expect(grafana.sidecar.datasources).toMatchObject({ skipReload: true, script: rendersAt(GRAFANA_ADMIN.reloadScriptFile) });
    const script = a(`agent-inject-template-${GRAFANA_ADMIN.reloadScriptFile}`);
    expect(script).toBe(`{{- with secret "${vaultPath}" -}}${grafanaDatasourcesReloadScript()}{{- end }}`);
    expect(script).toContain(`open("${grafana.env.GF_SECURITY_ADMIN_PASSWORD__FILE}")`);
    expect(script).toContain(GRAFANA.datasourcesReloadUrl);
    expect(grafana.sidecar.dashboards.skipReload).toBe(true);
  });

  test('no ClusterRole for the sidecars: Roles in the namespaces they search, on ConfigMaps only, and no Secret read anywhere', () => {
    expect(grafana.rbac).toEqual({ namespaced: true, useExistingRole: GRAFANA.sidecarRole });
    const rules = [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }];
    expect(grafana.extraObjects).toEqual([expect.objectContaining({ kind: 'Role', metadata: expect.objectContaining({ name: GRAFANA.sidecarRole, namespace: contract.namespace }), rules })]);
    for (const sidecar of ['dashboards', 'datasources']) {
      expect(grafana.sidecar[sidecar].resource).toBe('configmap');
      expect(grafana.sidecar[sidecar].searchNamespace).toEqual([contract.namespace, config.namespace.name]);
    }
    // The contract: the chart's ClusterRoles, none of them Grafana's (the list is not empty: the operator's is there).
    expect(contract.writes.clusterRoles).toContain('kube-prometheus-stack-operator');
    expect(contract.writes.clusterRoles!.filter((r) => r.includes('grafana'))).toEqual([]);
    expect(contract.serviceAccounts?.grafana).toBe(GRAFANA.fullname);
    // Pronto's namespace: the same rule, bound to Grafana's ServiceAccount; nothing cluster-scoped but the Namespace (and its admission policies).
    const workloads = rendered.manifests.filter((m) => !m.apiVersion.startsWith('argoproj.io/'));
    const role = named(workloads, 'Role', GRAFANA_SIDECAR_ROLE);
    expect([role.metadata.namespace, role.rules]).toEqual([config.namespace.name, rules]);
    expect(named(workloads, 'RoleBinding', GRAFANA_SIDECAR_ROLE)).toMatchObject({
      metadata: { namespace: config.namespace.name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: GRAFANA_SIDECAR_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: GRAFANA.fullname, namespace: contract.namespace }],
    });
    expect(workloads.filter((m) => !isNamespaced(m) && !m.kind.startsWith('ValidatingAdmissionPolicy')).map((m) => m.kind)).toEqual(['Namespace']);
  });

  test('the Vault files hold Grafana\'s policy on exactly its entry, its role bound to its ServiceAccount in the monitoring namespace; no flow for it in Pronto\'s graph', () => {
    const name = vaultRoleName(secrets, 'grafana');
    const file = (path: string) => rendered.files.find((f) => f.name === path)!.text;
    const policy = file(`vault/policies/${name}.hcl`);
    // Its entry, then its own token's lookup and renewal (the role has no default policy).
    expect([...policy.matchAll(/^path "([^"]+)" \{$/gm)].map((m) => m[1])).toEqual([vaultPath, lokiReaderPath, ...TOKEN_SELF_PATHS.map(([p]) => p)]);
    expect(policy.match(/capabilities = \["read"\]/g)).toHaveLength(2 + TOKEN_SELF_PATHS.filter(([, c]) => c === 'read').length);
    expect(JSON.parse(file(`vault/roles/${name}.json`))).toMatchObject({
      bound_service_account_names: [GRAFANA.fullname], bound_service_account_namespaces: [contract.namespace],
      audience: kubernetesAuthMount(secrets, config.name).audience, token_policies: [name],
    });
    expect(file('vault/apply.sh')).toContain(`vault policy write ${name} policies/${name}.hcl`);
    expect(buildEnvironment(config).charts.graph.flows.filter((f) => f.from.name === 'grafana')).toEqual([]);
  });

  test('metrics off: the sidecars search the release\'s namespace only (Pronto has no dashboards, and no Role for them)', () => {
    const base = parseEnvironment(text, 'config/prod.yaml');
    const changed = { ...base, capabilities: { ...base.capabilities, metrics: undefined, backups: undefined } } as typeof base;
    const app = addonApplications(base.capabilities.gitops!, changed, environmentPorts(changed), new ConnectionGraph()).find((x) => x.addon === 'kubePrometheusStack')!;
    const sidecar = (app.source.values as any).grafana.sidecar;
    expect([sidecar.dashboards.searchNamespace, sidecar.datasources.searchNamespace]).toEqual([[contract.namespace], [contract.namespace]]);
  });

  test('secrets off while kube-prometheus-stack is on is a config error (the admin password would have no source); with the add-on off, none', () => {
    const noVault = ['secrets', 'database', 'backups'].reduce((t, key) => stripSection(t, key), withoutGitops('prod'));
    const message = configProblems(() => render(`${noVault}${section('prod')}`));
    expect(message).toMatch(new RegExp(`config/prod.yaml:\\d+: gitops.addons.kubePrometheusStack: installs Grafana, whose admin password comes from Vault`));
    expect(message).toContain(': turn on secrets');
    // The cluster's own Prometheus, Grafana and Loki: nothing asks for Vault (the Loki add-on's gateway would: its logins' passwords).
    const own = noVault.replace('metrics:\n', 'metrics:\n  prometheus: { url: "http://prometheus.monitoring.svc:9090" }\n');
    const apps = ofKind(render(`${own}${section('prod', '  addons:\n    kubePrometheusStack: false\n    loki: false\n')}`).manifests, 'Application');
    expect(apps.filter((x) => x.spec.source.chart).map((x) => x.spec.source.chart)).not.toContain('kube-prometheus-stack');
  });
});

describe('sync policy', () => {
  test('automated prune and self-heal by default; prod can keep self-heal without prune, or sync by hand', () => {
    const app = (extra: string) => render(`${withoutGitops('prod')}${section('prod', extra)}`).manifests
      .find((m) => m.kind === 'Application' && m.metadata.name === 'pronto-prod') as any;
    expect(app('').spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(app('  sync:\n    automated: { prune: false }\n').spec.syncPolicy.automated).toEqual({ prune: false, selfHeal: true });
    expect(app('  sync:\n    automated: false\n').spec.syncPolicy.automated).toBeUndefined();
  });

  test('emittedObjects asks for server-side apply only for an object too large for client-side apply', () => {
    const small = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'pronto' }, data: { x: 'y' } };
    const large = { ...small, data: { x: 'y'.repeat(300 * 1024) } };
    expect(emittedObjects([small]).needsServerSideApply).toBe(false);
    expect(emittedObjects([small, large]).needsServerSideApply).toBe(true);
  });
});

describe('bad gitops sections', () => {
  const FILE = 'config/test.yaml';
  const base = withoutGitops('dev');
  const line = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
  test.each([
    ['a missing repository path', '  repository:\n    url: https://git.example.com/x.git\n', 'gitops.repository.path', 'expected the folder of the GitOps repository', '  repository:'],
    ['a path escaping the repository', '  repository:\n    url: https://git.example.com/x.git\n    path: ../prod\n', 'gitops.repository.path', 'no "." or ".." segments', 'path: ../prod'],
    ['a chart version range', `  repository:\n    url: ${REPO}\n    path: p\n  addons:\n    loki:\n      chart: { version: "^6.0.0" }\n`, 'gitops.addons.loki.chart.version', 'expected an exact chart version', 'version: "^6.0.0"'],
    ['an unknown add-on', `  repository:\n    url: ${REPO}\n    path: p\n  addons:\n    grafana: false\n`, 'gitops.addons', 'unknown key "grafana"', 'grafana: false'],
    ['an OpenTelemetry Operator chart older than the pinned one', `  repository:\n    url: ${REPO}\n    path: p\n  addons:\n    opentelemetryOperator:\n      chart: { version: 0.93.0 }\n`,
      'gitops.addons.opentelemetryOperator.chart.version', `expected ${ADDONS.opentelemetryOperator.chart.version} or later (it installs operator v`, 'version: 0.93.0'],
    ['the OpenTelemetry Operator without cert-manager', `  repository:\n    url: ${REPO}\n    path: p\n  addons:\n    opentelemetryOperator:\n      values:\n        admissionWebhooks:\n          certManager: { enabled: false }\n`,
      'gitops.addons.opentelemetryOperator.values.admissionWebhooks.certManager.enabled', 'expected true or absent (cert-manager issues the webhooks\' certificate', 'certManager: { enabled: false }'],
    ['Grafana\'s admin password in the values', `  repository:\n    url: ${REPO}\n    path: p\n  addons:\n    kubePrometheusStack:\n      values:\n        grafana: { adminPassword: hunter2 }\n`,
      'gitops.addons.kubePrometheusStack.values.grafana.adminPassword', 'expected no value: Grafana\'s admin password comes from Vault', 'grafana: { adminPassword'],
    ['Grafana\'s admin password as an env value', `  repository:\n    url: ${REPO}\n    path: p\n  addons:\n    kubePrometheusStack:\n      values:\n        grafana:\n          env: { GF_SECURITY_ADMIN_PASSWORD: hunter2 }\n`,
      'gitops.addons.kubePrometheusStack.values.grafana.env.GF_SECURITY_ADMIN_PASSWORD', 'expected no value', 'env: {'],
    ['Grafana\'s cluster-wide sidecar RBAC', `  repository:\n    url: ${REPO}\n    path: p\n  addons:\n    kubePrometheusStack:\n      values:\n        grafana:\n          rbac: { namespaced: false }\n`,
      'gitops.addons.kubePrometheusStack.values.grafana.rbac.namespaced', 'expected true or absent (with false the grafana chart renders a ClusterRole that reads every Secret', 'rbac: {'],
    ['another Vault agent image in the injector\'s values', `  repository:\n    url: ${REPO}\n    path: p\n  addons:\n    vaultAgentInjector:\n      values:\n        injector:\n          agentImage: { repository: evil.io/vault, tag: 1.19.0 }\n`,
      'gitops.addons.vaultAgentInjector.values.injector.agentImage', 'expected no value: the agent image is secrets.agent.image', 'agentImage: {'],
    ['a bad retry duration', `  repository:\n    url: ${REPO}\n    path: p\n  sync:\n    retry: { backoff: { duration: 10x } }\n`, 'gitops.sync.retry.backoff.duration', 'expected a duration such as 10s', 'retry:'],
  ])('fails on %s, at file:line', (_name, body, field, expected, needle) => {
    const text = `${base}gitops:\n${body}`;
    const message = configProblems(() => parseEnvironment(text, FILE));
    expect(message).toContain(field);
    expect(message).toContain(expected);
    expect(message).toMatch(new RegExp(`${FILE}:${line(text, needle)}: `));
    // A password is never repeated in a message.
    expect(message).not.toContain('hunter2');
  });
});
