/**
 * Every shipped environment, synthesized: its output files as reviewed snapshots, and the rules
 * of the foundation asserted directly over every object.
 */
import { Testing } from 'cdk8s';
import { buildApp } from '../../charts/build-app';
import { CATALOG } from '../../config/catalog';
import { EnvironmentConfig } from '../../config/load';
import { SLOTS, otherSlot, renderCharts, workloadRunAsId } from '../../lib/core';
import { POSTGRES_RUN_AS, POSTGRES_WORKLOAD } from '../../lib/database';
import { ArgoCdChart } from '../../lib/gitops';
import { isNamespaced } from '../../lib/validation';
import { ENVIRONMENTS, environment, everyPodTemplate, named, ofKind, podTemplates, selects, synthEnvironment } from '../helpers';
import { expectSnapshotFiles } from '../snapshot-files';
import { renderEnvironment } from '../../charts/synthesize';

const RECOMMENDED = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component',
  'app.kubernetes.io/part-of', 'app.kubernetes.io/managed-by'];

describe.each(ENVIRONMENTS)('environment %s', (env) => {
  let config: EnvironmentConfig;
  let manifests: any[];
  /** The objects of Argo CD's charts (synth writes them apart, in argocd/): they live in Argo CD's namespace. */
  let argocd: Set<unknown>;
  /** A pod template of a catalog service (the foundation's rules), not of a capability's workload. */
  const isService = (p: { template: any } | any): boolean =>
    config.services.some((s) => s.name === (p.template ?? p).metadata.labels['app.kubernetes.io/name']);
  /** The service's own container in its pod template (capabilities may add sidecars beside it). */
  const appContainer = (template: any) => {
    const mine = template.spec.containers.filter((c: any) => c.name === template.metadata.labels['app.kubernetes.io/name']);
    expect(mine).toHaveLength(1);
    return mine[0];
  };
  beforeAll(() => {
    config = environment(env);
    const app = Testing.app();
    buildApp(app, config);
    const charts = [...renderCharts(app.charts)].map(([c, objects]) => ({ argo: ArgoCdChart.isArgoCdChart(c), objects }));
    manifests = charts.flatMap((c) => c.objects);
    argocd = new Set(charts.filter((c) => c.argo).flatMap((c) => c.objects));
  });

  test('matches the reviewed snapshot: every output file, each object headed by its kind and name', () => {
    expectSnapshotFiles(`charts/app/${env}`, renderEnvironment(config).files);
  });

  test('every object has the recommended labels, a readable name and the namespace', () => {
    for (const m of manifests) {
      const labels = m.metadata.labels ?? {};
      for (const key of RECOMMENDED) expect([`${m.kind}/${m.metadata.name}`, key, labels[key]]).toEqual([expect.anything(), key, expect.any(String)]);
      expect(labels['app.kubernetes.io/part-of']).toBe('pronto');
      expect(labels['app.kubernetes.io/managed-by']).toBe('cdk8s');
      expect(m.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
      expect(m.metadata.name).not.toMatch(/-[a-f0-9]{8}$/);
      // Argo CD's objects go into Argo CD's namespace, cluster-scoped objects (the Namespace, the
      // collector's ClusterRole and binding) into none, everything else into pronto.
      const namespace = argocd.has(m) ? config.capabilities.gitops!.argocd.namespace : isNamespaced(m) ? 'pronto' : undefined;
      expect([m.kind, m.metadata.name, m.metadata.namespace]).toEqual([m.kind, m.metadata.name, namespace]);
    }
    // Argo CD's charts exactly when gitops is on, and only Argo CD's kinds in them.
    expect(argocd.size > 0).toBe(config.capabilities.gitops !== undefined);
    for (const m of argocd) expect((m as any).apiVersion).toMatch(/^argoproj\.io\//);
  });

  test('objects of a service carry its name and the version it runs', () => {
    for (const svc of config.services) {
      const objects = manifests.filter((m) => m.metadata.labels['app.kubernetes.io/name'] === svc.name);
      expect(objects.map((m) => m.kind)).toEqual(expect.arrayContaining(['ServiceAccount', 'Deployment', 'PodDisruptionBudget', 'Service']));
      // Objects that run or route to the service's image. Objects about it run nothing of it, and keep
      // still across releases: a NetworkPolicy (who may talk to it), a ServiceMonitor (how Prometheus
      // scrapes it), a ConfigMap (its log shipper's pipeline).
      const about = ['NetworkPolicy', 'ServiceMonitor', 'ConfigMap'];
      for (const m of objects.filter((o) => !about.includes(o.kind))) {
        expect([`${m.kind}/${m.metadata.name}`, m.metadata.labels['app.kubernetes.io/version']]).toEqual([`${m.kind}/${m.metadata.name}`, expect.stringMatching(/^\d+\.\d+\.\d+/)]);
      }
    }
  });

  test('a Service named exactly after each catalog service selects its active pods on a declared port', () => {
    for (const name of Object.keys(CATALOG)) {
      const service = named(manifests, 'Service', name);
      expect(service.spec.type).toBe('ClusterIP');
      expect(service.spec.externalIPs).toBeUndefined();
      const pods = podTemplates(manifests).filter((p) => selects(service.spec.selector, p.template.metadata.labels));
      expect(pods.length).toBe(1);
      const ports = pods[0].template.spec.containers[0].ports;
      expect(ports).toEqual([{ containerPort: CATALOG[name].port, name: 'http', protocol: 'TCP' }]);
      expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    }
  });

  test('selectors use only stable labels, and each Deployment selects its own pod template', () => {
    for (const d of ofKind(manifests, 'Deployment')) {
      const selector = d.spec.selector.matchLabels;
      expect(Object.keys(selector).every((k) => k.startsWith('app.kubernetes.io/') || k === 'pronto.io/slot')).toBe(true);
      expect(selector['app.kubernetes.io/version']).toBeUndefined();
      expect(selects(selector, d.spec.template.metadata.labels)).toBe(true);
    }
    expect(JSON.stringify(manifests)).not.toContain('cdk8s.io/metadata.addr');
  });

  test('pods run restricted: non-root ids ≥ 10000 of their own workload, seccomp, no privilege, read-only root with /tmp', () => {
    for (const { owner, template } of podTemplates(manifests)) {
      const service = isService(template);
      const pod = template.spec;
      // The workload's own ids, derived from its name; PostgreSQL keeps the ids its volume was initialized with.
      const name = template.metadata.labels['app.kubernetes.io/name'];
      const id = name === POSTGRES_WORKLOAD ? POSTGRES_RUN_AS.user : workloadRunAsId(name);
      expect([owner, pod.securityContext]).toEqual([owner, {
        fsGroup: id, fsGroupChangePolicy: 'OnRootMismatch', runAsGroup: id, runAsNonRoot: true, runAsUser: id,
        seccompProfile: { type: 'RuntimeDefault' },
      }]);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.serviceAccountName).toBe(template.metadata.labels['app.kubernetes.io/name']);
      // The app writes to /tmp; a capability may add volumes and mounts of its own (the Vault token,
      // the metrics' multiprocess folder, the log file), never over /tmp.
      if (service) {
        expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
        const mounts = appContainer(template).volumeMounts;
        expect(mounts[0]).toEqual({ mountPath: '/tmp', name: 'tmp' });
        expect(mounts.filter((m: any) => m.name === 'tmp' || m.mountPath === '/tmp')).toHaveLength(1);
      }
      // Every mount names a volume of the pod, or a StatefulSet's claim template.
      const claims = named(manifests, owner.split('/')[0], owner.split('/')[1]).spec.volumeClaimTemplates ?? [];
      const volumes = [...(pod.volumes ?? []), ...claims.map((t: any) => t.metadata)].map((v: any) => v.name);
      // A sidecar the Vault agent renders files for (the log shipper's Loki password) runs as the agent's UID: it alone reads its 0400 file.
      const annotations = template.metadata.annotations ?? {};
      const agentReader = (name: string) => name !== pod.containers[0].name && (annotations['vault.hashicorp.com/agent-inject-containers'] ?? '').split(',').includes(name);
      for (const c of pod.containers) {
        expect([owner, c.name, c.securityContext]).toEqual([owner, c.name, {
          allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: true,
          runAsGroup: id, runAsNonRoot: true, runAsUser: agentReader(c.name) ? Number(annotations['vault.hashicorp.com/agent-run-as-user']) : id,
          seccompProfile: { type: 'RuntimeDefault' },
        }]);
        for (const m of c.volumeMounts ?? []) expect([owner, c.name, m.name, volumes.includes(m.name)]).toEqual([owner, c.name, m.name, true]);
      }
    }
  });

  test('no two workloads share a UID or GID (containers, fsGroup, Vault agent): a process escaping one owns nothing of another', () => {
    const holders = new Map<string, Set<string>>();
    for (const { template } of everyPodTemplate(manifests)) {
      const name = template.metadata.labels['app.kubernetes.io/name'];
      const a = template.metadata.annotations ?? {};
      const sc = template.spec.securityContext ?? {};
      const ids = [
        ...[...template.spec.containers, ...(template.spec.initContainers ?? [])].flatMap((c: any) => [
          `UID ${c.securityContext?.runAsUser ?? sc.runAsUser}`, `GID ${c.securityContext?.runAsGroup ?? sc.runAsGroup}`]),
        `GID ${sc.fsGroup}`,
        ...(a['vault.hashicorp.com/agent-inject'] ? [`UID ${a['vault.hashicorp.com/agent-run-as-user']}`, `GID ${a['vault.hashicorp.com/agent-run-as-group']}`] : []),
      ];
      for (const id of ids) holders.set(id, new Set([...(holders.get(id) ?? []), name]));
    }
    expect([...holders].filter(([, names]) => names.size > 1).map(([id, names]) => `${id}: ${[...names].join(', ')}`)).toEqual([]);
    // Every workload of the output is counted, jobs included.
    expect(new Set([...holders.values()].flatMap((n) => [...n])).size).toBe(new Set(everyPodTemplate(manifests).map((p) => p.template.metadata.labels['app.kubernetes.io/name'])).size);
  });

  test('probes: startup and liveness on /health/live, readiness on /health/ready, on the declared port', () => {
    for (const { template } of podTemplates(manifests).filter(isService)) {
      for (const c of [appContainer(template)]) {
        const port = c.ports[0].containerPort;
        expect(c.startupProbe.httpGet).toEqual({ path: '/health/live', port, scheme: 'HTTP' });
        expect(c.livenessProbe.httpGet).toEqual({ path: '/health/live', port, scheme: 'HTTP' });
        expect(c.readinessProbe.httpGet).toEqual({ path: '/health/ready', port, scheme: 'HTTP' });
        expect(c.readinessProbe).not.toEqual(c.livenessProbe);
        expect(c.startupProbe.failureThreshold * c.startupProbe.periodSeconds).toBe(120);
      }
    }
  });

  test('resources come from config, never from cdk8s-plus defaults', () => {
    for (const { owner, template } of podTemplates(manifests).filter(isService)) {
      const svc = config.services.find((s) => s.name === template.metadata.labels['app.kubernetes.io/name'])!;
      const c = template.spec.containers[0];
      expect(c.name).toBe(svc.name);
      expect(c.imagePullPolicy).toBe('IfNotPresent');
      const r = svc.resources;
      const mi = (q: string) => (q.endsWith('Gi') ? `${Number(q.slice(0, -2)) * 1024}Mi` : q);
      const m = (q: string) => (q.endsWith('m') ? q : `${Number(q) * 1000}m`);
      expect([owner, c.resources]).toEqual([owner, {
        requests: { 'cpu': m(r.requests.cpu), 'memory': mi(r.requests.memory), 'ephemeral-storage': r.requests.ephemeralStorage },
        limits: { 'cpu': m(r.limits.cpu), 'memory': mi(r.limits.memory), 'ephemeral-storage': r.limits.ephemeralStorage },
      }]);
    }
    // cdk8s-plus's defaults: a container named main; requests 1000m and 512Mi, limits 1500m and 2048Mi, no
    // ephemeral storage. 2048Mi alone may be asked for (PostgreSQL's 2Gi limit); 1500m comes only with the rest.
    const text = JSON.stringify(manifests);
    for (const leaked of ['"1500m"', '"name":"main"']) expect(text).not.toContain(leaked);
    // Every container of every workload, capabilities' included, has requests and limits on all three.
    const templates = manifests.flatMap((m) => (m.kind === 'CronJob' ? [m.spec.jobTemplate.spec.template] : m.spec?.template?.spec ? [m.spec.template] : []));
    expect(templates.length).toBeGreaterThan(0);
    for (const t of templates) {
      for (const c of [...(t.spec.initContainers ?? []), ...t.spec.containers]) {
        for (const side of ['requests', 'limits']) {
          expect([c.name, side, Object.keys(c.resources?.[side] ?? {}).sort()]).toEqual([c.name, side, ['cpu', 'ephemeral-storage', 'memory']]);
        }
      }
    }
  });

  test('graceful shutdown: preStop sleep, and a grace period covering it and the drain', () => {
    for (const { template } of podTemplates(manifests).filter(isService)) {
      const svc = CATALOG[template.metadata.labels['app.kubernetes.io/name']];
      const c = template.spec.containers[0];
      expect(c.lifecycle.preStop.exec.command).toEqual(['sleep', '10']);
      expect(template.spec.terminationGracePeriodSeconds).toBe(10 + (svc.drainSeconds ?? 30));
    }
  });

  test('images are pinned to a semver tag, with the git SHA annotated and the version labelled', () => {
    for (const { owner, template } of podTemplates(manifests).filter(isService)) {
      const image: string = template.spec.containers[0].image;
      expect([owner, image]).toEqual([owner, expect.stringMatching(/^registry\.pronto\.example\.com\/pronto\/[a-z-]+:v?\d+\.\d+\.\d+[-.a-z0-9]*(@sha256:[a-f0-9]{64})?$/)]);
      const tag = image.split(':')[1].split('@')[0];
      expect(template.metadata.labels['app.kubernetes.io/version']).toBe(tag.replace(/^v/, ''));
      expect(template.metadata.annotations['pronto.io/git-sha']).toMatch(/^[a-f0-9]{7,40}$/);
    }
  });

  test('every Deployment rolls with maxUnavailable 0, has a PDB that never blocks eviction and spreads over zones and hosts', () => {
    for (const d of ofKind(manifests, 'Deployment')) {
      expect(d.spec.strategy.type).toBe('RollingUpdate');
      expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
      expect(d.spec.minReadySeconds).toBeGreaterThan(0);
      expect(d.spec.progressDeadlineSeconds).toBeGreaterThan(d.spec.minReadySeconds);
      const pdb = named(manifests, 'PodDisruptionBudget', d.metadata.name);
      expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: d.spec.selector, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
      const spread = d.spec.template.spec.topologySpreadConstraints;
      expect(spread.map((t: any) => [t.topologyKey, t.whenUnsatisfiable, t.maxSkew])).toEqual([
        ['topology.kubernetes.io/zone', 'ScheduleAnyway', 1], ['kubernetes.io/hostname', 'ScheduleAnyway', 1]]);
      for (const t of spread) expect(t.labelSelector).toEqual(d.spec.selector);
    }
  });

  test('HPAs use autoscaling/v2 on CPU, and their Deployments leave replicas unset', () => {
    for (const hpa of ofKind(manifests, 'HorizontalPodAutoscaler')) {
      expect(hpa.apiVersion).toBe('autoscaling/v2');
      const target = named(manifests, 'Deployment', hpa.spec.scaleTargetRef.name);
      expect(target.spec.replicas).toBeUndefined();
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
      expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
      if (config.tier === 'production') expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    }
    const scaled = new Set(ofKind(manifests, 'HorizontalPodAutoscaler').map((h) => h.spec.scaleTargetRef.name));
    for (const d of ofKind(manifests, 'Deployment')) {
      if (!scaled.has(d.metadata.name)) expect(d.spec.replicas).toEqual(expect.any(Number));
    }
  });

  test('the namespace enforces, audits and warns at restricted, with a quota and a limit range', () => {
    const ns = named(manifests, 'Namespace', 'pronto');
    for (const mode of ['enforce', 'audit', 'warn']) {
      expect(ns.metadata.labels[`pod-security.kubernetes.io/${mode}`]).toBe('restricted');
      expect(ns.metadata.labels[`pod-security.kubernetes.io/${mode}-version`]).toBe('v1.28');
    }
    const quota = named(manifests, 'ResourceQuota', 'pronto-quota');
    expect(Object.keys(quota.spec.hard).sort()).toEqual(
      ['limits.cpu', 'limits.memory', 'persistentvolumeclaims', 'pods', 'requests.cpu', 'requests.memory', 'requests.storage']);
    expect(quota.spec.hard['requests.storage']).toBe(config.namespace.quota.requests.storage);
    expect(quota.spec.hard['requests.cpu']).toBe(config.namespace.quota.requests.cpu);
    const limits = named(manifests, 'LimitRange', 'pronto-limits');
    expect(limits.spec.limits[0]).toMatchObject({ type: 'Container', max: config.namespace.limitRange.max });
  });
});

test('the shipped environments exercise every release shape: rolling, a parked idle slot and a warm autoscaled one', () => {
  const releases = ENVIRONMENTS.flatMap((env) => environment(env).services.map((s) => s.release));
  expect(releases.some((r) => r.strategy === 'rolling')).toBe(true);
  expect(releases.some((r) => r.strategy === 'blueGreen' && r.idleReplicas === 0)).toBe(true);
  expect(releases.some((r) => r.strategy === 'blueGreen' && r.idleReplicas > 0 && r.scaling.kind === 'autoscaling')).toBe(true);
});

describe.each(ENVIRONMENTS)('releases in %s, derived from its config', (env) => {
  const config = environment(env);
  const manifests = synthEnvironment(config);

  test('a rolling service has one Deployment named after it; a blue-green one a Deployment per slot', () => {
    const expected = config.services.flatMap((s) => (s.release.strategy === 'rolling' ? [s.name] : SLOTS.map((slot) => `${s.name}-${slot}`)));
    const ofServices = ofKind(manifests, 'Deployment').filter((d) => config.services.some((s) => s.name === d.metadata.labels['app.kubernetes.io/name']));
    expect(ofServices.map((d) => d.metadata.name).sort()).toEqual(expected.sort());
  });

  test('the Service selects the active slot and -preview the idle one, each running its configured image', () => {
    for (const svc of config.services) {
      const r = svc.release;
      if (r.strategy !== 'blueGreen') {
        expect(manifests.some((m) => m.kind === 'Service' && m.metadata.name === `${svc.name}-preview`)).toBe(false);
        continue;
      }
      const idle = otherSlot(r.activeSlot);
      expect(named(manifests, 'Service', svc.name).spec.selector['pronto.io/slot']).toBe(r.activeSlot);
      expect(named(manifests, 'Service', `${svc.name}-preview`).spec.selector['pronto.io/slot']).toBe(idle);
      for (const slot of SLOTS) {
        const image = r.images[slot];
        expect(named(manifests, 'Deployment', `${svc.name}-${slot}`).spec.template.spec.containers[0].image)
          .toBe(`${image.repository}:${image.tag}${image.digest ? `@${image.digest}` : ''}`);
      }
    }
  });

  test('an idle slot at 0 pods has replicas 0 and no HPA; a warm one scales from idleReplicas (own HPA when autoscaled)', () => {
    for (const svc of config.services) {
      const r = svc.release;
      if (r.strategy !== 'blueGreen') continue;
      const name = `${svc.name}-${otherSlot(r.activeSlot)}`;
      const hpa = manifests.find((m) => m.kind === 'HorizontalPodAutoscaler' && m.metadata.name === name);
      if (r.idleReplicas === 0 || r.scaling.kind === 'fixed') {
        expect(named(manifests, 'Deployment', name).spec.replicas).toBe(r.idleReplicas);
        expect(hpa).toBeUndefined();
      } else {
        expect(hpa?.spec).toMatchObject({ minReplicas: r.idleReplicas, maxReplicas: r.scaling.maxReplicas });
        expect(named(manifests, 'Deployment', name).spec.replicas).toBeUndefined();
      }
    }
  });
});
