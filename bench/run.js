#!/usr/bin/env node
// Runs a benchmark against the compiled build (so vat workers start as they do for users):
//   npm run bench -- NAME [options]      NAME one of bench/*.ts
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const names = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.ts') && !['stats.ts', 'entry.ts'].includes(f))
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
const { status } = spawnSync(
  process.execPath,
  [`${root}build/bench/entry.js`, `${root}build/bench/${name}.js`, ...args],
  { stdio: 'inherit' },
);
process.exit(status ?? 1);
