// Agoric SwingSet's host for bench/peers.ts (the protocol is in protocol.js), written
// from its public API: initializeSwingset + makeSwingsetController over a SQLite
// swing-store on disk (@agoric/swing-store's openSwingStore), vats of manager type
// 'local' (in this process) or, when asked, 'xsnap' (see bench/README.md, `peers`, for
// why local by default), the kernel's own vats cut to vatAdmin (no comms, vattp or
// timer: nothing here uses them).
//
// As a SwingSet host does, each request is one block: queue the message, run the
// kernel until its run queue is empty, then commit the swing-store.
import '@endo/init';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  buildKernelBundles,
  initializeSwingset,
  makeSwingsetController,
} from '@agoric/swingset-vat';
import { openSwingStore } from '@agoric/swing-store';
import { kslot } from '@agoric/kmarshal';
import { FILL_CHUNK, VALUE_BYTES, VATS, serve, servePingPong, tell } from './protocol.js';

const source = (file) => fileURLToPath(new URL(file, VATS));

// Building the kernel's own bundles takes about 20 s; they depend only on the installed
// version, so they are kept beside it (not measured: only a new store needs them).
const BUNDLES = new URL(
  'node_modules/.cache/swingset-kernel-bundles.json',
  import.meta.url,
);

async function kernelBundles() {
  if (existsSync(BUNDLES)) return JSON.parse(readFileSync(BUNDLES, 'utf8'));
  const bundles = await buildKernelBundles();
  mkdirSync(new URL('.', BUNDLES), { recursive: true });
  writeFileSync(BUNDLES, JSON.stringify(bundles));
  return bundles;
}

/**
 * Opens (and, given a config, first initializes) a kernel over DATADIR. Each vat's root
 * is pinned: with no bootstrap vat holding them, the kernel would otherwise drop a root
 * once no message to it is queued, and the vat's next message would find liveslots has
 * let it go ("I don't remember allocating o+0"; the first version of this host lost
 * the filler vat that way at 20k keys).
 */
async function start(dataDir, config) {
  const { kernelStorage, hostStorage } = openSwingStore(dataDir);
  if (config) {
    await initializeSwingset(config, [], kernelStorage, {
      addComms: false,
      addVattp: false,
      addTimer: false,
      kernelBundles: await kernelBundles(),
    });
  }
  const controller = await makeSwingsetController(kernelStorage, {});
  if (config) for (const name of Object.keys(config.vats)) controller.pinVatRoot(name);
  return { controller, hostStorage };
}

/** Sends `method(...args)` to the root of `target` (a vat name or a kref), runs the kernel to quiescence, commits. */
async function call({ controller, hostStorage }, target, method, args) {
  const kpid = target.startsWith('ko')
    ? controller.queueToVatObject(kslot(target), method, args, 'ignore')
    : controller.queueToVatRoot(target, method, args, 'ignore');
  await controller.run();
  await hostStorage.commit();
  const status = controller.kpStatus(kpid);
  const resolution = controller.kpResolution(kpid);
  if (status !== 'fulfilled') {
    throw new Error(`${method} was ${status}: ${JSON.stringify(resolution)}`);
  }
  return JSON.parse(resolution.body.replace(/^#/, ''));
}

function config(vats, reap, worker) {
  return {
    defaultManagerType: worker,
    defaultReapInterval:
      reap === 'default' ? undefined : reap === 'never' ? 'never' : Number(reap),
    vats,
  };
}

async function stop({ controller, hostStorage }) {
  await controller.shutdown();
  await hostStorage.close();
}

await serve({
  async pingpong([dataDir, writeBytes, reap, worker = 'local']) {
    const parameters = { writeBytes: Number(writeBytes) };
    const kernel = await start(
      dataDir,
      config(
        {
          pinger: { sourceSpec: source('pinger.js'), parameters },
          ponger: { sourceSpec: source('ponger.js'), parameters },
        },
        reap,
        worker,
      ),
    );
    await kernel.controller.run(); // start the vats
    await kernel.hostStorage.commit();
    const ponger = kslot(kernel.controller.pinVatRoot('ponger')); // its kref
    await call(kernel, 'pinger', 'run', [ponger, 200]); // warm-up
    await servePingPong((rounds) => call(kernel, 'pinger', 'run', [ponger, rounds]));
    await stop(kernel);
  },

  async fill([dataDir, keys, reap, worker = 'local']) {
    const kernel = await start(
      dataDir,
      config({ filler: { sourceSpec: source('filler.js') } }, reap, worker),
    );
    await kernel.controller.run();
    await kernel.hostStorage.commit();
    let size = 0;
    for (let from = 0; from < Number(keys); from += FILL_CHUNK) {
      const count = Math.min(FILL_CHUNK, Number(keys) - from);
      size = await call(kernel, 'filler', 'fill', [from, count, VALUE_BYTES]);
    }
    if (worker === 'xsnap') {
      // A heap snapshot now, so that a restart loads it instead of replaying the fill
      // (SwingSet's own policy would take the first only after a few more deliveries).
      await kernel.controller.snapshotAllVats();
      await kernel.hostStorage.commit();
    }
    await stop(kernel);
    await tell({ filled: size });
  },

  async resume([dataDir]) {
    const t0 = performance.now();
    const kernel = await start(dataDir);
    const keys = await call(kernel, 'filler', 'size', []);
    const answeredAtMs = performance.now();
    await tell({ answeredAtMs, keys, startMs: answeredAtMs - t0 });
    await stop(kernel);
  },
});
