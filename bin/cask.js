#!/usr/bin/env node
// The `cask` command. It runs the compiled build (made by `npm install` / `npm run build`).
// Whatever fails, it ends with one `cask: …` line on stderr and a non-zero exit.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../build/node/cli/index.js', import.meta.url);
// The one-file host (node/bundled) starts in a third of the time; the compiled modules
// when the bundle is missing or older than them (tsc run without `npm run build`).
const bundle = new URL('../build/node/bundled/cask.bundle.cjs', import.meta.url);
const mtime = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs;
const bundled = (mtime(bundle) ?? -1) >= (mtime(entry) ?? Infinity);
if (!existsSync(entry) && !bundled) {
  process.stderr.write('cask: the build is missing; run `npm run build` first\n');
  process.exit(1);
}

const oneLine = (error) =>
  String(error instanceof Error ? error.message || error.name : error).replace(
    /\s*\n\s*/gu,
    ' ',
  );
const internal = (error) => {
  if (process.env.CASK_DEBUG && error instanceof Error)
    process.stderr.write(`${error.stack}\n`);
  process.stderr.write(`cask: internal error: ${oneLine(error)}\n`);
  process.exit(1);
};

try {
  // Lockdown must come before any other module: the kernel runs under SES (the bundle
  // runs it first itself).
  if (!bundled) await import('../build/vat-supervisor/lockdown.js');
  // SES reports an uncaught error with its own stack and exit code 255; say it once instead.
  process.removeAllListeners('uncaughtException');
  process.removeAllListeners('unhandledRejection');
  process.on('uncaughtException', internal);
  process.on('unhandledRejection', internal);
  const { main } = bundled
    ? // Compiled with V8's code cache beside it (node/code-cache).
      (await import('../build/node/code-cache/index.js')).runWithCodeCache(
        fileURLToPath(bundle),
      )
    : await import(entry.href);
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  internal(error);
}
