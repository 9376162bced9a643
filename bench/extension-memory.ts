/**
 * Memory per stored byte in the extension: a vat whose durable MapStore holds 10k / 100k
 * entries (100-byte values) in the built extension, in Debian's Chromium (headless). The
 * service worker is stopped and the vat answers once, so its worker started from the
 * store as after any restart; then, after a forced GC in each, the service worker's and
 * the vat worker's JS heaps (`Runtime.getHeapUsage`: used, and what array buffers hold —
 * sql.js's wasm heap is one) are read over the DevTools protocol. Prints a table and one
 * JSON line. Needs `npm run build`; bench/run.js runs it from source, without lockdown.
 *
 *   npm run bench -- extension-memory [--sizes 10000,100000]
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { bundleForExtension } from './fixtures.ts';
import { option, repoPath } from './stats.ts';

const sizes = option('--sizes', '10000,100000').split(',').map(Number);

if (!existsSync(repoPath('dist/manifest.json'))) {
  process.stderr.write(
    'extension-memory needs the built extension: dist/manifest.json is missing; run `npm run build` first\n',
  );
  process.exit(1);
}

interface Session {
  call(method: string, params?: object): Promise<Record<string, unknown>>;
  detach(): Promise<void>;
}
interface CaskDriver {
  ask<R = unknown>(method: string, params?: unknown): Promise<R>;
  stopServiceWorker(): Promise<void>;
  vatTarget(vatId: string, which: 'worker'): Promise<Session>;
  serviceWorkerTarget(): Promise<Session>;
  dispose(): Promise<void>;
}
// Loaded at run time, as bench/extension-ping-pong.ts does (see there).
const { Cask } = (await import(pathToFileURL(repoPath('e2e/harness.ts')).href)) as {
  Cask: { launch(): Promise<CaskDriver> };
};

function fillerBundle(): unknown {
  return bundleForExtension([repoPath('bench/vats/filler.js')]).filler;
}

interface Heap {
  usedSize: number;
  backingStorageSize?: number;
}

async function heapOf(session: Session): Promise<Heap> {
  await session.call('HeapProfiler.collectGarbage');
  return (await session.call('Runtime.getHeapUsage')) as unknown as Heap;
}

async function measure(bundle: unknown, n: number) {
  const cask = await Cask.launch();
  try {
    await cask.ask('whenIdle');
    await cask.ask('launchCluster', {
      config: { bootstrap: 'filler', vats: { filler: { bundle, parameters: {} } } },
    });
    await cask.ask('whenIdle');
    const send = (method: string, args: unknown[]) =>
      cask.ask('send', { target: { vat: 'filler' }, method, args });
    for (let from = 0; from < n; from += 10_000) {
      await send('fill', [from, Math.min(10_000, n - from), 100]);
    }
    // A restart: the vat's worker starts from the store at its next delivery.
    await cask.stopServiceWorker();
    await send('size', []);
    await cask.ask('whenIdle');
    const vats =
      await cask.ask<
        Array<{ vatId: string; name: string; vatstore: { keys: number; bytes: number } }>
      >('listVats');
    const filler = vats.find((v) => v.name === 'filler');
    if (!filler) throw new Error('no filler vat');
    const status = await cask.ask<{ storeBytes: number }>('status');
    const sw = await cask.serviceWorkerTarget();
    const vat = await cask.vatTarget(filler.vatId, 'worker');
    try {
      return {
        n,
        keys: filler.vatstore.keys,
        storedBytes: filler.vatstore.bytes,
        storeBytes: status.storeBytes,
        kernel: await heapOf(sw),
        vat: await heapOf(vat),
      };
    } finally {
      await vat.detach();
      await sw.detach();
    }
  } finally {
    await cask.dispose();
  }
}

const bundle = fillerBundle();
const rows = [];
for (const n of sizes) rows.push(await measure(bundle, n));
const mb = (bytes = 0) => (bytes / 1e6).toFixed(1).padStart(7);
const per = (bytes: number, stored: number) => (bytes / stored).toFixed(1).padStart(6);
console.log(
  'memory of a resumed kernel and its vat (extension), after a forced GC in each',
);
console.log(
  'entries   keys     stored MB   kernel heap MB  ×   kernel buffers MB  ×   vat heap MB  ×',
);
for (const r of rows) {
  const buffers = r.kernel.backingStorageSize ?? 0;
  console.log(
    `${String(r.n).padEnd(9)} ${String(r.keys).padEnd(8)} ${mb(r.storedBytes)}   ${mb(r.kernel.usedSize)} ${per(r.kernel.usedSize, r.storedBytes)}   ${mb(buffers)} ${per(buffers, r.storedBytes)}   ${mb(r.vat.usedSize)} ${per(r.vat.usedSize, r.storedBytes)}`,
  );
}
console.log(JSON.stringify({ bench: 'extension-memory', host: 'extension', rows }));
