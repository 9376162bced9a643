/**
 * Where a vat worker starts from the build: it runs the one-file worker
 * (worker.bundle.cjs, vite.vat-worker.config.ts) compiled with V8's code cache, kept
 * beside the bundle. Compiling the bundle was the largest part of a worker's start, and
 * a resume waits for its first vat's worker. The first worker without a cache (or with
 * one V8 refuses: another Node, another build) writes it once the bundle's top level
 * (lockdown, the supervisor's modules) has run, so the cache holds what that compiled.
 * A read-only install simply runs without one.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { threadId } from 'node:worker_threads';

const bundle = fileURLToPath(new URL('./worker.bundle.cjs', import.meta.url));
const cachePath = `${bundle}.v8-cache`;

let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(cachePath);
} catch {
  cachedData = undefined;
}
// Wrapped on the bundle's first line, so that its line numbers stay the file's.
const script = new vm.Script(
  `(function (require, module, exports) {${readFileSync(bundle, 'utf8')}\n})`,
  { filename: bundle, ...(cachedData ? { cachedData } : {}) },
);
const run = script.runInThisContext() as (
  require: NodeJS.Require,
  module: { exports: object },
  exports: object,
) => void;
const module = { exports: {} };
run(createRequire(bundle), module, module.exports);

if (cachedData === undefined || script.cachedDataRejected === true) {
  const temporary = `${cachePath}.${process.pid}-${threadId}.tmp`;
  try {
    writeFileSync(temporary, script.createCachedData());
    renameSync(temporary, cachePath);
  } catch {
    // No cache this time: the next worker compiles again.
  }
}
