/**
 * One system: every shipped environment's parts agree with each other and with the add-ons
 * they install. Each assertion here failed on output where a consumer held its own copy of
 * a provider's string (a tenant, a TLS mode, a Service name, a namespace, an image tag).
 * Expectations come from the ports and the add-on contracts (lib/addons), never from copies.
 */
import { readFileSync } from 'fs';
import { parse, parseAllDocuments } from 'yaml';
import { Testing } from 'cdk8s';
import { buildApp, checkEnvironment, environmentPorts } from '../../charts/build-app';
import { CAPABILITIES, CapabilityId, CapabilityUnits, Ports, SECTIONS } from '../../charts/capabilities';
import { ADDONS, contractWrites } from '../../charts/capabilities/gitops';
import { renderEnvironment } from '../../charts/synthesize';
import { ConfigError, EnvironmentConfig, parseEnvironment } from '../../config/load';
import {
  AddonContract, ISTIO_CHART, KINDS, KUBE_SYSTEM_EXPORTERS, LOKI_GATEWAY, LOKI_TENANT_HEADER, OPENTELEMETRY_OPERATOR_APP_VERSION, OPENTELEMETRY_OPERATOR_CHART, istioContracts,
  VAULT_AGENT_IMAGE, opentelemetryOperatorContract, serviceOf, servesTls,
} from '../../lib/addons';
import { uniqueGroupKinds } from '../../lib/gitops';
import { IMAGE_PUBLISHERS, imageSourceProblem, ownRegistryPublisher } from '../../lib/core/image-sources';
import { LABEL_INSTANCE, Manifest } from '../../lib/core';
import { SLO_WINDOWS } from '../../lib/metrics';
import { CONFIG_DIR, ENVIRONMENTS, configProblems, environment, ofKind, selects, stripSection, withOwnAddons, renderShipped } from '../helpers';

/** The repository's root (cdk8s.yaml, imports/). */
const ROOT = `${__dirname}/../..`;

const rendered = new Map(ENVIRONMENTS.map((env) => {
  const config = environment(env);
  return [env, { config, ports: environmentPorts(config), manifests: renderShipped(env).manifests }];
}));

/** The Argo CD Application of add-on `chart`, and its Helm values. */
const addonValues = (manifests: Manifest[], chart: string): any =>
  (ofKind(manifests, 'Application').find((a) => a.spec.source.chart === chart)?.spec.source.helm.valuesObject);

/** Every in-cluster Service address in `text`: `<name>.<namespace>.svc[.cluster.local][:port]`. */
function serviceAddresses(text: string): Array<{ name: string; namespace: string; port?: number; raw: string }> {
  const found: Array<{ name: string; namespace: string; port?: number; raw: string }> = [];
  const pattern = /(https?:\/\/)?([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?(:(\d+))?/g;
  for (const m of text.matchAll(pattern)) {
    const scheme = m[1];
    const port = m[8] ? Number(m[8]) : scheme === 'https://' ? 443 : scheme === 'http://' ? 80 : undefined;
    found.push({ name: m[2], namespace: m[4], port, raw: m[0] });
  }
  return found;
}

/**
 * The in-cluster addresses in `manifests` that are neither our Services, an add-on contract's,
 * nor one a port names (the cluster's own Prometheus, Loki, Jaeger or Vault, when no add-on
 * serves it), nor the API server's.
 */
function unresolvedAddresses(manifests: Manifest[], ports: Ports, config: EnvironmentConfig): string[] {
  const own = ofKind(manifests, 'Service').map((s) => ({ name: s.metadata.name, namespace: s.metadata.namespace, ports: s.spec.ports.map((p: any) => p.port) }));
  const contracts = Object.values(ports.addons) as AddonContract[];
  const fromContracts = contracts.flatMap((c) => Object.values(c.services).map((s) => ({ name: s.name, namespace: c.namespace, ports: [s.port] })));
  const named = [ports.vault?.address, ports.prometheus?.url, ports.pushgateway?.url, ports.loki?.pushUrl, ports.loki?.queryUrl, ports.traces?.queryUrl,
    config.capabilities.tracing?.jaeger.endpoint].filter((a): a is string => a !== undefined).flatMap(serviceAddresses)
    .map((a) => ({ name: a.name, namespace: a.namespace, ports: a.port === undefined ? [] : [a.port] }));
  // The API server's Service in every cluster (Argo CD's in-cluster destination).
  const known = [...own, ...fromContracts, ...named, { name: 'kubernetes', namespace: 'default', ports: [443] }];
  const addresses = manifests.flatMap((m) => serviceAddresses(JSON.stringify(m)));
  const unresolved = addresses.filter((a) => !known.some((k) => k.name === a.name && k.namespace === a.namespace && (a.port === undefined || k.ports.includes(a.port))));
  return [...new Set(unresolved.map((a) => a.raw))];
}

describe.each(ENVIRONMENTS)('%s: the parts agree', (env) => {
  const { config, ports, manifests } = rendered.get(env)!;
  const contracts = Object.values(ports.addons) as AddonContract[];

  test('Grafana reads Loki with the tenant the shippers push under, as the Loki add-on requires', () => {
    const datasources = parse(Object.values(ofKind(manifests, 'ConfigMap').find((m) => m.metadata.name === 'grafana-datasources')!.data as Record<string, string>)[0]);
    const loki = datasources.datasources.find((d: any) => d.type === 'loki');
    const shipperConfigs = ofKind(manifests, 'ConfigMap').filter((m) => m.metadata.name.endsWith('-log-shipper'));
    expect(shipperConfigs.length).toBe(config.services.length);
    for (const cm of shipperConfigs) {
      const text = Object.values(cm.data as Record<string, string>).join('\n');
      // Promtail: tenant_id: <t>; Alloy: tenant_id = "<t>".
      const tenants = [...text.matchAll(/tenant_id\s*[:=]\s*"?([A-Za-z0-9!._*'()-]+)"?/g)].map((m) => m[1]);
      expect(tenants).toEqual([ports.loki!.tenant]);
    }
    expect(loki.jsonData.httpHeaderName1).toBe(LOKI_TENANT_HEADER);
    expect(loki.secureJsonData.httpHeaderValue1).toBe(ports.loki!.tenant);
    if (ports.addons.loki) expect(ports.addons.loki.tenantHeader).toBe(LOKI_TENANT_HEADER);
  });

  test('every shipper logs in with a login the Loki gateway knows (push), Grafana with the gateway\'s read login, each in the tenant of the port; the gateway\'s htpasswd has exactly these users', () => {
    const logins = ports.loki!.logins!;
    const gateway = addonValues(manifests, 'loki').gateway;
    const file: string = gateway.nginxConfig.file;
    const mapOf = (name: string) => Object.fromEntries([...new RegExp(`map \\$remote_user \\$${name} \\{\\n([\\s\\S]*?)\\n  \\}`).exec(file)![1].matchAll(/^ {4}"([^"]*)" "?([^";]*)"?;$/gm)].map((m) => [m[1], m[2]]));
    const tenants = mapOf('loki_tenant');
    const pushers = Object.keys(mapOf('loki_push_refused')).filter((u) => u !== '');
    const readers = Object.keys(mapOf('loki_read_refused')).filter((u) => u !== '');
    for (const cm of ofKind(manifests, 'ConfigMap').filter((m) => m.metadata.name.endsWith('-log-shipper'))) {
      const text = Object.values(cm.data as Record<string, string>).join('\n');
      const user = /username\s*[:=]\s*"([^"]+)"/.exec(text)![1];
      expect(pushers).toContain(user);
      expect(tenants[user]).toBe(ports.loki!.tenant);
    }
    const datasources = parse(Object.values(ofKind(manifests, 'ConfigMap').find((m) => m.metadata.name === 'grafana-datasources')!.data as Record<string, string>)[0]);
    const loki = datasources.datasources.find((d: any) => d.type === 'loki');
    expect(readers).toEqual([loki.basicAuthUser]);
    expect(tenants[loki.basicAuthUser]).toBe(ports.loki!.tenant);
    const template: string = gateway.podAnnotations[`vault.hashicorp.com/agent-inject-template-${LOKI_GATEWAY.htpasswdFile}`];
    expect([...template.matchAll(/^(?:\{\{[^}]*\}\})?([a-z0-9-]+):/gm)].map((m) => m[1]).sort()).toEqual(logins.map((l) => l.user).sort());
    expect(Object.keys(tenants).sort()).toEqual(logins.map((l) => l.user).sort());
  });

  test('the collector speaks to Jaeger in the TLS mode the receiver serves, at the receiver\'s Service', () => {
    const collector = parse(ofKind(manifests, 'ConfigMap').find((m) => m.metadata.name === 'otel-collector')!.data['collector.yaml']);
    const exporter = Object.entries(collector.exporters as Record<string, any>).find(([k]) => k.startsWith('otlp'))![1];
    const jaeger = ports.addons.jaeger!;
    expect(exporter.tls.insecure).toBe(!servesTls(jaeger, 'otlpGrpc'));
    const receiver = serviceOf(jaeger, 'otlpGrpc');
    expect(exporter.endpoint).toBe(`${receiver.name}.${jaeger.namespace}.svc:${receiver.port}`);
  });

  test('every in-cluster address we emit is a Service of our output, of an add-on contract, or the Vault server the secrets port names', () => {
    expect(manifests.flatMap((m) => serviceAddresses(JSON.stringify(m))).length).toBeGreaterThan(0);
    expect(unresolvedAddresses(manifests, ports, config)).toEqual([]);
  });

  test('the platform project allows exactly the namespaces and kinds the add-ons\' contracts write, and no add-on writes kube-system', () => {
    const project = ofKind(manifests, 'AppProject').find((p) => p.metadata.name === `pronto-${config.name}-platform`)!;
    const writes = contractWrites(contracts);
    const destinations = project.spec.destinations.map((d: any) => d.namespace);
    for (const ns of writes.namespaces) expect(destinations).toContain(ns);
    expect(writes.namespaces).not.toContain('kube-system');
    expect(destinations).not.toContain('kube-system');
    expect(project.spec.clusterResourceWhitelist).toEqual(writes.clusterScoped);
    // kube-prometheus-stack's defaults write Services into kube-system: each of those exporters is off.
    const kps = addonValues(manifests, 'kube-prometheus-stack');
    for (const exporter of KUBE_SYSTEM_EXPORTERS) expect(kps[exporter]).toEqual({ enabled: false });
  });

  test('every image comes from a repository that publishes the pinned tag (lib/core/image-sources.ts)', () => {
    // The registry of the catalog services' own images (config images.registry).
    const app = ofKind(manifests, 'Deployment').find((d) => d.metadata.labels['app.kubernetes.io/name'] === config.services[0].name)!;
    const own = ownRegistryPublisher(app.spec.template.spec.containers[0].image.split('/')[0]);
    // Containers' images, and the Vault agent's that pods name for the injector.
    const images = manifests.flatMap((m) => JSON.stringify(m).match(/"(?:image|vault\.hashicorp\.com\/agent-image)":"[^"]+"/g) ?? []).map((i) => i.split('":"')[1].slice(0, -1));
    expect(images.length).toBeGreaterThan(0);
    expect(images).toContain(`${VAULT_AGENT_IMAGE.repository}:${VAULT_AGENT_IMAGE.tag}`);
    for (const image of new Set(images)) {
      const [ref] = image.split('@');
      const at = ref.lastIndexOf(':');
      expect({ image, problem: imageSourceProblem(ref.slice(0, at), ref.slice(at + 1), [own]) }).toEqual({ image, problem: undefined });
    }
  });

  test('PgBouncer writes no pidfile (a SIGKILLed PID 1 would find "itself" running on the emptyDir)', () => {
    const ini = ofKind(manifests, 'ConfigMap').find((m) => m.metadata.name === 'pgbouncer')!.data['pgbouncer.ini'];
    expect(ini).not.toMatch(/^\s*pidfile\s*=/m);
  });

  test('ServiceMonitors select their Services by labels Argo CD leaves alone: they still match after label tracking rewrites app.kubernetes.io/instance', () => {
    const services = ofKind(manifests, 'Service');
    // Argo CD's label tracking (its default before 3.0) sets app.kubernetes.io/instance to the Application's name.
    const tracked = services.map((s) => ({ ...s, metadata: { ...s.metadata, labels: { ...s.metadata.labels, [LABEL_INSTANCE]: `pronto-${config.name}` } } }));
    const monitors = ofKind(manifests, 'ServiceMonitor');
    expect(monitors.length).toBeGreaterThan(0);
    for (const sm of monitors) {
      expect(Object.keys(sm.spec.selector.matchLabels)).not.toContain(LABEL_INSTANCE);
      expect(tracked.filter((s) => s.metadata.namespace === sm.metadata.namespace && selects(sm.spec.selector.matchLabels, s.metadata.labels)).length).toBeGreaterThan(0);
    }
  });

  test('Prometheus keeps the longest rule window and keeps it on a volume; the restore test pushes to the Pushgateway add-on', () => {
    const longest = Math.max(...SLO_WINDOWS.map((w) => (w.endsWith('d') ? parseInt(w, 10) : 0)));
    expect(ports.prometheus!.retentionDays).toBeGreaterThan(longest);
    const spec = addonValues(manifests, 'kube-prometheus-stack').prometheus.prometheusSpec;
    expect(spec.retention).toBe(`${ports.prometheus!.retentionDays}d`);
    expect(spec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage).toBe(ports.prometheus!.storage.size);
    const restore = ofKind(manifests, 'CronJob').find((c) => c.metadata.name === 'pg-restore-test')!;
    const push = restore.spec.jobTemplate.spec.template.spec.containers[0].env.find((e: any) => e.name === 'RESTORE_TEST_PUSHGATEWAY_URL');
    if (config.capabilities.backups!.restoreTest.pushResults) expect(push.value).toBe(ports.pushgateway!.url);
    else expect(push).toBeUndefined();
  });

  test('every Vault-injected pod trusts Vault\'s https certificate: a CA file from the mounted Secret, or the injector\'s bundle', () => {
    const injected = manifests.flatMap((m) => {
      const spec = (m.spec as any);
      const template = spec?.template ?? spec?.jobTemplate?.spec?.template;
      return template?.metadata?.annotations?.['vault.hashicorp.com/agent-inject'] === 'true' ? [{ m, annotations: template.metadata.annotations }] : [];
    });
    expect(injected.length).toBeGreaterThan(0);
    const bundle = addonValues(manifests, 'vault')?.injector?.extraEnvironmentVars?.AGENT_INJECT_VAULT_CACERT_BYTES;
    for (const { annotations } of injected) {
      expect(annotations['vault.hashicorp.com/service']).toBe(ports.vault!.address);
      if (ports.vault!.address.startsWith('https:')) expect(annotations['vault.hashicorp.com/ca-cert'] ?? bundle).toBeDefined();
      if (annotations['vault.hashicorp.com/ca-cert']?.startsWith('/vault/tls/')) expect(annotations['vault.hashicorp.com/tls-secret']).toBeDefined();
    }
  });

  test('the gateway terminates HTTPS on 443 with the certificate Secret, and redirects plain HTTP', () => {
    const service = ofKind(manifests, 'Service').find((s) => s.metadata.name === 'gateway')!;
    expect(service.spec.ports.map((p: any) => p.port).sort()).toEqual([443, 80].sort());
    const conf = ofKind(manifests, 'ConfigMap').find((m) => m.metadata.name === 'gateway')!.data['nginx.conf'];
    expect(conf).toMatch(/listen \d+ ssl;/);
    expect(conf).toContain('return 308 https://$host$request_uri;');
  });
});

describe('a consumer whose provider is off, or disagrees, is a config error naming both sections', () => {
  const prod = readFileSync(`${CONFIG_DIR}/prod.yaml`, 'utf8');
  const FILE = 'config/prod.yaml';
  const withGitops = (extra: string) => `${stripSection(prod, 'gitops')}gitops:\n  repository:\n    url: https://git.example.com/g.git\n    path: pronto/prod\n${extra}`;
  test.each([
    ['the restore test pushes with no Pushgateway add-on', withGitops('  addons:\n    pushgateway: false\n'), 'backups.restoreTest.pushResults', 'gitops.addons.pushgateway'],
    ['Loki without a tenant while the Loki add-on is multi-tenant', withGitops('').replace('tenant: pronto-prod', 'namespace: loki'), 'logs.loki.tenant', 'gitops.addons.loki'],
    ['TLS to a Jaeger add-on that serves plaintext', withGitops('').replace('tracing:\n  ratio: 0.1', 'tracing:\n  ratio: 0.1\n  jaeger: { insecure: false }'), 'tracing.jaeger.insecure', 'gitops.addons.jaeger'],
    ['a Jaeger pod selector that misses the add-on\'s pods', withGitops('').replace('tracing:\n  ratio: 0.1', 'tracing:\n  ratio: 0.1\n  jaeger: { podLabels: { app: jaeger } }'), 'tracing.jaeger.podLabels', 'gitops.addons.jaeger'],
    ['a Loki pod selector that misses the add-on\'s gateway pods', withGitops('').replace('tenant: pronto-prod', 'tenant: pronto-prod, podLabels: { app: loki }'), 'logs.loki.podLabels', 'gitops.addons.loki'],
    ['a Jaeger of the cluster\'s own, with no TLS mode or query URL', withGitops('  addons:\n    jaeger: false\n'), 'tracing.jaeger.insecure', 'gitops.addons.jaeger'],
    ['a Prometheus of the cluster\'s own, with no URL', withGitops('  addons:\n    kubePrometheusStack: false\n'), 'metrics.prometheus.url', 'gitops.addons.kubePrometheusStack'],
    ['an https Vault with no CA', prod.replace('  tls: { tlsSecret: vault-ca, caCertPath: /vault/tls/ca.crt }\n', '  tls: {}\n'), 'secrets.address', 'secrets.tls.caCertPath'],
    ['an injector CA bundle with no injector add-on', withGitops('  addons:\n    vaultAgentInjector: false\n').replace('tls: { tlsSecret: vault-ca, caCertPath: /vault/tls/ca.crt }', 'tls: { injectorCaBundle: QUJD }'), 'secrets.tls.injectorCaBundle', 'gitops.addons.vaultAgentInjector'],
  ])('%s', (_name, text, field, provider) => {
    const message = configProblems(() => renderEnvironment(parseEnvironment(text, FILE)));
    expect(message).toContain(field);
    expect(message).toContain(provider);
    expect(message).toMatch(new RegExp(`${FILE}:\\d+: ${field.replace(/\./g, '\\.')}`));
  });

  test.each([
    ['a Bitnami image (no versioned tags since August 2025)', (t: string) => t.replace('repository: ghcr.io/cloudnative-pg/pgbouncer', 'repository: docker.io/bitnami/pgbouncer'), 'database.pgbouncer.image.repository', 'bitnami/containers issue 83267'],
    ['a Prometheus retention shorter than the SLO window', (t: string) => t.replace('metrics:\n', 'metrics:\n  prometheus: { retentionDays: 10 }\n'), 'metrics.prometheus.retentionDays', 'expected at least 31 days'],
    ['a plain L4 load balancer with TLS nowhere', (t: string) => t.replace('tls: { mode: gateway, certificateSecret: gateway-tls }', 'tls: { mode: loadBalancer }'), 'gateway.tls.mode', 'no HTTPS and no HSTS'],
    ['Redis with persistence and maxmemory over half its limit', (t: string) => t.replace('persistence: { size: 8Gi, storageClassName: ssd }', 'persistence: { size: 8Gi, storageClassName: ssd }\n    maxMemoryMi: 200'), 'database.redis.maxMemoryMi', 'AOF rewrite forks'],
  ])('%s is refused at its line', (_name, edit, field, expected) => {
    const text = edit(prod);
    expect(text).not.toBe(prod);
    const message = configProblems(() => renderEnvironment(parseEnvironment(text, FILE)));
    expect(message).toContain(field);
    expect(message).toContain(expected);
  });
});

describe('every combination of capabilities the schema allows is internally consistent', () => {
  const prod = environment('prod');
  const ids = Object.keys(SECTIONS) as CapabilityId[];
  const requires = (id: CapabilityId): readonly string[] => (SECTIONS[id] as { requires?: readonly string[] }).requires ?? [];
  /** Every subset of the capabilities switched off that the schema allows (no capability on without what it requires). */
  const allowed = Array.from({ length: 2 ** ids.length }, (_, mask) => ids.filter((_id, i) => mask & (1 << i)))
    .filter((off) => ids.every((id) => off.includes(id) || requires(id).every((r) => !off.includes(r as CapabilityId))));
  // Without gitops no add-on serves Prometheus, the Pushgateway or Jaeger: the cluster's own do, at the URLs the sections then give.
  const own = parseEnvironment(withOwnAddons(readFileSync(`${CONFIG_DIR}/prod.yaml`, 'utf8')), 'config/prod.yaml');
  const without = (off: readonly CapabilityId[]): EnvironmentConfig => {
    const base = off.includes('gitops') ? own : prod;
    return { ...base, capabilities: Object.fromEntries(Object.entries(base.capabilities).filter(([id]) => !off.includes(id as CapabilityId))) } as EnvironmentConfig;
  };
  /** The capability ids a problem names: a consumer's problem must name a provider that is off. */
  const named = (problem: string) => ids.filter((id) => new RegExp(`\\b${id}\\b`).test(problem));

  test('the schema allows every subset but those that break a `requires`', () => {
    const needing = ids.filter((id) => requires(id).length > 0);
    expect(needing.length).toBeGreaterThan(0);
    expect(allowed.length).toBeLessThan(2 ** ids.length);
    for (const off of allowed) for (const id of needing) if (!off.includes(id)) for (const r of requires(id)) expect(off).not.toContain(r);
  });

  test('in every allowed combination, the checks pass or each problem names a provider that is off (ports and checks only)', () => {
    const unexplained: string[] = [];
    let passed = 0;
    for (const off of allowed) {
      try {
        checkEnvironment(without(off));
        passed += 1;
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        for (const problem of e.problems) if (!named(problem).some((id) => off.includes(id))) unexplained.push(`off: ${off.join('+') || 'none'}: ${problem}`);
      }
    }
    expect(unexplained).toEqual([]);
    // Most combinations are whole systems: only a consumer whose provider is off fails.
    expect(passed).toBeGreaterThan(allowed.length / 2);
  });

  /**
   * A provider and its consumer are two capabilities, so every pair of on/off states
   * (that the schema allows) is rendered in full: a greedy pairwise covering set.
   */
  const pairwise = ((): CapabilityId[][] => {
    const key = (a: number, sa: boolean, b: number, sb: boolean) => `${a}${sa}:${b}${sb}`;
    const pairsOf = (off: readonly CapabilityId[]) => ids.flatMap((a, i) => ids.slice(i + 1).map((b, j) => key(i, off.includes(a), i + 1 + j, off.includes(b))));
    const wanted = new Set(allowed.flatMap(pairsOf));
    const chosen: CapabilityId[][] = [];
    while (wanted.size > 0) {
      const best = allowed.reduce((a, b) => (pairsOf(b).filter((k) => wanted.has(k)).length > pairsOf(a).filter((k) => wanted.has(k)).length ? b : a));
      chosen.push(best);
      for (const k of pairsOf(best)) wanted.delete(k);
    }
    return chosen;
  })();

  test.each(pairwise.map((off) => [off.join('+') || 'none', off]))('rendered in full, off: %s', (_name, off) => {
    const config = without(off as CapabilityId[]);
    let ports: Ports;
    let manifests: Manifest[];
    try {
      ports = environmentPorts(config);
      // Consistency, not policy: the gate runs on every shipped environment elsewhere (app.test.ts); the capacity guard still runs.
      manifests = renderEnvironment(config, { gate: false }).manifests;
    } catch (e) {
      // A consumer without its provider: a config error that names the section to turn on.
      expect(e).toBeInstanceOf(ConfigError);
      for (const problem of (e as ConfigError).problems) expect([problem, named(problem).some((id) => (off as string[]).includes(id))]).toEqual([problem, true]);
      return;
    }
    expect(unresolvedAddresses(manifests, ports, config)).toEqual([]);
    const grafana = manifests.find((m) => m.metadata.name === 'grafana-datasources');
    expect(grafana !== undefined).toBe(ports.prometheus !== undefined);
    if (!grafana) return;
    const types = parse(Object.values((grafana as any).data as Record<string, string>)[0]).datasources.map((d: any) => d.type);
    expect(types.includes('loki')).toBe(ports.loki !== undefined);
    expect(types.includes('jaeger')).toBe(ports.traces !== undefined);
  });
});

describe('one check per capability', () => {
  const prod = environment('prod');

  test('buildApp asks every enabled capability\'s check exactly once', () => {
    const calls = new Map<string, number>();
    const units = Object.fromEntries(Object.entries(CAPABILITIES).map(([id, unit]) => [id, {
      ...unit, check: (...args: unknown[]) => {
        calls.set(id, (calls.get(id) ?? 0) + 1);
        return (unit as { check?: (...a: unknown[]) => readonly string[] }).check?.(...args) ?? [];
      },
    }])) as unknown as CapabilityUnits;
    buildApp(Testing.app(), prod, units);
    expect(Object.fromEntries(calls)).toEqual(Object.fromEntries(Object.keys(prod.capabilities).map((id) => [id, 1])));
  });

  test('the problems of every section come in one error', () => {
    const c = prod.capabilities;
    const ghost = 'no-such-service';
    const config = {
      ...prod,
      capabilities: {
        ...c,
        metrics: { ...c.metrics!, slo: { ...c.metrics!.slo, [ghost]: {} } },
        logs: { ...c.logs!, capture: { ...c.logs!.capture, services: { ...c.logs!.capture.services, [ghost]: 'file' } } },
        gateway: { ...c.gateway!, headers: { ...c.gateway!.headers, routeContentSecurityPolicy: { [ghost]: "default-src 'self'" } } },
        backups: { ...c.backups!, restoreTest: { ...c.backups!.restoreTest, rpoMinutes: 1 } },
      },
    } as EnvironmentConfig;
    const problems = configProblems(() => buildApp(Testing.app(), config));
    for (const field of [`metrics.slo.${ghost}`, `logs.capture.services.${ghost}`, `gateway.headers.routeContentSecurityPolicy.${ghost}`, 'backups.restoreTest.rpoMinutes']) {
      expect(problems).toContain(`${config.file}:`);
      expect(problems).toContain(field);
    }
  });
});

test('the image table names its sources', () => {
  for (const p of IMAGE_PUBLISHERS) expect(p.source.length).toBeGreaterThan(10);
});

describe('the OpenTelemetry Operator and Istio: contracts read from their charts, and the platform project they shape', () => {
  const operator = (namespace: string) => opentelemetryOperatorContract(namespace);
  const istio = (namespace: string, dataPlane: 'ambient' | 'cni') => Object.values(istioContracts(namespace, dataPlane)).filter((c): c is AddonContract => c !== undefined);
  const kindsOf = (c: AddonContract) => [...c.writes.clusterScoped, ...c.writes.namespaced];

  test.each([
    ['opentelemetry-operator', [operator('otel')], `open-telemetry/opentelemetry-helm-charts@opentelemetry-operator-${OPENTELEMETRY_OPERATOR_CHART.version}: `],
    ['istio (ambient)', istio('mesh', 'ambient'), `istio/istio@${ISTIO_CHART.version} (`],
    ['istio (cni)', istio('mesh', 'cni'), `istio/istio@${ISTIO_CHART.version} (`],
  ])('%s: exact kinds (no *), its own namespace only, every fact cited at the pinned tag', (_name, contracts, tag) => {
    for (const c of contracts) {
      expect(kindsOf(c).length).toBeGreaterThan(0);
      for (const k of kindsOf(c)) expect([c.release, k.group, k.kind]).toEqual([c.release, expect.not.stringContaining('*'), expect.stringMatching(/^[A-Z][A-Za-z]+$/)]);
      expect(uniqueGroupKinds(kindsOf(c)).length).toBe(kindsOf(c).length);
      expect(c.writes.namespaces).toEqual([c.namespace]);
      expect(c.sources.length).toBeGreaterThan(0);
      // `<owner>/<repository>@<tag>[ (<commit>)]: <path>…`; the chart's own files at its tag.
      for (const s of c.sources) expect(s).toMatch(/^[\w.-]+\/[\w.-]+@[\w.-]+( \([0-9a-f]{40}\))?: \S+/);
      expect(c.sources.some((s) => s.startsWith(tag))).toBe(true);
    }
  });

  test('the operator the pinned chart installs is the release whose Instrumentation CRD Pronto imports (cdk8s.yaml), so the two cannot drift apart', () => {
    const cdk8s = readFileSync(`${ROOT}/cdk8s.yaml`, 'utf8');
    const crd = 'imports/crds/opentelemetry.io.yaml';
    // `#   imports/crds/opentelemetry.io.yaml (Instrumentation), opentelemetry-operator vX:`, then the URL of that tag's CRDs.
    const lines = cdk8s.split('\n');
    const at = lines.findIndex((l) => l.startsWith('#') && l.includes(`${crd} (Instrumentation), opentelemetry-operator v`));
    expect(at).toBeGreaterThan(-1);
    const version = lines[at].match(/opentelemetry-operator v(\d+\.\d+\.\d+):$/)?.[1];
    const url = lines[at + 1].replace(/^#\s+/, '');
    expect(url).toBe(`https://github.com/open-telemetry/opentelemetry-operator/tree/v${version}/config/crd/bases`);
    expect((parse(cdk8s) as { imports: string[] }).imports).toContain(crd);
    expect(operator('otel').appVersion).toBe(OPENTELEMETRY_OPERATOR_APP_VERSION);
    expect(OPENTELEMETRY_OPERATOR_APP_VERSION).toBe(version);
    expect(operator('otel').sources[0]).toContain(`Chart.yaml (appVersion ${OPENTELEMETRY_OPERATOR_APP_VERSION})`);
    // The field an older operator's API server would prune: declared by the imported CRD, which the gate validates against.
    const crds = parseAllDocuments(readFileSync(`${ROOT}/${crd}`, 'utf8')).map((d) => d.toJS());
    const instrumentation = crds.find((d) => d?.spec?.names?.kind === 'Instrumentation');
    for (const v of instrumentation.spec.versions) expect(Object.keys(v.schema.openAPIV3Schema.properties.spec.properties)).toContain('initContainerSecurityContext');
  });

  test('the operator\'s webhook certificate comes from cert-manager: a Certificate and its Issuer, no Secret of the chart\'s own', () => {
    const c = operator('otel');
    expect(c.writes.namespaced).toEqual(expect.arrayContaining([KINDS.Certificate, KINDS.Issuer]));
    expect(c.writes.namespaced).not.toContainEqual(KINDS.Secret);
    expect(c.sources.join('\n')).toContain('templates/certmanager.yaml');
  });

  test('the Istio charts: base, istiod and cni for both data planes, ztunnel only for ambient; each names its chart at the one Istio version', () => {
    expect(istio('istio-system', 'cni').map((c) => [c.chart.name, c.release])).toEqual([['base', 'istio-base'], ['istiod', 'istiod'], ['cni', 'istio-cni']]);
    expect(istio('istio-system', 'ambient').map((c) => c.chart.name)).toEqual(['base', 'istiod', 'cni', 'ztunnel']);
    for (const c of istio('istio-system', 'ambient')) expect([c.chart.repoURL, c.chart.version]).toEqual([ISTIO_CHART.repoURL, ISTIO_CHART.version]);
  });

  describe.each(['ambient', 'cni'] as const)('prod with tracing.instrumentation and circuitBreakers.mesh (%s)', (dataPlane) => {
    // Ambient with network policies is refused (no HBONE flows yet): that case runs without them.
    const prod = dataPlane === 'ambient' ? stripSection(readFileSync(`${CONFIG_DIR}/prod.yaml`, 'utf8'), 'networkPolicies') : readFileSync(`${CONFIG_DIR}/prod.yaml`, 'utf8');
    const text = prod.replace(/^circuitBreakers: \{\}$/m, `circuitBreakers:\n  mesh: { type: istio, dataPlane: ${dataPlane} }`)
      .replace(/^tracing:\n/m, 'tracing:\n  instrumentation: {}\n')
      // The shipped quota holds no injected init container or proxy: raised well above the peak (the capacity guard is not what this checks).
      .replace(/^  quota:\n    requests: .*\n    limits: .*\n    pods: .*$/m, '  quota:\n    requests: { cpu: "64", memory: 128Gi, storage: 250Gi }\n    limits: { cpu: "256", memory: 256Gi }\n    pods: 400');
    const config = parseEnvironment(text, 'config/prod.yaml');
    const ports = environmentPorts(config);
    const manifests = renderEnvironment(config).manifests;
    const project = ofKind(manifests, 'AppProject').find((p) => p.metadata.name === `pronto-${config.name}-platform`)!;
    const meshNamespace = config.capabilities.circuitBreakers!.mesh!.controlPlane.namespace;
    // Built here from the contract functions, not taken from the Applications: the project must allow exactly these.
    const contracts = [...Object.values(ports.addons) as AddonContract[], operator(ADDONS.opentelemetryOperator.namespace), ...istio(meshNamespace, dataPlane)];

    test('both add-ons are on', () => {
      expect(text).not.toBe(prod);
      expect(ports.traces?.instrumentation).toBe(true);
      expect(ports.mesh?.dataPlane).toBe(dataPlane);
      const charts = ofKind(manifests, 'Application').map((a) => a.spec.source.chart).filter(Boolean);
      expect(charts).toEqual(expect.arrayContaining(['opentelemetry-operator', 'base', 'istiod', 'cni']));
      expect(charts.includes('ztunnel')).toBe(dataPlane === 'ambient');
    });

    test('the Instrumentation gives the injected init container a restricted security context; the Application installs the chart whose operator\'s CRD has that field', () => {
      const [instrumentation] = ofKind(manifests, 'Instrumentation');
      expect(instrumentation.spec.initContainerSecurityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      const app = ofKind(manifests, 'Application').find((a) => a.spec.source.chart === 'opentelemetry-operator');
      expect(app.spec.source.targetRevision).toBe(OPENTELEMETRY_OPERATOR_CHART.version);
      expect(app.spec.source.helm.valuesObject.admissionWebhooks).toEqual({ certManager: { enabled: true } });
    });

    test('the platform project allows exactly the namespaces and kinds the contracts write, and no "*"', () => {
      const writes = contractWrites(contracts);
      expect(writes.namespaces).toEqual(expect.arrayContaining([ADDONS.opentelemetryOperator.namespace, meshNamespace]));
      expect(writes.namespaces).not.toContain('kube-system');
      // The add-ons' namespaces only: never Argo CD's, no Argo CD kind (the root has a project of its own).
      expect([...new Set(project.spec.destinations.map((d: any) => d.namespace))].sort()).toEqual([...new Set(writes.namespaces)].sort());
      expect(project.spec.clusterResourceWhitelist).toEqual(writes.clusterScoped);
      expect(project.spec.namespaceResourceWhitelist).toEqual(uniqueGroupKinds(writes.namespaced));
      expect(JSON.stringify(project.spec)).not.toContain('argoproj.io');
      expect(JSON.stringify(project.spec)).not.toContain('*');
      // What these two add on top of the others: the HPA of istiod and the DaemonSets of the data plane, the operator's webhooks.
      expect(project.spec.namespaceResourceWhitelist).toEqual(expect.arrayContaining([{ group: 'autoscaling', kind: 'HorizontalPodAutoscaler' }, { group: 'apps', kind: 'DaemonSet' }]));
      expect(project.spec.clusterResourceWhitelist).toEqual(expect.arrayContaining([{ group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration' }]));
      // The operator's webhook certificate: cert-manager's Certificate and Issuer.
      expect(project.spec.namespaceResourceWhitelist).toEqual(expect.arrayContaining([{ group: 'cert-manager.io', kind: 'Certificate' }, { group: 'cert-manager.io', kind: 'Issuer' }]));
    });

    test('every Application of the two is the contract\'s release in the contract\'s namespace; the Istio charts are told where istiod runs', () => {
      const apps = ofKind(manifests, 'Application').filter((a) => ['opentelemetry-operator', 'base', 'istiod', 'cni', 'ztunnel'].includes(a.spec.source.chart));
      const ours = contracts.filter((c) => apps.some((a) => a.spec.source.chart === c.chart.name));
      expect(apps.map((a) => [a.spec.source.chart, a.spec.source.helm.releaseName, a.spec.destination.namespace]).sort())
        .toEqual(ours.map((c) => [c.chart.name, c.release, c.namespace]).sort());
      const values = (chart: string) => apps.find((a) => a.spec.source.chart === chart).spec.source.helm.valuesObject;
      expect(values('base').global.istioNamespace).toBe(meshNamespace);
      expect(values('istiod').global.istioNamespace).toBe(meshNamespace);
      if (dataPlane === 'ambient') expect(values('ztunnel').istioNamespace).toBe(meshNamespace);
      const ignored = apps.flatMap((a) => a.spec.ignoreDifferences ?? []).map((d: any) => d.name).sort();
      expect(ignored).toEqual(['istio-validator-' + meshNamespace, 'istiod-default-validator'].sort());
    });
  });
});
