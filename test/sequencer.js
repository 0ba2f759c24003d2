// Runs the suites that take longest first, so that neither worker idles at the end waiting for a
// long one that started last. jest orders by the durations it cached on an earlier run; a fresh
// clone (CI) has none, and jest then orders by file size, which puts the small aggregator files
// (units.test.ts, group-*.test.ts: many suites in one registry) last. This list is that cache,
// committed: suites not in it follow, largest file first.
const Sequencer = require('@jest/test-sequencer').default;
const path = require('path');

/** Slowest first: the time each takes alone on the 2-core machine, its waits included. */
const SLOW = [
  'test/main/e2e.test.ts',
  'test/tools/postgres-suites.test.ts',
  'test/units.test.ts',
  // Longer in wall time than its CPU says: one of its tests waits about 5 s for a server that is starting.
  'test/lib/units.test.ts',
  'test/architecture.test.ts',
  'test/tools/restore-test.test.ts',
  'test/charts/capabilities/group-b.test.ts',
  'test/charts/capabilities/group-a.test.ts',
  'test/tools/promtool.test.ts',
  'test/tools/kustomize.test.ts',
];

class SlowFirst extends Sequencer {
  sort(tests) {
    const root = path.resolve(__dirname, '..');
    const rank = (t) => {
      const i = SLOW.indexOf(path.relative(root, t.path).split(path.sep).join('/'));
      return i === -1 ? SLOW.length : i;
    };
    const bySize = super.sort(tests);
    return [...bySize].sort((a, b) => rank(a) - rank(b) || bySize.indexOf(a) - bySize.indexOf(b));
  }
}

module.exports = SlowFirst;
