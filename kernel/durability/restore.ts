/**
 * A restore of a running kernel (docs/history.md), in two steps any host runs:
 *
 *   const restore = await prepareRestore({ SQL, storage, durability, store, kernel }, crank);
 *   try { outcome = await restore.install(); }
 *   finally { recover the store from storage again and make a new kernel over it }
 *
 * `prepareRestore` builds the state off to the side, between cranks, while the kernel
 * runs on; it refuses (a HistoryError, nothing changed, nothing stopped) an unknown or
 * no longer retained crank. `install` stops the kernel and makes the built state the
 * durable one (Durability.installRestore): afterwards — and if it fails once the kernel
 * has stopped — the host goes on from whatever storage holds, the old state or the new.
 */
import type { SqlJsStatic } from 'sql.js';
import type { KernelStore } from '../store/index.ts';
import type { Durability } from './durability.ts';
import { History, restoreImage, type HistoryLabel } from './history.ts';
import type { DurableStorage } from './storage.ts';

export interface RestoreOutcome {
  /** The crank restored to, and the record that ends its commit. */
  crank: number;
  seq: number;
  /** The restore's own commit (a new crank number: they never go back). */
  restoreCrank: number;
  /** The last crank before the restore: restoring to it undoes this one. */
  undoCrank: number;
  /** Records replayed after `fromCheckpoint` to build the state. */
  replayed: number;
  fromCheckpoint: number;
}

/** What a restore needs of the kernel (Kernel has both). */
export interface RestoringKernel {
  /** Runs `encode` between cranks, once every committed crank is durable. */
  exportImage<T>(encode: (store: KernelStore) => Promise<T>): Promise<T>;
  shutdown(): Promise<void>;
}

export interface RestoreParts {
  SQL: SqlJsStatic;
  storage: DurableStorage;
  durability: Durability;
  /** The kernel's store (read for its counters and labels once the kernel stopped). */
  store: KernelStore;
  kernel: RestoringKernel;
}

export interface PreparedRestore {
  /** Stops the kernel and installs the built state; the side database is closed. */
  install(): Promise<RestoreOutcome>;
  /** Gives up: closes the side database; nothing was stopped or changed. */
  discard(): void;
}

export async function prepareRestore(
  parts: RestoreParts,
  crank: number,
): Promise<PreparedRestore> {
  const { SQL, storage, durability, store, kernel } = parts;
  const built = await kernel.exportImage(async () => {
    await durability.settled();
    const history = new History(SQL, storage);
    const target = await history.locate(crank);
    return { target, ...(await history.stateAtSeq(target.seq)) };
  });
  let done = false;
  const close = () => {
    if (!done) built.store.close();
    done = true;
  };
  return {
    discard: close,
    async install() {
      if (done)
        throw new Error('install: this restore was already installed or discarded');
      try {
        await kernel.shutdown();
        await durability.settled();
        const undoCrank = durability.stats().lastDurableCrank;
        const counters = new Map(
          store
            .all('SELECT name, value FROM counters ORDER BY name')
            .map((r) => [String(r[0]), Number(r[1])] as const),
        );
        // The restore is a commit of its own, with the next crank number.
        const restoreCrank = counters.get('crank') ?? undoCrank + 1;
        const labels: HistoryLabel[] = store
          .all('SELECT name, crank, seq FROM history_labels ORDER BY name')
          .map((r) => ({ name: String(r[0]), crank: Number(r[1]), seq: Number(r[2]) }));
        const image = restoreImage(built.store, { labels, counters }, restoreCrank);
        await durability.installRestore(image, restoreCrank, {
          crank: built.target.lastCrank,
          seq: built.target.seq,
        });
        return {
          crank,
          seq: built.target.seq,
          restoreCrank,
          undoCrank,
          replayed: built.replayed,
          fromCheckpoint: built.checkpointSeq,
        };
      } finally {
        close();
      }
    },
  };
}
