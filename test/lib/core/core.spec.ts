import {
  ContainerImage, bytes, compareVersions, cpuMillis, isDns1035Label, isDnsLabel, isDnsSubdomain, isLabelValue, isQualifiedName, labelValueProblem,
  RUN_AS_ID_RANGE, qualifiedNameProblem, resolveRunAsIds, resourceName, selectorLabels, workloadRunAsId,
} from '../../../lib/core';

describe('quantities', () => {
  test.each([['250m', 250], ['1', 1000], ['1.5', 1500], ['0.1', 100]])('cpu %s = %d millicores', (q, m) => {
    expect(cpuMillis(q)).toBe(m);
  });
  test.each([['1Ki', 1024], ['256Mi', 268435456], ['1Gi', 1073741824], ['1k', 1000], ['512M', 512e6], ['100', 100]])(
    'memory %s = %d bytes', (q, b) => expect(bytes(q)).toBe(b));
  test('fails on a malformed quantity', () => {
    expect(() => cpuMillis('10 cores')).toThrow('"10 cores" is not a CPU quantity');
    expect(() => bytes('512MB')).toThrow('"512MB" is not a byte quantity');
  });
});

describe('ContainerImage', () => {
  test('renders repo:tag, or repo:tag@digest, and the version without the v', () => {
    const plain = new ContainerImage({ repository: 'r.example.com/p/app', tag: 'v1.2.3', gitSha: 'abcdef1' });
    expect(plain.reference).toBe('r.example.com/p/app:v1.2.3');
    expect(plain.version).toBe('1.2.3');
    const pinned = new ContainerImage({ repository: 'r.example.com/p/app', tag: '1.2.3', gitSha: 'abcdef1', digest: `sha256:${'0'.repeat(64)}` });
    expect(pinned.reference).toBe(`r.example.com/p/app:1.2.3@sha256:${'0'.repeat(64)}`);
  });
  test.each([
    [{ tag: 'latest' }, 'image tag: expected a semantic version'],
    [{ tag: '1.2' }, 'image tag'],
    [{ gitSha: 'xyz' }, 'image gitSha'],
    [{ repository: 'app:1.0' }, 'image repository'],
    [{ digest: 'md5:1' }, 'image digest'],
  ])('fails on %j', (override, message) => {
    expect(() => new ContainerImage({ repository: 'r.example.com/p/app', tag: '1.0.0', gitSha: 'abcdef1', ...override })).toThrow(message);
  });
});

describe('naming and labels', () => {
  test('joins parts and refuses invalid or long names', () => {
    expect(resourceName('clients-app', 'blue')).toBe('clients-app-blue');
    expect(() => resourceName('a'.repeat(64))).toThrow('at most 63 characters');
  });
  test('selector labels come from the service name and slot only', () => {
    expect(selectorLabels('order-service')).toEqual({ 'app.kubernetes.io/instance': 'order-service', 'app.kubernetes.io/name': 'order-service' });
    expect(selectorLabels('clients-app', 'green')['pronto.io/slot']).toBe('green');
  });
});

describe('name and label syntax', () => {
  test.each(['a', 'order-service', '0abc', 'a'.repeat(63)])('%s is a DNS-1123 label', (name) => expect(isDnsLabel(name)).toBe(true));
  test.each(['', 'Order', 'a.b', '-a', 'a-', 'a_b', 'a'.repeat(64)])('%s is not a DNS-1123 label', (name) => expect(isDnsLabel(name)).toBe(false));

  test('a DNS-1035 label starts with a letter', () => {
    expect(isDns1035Label('order-service')).toBe(true);
    expect(isDns1035Label('1order')).toBe(false);
  });

  test.each(['a', 'a.b-c.d', `${'a'.repeat(63)}.${'b'.repeat(189)}`])('%s is a DNS-1123 subdomain', (name) => expect(isDnsSubdomain(name)).toBe(true));
  test.each(['', 'a..b', '.a', 'a.', 'A.b', 'a_b', `${'a'.repeat(63)}.${'b'.repeat(190)}`])('%s is not a DNS-1123 subdomain', (name) =>
    expect(isDnsSubdomain(name)).toBe(false));

  test.each(['app', 'app.kubernetes.io/name', 'example.com/Mixed_Case.name-1', 'a'.repeat(63), `${'a'.repeat(253)}/b`])(
    '%s is a qualified name', (key) => expect(isQualifiedName(key)).toBe(true));
  test.each([
    ['', 'empty'],
    ['a/b/c', 'bad characters (2 "/"'],
    ['/a', 'prefix "" is not a DNS-1123 subdomain: empty'],
    ['a/', 'empty name after the prefix'],
    ['Example.com/a', 'prefix "Example.com" is not a DNS-1123 subdomain: bad characters'],
    ['git sha', 'bad characters'],
    ['a-', 'bad characters'],
    [`p.io/${'a'.repeat(64)}`, 'too long (64 characters after the prefix, at most 63)'],
    [`${'a'.repeat(254)}/b`, 'too long (254 characters, at most 253)'],
  ])('%s is not a qualified name: %s', (key, problem) => {
    expect(isQualifiedName(key)).toBe(false);
    expect(qualifiedNameProblem(key)).toContain(problem);
  });

  test.each(['', 'a', '1.4.2', 'A_b.c-9', 'a'.repeat(63)])('"%s" is a label value', (value) => expect(isLabelValue(value)).toBe(true));
  test.each([
    ['a'.repeat(64), 'too long (64 characters, at most 63)'],
    ['1.4.2-', 'bad characters'],
    ['_a', 'bad characters'],
    ['a b', 'bad characters'],
    ['a/b', 'bad characters'],
  ])('"%s" is not a label value: %s', (value, problem) => {
    expect(isLabelValue(value)).toBe(false);
    expect(labelValueProblem(value)).toContain(problem);
  });

  test('resourceName accepts exactly the DNS-1123 labels', () => {
    expect(resourceName('a'.repeat(63))).toBe('a'.repeat(63));
    expect(() => resourceName('Order')).toThrow('is not a valid object name');
    expect(() => resourceName('')).toThrow('is not a valid object name');
  });
});

describe('compareVersions', () => {
  test('orders release versions part by part, numerically, missing parts as 0', () => {
    expect(compareVersions('3.0.9', '3.0.9')).toBe(0);
    expect(compareVersions('3.0.8', '3.0.9')).toBeLessThan(0);
    expect(compareVersions('3.0.10', '3.0.9')).toBeGreaterThan(0);
    expect(compareVersions('1.25', '1.25.0')).toBe(0);
    expect(compareVersions('1.18.0', '1.19')).toBeLessThan(0);
  });
});

describe('workload ids', () => {
  test('derived from the workload name alone: stable, in the documented range, the same for user, group and fsGroup', () => {
    const id = workloadRunAsId('order-service');
    expect(id).toBe(workloadRunAsId('order-service'));
    expect(id).toBeGreaterThanOrEqual(RUN_AS_ID_RANGE.first);
    expect(id).toBeLessThan(RUN_AS_ID_RANGE.first + RUN_AS_ID_RANGE.size);
    // The Vault agent's UID is derived too, from `<workload>/vault-agent`: never the workload's own.
    const agentUser = workloadRunAsId('order-service/vault-agent');
    expect(agentUser).not.toBe(id);
    expect(resolveRunAsIds('order-service')).toEqual({ user: id, group: id, fsGroup: id, agentUser });
    // A given user without a group: the group follows the user (nothing shared by group either).
    expect(resolveRunAsIds('order-service', { user: 10002 })).toEqual({ user: 10002, group: 10002, fsGroup: 10002, agentUser });
    // A pinned agent UID (catalog runAs.agentUser) replaces the derived one.
    expect(resolveRunAsIds('order-service', { agentUser: 10003 })).toEqual({ user: id, group: id, fsGroup: id, agentUser: 10003 });
  });

  test('adding a workload never renumbers another (no table, no index): the ids of a list do not depend on the list', () => {
    const names = ['clients-app', 'employees-app', 'order-service'];
    const before = names.map(workloadRunAsId);
    const after = [...names, 'loyalty'].map(workloadRunAsId).slice(0, names.length);
    expect(after).toEqual(before);
  });

  test('fails on an id below 10000, naming the workload', () => {
    expect(() => resolveRunAsIds('redis', { user: 999 })).toThrow('redis: runAs user: expected an integer ≥ 10000, found 999');
  });
});
