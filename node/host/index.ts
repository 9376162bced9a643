/**
 * The Node host: a kernel with its store in sql.js and each vat in a worker thread; with
 * a data directory, the store is durable (crank log and checkpoints in files) and a
 * kernel found there is recovered. `readNodeStore` opens a data directory only to read
 * it (cask inspect): no kernel, no crank, no byte changed.
 */
import initSqlJs from 'sql.js';
import {
  HistoryError,
  SealedSegments,
  KernelState,
  labelCommit,
  unlabelCommit,
  KernelStore,
  makeKernel,
  prepareRestore,
  readStore,
  recoverStore,
  type Durability,
  type DurabilityOptions,
  type Kernel,
  type KernelClock,
  type KernelOptions,
  type RecoveryReport,
  type RestoreOutcome,
  type VatLauncher,
  type VatLogEntry,
} from '../../kernel/index.ts';
import {
  holdsLog,
  openFileStorage,
  type FileStorage,
  type FileSystem,
} from '../file-storage/index.ts';
import { workerCheckpointBuilder } from '../checkpoint-builder/index.ts';
import { useNodeCrc32 } from '../checksum/index.ts';
import { makeNodeVatLauncher, type NodeVatLauncher } from '../vat-worker/index.ts';
import { historyReader, type HistoryReader } from './history.ts';

export {
  historyReader,
  HistoryError,
  type HistoryListing,
  type HistoryReader,
  type ListedCommit,
} from './history.ts';

export interface NodeKernel {
  /** The kernel; a restore replaces it (and `store`, `durability`, `recovery`). */
  readonly kernel: Kernel;
  readonly store: KernelStore;
  /** Present with a data directory. */
  readonly durability?: Durability | undefined;
  storage?: FileStorage;
  readonly recovery?: RecoveryReport | undefined;
  /** True if there was no kernel yet: a new data directory, or in memory. */
  isNew: boolean;
  /**
   * Stops the kernel (running nothing more), makes its commits durable, closes all. A
   * second call waits for the first.
   */
  close(): Promise<void>;
  // History (docs/history.md). Refused for a kernel in memory.
  /** Runs `read` between cranks, once every commit and checkpoint is durable. */
  readHistory<T>(read: (reader: HistoryReader) => Promise<T>): Promise<T>;
  history: HistoryReader['history'];
  vatstoreAt: HistoryReader['vatstoreAt'];
  keyHistory: HistoryReader['keyHistory'];
  fork: HistoryReader['fork'];
  /** Names the commit ending at `crank`; refused (nothing changed) if taken or not retained. */
  label(
    crank: number,
    name: string,
  ): Promise<{ crank: number; seq: number; name: string }>;
  /** Removes the label `name`; refused (nothing changed) if no label has that name. */
  unlabel(name: string): Promise<{ crank: number; seq: number; name: string }>;
  /**
   * Brings the whole kernel back to the state after the commit ending at `crank`, as a
   * new commit (`restoreCrank`); the kernel is then a new Kernel over the restored store
   * (`kernel`, `store` and `durability` change), its vats relaunched with `relaunch`.
   */
  restore(crank: number, options?: { relaunch?: boolean }): Promise<RestoreOutcome>;
}

export interface NodeKernelOptions {
  /** Keep the kernel's state here, durably. Without it the kernel runs in memory. */
  dataDir?: string;
  /** The file system the data directory is reached through (tests inject faults). */
  fileSystem?: FileSystem;
  /**
   * How the log is kept. Checkpoints are built in a worker thread (node/checkpoint-builder)
   * unless `buildImage` says otherwise (`buildImage: undefined` exports in this thread).
   */
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
  /** KernelOptions.reapWhenIdle. */
  reapWhenIdle?: boolean;
  /** KernelOptions.reapIdleAfter. */
  reapIdleAfter?: number;
  deliveryTimeoutMs?: number;
  maxHostRestarts?: number;
  /** Kernel services this host offers besides the kernel's own (KernelOptions.services). */
  services?: KernelOptions['services'];
  /** KernelOptions.maxPinsPerCaller. */
  maxPinsPerCaller?: number;
  /** KernelOptions.maxTimersPerVat. */
  maxTimersPerVat?: number;
  /** KernelOptions.startVatsOnDemand (default true). */
  startVatsOnDemand?: boolean;
  /** KernelOptions.pagedVatstoreAbove (default 5,000 keys). */
  pagedVatstoreAbove?: number;
  /** The timer service's wall clock; the real one (Date.now, setTimeout) by default. */
  clock?: KernelClock;
  /** KernelOptions.checkState; by default on when CASK_CHECK_STATE=1. */
  checkState?: boolean;
}

useNodeCrc32();

/** Read once: the debug check of the store's memory copy (KernelOptions.checkState). */
const CHECK_STATE = process.env['CASK_CHECK_STATE'] === '1';

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
  // A kernel on a data directory that holds a log has vats to resume, most likely: one
  // worker loads its code while sql.js starts and the store is recovered.
  const resuming = options.dataDir !== undefined && holdsLog(options.dataDir);
  const ownLauncher =
    options.launcher === undefined
      ? makeNodeVatLauncher({ warm: resuming ? 1 : 0 })
      : undefined;
  const launcher = options.launcher ?? (ownLauncher as NodeVatLauncher);
  const SQL = await initSqlJs().catch(async (error: unknown) => {
    await ownLauncher?.close();
    throw error;
  });
  const durabilityOptions: DurabilityOptions = {
    buildImage: workerCheckpointBuilder(),
    ...options.durability,
  };
  let store: KernelStore;
  let durability: Durability | undefined;
  let storage: FileStorage | undefined;
  let recovery: RecoveryReport | undefined;
  if (options.dataDir !== undefined) {
    storage = await openFileStorage(
      options.dataDir,
      options.fileSystem ? { fs: options.fileSystem } : {},
    ).catch(async (error: unknown) => {
      await ownLauncher?.close();
      throw error;
    });
    try {
      ({
        store,
        durability,
        report: recovery,
      } = await recoverStore(SQL, storage, durabilityOptions));
    } catch (error) {
      await storage.close();
      await ownLauncher?.close();
      throw error;
    }
  } else {
    store = KernelStore.open(SQL);
  }
  const kernelOver = (over: KernelStore, log: Durability | undefined) =>
    makeKernel({
      store: over,
      platform: {
        vats: launcher,
        now: () => performance.now(),
        ...(options.clock ? { clock: options.clock } : {}),
      },
      ...(log ? { commitLog: log } : {}),
      ...(options.onCrank ? { onCrank: options.onCrank } : {}),
      ...(options.onCommit ? { onCommit: options.onCommit } : {}),
      ...(options.onStop ? { onStop: options.onStop } : {}),
      onVatLog: options.onVatLog ?? printVatLog,
      ...(options.reapInterval ? { reapInterval: options.reapInterval } : {}),
      ...(options.reapWhenIdle === undefined
        ? {}
        : { reapWhenIdle: options.reapWhenIdle }),
      ...(options.reapIdleAfter ? { reapIdleAfter: options.reapIdleAfter } : {}),
      ...(options.deliveryTimeoutMs
        ? { deliveryTimeoutMs: options.deliveryTimeoutMs }
        : {}),
      ...(options.maxHostRestarts ? { maxHostRestarts: options.maxHostRestarts } : {}),
      ...(options.maxPinsPerCaller ? { maxPinsPerCaller: options.maxPinsPerCaller } : {}),
      ...(options.maxTimersPerVat ? { maxTimersPerVat: options.maxTimersPerVat } : {}),
      ...(options.startVatsOnDemand === undefined
        ? {}
        : { startVatsOnDemand: options.startVatsOnDemand }),
      ...(options.services ? { services: options.services } : {}),
      ...(options.pagedVatstoreAbove === undefined
        ? {}
        : { pagedVatstoreAbove: options.pagedVatstoreAbove }),
      ...((options.checkState ?? CHECK_STATE) ? { checkState: true } : {}),
    });
  let kernel = kernelOver(store, durability);
  let closing: Promise<void> | undefined;
  /** A restore under way: close waits for it (it swaps the kernel). */
  let restoring: Promise<unknown> | undefined;
  const noHistory = () =>
    new HistoryError('a kernel in memory keeps no history; use --data DIR');
  // Segments that no longer change, decoded once for every reader of this data directory.
  const sealed = new SealedSegments();
  /** Runs `read` between cranks, once every commit (and checkpoint) is durable. */
  const reading = <T>(read: (reader: HistoryReader) => Promise<T>): Promise<T> => {
    const [log, files] = [durability, storage];
    if (!log || !files) return Promise.reject(noHistory());
    return kernel.exportImage(async () => {
      await log.settled();
      return read(historyReader(SQL, files, kernel.state, sealed));
    });
  };
  const host: NodeKernel = {
    get kernel() {
      return kernel;
    },
    get store() {
      return store;
    },
    get durability() {
      return durability;
    },
    get recovery() {
      return recovery;
    },
    ...(storage ? { storage } : {}),
    isNew: recovery ? recovery.fresh : true,
    readHistory: reading,
    history: () => reading((r) => r.history()),
    vatstoreAt: (crank, vat, page) => reading((r) => r.vatstoreAt(crank, vat, page)),
    keyHistory: (vat, key) => reading((r) => r.keyHistory(vat, key)),
    fork: (crank, toDir) => reading((r) => r.fork(crank, toDir)),
    async label(crank, name) {
      const [log, files] = [durability, storage];
      if (!log || !files) throw noHistory();
      return labelCommit({ SQL, storage: files, durability: log, kernel }, crank, name);
    },
    async unlabel(name) {
      const [log, files] = [durability, storage];
      if (!log || !files) throw noHistory();
      return unlabelCommit({ SQL, storage: files, durability: log, kernel }, name);
    },
    restore(crank, { relaunch = false } = {}) {
      // One at a time: a second restore starts from the kernel the first leaves.
      const run = (async () => {
        if (restoring) await restoring;
        const [log, files] = [durability, storage];
        if (!log || !files) throw noHistory();
        // Built off to the side while the kernel runs on; refused before anything stops.
        const prepared = await prepareRestore(
          { SQL, storage: files, durability: log, store, kernel },
          crank,
        );
        try {
          return await prepared.install();
        } finally {
          // Whatever happened, the kernel goes on from what storage now holds: the old
          // state or the new one (the checkpoint's rename is the moment of the restore).
          store.close();
          ({
            store,
            durability,
            report: recovery,
          } = await recoverStore(SQL, files, durabilityOptions));
          kernel = kernelOver(store, durability);
          if (relaunch) await kernel.resume();
        }
      })();
      restoring = run.catch(() => undefined);
      return run;
    },
    close() {
      closing ??= (async () => {
        // Only a restore under way is waited for: an await of nothing would let the lane
        // start one more crank before the shutdown (test/faults.test.ts, shutdown).
        if (restoring) await restoring;
        await kernel.shutdown();
        await durability?.close();
        await storage?.close();
        store.close();
        await ownLauncher?.close();
      })();
      return closing;
    },
  };
  return host;
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

/**
 * Runs `read` over the history of a data directory opened read-only (no kernel, no
 * crank, no byte changed): `cask history` and `cask fork` when no daemon runs.
 */
export async function readNodeHistory<T>(
  dataDir: string,
  read: (reader: HistoryReader) => Promise<T>,
): Promise<T> {
  const SQL = await initSqlJs();
  const reading = await readNodeStore(dataDir);
  try {
    return await read(historyReader(SQL, reading.storage, reading.state));
  } finally {
    await reading.close();
  }
}
