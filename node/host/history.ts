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
  historyReader as kernelHistoryReader,
  HistoryError,
  installStateImage,
  type HistoryReader as KernelHistoryReader,
  type KernelState,
  type SealedSegments,
} from '../../kernel/index.ts';
import { openFileStorage, type FileStorage } from '../file-storage/index.ts';

export {
  HistoryError,
  type HistoryListing,
  type ListedCommit,
} from '../../kernel/index.ts';

/** Reads history; every method changes nothing (but fork, which writes a new directory). */
export interface HistoryReader extends Omit<KernelHistoryReader, 'forkState'> {
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
  sealed?: SealedSegments,
): HistoryReader {
  const { forkState, ...reads } = kernelHistoryReader(SQL, storage, state, sealed);
  return {
    ...reads,
    async fork(crank, toDir) {
      const dir = resolve(toDir);
      await refuseNonEmpty(dir);
      const { image, seq } = await forkState(crank);
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
