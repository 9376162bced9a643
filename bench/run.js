#!/usr/bin/env node
// Runs a benchmark against the compiled build (so vat workers start as they do for users):
//   npm run bench -- NAME [options]      NAME one of bench/*.ts
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const names = readdirSync(new URL('.', import.meta.url))
  .filter(
    (f) => f.endsWith('.ts') && !['stats.ts', 'entry.ts', 'fixtures.ts'].includes(f),
  )
  .map((f) => f.slice(0, -3));
const [name = 'ping-pong', ...args] = process.argv.slice(2);
if (!names.includes(name)) {
  process.stderr.write(`unknown benchmark "${name}"; one of: ${names.join(', ')}\n`);
  process.exit(2);
}
const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.bench.json'], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);
// tsc just rewrote build/node: the one-file vat worker and host follow it, or the
// launcher and bin/cask.js would take the modules (they never run an older bundle).
for (const config of ['vite.vat-worker.config.ts', 'vite.host.config.ts']) {
  const bundle = spawnSync('npx', ['vite', 'build', '-c', config], {
    cwd: root,
    stdio: 'inherit',
  });
  if (bundle.status !== 0) process.exit(bundle.status ?? 1);
}
// Benches that drive a browser run from source under tsx, without lockdown: Playwright
// is not written for a locked-down realm, and these host no kernel themselves (it runs
// in the extension; vats are bundled in a child process under SES). From source because
// they load e2e/harness.ts, which the bench compile leaves out.
const withoutLockdown = ['extension-ping-pong', 'extension-memory', 'extension-hop'];
const { status } = withoutLockdown.includes(name)
  ? spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.ts`, ...args], {
      cwd: root, // where --import finds tsx
      stdio: 'inherit',
    })
  : spawnSync(
      process.execPath,
      [`${root}build/bench/entry.js`, `${root}build/bench/${name}.js`, ...args],
      { stdio: 'inherit' },
    );
process.exit(status ?? 1);
