/**
 * Every capability's section of the environment file, declared once, one file each beside
 * this table. `config/` builds the environment schema from it; the capability units
 * (charts/capabilities/<id>/) read their own section, never another's (the layering lint).
 * Pure: zod, the pure lib/core files and the add-on contracts only.
 *
 * A section is absent or `false` when the capability is off, and an object (its schema)
 * when on. A capability that is not built yet accepts only `false`: switching it on is
 * an error that says so, never a silent no-op.
 */
import { z } from 'zod';

export * from './schemas';
import { gatewaySectionSchema } from './gateway';
import { SecretsSection, secretsSectionSchema } from './secrets';
import { networkPoliciesSection } from './network-policies';
import { circuitBreakersForeignNamespaces, circuitBreakersSectionSchema } from './circuit-breakers';
import { MetricsSection, metricsSectionSchema } from './metrics';
import { logsForeignNamespaces, logsSectionSchema } from './logs';
import { TracingSection, tracingSectionSchema } from './tracing';
import { databaseSectionSchema } from './database';
import { backupsForeignNamespaces, backupsSectionSchema } from './backups';
import { gitopsForeignNamespaces, gitopsSectionSchema } from './gitops';

/** The section of one capability. */
export interface SectionSpec<S extends z.ZodType | undefined = z.ZodType | undefined> {
  /** What the capability delivers, in a few words. */
  readonly description: string;
  /** The section's shape when on; `undefined` while the capability is not built yet. */
  readonly schema: S;
  /** Capabilities that must be on too, e.g. backups need the database. @default - none */
  readonly requires?: readonly string[];
  /**
   * Namespaces the section refers to without owning them (the monitoring stack's, Vault's,
   * Argo CD's): never created or guarded by Pronto. @default - none
   */
  foreignNamespaces?(section: S extends z.ZodType ? z.output<S> : never): string[];
}

/** A capability that is not built yet: its section accepts only `false`. */
export const planned = (description: string): SectionSpec<undefined> => ({ description, schema: undefined });

/**
 * The capabilities, in the order their charts are applied. Each has its unit in
 * charts/capabilities/<id>/ (its ports, check, pod extension, flows and charts).
 */
export const SECTIONS = {
  metrics: { description: 'metrics: ServiceMonitors, alert rules and dashboards (Prometheus, Grafana)', schema: metricsSectionSchema,
    foreignNamespaces: (s: MetricsSection) => [s.prometheus.namespace, ...(s.pushgateway ? [s.pushgateway.url.split('.')[1]] : [])] },
  logs: { description: 'centralized logs: a Promtail (or Alloy) sidecar shipping to Loki', schema: logsSectionSchema, foreignNamespaces: logsForeignNamespaces },
  tracing: { description: 'traces: OpenTelemetry collector to Jaeger', schema: tracingSectionSchema, foreignNamespaces: (s: TracingSection) => [s.jaeger.namespace] },
  secrets: { description: 'secrets from HashiCorp Vault, injected as files under /run/secrets', schema: secretsSectionSchema, foreignNamespaces: (s: SecretsSection) => [s.server.namespace] },
  networkPolicies: { description: 'network policies rendered from the connection graph', schema: networkPoliciesSection },
  gateway: { description: 'nginx gateway with ModSecurity (OWASP CRS), rate limiting, HSTS and CSP', schema: gatewaySectionSchema },
  circuitBreakers: { description: 'circuit breakers on every catalog dependency: Istio DestinationRules (ambient or CNI), or in-process from env', schema: circuitBreakersSectionSchema, foreignNamespaces: circuitBreakersForeignNamespaces },
  database: { description: 'PostgreSQL with WAL-G archiving behind PgBouncer, and Redis', schema: databaseSectionSchema, requires: ['secrets'] },
  backups: { description: 'WAL-G base backups, retention, WAL integrity and monthly restore tests', schema: backupsSectionSchema, requires: ['database', 'secrets'],
    foreignNamespaces: backupsForeignNamespaces },
  gitops: { description: 'Argo CD: an AppProject and Applications for Pronto and the platform add-ons, sync waves, kept apart from the workloads', schema: gitopsSectionSchema, foreignNamespaces: gitopsForeignNamespaces },
} satisfies Record<string, SectionSpec>;

export type CapabilityId = keyof typeof SECTIONS;

/** The value of a capability's section when it is on. */
export type SectionValue<K extends CapabilityId> =
  typeof SECTIONS[K]['schema'] extends z.ZodType ? z.output<typeof SECTIONS[K]['schema']> : never;

/** The sections that are on in one environment, by capability. */
export type EnabledSections = { readonly [K in CapabilityId]?: SectionValue<K> };
