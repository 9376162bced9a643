/**
 * The kernel of this extension, as the service worker hosts it: sql.js, the durable
 * crank log and checkpoints in IndexedDB, vats in the offscreen document. Booted once
 * per service-worker start: the first boot of a profile launches the default cluster,
 * every later one resumes from the store.
 */
import type { SqlJsStatic } from 'sql.js';
import initSqlJs from 'sql.js/dist/sql-wasm-browser.js';
import {
  makeKernel,
  recoverStore,
  type CrankRecord,
  type Durability,
  type Kernel,
  type KernelStore,
  type RecoveryReport,
  type VatLogEntry,
} from '../../kernel/index.ts';
import { openIndexedDbStorage, type IndexedDbStorage } from '../storage/index.ts';
import { makeAlarmClock } from './alarm-clock.ts';
import type { OffscreenVatLauncher } from './vat-launcher.ts';
import { makeWatchdogTimer } from './watchdog-timer.ts';

/** The IndexedDB database holding the kernel's crank log and checkpoints. */
export const KERNEL_DATABASE = 'cask-kernel';

/**
 * A log append starts at least this long after the previous one (extension/storage):
 * each strict IndexedDB transaction costs about 1 ms of CPU in the browser and this
 * worker whatever it holds, and while cranks stream this lets one record hold about
 * eight of them. A result waits at most one pace more than it did.
 */
export const LOG_APPEND_PACE_MS = 10;

export interface KernelHost {
  kernel: Kernel;
  store: KernelStore;
  durability: Durability;
  storage: IndexedDbStorage;
  recovery: RecoveryReport;
  /** True if this boot found no kernel in storage (first run of the profile). */
  isNew: boolean;
  /** When this boot began (ms since the epoch) and a random id for it. */
  bootedAt: number;
  bootId: string;
  SQL: SqlJsStatic;
  /** The newest checkpoint this boot wrote (seq, and when it started). */
  lastCheckpoint: { seq: number; at: number } | null;
  /** The database's size, in bytes (SQLite pages). */
  storeBytes(): number;
  /**
   * The same, measured at most every STORE_BYTES_EVERY_MS (a crank's note for the
   * inspector): two sql.js statements per crank were a share of a small crank worth
   * saving.
   */
  recentStoreBytes(): number;
}

/** How old a crank's note of the store's size may be. */
const STORE_BYTES_EVERY_MS = 100;

export interface KernelHostOptions {
  launcher: OffscreenVatLauncher;
  onCrank?: (record: CrankRecord, host: KernelHost) => void;
  /** Called when the durable crank advances. */
  onDurable?: () => void;
  /** A line a vat logged (vatPowers.logger, testLog). */
  onVatLog?: (entry: VatLogEntry) => void;
}

export async function bootKernelHost(options: KernelHostOptions): Promise<KernelHost> {
  const bootedAt = Date.now();
  const SQL = await initSqlJs({
    locateFile: () => chrome.runtime.getURL('sql-wasm.wasm'),
  });
  const storage = await openIndexedDbStorage(KERNEL_DATABASE, {
    appendPaceMs: LOG_APPEND_PACE_MS,
  });
  let lastCheckpoint: KernelHost['lastCheckpoint'] = null;
  let recovered: Awaited<ReturnType<typeof recoverStore>>;
  try {
    recovered = await recoverStore(SQL, storage, {
      onCheckpoint: (seq) => {
        lastCheckpoint = { seq, at: Date.now() };
      },
    });
  } catch (error) {
    await storage.close();
    throw error;
  }
  const { store, durability, report } = recovered;
  if (report.tornTail?.cut) {
    const t = report.tornTail;
    console.warn(
      `Cask: cut ${t.bytes} bytes of a torn write (${t.why}) from the end of log segment ${t.segment} at byte ${t.offset}; they are kept in ${t.cut?.location ?? 'the cutTails store'}`,
    );
  }
  const storeBytes = () => store.databaseBytes();
  let sampled = { at: -Infinity, bytes: 0 };
  const recentStoreBytes = () => {
    const now = performance.now();
    if (now - sampled.at >= STORE_BYTES_EVERY_MS)
      sampled = { at: now, bytes: storeBytes() };
    return sampled.bytes;
  };
  const { onCrank } = options;
  const kernel = makeKernel({
    store,
    platform: {
      vats: options.launcher,
      now: () => performance.now(),
      // The watchdog's deadlines, without a setTimeout per delivery.
      setTimer: makeWatchdogTimer(),
      // Timers wake a stopped worker through chrome.alarms.
      clock: makeAlarmClock(),
    },
    commitLog: durability,
    ...(onCrank ? { onCrank: (record: CrankRecord) => onCrank(record, host) } : {}),
    ...(options.onDurable ? { onDurable: options.onDurable } : {}),
    ...(options.onVatLog ? { onVatLog: options.onVatLog } : {}),
    // A debug build (CASK_CHECK_STATE=1 npm run build) checks every crank's state.
    ...(__CASK_CHECK_STATE__ ? { checkState: true } : {}),
  });
  kernel.captureDeltas = true;
  const host: KernelHost = {
    kernel,
    store,
    durability,
    storage,
    recovery: report,
    isNew: report.fresh,
    bootedAt,
    bootId: crypto.randomUUID(),
    SQL,
    get lastCheckpoint() {
      return lastCheckpoint;
    },
    storeBytes,
    recentStoreBytes,
  };
  return host;
}
