#!/usr/bin/env node
// `npm test`: the type check (tsc --noEmit) and the tests (jest, with the arguments given to
// `npm test -- …`) at the same time, on a machine where jest alone leaves cores idle part of
// the time. The type check runs at the tests' priority: at a lower one it got the CPU only once
// the tests were done, and then ran alone for its last 5 to 7 s (one core idle); at the same one
// it is done within the first half of the run. jest prints as it goes; the type check's output
// follows it. Fails if either fails.
const { spawn } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');
const bin = (pkg, file) => path.join(path.dirname(require.resolve(`${pkg}/package.json`, { paths: [root] })), file);

const started = Date.now();
const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

// One GC thread: V8's parallel GC helpers would compete with the tests for the same cores; on its own,
// the check takes as long with one, and about 5 % less CPU.
const tsc = spawn(process.execPath, ['--single-threaded-gc', bin('typescript', 'bin/tsc'), '--noEmit', ...(process.stdout.isTTY ? ['--pretty'] : [])], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
let tscOutput = '';
tsc.stdout.on('data', (chunk) => { tscOutput += chunk; });
tsc.stderr.on('data', (chunk) => { tscOutput += chunk; });
const tscDone = new Promise((resolve) => tsc.on('close', (code, signal) => resolve({ code: code ?? 1, signal, at: seconds() })));

const jest = spawn(process.execPath, [bin('jest', 'bin/jest.js'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
const jestDone = new Promise((resolve) => jest.on('close', (code, signal) => resolve({ code: code ?? 1, signal })));

// Ctrl-C reaches both children through the terminal's process group; stop them when we are told to stop.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    tsc.kill(signal);
    jest.kill(signal);
  });
}

Promise.all([tscDone, jestDone]).then(([t, j]) => {
  process.stdout.write(`\n${t.code === 0 ? 'tsc --noEmit: no type errors' : `tsc --noEmit failed (${t.signal ?? `exit ${t.code}`}):`} (done at ${t.at})\n`);
  if (tscOutput) process.stdout.write(tscOutput.endsWith('\n') ? tscOutput : `${tscOutput}\n`);
  if (j.code !== 0) process.stdout.write(`jest failed (${j.signal ?? `exit ${j.code}`})\n`);
  process.exitCode = t.code !== 0 || j.code !== 0 ? 1 : 0;
});
