/**
 * Runs a one-file bundle of the build (a CommonJS script) compiled with V8's code cache,
 * kept beside it as FILE.v8-cache: compiling the bundle was the largest part of a
 * `cask` process's start and of a vat worker's. The first run without a cache (or with
 * one V8 refuses: another Node, another build) writes it after the bundle's top level
 * has run, so it holds what that compiled. A read-only install runs without one.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { threadId } from 'node:worker_threads';

/** Runs the bundle at `file` (an absolute path) and returns its exports. */
export function runWithCodeCache(file: string): Record<string, unknown> {
  const cachePath = `${file}.v8-cache`;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cachePath);
  } catch {
    cachedData = undefined;
  }
  // Wrapped on the bundle's first line, so that its line numbers stay the file's.
  const script = new vm.Script(
    `(function (require, module, exports, __filename) {${readFileSync(file, 'utf8')}\n})`,
    { filename: file, ...(cachedData ? { cachedData } : {}) },
  );
  const run = script.runInThisContext() as (
    require: NodeJS.Require,
    module: { exports: Record<string, unknown> },
    exports: Record<string, unknown>,
    filename: string,
  ) => void;
  const module = { exports: {} };
  run(createRequire(file), module, module.exports, file);
  if (cachedData === undefined || script.cachedDataRejected === true) {
    const temporary = `${cachePath}.${process.pid}-${threadId}.tmp`;
    try {
      writeFileSync(temporary, script.createCachedData());
      renameSync(temporary, cachePath);
    } catch {
      // No cache this time: the next run compiles again.
    }
  }
  return module.exports;
}
