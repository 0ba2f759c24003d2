/** The reviewed-snapshot files (test/snapshot-files.ts): headers, a first write, and a mismatch that names the object. */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { expectSnapshotFiles, withHeaders } from '../snapshot-files';

const cm = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: pronto\ndata:\n  key: ${value}\n`;

test('each object of a YAML file is headed by its kind and name; other files stay as they are', () => {
  expect(withHeaders('a.k8s.yaml', `${cm('one', '1')}---\n${cm('two', '2')}`)).toBe(`# ConfigMap pronto/one\n${cm('one', '1')}---\n# ConfigMap pronto/two\n${cm('two', '2')}`);
  expect(withHeaders('INVENTORY.md', '# Title\n')).toBe('# Title\n');
  expect(withHeaders('kustomization.yaml', 'resources: []\n')).toBe('resources: []\n');
});

test('a missing snapshot is written once; a changed object fails with the object named above its hunk', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'pronto-snapshots-'));
  try {
    expectSnapshotFiles('env', [{ name: 'a.k8s.yaml', text: cm('one', '1') }], root, 'new');
    expect(readFileSync(path.join(root, 'env', 'a.k8s.yaml'), 'utf8')).toBe(`# ConfigMap pronto/one\n${cm('one', '1')}`);
    // Under --ci nothing is written: a snapshot that is missing fails.
    expect(() => expectSnapshotFiles('other', [{ name: 'a.k8s.yaml', text: cm('one', '1') }], root, 'none')).toThrow('+ other/a.k8s.yaml: new file');
    expectSnapshotFiles('env', [{ name: 'a.k8s.yaml', text: cm('one', '1') }], root, 'none');
    expect(() => expectSnapshotFiles('env', [{ name: 'a.k8s.yaml', text: cm('one', '2') }], root, 'new'))
      .toThrow(/~ env\/a\.k8s\.yaml: 0 added, 1 changed, 0 removed[\s\S]*@@ ConfigMap\/pronto\/one -\d+,\d+ \+\d+,\d+ @@[\s\S]*-  key: 1\n\+  key: 2/);
    expect(() => expectSnapshotFiles('env', [], root, 'none')).toThrow('- env/a.k8s.yaml: in the reviewed snapshot, no longer written');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
