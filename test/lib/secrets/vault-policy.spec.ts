import { TOKEN_SELF_PATHS, VaultAuthOptions, VaultClient, kvReadPath, vaultApplyScript, vaultFiles, vaultPolicies, vaultRoles } from '../../../lib/secrets';

const AUTH: VaultAuthOptions = { authPath: 'auth/kubernetes', audience: 'vault', tokenTtlSeconds: 3600, tokenMaxTtlSeconds: 86400 };
const CLIENTS: VaultClient[] = [
  { name: 'pronto-order', workload: 'order', serviceAccount: 'order', namespace: 'pronto', paths: [kvReadPath('secret', 'pronto', 'order/database')] },
  { name: 'pronto-billing', workload: 'billing', serviceAccount: 'billing', namespace: 'pronto',
    paths: [kvReadPath('secret', 'pronto', 'billing/stripe'), kvReadPath('secret', 'pronto', 'billing/database')] },
];

/** The `path "…" { capabilities = [...] }` blocks of a policy. */
function blocks(hcl: string): Array<{ path: string; capabilities: string }> {
  return [...hcl.matchAll(/^path "([^"]+)" \{\n {2}capabilities = (\[[^\]]*\])\n\}$/gm)].map((m) => ({ path: m[1], capabilities: m[2] }));
}

describe('Vault policies and roles', () => {
  test('kvReadPath reads KV version 2 through <mount>/data/', () => {
    expect(kvReadPath('kv', 'pronto/prod', 'order/database')).toBe('kv/data/pronto/prod/order/database');
  });

  test('one policy per client, read-only on exactly its paths', () => {
    const policies = vaultPolicies(CLIENTS);
    expect(policies.map((p) => p.path)).toEqual(CLIENTS.map((c) => `policies/${c.name}.hcl`).sort());
    for (const client of CLIENTS) {
      const text = policies.find((p) => p.path === `policies/${client.name}.hcl`)!.text;
      // Its paths, read-only; then its own token's lookup and renewal, in place of Vault's default policy.
      expect(blocks(text)).toEqual([...[...client.paths].sort().map((path) => ({ path, capabilities: '["read"]' })),
        ...TOKEN_SELF_PATHS.map(([path, capability]) => ({ path, capabilities: `["${capability}"]` }))]);
      expect(TOKEN_SELF_PATHS.map(([p]) => p)).toEqual(['auth/token/lookup-self', 'auth/token/renew-self']);
      // Nothing but comments and those blocks.
      const rest = text.split('\n').filter((l) => l !== '' && !l.startsWith('#') && !/^(path "|  capabilities = |\})/.test(l));
      expect(rest).toEqual([]);
      // No wildcard, and no write anywhere but the token's own renewal.
      expect(text.replace('path "auth/token/renew-self" {\n  capabilities = ["update"]', '')).not.toMatch(/\*|\+|list|create|update|delete|sudo/);
    }
  });

  test('one Kubernetes-auth role per client, bound to its ServiceAccount, namespace and the audience, issuing its policy', () => {
    const roles = vaultRoles(CLIENTS, AUTH);
    for (const client of CLIENTS) {
      const role = JSON.parse(roles.find((r) => r.path === `roles/${client.name}.json`)!.text);
      expect(role).toEqual({
        bound_service_account_names: [client.serviceAccount],
        bound_service_account_namespaces: [client.namespace],
        audience: 'vault',
        alias_name_source: 'serviceaccount_uid',
        token_policies: [client.name],
        token_no_default_policy: true,
        token_ttl: 3600,
        token_max_ttl: 86400,
      });
    }
  });

  test('the apply script writes each policy and role under the configured auth mount', () => {
    const script = vaultApplyScript(CLIENTS, AUTH).text;
    for (const c of CLIENTS) {
      expect(script).toContain(`vault policy write ${c.name} policies/${c.name}.hcl\n`);
      expect(script).toContain(`vault write auth/kubernetes/role/${c.name} @roles/${c.name}.json\n`);
    }
    expect(script.split('\n')[0]).toBe('#!/bin/sh');
  });

  test('refuses a client declared twice or reading nothing', () => {
    expect(() => vaultFiles([CLIENTS[0], CLIENTS[0]], AUTH)).toThrow('"pronto-order" is declared twice');
    expect(() => vaultFiles([{ ...CLIENTS[0], paths: [] }], AUTH)).toThrow('reads no path');
  });

  test('output does not depend on the order clients are given in', () => {
    expect(vaultFiles([...CLIENTS].reverse(), AUTH)).toEqual(vaultFiles(CLIENTS, AUTH));
  });

  test('snapshot', () => {
    expect(vaultFiles(CLIENTS, AUTH)).toMatchSnapshot();
  });
});
