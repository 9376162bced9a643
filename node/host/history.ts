/**
 * History in the Node host (docs/history.md): what `cask history`, `label`, `restore`
 * and `fork` do over a data directory, with its kernel running or only read.
 *
 * The reading half (`HistoryReader`) needs only the storage and the kernel's current
 * state (for labels and vat names): a running kernel lends them between cranks, once
 * everything committed is durable; a directory opened read-only lends them as they are.
 */
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SqlJsStatic } from 'sql.js';
import {
  forkImage,
  History,
  HistoryError,
  installStateImage,
  KernelState,
  type HistoryCommit,
  type KeyChange,
  type VatstorePage,
} from '../../kernel/index.ts';
import { openFileStorage, type FileStorage } from '../file-storage/index.ts';

export { HistoryError } from '../../kernel/index.ts';

/** A commit as `history` lists it: vats by name as well as id. */
export interface ListedCommit extends Omit<HistoryCommit, 'vats'> {
  vats: Array<{ vatId: string; name?: string }>;
}

export interface HistoryListing {
  commits: ListedCommit[];
  /** The live store (the newest checkpoint's bytes) and what all of history takes. */
  space: { checkpointBytes: number; logBytes: number; liveBytes: number };
}

/** Reads history; every method changes nothing. */
export interface HistoryReader {
  history(): Promise<HistoryListing>;
  /** What a vat's vatstore held after the commit ending at `crank` (paged). */
  vatstoreAt(
    crank: number,
    vat: string,
    options: { prefix?: string; after?: string; limit: number },
  ): Promise<VatstorePage & { crank: number; vatId: string }>;
  /** The retained commits that changed `key` of `vat`'s vatstore. */
  keyHistory(vat: string, key: string): Promise<KeyChange[]>;
  /** Writes a new data directory holding the kernel as of `crank`. */
  fork(
    crank: number,
    toDir: string,
  ): Promise<{ dir: string; crank: number; seq: number }>;
}

/** A reader over `storage`, with `state` the kernel's current state. */
export function historyReader(
  SQL: SqlJsStatic,
  storage: FileStorage,
  state: KernelState,
): HistoryReader {
  const history = () => new History(SQL, storage);
  const vatIdOf = (vat: string, known: KernelState) =>
    known.getVatByName(vat)?.vatId ?? (known.getVat(vat) ? vat : undefined);
  return {
    async history() {
      const h = history();
      const labels = state.historyLabels();
      const commits = (await h.commits(labels)).map((c) => ({
        ...c,
        vats: c.vats.map((vatId) => {
          const name = state.getVat(vatId)?.name;
          return name === undefined ? { vatId } : { vatId, name };
        }),
      }));
      const sizes = await storage.sizes();
      return {
        commits,
        space: {
          checkpointBytes: sizes.checkpointBytes,
          logBytes: sizes.logBytes,
          liveBytes: sizes.newestCheckpointBytes,
        },
      };
    },
    async vatstoreAt(crank, vat, options) {
      const { store } = await history().stateAt(crank);
      try {
        const then = new KernelState(store);
        const vatId = vatIdOf(vat, then);
        if (vatId === undefined) {
          throw new HistoryError(`no vat ${JSON.stringify(vat)} at crank ${crank}`);
        }
        return { crank, vatId, ...then.readVatstore(vatId, options) };
      } finally {
        store.close();
      }
    },
    async keyHistory(vat, key) {
      return history().keyHistory(vatIdOf(vat, state) ?? vat, key);
    },
    async fork(crank, toDir) {
      const dir = resolve(toDir);
      await refuseNonEmpty(dir);
      const { store, seq } = await history().stateAt(crank);
      let image: Uint8Array;
      try {
        image = forkImage(store);
      } finally {
        store.close();
      }
      const target = await openFileStorage(dir);
      try {
        // A checkpoint and no log: what recovery opens as a kernel at that seq.
        await installStateImage(target, image, seq);
      } finally {
        await target.close();
      }
      return { dir, crank, seq };
    },
  };
}

/** A fork's target must be new or empty: it is never mixed with anything. */
async function refuseNonEmpty(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new HistoryError(`cannot fork to ${dir}: it is not a directory`);
    }
    throw error;
  }
  if (entries.length > 0) {
    throw new HistoryError(
      `cannot fork to ${dir}: it is not empty (holds ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}); name a new or empty directory`,
    );
  }
}
