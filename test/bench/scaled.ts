/**
 * The shipped prod environment with `extra` more services, for `npm run bench` and the
 * growth tests: each a copy of order-service (its catalog entry and its block of
 * config/prod.yaml) with Redis as its only data store, so that the data tier stays as it
 * is; the namespace quota raised by what one copy needs at peak, per copy.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { CATALOG } from '../../config/catalog';
import { Catalog } from '../../config/schema';
import { PINNED_RUN_AS_ID_RANGE } from '../../lib/core/security';

/** The service every extra service copies. */
export const TEMPLATE_SERVICE = 'order-service';

/** What one copy of order-service adds to the prod quota: at least its peak (12 pods, surge and sidecars included). */
const PER_COPY = { requestsCpu: 8, requestsMemoryGi: 16, limitsCpu: 32, limitsMemoryGi: 32, pods: 20 };

/** `bench-0001`, `bench-0002`, …: names of the extra services, in catalog order. */
export function extraServiceName(i: number): string {
  return `bench-${String(i + 1).padStart(4, '0')}`;
}

/**
 * Ids pinned for copy `i`: hundreds of names hashed into the derived range collide (1000
 * copies, two ids each, would give about 50 shared ids, which the gate refuses), so every
 * copy is pinned, as an operator pins a colliding service (catalog `runAs`), in a block of
 * the pinned range no shipped workload uses.
 */
function pinnedIds(i: number): { user: number; agentUser: number } {
  const first = PINNED_RUN_AS_ID_RANGE.first + PINNED_RUN_AS_ID_RANGE.size / 2;
  return { user: first + 2 * i, agentUser: first + 2 * i + 1 };
}

/** The catalog with `extra` copies of {@link TEMPLATE_SERVICE} appended. */
export function scaledCatalog(extra: number, base: Catalog = CATALOG): Catalog {
  const template = base[TEMPLATE_SERVICE];
  const copies = Array.from({ length: extra }, (_, i) => [extraServiceName(i), {
    ...template, description: `Copy ${i + 1} of ${TEMPLATE_SERVICE} (benchmark)`, dataStores: process.env.BENCH_NO_STORE ? [] : ['redis'], runAs: pinnedIds(i),
  }]);
  return { ...base, ...Object.fromEntries(copies) } as Catalog;
}

/** The lines of `service`'s block under `services:` in an environment file's text. */
function serviceBlock(lines: string[], service: string): string[] {
  const start = lines.indexOf(`  ${service}:`);
  if (start < 0) throw new Error(`bench: no block for ${service} under services: in the environment text`);
  let end = start + 1;
  while (end < lines.length && (/^ {4}/.test(lines[end]) || lines[end].trim() === '')) end++;
  return lines.slice(start + 1, end).filter((l) => l.trim() !== '');
}

/**
 * `envText` (config/prod.yaml's text) with a block per extra service (a copy of the
 * template's block) and the quota raised by {@link PER_COPY} per copy.
 */
export function scaledEnvironmentText(extra: number, envText: string): string {
  const lines = envText.split('\n');
  const block = serviceBlock(lines, TEMPLATE_SERVICE);
  const services = lines.indexOf('services:');
  let end = lines.findIndex((l, i) => i > services && /^\S/.test(l));
  while (lines[end - 1].trim() === '' || lines[end - 1].startsWith('#')) end--;
  const added = Array.from({ length: extra }, (_, i) => [`  ${extraServiceName(i)}:`, ...block]).flat();
  const raise = (value: string, by: number) => {
    const [, n, unit] = /^"?(\d+)([A-Za-z]*)"?$/.exec(value) ?? [];
    if (n === undefined) throw new Error(`bench: quota value ${value} is not a whole number`);
    const raised = `${Number(n) + by * extra}${unit}`;
    return unit ? raised : `"${raised}"`;
  };
  return [...lines.slice(0, end), ...added, ...lines.slice(end)].join('\n')
    .replace(/^( {4}requests: \{ cpu: )(\S+), memory: (\S+),/m, (_m, head, cpu, memory) =>
      `${head}${raise(cpu, PER_COPY.requestsCpu)}, memory: ${raise(memory, PER_COPY.requestsMemoryGi)},`)
    .replace(/^( {4}limits: \{ cpu: )(\S+), memory: (\S+) \}/m, (_m, head, cpu, memory) =>
      `${head}${raise(cpu, PER_COPY.limitsCpu)}, memory: ${raise(memory, PER_COPY.limitsMemoryGi)} }`)
    .replace(/^( {4}pods: )(\d+)$/m, (_m, head, pods) => `${head}${Number(pods) + PER_COPY.pods * extra}`);
}

/** config/prod.yaml's text. */
export function shippedProdText(configDir = path.join(__dirname, '..', '..', 'config')): string {
  return readFileSync(path.join(configDir, 'prod.yaml'), 'utf8');
}
