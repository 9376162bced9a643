/**
 * Where a worker thread of the Node host starts, named as `room/module` under node/ (a
 * worker of node/bundles is 'bundles/bundler-worker'). The path goes up from the caller
 * and down into the room, so it is the same from the caller's own module and from the
 * one-file host (build/node/bundled), which sits beside the rooms. From the build, the
 * compiled module. From source (the caller's own URL ends in .ts), Node cannot load a
 * .ts module in a worker, so a .js trampoline (ts-entry.js) registers tsx and loads it:
 * pass `entry` to the worker as `workerData.entry`.
 */
export function workerEntry(
  callerUrl: string,
  module: `${string}/${string}`,
): { url: URL; entry?: string } {
  if (callerUrl.endsWith('.ts')) {
    return {
      url: new URL('./ts-entry.js', import.meta.url),
      entry: new URL(`../${module}.ts`, callerUrl).href,
    };
  }
  return { url: new URL(`../${module}.js`, callerUrl) };
}
