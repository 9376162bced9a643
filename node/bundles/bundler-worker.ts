/**
 * The bundler's worker thread: @endo/bundle-source in a realm of its own, so that its
 * TypeScript stripper's wasm memory is not under the kernel realm's SES shims.
 *
 * The truthful `ArrayBuffer.prototype.detached` must be installed before `ses` loads (it
 * captures the native accessor when it is evaluated), hence the import order below.
 * No lockdown: this realm runs no vat code, only the bundler, which needs SES's globals
 * (`assert`, `harden`) and nothing else.
 */
import './array-buffer-detached.ts';
import 'ses';
import { parentPort } from 'node:worker_threads';
import { makeBundle } from './bundler.ts';

export interface BundleRequest {
  id: number;
  path: string;
}

export type BundleAnswer =
  | { id: number; ok: true; bundle: Awaited<ReturnType<typeof makeBundle>> }
  | { id: number; ok: false; error: string };

if (parentPort === null) throw Error('bundler-worker.ts runs only as a worker thread');
const port = parentPort;
port.on('message', (request: BundleRequest) => {
  makeBundle(request.path).then(
    (bundle) => port.postMessage({ id: request.id, ok: true, bundle }),
    (error: unknown) =>
      port.postMessage({
        id: request.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      }),
  );
});
