import { ContainerImage, bytes, cpuMillis, resourceName, selectorLabels } from '../../../lib/core';

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
