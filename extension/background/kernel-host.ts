/**
 * The kernel of this extension, as the service worker hosts it: sql.js, the durable
 * crank log and checkpoints in IndexedDB, vats in the offscreen document. Booted once
 * per service-worker start: the first boot of a profile launches the default cluster,
 * every later one resumes from the store.
 */
import initSqlJs from 'sql.js/dist/sql-wasm-browser.js';
import {
  makeKernel,
  recoverStore,
  type CrankRecord,
  type Durability,
  type Kernel,
  type KernelStore,
  type RecoveryReport,
} from '../../kernel/index.ts';
import { openIndexedDbStorage, type IndexedDbStorage } from '../storage/index.ts';
import type { OffscreenVatLauncher } from './vat-launcher.ts';

/** The IndexedDB database holding the kernel's crank log and checkpoints. */
export const KERNEL_DATABASE = 'cask-kernel';

export interface KernelHost {
  kernel: Kernel;
  store: KernelStore;
  durability: Durability;
  storage: IndexedDbStorage;
  recovery: RecoveryReport;
  /** True if this boot found an empty store (first run of the profile). */
  isNew: boolean;
  /** When this boot began (ms since the epoch) and a random id for it. */
  bootedAt: number;
  bootId: string;
}

export interface KernelHostOptions {
  launcher: OffscreenVatLauncher;
  onCrank?: (record: CrankRecord) => void;
}

export async function bootKernelHost(options: KernelHostOptions): Promise<KernelHost> {
  const bootedAt = Date.now();
  const SQL = await initSqlJs({
    locateFile: () => chrome.runtime.getURL('sql-wasm.wasm'),
  });
  const storage = await openIndexedDbStorage(KERNEL_DATABASE);
  let recovered: Awaited<ReturnType<typeof recoverStore>>;
  try {
    recovered = await recoverStore(SQL, storage);
  } catch (error) {
    await storage.close();
    throw error;
  }
  const { store, durability, report } = recovered;
  const kernel = makeKernel({
    store,
    platform: { vats: options.launcher, now: () => performance.now() },
    commitLog: durability,
    ...(options.onCrank ? { onCrank: options.onCrank } : {}),
  });
  const isNew = kernel.state.listVats().length === 0;
  return {
    kernel,
    store,
    durability,
    storage,
    recovery: report,
    isNew,
    bootedAt,
    bootId: crypto.randomUUID(),
  };
}
