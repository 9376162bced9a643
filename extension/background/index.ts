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
import browser from 'webextension-polyfill';
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

declare const self: ServiceWorkerGlobalScope;

/** chrome.storage.local key: what became of the default cluster's bootstrap. */
const DEFAULT_CLUSTER_KEY = 'cask.defaultCluster';

const launcher = makeOffscreenVatLauncher();
const keepAlive = keepAliveWhileBusy();

async function saveDefaultCluster(report: DefaultClusterReport): Promise<void> {
  await browser.storage.local.set({ [DEFAULT_CLUSTER_KEY]: report });
}

async function boot(): Promise<KernelHost> {
  const host = await bootKernelHost({ launcher, onCrank: () => keepAlive.busy(host.kernel) });
  if (host.isNew) {
    await saveDefaultCluster({ state: 'launching' });
    const { result } = await host.kernel.launchCluster(await loadDefaultCluster());
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
booted.catch((error: unknown) => console.error('Cask: the kernel failed to boot:', error));

const hooks: SurfaceHooks = {
  host: () => booted,
  resolveCluster,
  async defaultCluster() {
    const stored = await browser.storage.local.get(DEFAULT_CLUSTER_KEY);
    return stored[DEFAULT_CLUSTER_KEY] as DefaultClusterReport | undefined;
  },
};

self.addEventListener('message', (event) => {
  launcher.acceptHello(event);
});

browser.runtime.onMessage.addListener((message: unknown, sender) => {
  if (!isSurfaceRequest(message) || sender.id !== browser.runtime.id) return undefined;
  return handleSurfaceRequest(message, hooks);
});
