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
import { capdataToJson } from '../../kernel/index.ts';
import {
  handleSurfaceRequest,
  isSurfaceRequest,
  type DefaultClusterReport,
  type SurfaceHooks,
} from '../surface/index.ts';
import { loadDefaultCluster, resolveCluster } from './clusters.ts';
import { bootKernelHost, type KernelHost } from './kernel-host.ts';
import { keepAliveWhileBusy } from './keep-alive.ts';
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
    onCrank: () => keepAlive.busy(host.kernel),
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

const booted = boot();
booted.catch((error: unknown) =>
  console.error('Cask: the kernel failed to boot:', error),
);

const hooks: SurfaceHooks = {
  host: () => booted,
  resolveCluster,
  async defaultCluster() {
    await savingDefaultCluster;
    const stored = await browser.storage.local.get(DEFAULT_CLUSTER_KEY);
    return stored[DEFAULT_CLUSTER_KEY] as DefaultClusterReport | undefined;
  },
};

// The `message` event of the worker's global (ServiceWorkerGlobalScope).
addEventListener('message', (event: MessageEvent) => {
  launcher.acceptHello(event);
});

browser.runtime.onMessage.addListener(
  (message: unknown, sender: Runtime.MessageSender) => {
    if (!isSurfaceRequest(message) || sender.id !== browser.runtime.id) return undefined;
    return handleSurfaceRequest(message, hooks);
  },
);
