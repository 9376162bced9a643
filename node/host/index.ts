/**
 * The Node host: a kernel with its store in sql.js and each vat in a worker thread; with
 * a data directory, the store is durable (crank log and checkpoints in files) and a
 * kernel found there is recovered. `readNodeStore` opens a data directory only to read
 * it (cask inspect): no kernel, no crank, no byte changed.
 */
import initSqlJs from 'sql.js';
import {
  KernelState,
  KernelStore,
  makeKernel,
  readStore,
  recoverStore,
  type Durability,
  type DurabilityOptions,
  type Kernel,
  type KernelClock,
  type KernelOptions,
  type RecoveryReport,
  type VatLauncher,
  type VatLogEntry,
} from '../../kernel/index.ts';
import {
  openFileStorage,
  type FileStorage,
  type FileSystem,
} from '../file-storage/index.ts';
import { makeNodeVatLauncher } from '../vat-worker/index.ts';

export interface NodeKernel {
  kernel: Kernel;
  store: KernelStore;
  /** Present with a data directory. */
  durability?: Durability;
  storage?: FileStorage;
  recovery?: RecoveryReport;
  /** True if there was no kernel yet: a new data directory, or in memory. */
  isNew: boolean;
  /**
   * Stops the kernel (running nothing more), makes its commits durable, closes all. A
   * second call waits for the first.
   */
  close(): Promise<void>;
}

export interface NodeKernelOptions {
  /** Keep the kernel's state here, durably. Without it the kernel runs in memory. */
  dataDir?: string;
  /** The file system the data directory is reached through (tests inject faults). */
  fileSystem?: FileSystem;
  durability?: DurabilityOptions;
  launcher?: VatLauncher;
  onCrank?: KernelOptions['onCrank'];
  onCommit?: KernelOptions['onCommit'];
  onStop?: KernelOptions['onStop'];
  /**
   * Where vats' log lines go (vatPowers.logger, testLog). Default: one line each on
   * stderr (formatVatLog); stdout belongs to the host (the CLI prints results there).
   */
  onVatLog?: (entry: VatLogEntry) => void;
  reapInterval?: number;
  deliveryTimeoutMs?: number;
  maxHostRestarts?: number;
  /** Kernel services this host offers besides the kernel's own (KernelOptions.services). */
  services?: KernelOptions['services'];
  /** KernelOptions.maxPinsPerCaller. */
  maxPinsPerCaller?: number;
  /** KernelOptions.maxTimersPerVat. */
  maxTimersPerVat?: number;
  /** The timer service's wall clock; the real one (Date.now, setTimeout) by default. */
  clock?: KernelClock;
}

/**
 * One vat log line as the Node host prints it: the vat's name, the level (`test` for
 * SwingSet's testLog), the tags, the text; a line break in the text is kept, indented.
 *
 *   [alice] info [ocap-kernel-vat, fetcher]: got 3 results
 *   [bob] test: counter is 2
 */
export function formatVatLog({ vatName, level, tags, text }: VatLogEntry): string {
  const tagText = tags.length > 0 ? ` [${tags.join(', ')}]` : '';
  return `[${vatName}] ${level}${tagText}: ${text.replaceAll('\n', '\n    ')}`;
}

function printVatLog(entry: VatLogEntry): void {
  process.stderr.write(`${formatVatLog(entry)}\n`);
}

export async function makeNodeKernel(
  options: NodeKernelOptions = {},
): Promise<NodeKernel> {
  const SQL = await initSqlJs();
  let store: KernelStore;
  let durability: Durability | undefined;
  let storage: FileStorage | undefined;
  let recovery: RecoveryReport | undefined;
  if (options.dataDir !== undefined) {
    storage = await openFileStorage(
      options.dataDir,
      options.fileSystem ? { fs: options.fileSystem } : {},
    );
    try {
      ({
        store,
        durability,
        report: recovery,
      } = await recoverStore(SQL, storage, options.durability));
    } catch (error) {
      await storage.close();
      throw error;
    }
  } else {
    store = KernelStore.open(SQL);
  }
  const kernel = makeKernel({
    store,
    platform: {
      vats: options.launcher ?? makeNodeVatLauncher(),
      now: () => performance.now(),
      ...(options.clock ? { clock: options.clock } : {}),
    },
    ...(durability ? { commitLog: durability } : {}),
    ...(options.onCrank ? { onCrank: options.onCrank } : {}),
    ...(options.onCommit ? { onCommit: options.onCommit } : {}),
    ...(options.onStop ? { onStop: options.onStop } : {}),
    onVatLog: options.onVatLog ?? printVatLog,
    ...(options.reapInterval ? { reapInterval: options.reapInterval } : {}),
    ...(options.deliveryTimeoutMs
      ? { deliveryTimeoutMs: options.deliveryTimeoutMs }
      : {}),
    ...(options.maxHostRestarts ? { maxHostRestarts: options.maxHostRestarts } : {}),
    ...(options.maxPinsPerCaller ? { maxPinsPerCaller: options.maxPinsPerCaller } : {}),
    ...(options.maxTimersPerVat ? { maxTimersPerVat: options.maxTimersPerVat } : {}),
    ...(options.services ? { services: options.services } : {}),
  });
  let closing: Promise<void> | undefined;
  return {
    kernel,
    store,
    ...(durability ? { durability } : {}),
    ...(storage ? { storage } : {}),
    ...(recovery ? { recovery } : {}),
    isNew: recovery ? recovery.fresh : true,
    close() {
      closing ??= (async () => {
        await kernel.shutdown();
        await durability?.close();
        await storage?.close();
        store.close();
      })();
      return closing;
    },
  };
}

export interface NodeStoreReading {
  state: KernelState;
  store: KernelStore;
  storage: FileStorage;
  report: RecoveryReport;
  close(): Promise<void>;
}

/** Opens a data directory read-only and reads its kernel state as recovery would. */
export async function readNodeStore(dataDir: string): Promise<NodeStoreReading> {
  const SQL = await initSqlJs();
  const storage = await openFileStorage(dataDir, { readOnly: true });
  try {
    const { store, report } = await readStore(SQL, storage);
    return {
      state: new KernelState(store),
      store,
      storage,
      report,
      async close() {
        store.close();
        await storage.close();
      },
    };
  } catch (error) {
    await storage.close();
    throw error;
  }
}
