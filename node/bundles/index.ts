/**
 * Bundles vat sources into Endo's `endoZipBase64` format (@endo/bundle-source).
 *
 * The bundling itself runs in one worker thread per process (bundler-worker.ts), started
 * on first use and let go when idle: the kernel's realm is locked down under SES, whose
 * ArrayBuffer shim breaks the wasm-based TypeScript stripper the bundler uses on Node 20
 * (array-buffer-detached.ts explains); the worker's realm is set up so that it does not.
 * It also keeps the kernel's thread free while a large vat bundles.
 *
 * Bundling a small vat costs about half a second (most of it walking and archiving the
 * Endo packages it imports), and tests and the CLI bundle the same vats again and again,
 * so results are cached in this process by absolute path and modification time. Only the
 * entry file's mtime is checked: an edit to a module it imports is not noticed until the
 * process restarts or `clearBundleCache()` is called.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { VatBundle } from '../../kernel/protocol/index.ts';
import type { BundleAnswer, BundleRequest } from './bundler-worker.ts';
import { workerEntry } from '../worker-entry/index.ts';

export type { VatBundle };

const cache = new Map<string, { mtimeMs: number; bundle: Promise<VatBundle> }>();

/**
 * Bundles the vat module at `path` (its `buildRootObject` export is the vat's entry).
 * A vat file that is not inside any npm package (no package.json above it, e.g. in /tmp)
 * is bundled as if it sat in a package depending on everything Cask depends on, so it can
 * import `@endo/far`, `@endo/exo`, `@endo/patterns`, `@agoric/store` and the rest.
 */
export async function bundleVatSource(path: string): Promise<VatBundle> {
  const absolute = resolve(path);
  const { mtimeMs } = await stat(absolute);
  const hit = cache.get(absolute);
  if (hit !== undefined && hit.mtimeMs === mtimeMs) return hit.bundle;
  const bundle = bundler().bundle(absolute);
  cache.set(absolute, { mtimeMs, bundle });
  // A failed bundle is not remembered: the next call tries again.
  bundle.catch(() => {
    if (cache.get(absolute)?.bundle === bundle) cache.delete(absolute);
  });
  return bundle;
}

/** Forgets every cached bundle. */
export function clearBundleCache(): void {
  cache.clear();
}

interface Bundler {
  bundle(path: string): Promise<VatBundle>;
}

let current: Bundler | undefined;

function bundler(): Bundler {
  current ??= startBundler();
  return current;
}

/**
 * The worker and the requests it owes an answer. It holds the process open only while it
 * owes one; if it dies, every waiting request fails with the reason and the next request
 * starts a new worker.
 */
function startBundler(): Bundler {
  const { url, entry } = workerEntry(import.meta.url, 'bundles/bundler-worker');
  const worker = new Worker(url, { workerData: { entry } });
  worker.unref();
  const waiting = new Map<
    number,
    { resolve: (bundle: VatBundle) => void; reject: (error: Error) => void }
  >();
  let nextId = 1;
  const self: Bundler = {
    bundle(path) {
      const id = nextId;
      nextId += 1;
      return new Promise<VatBundle>((resolve, reject) => {
        if (waiting.size === 0) worker.ref();
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, path } satisfies BundleRequest);
      });
    },
  };
  const settle = (id: number) => {
    const waiter = waiting.get(id);
    waiting.delete(id);
    if (waiting.size === 0) worker.unref();
    return waiter;
  };
  worker.on('message', (answer: BundleAnswer) => {
    const waiter = settle(answer.id);
    if (answer.ok) waiter?.resolve(answer.bundle);
    else waiter?.reject(Error(answer.error));
  });
  const died = (why: string) => {
    if (current === self) current = undefined;
    for (const id of [...waiting.keys()]) {
      settle(id)?.reject(Error(`the bundler worker stopped: ${why}`));
    }
  };
  worker.on('error', (error) => died(error.message));
  worker.on('exit', (code) => died(`it exited with code ${code}`));
  return self;
}
