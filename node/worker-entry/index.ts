/**
 * Where a worker thread of the Node host starts. From the build, the compiled module
 * itself. From source (the caller's own URL ends in .ts), Node cannot load a .ts module
 * in a worker, so a .js trampoline (ts-entry.js) registers tsx and loads it: pass
 * `entry` to the worker as `workerData.entry`.
 */
export function workerEntry(
  callerUrl: string,
  moduleName: string,
): { url: URL; entry?: string } {
  if (callerUrl.endsWith('.ts')) {
    return {
      url: new URL('./ts-entry.js', import.meta.url),
      entry: new URL(`./${moduleName}.ts`, callerUrl).href,
    };
  }
  return { url: new URL(`./${moduleName}.js`, callerUrl) };
}
