/** The pure pieces config and constructs share: release rules, resources, injected overhead, image tags. */
import {
  ANNOTATION_INJECTED, ROLLOUT_DEFAULTS, UpstreamImage, formatInjected, idleScaling, maxReplicas, parseInjected, renderResources,
  resolveRollingUpdate, resourcesProblems, scalingProblem, surgePods, versionLabelProblem,
} from '../../../lib/core';

const resources = { requests: { cpu: '0.25', memory: '1Gi', ephemeralStorage: '512Mi' }, limits: { cpu: '1', memory: '1536Mi', ephemeralStorage: '2Gi' } };

describe('release rules', () => {
  test('rollout defaults are applied from one table', () => {
    expect(resolveRollingUpdate()).toEqual(ROLLOUT_DEFAULTS);
    expect(resolveRollingUpdate({ maxSurge: '50%' })).toEqual({ ...ROLLOUT_DEFAULTS, maxSurge: '50%' });
  });

  test('surge pods round percentages up; the idle slot scales from idleReplicas to the active maximum', () => {
    expect([surgePods(1, 10), surgePods('25%', 3), surgePods('50%', 0)]).toEqual([1, 1, 0]);
    const auto = { kind: 'autoscaling', minReplicas: 3, maxReplicas: 8, targetCpuUtilizationPercent: 70 } as const;
    const images = { blue: { repository: 'r.example.com/a', tag: '1.0.0' }, green: { repository: 'r.example.com/a', tag: '1.0.1' } };
    expect(idleScaling({ strategy: 'blueGreen', activeSlot: 'blue', idleReplicas: 2, scaling: auto, images })).toEqual({ ...auto, minReplicas: 2 });
    expect(idleScaling({ strategy: 'blueGreen', activeSlot: 'blue', idleReplicas: 0, scaling: auto, images })).toEqual({ kind: 'fixed', replicas: 0 });
    expect(maxReplicas(auto)).toBe(8);
  });

  test('fails on scaling bounds that are not increasing or not integers', () => {
    expect(scalingProblem({ kind: 'fixed', replicas: 1.5 }, 'x')).toBe('x: replicas must be an integer ≥ 0, found 1.5');
    expect(scalingProblem({ kind: 'autoscaling', minReplicas: 0, maxReplicas: 2, targetCpuUtilizationPercent: 70 }, 'x')).toContain('minReplicas must be an integer ≥ 1');
    expect(scalingProblem({ kind: 'autoscaling', minReplicas: 2, maxReplicas: 2, targetCpuUtilizationPercent: 70 }, 'x')).toContain('maxReplicas (2) must be greater than minReplicas (2)');
    expect(scalingProblem({ kind: 'autoscaling', minReplicas: 1, maxReplicas: 2, targetCpuUtilizationPercent: 0 }, 'x')).toContain('targetCpuUtilizationPercent must be 1-100');
  });
});

describe('compute resources', () => {
  test('render CPU in millicores, memory in Mi and ephemeral storage in Gi where they divide evenly', () => {
    expect(renderResources(resources)).toEqual({
      requests: { 'cpu': '250m', 'memory': '1024Mi', 'ephemeral-storage': '512Mi' },
      limits: { 'cpu': '1000m', 'memory': '1536Mi', 'ephemeral-storage': '2Gi' },
    });
  });

  test('require every value, above zero, no request above its limit', () => {
    expect(resourcesProblems(resources, 'c')).toEqual([]);
    expect(resourcesProblems(undefined, 'c')).toEqual(['c: resources are required (requests and limits of cpu, memory and ephemeralStorage), found none']);
    expect(resourcesProblems({ ...resources, requests: { ...resources.requests, cpu: '0' } }, 'c')).toEqual(['c: resources.requests.cpu: expected a quantity above zero, found "0"']);
    expect(resourcesProblems({ ...resources, requests: { ...resources.requests, memory: '2Gi' } }, 'c')).toEqual(['c: resources.requests.memory (2Gi) exceeds the limit (1536Mi)']);
  });
});

describe('injected containers', () => {
  test('round-trip through the annotation, sorted by name', () => {
    const list = [{ name: 'b-agent', kind: 'sidecar' as const, resources }, { name: 'a-init', kind: 'init' as const, resources }];
    const text = formatInjected(list);
    expect(Object.keys(JSON.parse(text))).toEqual(['a-init', 'b-agent']);
    expect(parseInjected(text)).toEqual([list[1], list[0]]);
  });

  test('fail on a malformed annotation with the annotation named', () => {
    expect(() => parseInjected('{')).toThrow(`${ANNOTATION_INJECTED}: expected JSON`);
    expect(() => parseInjected('[]')).toThrow('expected a JSON object keyed by container name');
    expect(() => parseInjected('{"x":{"kind":"proxy"}}')).toThrow('x.kind: expected "sidecar" or "init", found "proxy"');
  });
});

describe('image tags as version labels', () => {
  test('a tag must fit the version label: 63 characters after a leading v, alphanumeric ends', () => {
    expect(versionLabelProblem('v1.2.3')).toBeUndefined();
    expect(versionLabelProblem(`v1.2.3-${'a'.repeat(58)}`)).toBe('the version after a leading "v" is too long (64 characters, at most 63)');
    expect(versionLabelProblem('1.2.3-rc-')).toContain('the version after a leading "v" is bad characters');
  });

  test('upstream images take release tags with variants, and refuse floating tags', () => {
    for (const tag of ['16.4', '1.23.1', 'v0.110.0', '1.27.3-alpine', '16.4-bookworm', '7.4.1-alpine3.20']) {
      expect(new UpstreamImage({ repository: 'docker.io/library/x', tag }).version).toBe(tag.replace(/^v/, ''));
    }
    for (const tag of ['latest', 'stable', '16', 'alpine', '1.2+build']) {
      expect(() => new UpstreamImage({ repository: 'docker.io/library/x', tag })).toThrow(`image tag: expected an upstream version tag`);
    }
  });
});
