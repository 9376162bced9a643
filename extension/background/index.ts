/**
 * The background service worker: hosts the kernel. Chrome starts it on install, on
 * browser start and whenever a message arrives for it, and stops it when idle (about
 * 30 s) or whenever it likes. Each start boots the kernel from IndexedDB: the profile's
 * first boot launches the default cluster, every later one resumes where the last
 * durable crank left off and relaunches the vats.
 *
 * Listeners are registered synchronously at the top level, as Chrome requires for a
 * worker to be woken by the events they listen to.
 */
import browser, { type Runtime } from 'webextension-polyfill';
import {
  capdataToJson,
  checkStateFile,
  exportStateFile,
  installStateImage,
  prepareRestore,
  type RestoreOutcome,
} from '../../kernel/index.ts';
import { openIndexedDbStorage } from '../storage/index.ts';
import {
  EVENTS_PORT,
  handleSurfaceRequest,
  isSurfaceRequest,
  type DefaultClusterReport,
  type SurfaceHooks,
} from '../surface/index.ts';
import { TIMER_ALARM } from './alarm-clock.ts';
import {
  loadDefaultCluster,
  readVatCode,
  resolveCluster,
  shippedBundles,
} from './clusters.ts';
import { forkStateFile, label, readHistory, unlabel } from './history.ts';
import { Inspector } from './inspector.ts';
import { KERNEL_DATABASE, bootKernelHost, type KernelHost } from './kernel-host.ts';
import { keepAliveWhileBusy } from './keep-alive.ts';
import {
  EXPORT,
  FORK,
  MAX_IMPORT_BYTES,
  asTransferRequest,
  type TransferRequest,
} from './state-transfer.ts';
import { makeOffscreenVatLauncher } from './vat-launcher.ts';

/** chrome.storage.local key: what became of the default cluster's bootstrap. */
const DEFAULT_CLUSTER_KEY = 'cask.defaultCluster';

const launcher = makeOffscreenVatLauncher();
const keepAlive = keepAliveWhileBusy();

/** The latest save of the default cluster's report; reads wait for it. */
let savingDefaultCluster: Promise<void> = Promise.resolve();

function saveDefaultCluster(report: DefaultClusterReport): Promise<void> {
  savingDefaultCluster = savingDefaultCluster.then(() =>
    browser.storage.local.set({ [DEFAULT_CLUSTER_KEY]: report }),
  );
  return savingDefaultCluster;
}

async function boot(): Promise<KernelHost> {
  const host = await bootKernelHost({
    launcher,
    onCrank: (record, booted) => {
      inspector.recordCrank(record, booted.recentStoreBytes());
      keepAlive.busy(booted.kernel);
    },
    onDurable: () => inspector.statusChanged(),
    onVatLog: (entry) => inspector.recordVatLog(entry),
  });
  if (host.isNew) {
    await saveDefaultCluster({ state: 'launching' });
    const { result } = await host.kernel.launchCluster(await loadDefaultCluster());
    // Saved as the result is released, before the kernel can be idle: a reader that
    // waited on whenIdle then sees it.
    void result.then((settlement) =>
      saveDefaultCluster({
        state: settlement.rejected ? 'rejected' : 'fulfilled',
        result: capdataToJson(settlement.data),
      }),
    );
  } else {
    await host.kernel.resume();
  }
  keepAlive.busy(host.kernel);
  return host;
}

/** The kernel of this worker: booting, booted, or (after an import) booting again. */
let current: Promise<KernelHost> = boot();
current.catch((error: unknown) =>
  console.error('Cask: the kernel failed to boot:', error),
);

/**
 * Stops the kernel of this worker (it runs nothing more; what committed is made durable
 * where storage still allows) and boots it again from storage: after a storage failure
 * stopped the kernel, it resumes at the last durable crank once the fault is gone.
 */
function reboot(): Promise<KernelHost> {
  const previous = current;
  const next = (async () => {
    const host = await previous.catch(() => undefined);
    if (host) {
      await host.kernel.shutdown().catch(() => undefined);
      await host.durability.close().catch(() => undefined);
    }
    inspector.reset();
    return boot();
  })();
  current = next;
  return next;
}

/**
 * Restores the kernel to the state after `crank` (docs/history.md): built off to the
 * side while the kernel runs on (a refusal here changes nothing), then the kernel stops,
 * the built state is installed as a new commit, and the kernel boots from storage —
 * the old state or the new one, whichever storage holds if the install failed part way.
 */
let restoring: Promise<unknown> = Promise.resolve();

/** One restore at a time: a second starts from the kernel the first leaves. */
function restoreTo(crank: number): Promise<RestoreOutcome & { bootId: string }> {
  const run = restoring.then(() => restoreNow(crank));
  restoring = run.catch(() => undefined);
  return run;
}

async function restoreNow(crank: number): Promise<RestoreOutcome & { bootId: string }> {
  const booted = current;
  const host = await booted;
  const prepared = await prepareRestore(
    {
      SQL: host.SQL,
      storage: host.storage,
      durability: host.durability,
      store: host.store,
      kernel: host.kernel,
    },
    crank,
  );
  if (current !== booted) {
    prepared.discard();
    throw new Error(
      'restore refused: the kernel restarted while the restore was being prepared; nothing was changed, try again',
    );
  }
  let outcome: RestoreOutcome | undefined;
  let failure: unknown;
  // Said in the worker's console, for a person watching it (and e2e's kill points).
  console.info(`Cask: restore to crank ${crank}: state built; installing`);
  const replaced = (async () => {
    try {
      outcome = await prepared.install();
      console.info(
        `Cask: restore to crank ${crank}: installed as crank ${outcome.restoreCrank}; booting`,
      );
    } catch (error) {
      failure = error;
    }
    await host.durability.close().catch(() => undefined);
    host.store.close();
    inspector.reset();
    return boot();
  })();
  current = replaced;
  const next = await replaced;
  if (failure !== undefined || !outcome) throw failure;
  return { ...outcome, bootId: next.bootId };
}

const hooks: SurfaceHooks = {
  host: () => current,
  restartKernel: reboot,
  history: {
    read: async (read) => readHistory(await current, read),
    label: async (crank, name) => label(await current, crank, name),
    unlabel: async (name) => unlabel(await current, name),
    restore: restoreTo,
  },
  resolveCluster,
  readBundle: readVatCode,
  shippedBundles,
  async defaultCluster() {
    await savingDefaultCluster;
    const stored = await browser.storage.local.get(DEFAULT_CLUSTER_KEY);
    return stored[DEFAULT_CLUSTER_KEY] as DefaultClusterReport | undefined;
  },
  inspector: () => inspector,
};

const inspector = new Inspector(async () => {
  const answer = await handleSurfaceRequest({ method: 'status' }, hooks);
  return answer.ok ? answer.result : undefined;
});

/**
 * Replaces the kernel's whole state with a state file. The file is checked through
 * before anything is touched; then the kernel stops (vats and pending writes), the
 * file's database becomes the only checkpoint, and the kernel boots from it.
 */
async function importState(bytes: Uint8Array): Promise<{ vats: number; crank: number }> {
  if (bytes.length > MAX_IMPORT_BYTES) {
    throw new Error(
      `import refused: ${bytes.length} bytes, over the limit of ${MAX_IMPORT_BYTES}`,
    );
  }
  if (bytes.length === 0) throw new Error('import refused: the file is empty');
  const host = await current;
  const checked = checkStateFile(host.SQL, bytes);
  let failure: unknown;
  const replaced = (async () => {
    await host.kernel.shutdown();
    const seq = host.durability.stats().lastSeq + 1;
    await host.durability.close();
    try {
      const storage = await openIndexedDbStorage(KERNEL_DATABASE);
      try {
        await installStateImage(storage, checked.image, seq);
      } finally {
        await storage.close();
      }
    } catch (error) {
      // The kernel comes back on whichever state is whole in storage (see
      // installStateImage); the caller hears why the import failed.
      failure = error;
    }
    inspector.reset();
    return boot();
  })();
  current = replaced;
  await replaced;
  if (failure !== undefined) throw failure;
  return { vats: checked.vats, crank: checked.crank };
}

async function transfer(request: TransferRequest): Promise<Record<string, unknown>> {
  if (request.type === EXPORT) {
    const host = await current;
    const bytes = await host.kernel.exportImage((store) =>
      exportStateFile(store, host.durability.stats().lastSeq),
    );
    const stamp = new Date().toISOString().replace(/[:.]/gu, '-');
    return { bytes, fileName: `cask-state-${stamp}.cask` };
  }
  if (request.type === FORK) {
    const asked = request.crank;
    if (typeof asked !== 'number' || !Number.isSafeInteger(asked) || asked < 0) {
      throw new Error(
        `fork refused: crank must be a whole number ≥ 0, not ${JSON.stringify(asked) ?? String(asked)}`,
      );
    }
    const { bytes, crank, seq } = await forkStateFile(await current, asked);
    return { bytes, crank, seq, fileName: `cask-fork-crank-${crank}.cask` };
  }
  return importState(request.bytes);
}

// The `message` event of the worker's global (ServiceWorkerGlobalScope): the offscreen
// document's hello, and state transfers from extension pages.
addEventListener('message', (event: MessageEvent) => {
  if (launcher.acceptHello(event)) return;
  const request = asTransferRequest(event.data);
  const reply = event.ports[0];
  if (!request || !reply) return;
  transfer(request).then(
    (result) => reply.postMessage({ ok: true, ...result }),
    (error: unknown) =>
      reply.postMessage({
        ok: false,
        error: error instanceof Error ? `${error.message}` : String(error),
      }),
  );
});

browser.runtime.onMessage.addListener(
  (message: unknown, sender: Runtime.MessageSender) => {
    if (!isSurfaceRequest(message) || sender.id !== browser.runtime.id) return undefined;
    // A request may change the status without a crank (a pause, a queued message).
    return handleSurfaceRequest(message, hooks).finally(() => inspector.statusChanged());
  },
);

// A timer came due (the alarm is set by ./alarm-clock.ts). Starting the worker booted the
// kernel, which fires what is due; a running kernel is nudged to look now.
chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name !== TIMER_ALARM) return;
  void current
    .then((host) => {
      keepAlive.busy(host.kernel);
      return host.kernel.whenIdle();
    })
    .catch(() => undefined);
});

browser.runtime.onConnect.addListener((port) => {
  if (port.sender?.id !== browser.runtime.id) return;
  // The offscreen document's, watched for its disconnect (the document gone).
  if (launcher.acceptHostPort(port)) return;
  if (port.name === EVENTS_PORT) inspector.attach(port);
});
