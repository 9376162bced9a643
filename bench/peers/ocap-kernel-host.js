// MetaMask ocap-kernel's host for bench/peers.ts (the protocol is in protocol.js),
// written from its public API, since the Node runtime of its repository is not
// published on npm: Kernel.make over @metamask/kernel-store's SQLite database on disk
// (better-sqlite3), with a VatWorkerService that starts each vat in a worker thread
// (ocap-kernel-vat-worker.js) and talks to it over @metamask/streams'
// NodeWorkerDuplexStream, as ocap-kernel's own Node package does.
//
// Bundles: ocap-kernel 0.5.0's VatSupervisor takes a `bundleSpec` URL and loads it with
// @endo/import-bundle, so the vats are bundled with @endo/bundle-source (endoZipBase64,
// the same format Cask and SwingSet use) into DATADIR. The kernel answers a
// queueMessage once the message's result is resolved.
import '@metamask/kernel-shims/endoify';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import bundleSource from '@endo/bundle-source';
import { makeSQLKernelDatabase } from '@metamask/kernel-store/sqlite/nodejs';
import { Logger } from '@metamask/logger';
import { Kernel, kslot, kunser } from '@metamask/ocap-kernel';
import { NodeWorkerDuplexStream } from '@metamask/streams';
import { FILL_CHUNK, VALUE_BYTES, VATS, serve, servePingPong, tell } from './protocol.js';

// ocap-kernel 0.5.0's kernel calls console.debug for every message it queues and every
// promise and object it makes (KernelQueue.mjs, store/methods/promise.mjs, object.mjs);
// printing them would measure the terminal, so the host silences console.debug.
globalThis.console = { ...console, debug: () => {} };

const WORKER = new URL('ocap-kernel-vat-worker.js', import.meta.url);

function makeVatWorkerService() {
  const workers = new Map();
  return {
    async launch(vatId) {
      const worker = new Worker(WORKER, { workerData: { vatId } });
      workers.set(vatId, worker);
      return NodeWorkerDuplexStream.make(worker);
    },
    async terminate(vatId) {
      await workers.get(vatId)?.terminate();
      workers.delete(vatId);
    },
    async terminateAll() {
      await Promise.all([...workers.keys()].map((vatId) => this.terminate(vatId)));
    },
  };
}

// Nothing drives this kernel over its command stream; it is there because Kernel.make
// takes one. It never yields a message and swallows what is written to it.
const idleCommandStream = {
  drain: () => new Promise(() => {}),
  write: async () => ({ done: false, value: undefined }),
};

async function start(dataDir) {
  // makeSQLKernelDatabase puts its file under tmpdir()/ocap-sqlite/; a relative name
  // puts it in DATADIR instead.
  const dbFilename = relative(
    join(tmpdir(), 'ocap-sqlite'),
    join(dataDir, 'kernel.sqlite'),
  );
  const database = await makeSQLKernelDatabase({ dbFilename });
  const service = makeVatWorkerService();
  const logger = new Logger({ tags: ['ocap-kernel'], transports: [] });
  const kernel = await Kernel.make(idleCommandStream, service, database, { logger });
  return { kernel, service };
}

async function bundle(dataDir, file) {
  const path = join(dataDir, `${file}.bundle.json`);
  const source = new URL(file, VATS).pathname;
  await writeFile(path, JSON.stringify(await bundleSource(source)));
  return pathToFileURL(path).href;
}

/** Launches a cluster whose bootstrap vat has no bootstrap method, as Cask's benches do. */
async function launch(kernel, config) {
  try {
    await kernel.launchSubcluster(config);
  } catch (error) {
    // launchSubcluster throws the bootstrap's rejection once every vat is up.
    if (!/bootstrap/.test(String(error))) throw error;
  }
  const [subcluster] = kernel.getSubclusters();
  const roots = {};
  Object.keys(config.vats).forEach((name, i) => {
    roots[name] = kernel.pinVatRoot(subcluster.vats[i]);
  });
  return roots;
}

async function call(kernel, target, method, args) {
  const value = kunser(await kernel.queueMessage(target, method, args));
  if (value instanceof Error) throw value;
  return value;
}

/**
 * Stops the vats, keeping the store. ocap-kernel resolves a queueMessage inside the
 * crank that settles it, before that crank's savepoint is released and committed, so
 * the host first waits for the crank to end (getStatus does): without it the last
 * fill is lost.
 */
async function stop({ kernel, service }) {
  await kernel.getStatus();
  await service.terminateAll();
}

await serve({
  async pingpong([dataDir, writeBytes]) {
    const parameters = { writeBytes: Number(writeBytes) };
    const host = await start(dataDir);
    const { pinger, ponger } = await launch(host.kernel, {
      bootstrap: 'pinger',
      vats: {
        pinger: { bundleSpec: await bundle(dataDir, 'pinger.js'), parameters },
        ponger: { bundleSpec: await bundle(dataDir, 'ponger.js'), parameters },
      },
    });
    const pongerSlot = kslot(ponger, 'Ponger');
    await call(host.kernel, pinger, 'run', [pongerSlot, 200]); // warm-up
    await servePingPong((rounds) =>
      call(host.kernel, pinger, 'run', [pongerSlot, rounds]),
    );
    await stop(host);
  },

  async fill([dataDir, keys]) {
    const host = await start(dataDir);
    const { filler } = await launch(host.kernel, {
      bootstrap: 'filler',
      vats: { filler: { bundleSpec: await bundle(dataDir, 'filler.js') } },
    });
    let size = 0;
    for (let from = 0; from < Number(keys); from += FILL_CHUNK) {
      const count = Math.min(FILL_CHUNK, Number(keys) - from);
      size = await call(host.kernel, filler, 'fill', [from, count, VALUE_BYTES]);
    }
    await stop(host);
    await tell({ filled: size });
  },

  async resume([dataDir]) {
    const t0 = performance.now();
    const host = await start(dataDir);
    const [subcluster] = host.kernel.getSubclusters();
    const filler = host.kernel.pinVatRoot(subcluster.vats[0]);
    const keys = await call(host.kernel, filler, 'size', []);
    const answeredAtMs = performance.now();
    await tell({ answeredAtMs, keys, startMs: answeredAtMs - t0 });
    await stop(host);
  },
});
