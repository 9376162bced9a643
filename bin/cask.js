#!/usr/bin/env node
// The `cask` command. It runs the compiled build (made by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';

const entry = new URL('../build/node/cli/index.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('cask: the build is missing; run `npm run build` first\n');
  process.exit(1);
}
// Lockdown must come before any other module: the kernel runs under SES.
await import('../build/vat-supervisor/lockdown.js');
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
