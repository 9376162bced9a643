#!/usr/bin/env node
// Runs a benchmark from source: `npm run bench -- NAME [options]`, NAME one of bench/*.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const here = new URL('.', import.meta.url);
const names = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'stats.ts' && f !== 'entry.ts')
  .map((f) => f.slice(0, -3));
const [name = 'ping-pong', ...args] = process.argv.slice(2);
if (!names.includes(name)) {
  process.stderr.write(`unknown benchmark "${name}"; one of: ${names.join(', ')}\n`);
  process.exit(2);
}
const entry = new URL(`./entry.ts`, here);
if (!existsSync(entry)) process.exit(1);
const { status } = spawnSync(
  process.execPath,
  ['--import', 'tsx', entry.pathname, new URL(`./${name}.ts`, here).pathname, ...args],
  { stdio: 'inherit' },
);
process.exit(status ?? 1);
