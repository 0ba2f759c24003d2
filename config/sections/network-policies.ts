/**
 * The `networkPolicies` section of the environment file. Pure: zod only (config/ imports it).
 *
 * A NetworkPolicy cannot name a host, so every external host the connection graph names
 * (the catalog's `externalHosts`, and outside clients such as the gateway's `internet`)
 * is given here as the address blocks (`ipBlock`) it may be reached at, or reached from.
 */
import { z } from 'zod';
import { cidrBlockSchema, cidrStrictlyInside, parseCidrBlock } from './schemas';

const cidr = cidrBlockSchema;

const blockObject = z.strictObject({
  cidr: cidr.describe('The address block, such as 203.0.113.0/24'),
  except: z.array(cidr).min(1).optional().describe('Blocks inside cidr to leave out (each strictly smaller than cidr)'),
}).superRefine((b, ctx) => {
  const outer = parseCidrBlock(b.cidr);
  if (typeof outer === 'string') return;
  (b.except ?? []).forEach((text, i) => {
    const inner = parseCidrBlock(text);
    if (typeof inner !== 'string' && !cidrStrictlyInside(inner, outer)) {
      ctx.addIssue({ code: 'custom', path: ['except', i], input: text, message: `expected a block strictly inside ${b.cidr}` });
    }
  });
});

/** One address block: `203.0.113.0/24`, or `{ cidr, except }`. Resolved to `{ cidr, except? }`. */
const ipBlockSchema = z.union([cidr, blockObject], { error: 'expected a CIDR block such as 203.0.113.0/24, or { cidr, except }' })
  .transform((b) => (typeof b === 'string' ? { cidr: b } : b));

/** External host names as the connection graph names them: `api.stripe.com`, `internet`. */
const HOST = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export const networkPoliciesSection = z.strictObject({
  externalHosts: z.record(z.string().meta({ title: 'host' }), z.array(ipBlockSchema).refine((blocks) => blocks.length > 0, { error: 'expected at least one CIDR block' }))
    // Keys are checked here rather than by a key schema, so the message names the key (a key schema fails the whole section).
    .superRefine((hosts, ctx) => {
      for (const host of Object.keys(hosts).filter((h) => !HOST.test(h))) {
        ctx.addIssue({ code: 'custom', path: [host], input: host, message: 'expected a host name as the catalog writes it, such as api.stripe.com' });
      }
    })
    .default({})
    .describe('For every external host the connection graph names (catalog externalHosts, outside clients such as "internet"): ' +
      'the CIDR blocks it is reached at or comes from. A NetworkPolicy cannot name a host; route egress through a proxy instead when the addresses move.'),
});

export type NetworkPoliciesSection = z.output<typeof networkPoliciesSection>;
