/**
 * A kernel's whole state as one file: a checkpoint (format.ts) of the database, which
 * holds every vat, c-list, promise, queue and vatstore. Exported between cranks; imported
 * only after the whole file has been checked, into storage the kernel has let go of.
 */
import type { SqlJsStatic } from 'sql.js';
import { KernelStore } from '../store/index.ts';
import { crc32Chunked } from './crc32.ts';
import { decodeCheckpoint, encodeCheckpoint } from './format.ts';
import type { DurableStorage } from './storage.ts';

export class StateFileError extends Error {
  override name = 'StateFileError';
}

/** The state file of a store (no transaction open), labelled with the log seq it is at. */
export async function exportStateFile(
  store: KernelStore,
  seq: number,
): Promise<Uint8Array> {
  return stateFileOf(store.export(), seq);
}

/** The state file of a database image (a fork's), labelled with the log seq it is at. */
export async function stateFileOf(image: Uint8Array, seq: number): Promise<Uint8Array> {
  return encodeCheckpoint(seq, image, await crc32Chunked(image));
}

/**
 * Checks a state file through and through without touching any storage: its header and
 * checksum, that the image opens as a Cask store of a schema this kernel can read, and
 * SQLite's integrity check. Returns the database image and what it holds.
 */
export function checkStateFile(
  SQL: SqlJsStatic,
  file: Uint8Array,
): { image: Uint8Array; vats: number; crank: number } {
  const decoded = decodeCheckpoint(file);
  if (!decoded.ok)
    throw new StateFileError(`not a usable Cask state file: ${decoded.reason}`);
  // A database with no schema version is not a Cask store (opening it as one would
  // create an empty kernel in it).
  let version: unknown;
  try {
    const db = new SQL.Database(decoded.image.slice());
    try {
      version = db.exec('PRAGMA user_version')[0]?.values[0]?.[0];
    } finally {
      db.close();
    }
  } catch (error) {
    throw new StateFileError(
      `not a usable Cask state file: its database does not open: ${String(error)}`,
    );
  }
  if (typeof version !== 'number' || version < 1) {
    throw new StateFileError(
      'not a usable Cask state file: its database is not a Cask store (no schema version)',
    );
  }
  let store: KernelStore;
  try {
    store = KernelStore.open(SQL, decoded.image.slice());
  } catch (error) {
    throw new StateFileError(
      `not a usable Cask state file: its database does not open: ${String(error)}`,
    );
  }
  try {
    const integrity = store.one('PRAGMA integrity_check')?.[0];
    if (integrity !== 'ok') {
      throw new StateFileError(
        `not a usable Cask state file: SQLite's integrity check says ${String(integrity)}`,
      );
    }
    const vats = Number(store.one('SELECT count(*) FROM vats')?.[0] ?? 0);
    const crank =
      Number(store.one("SELECT value FROM counters WHERE name = 'crank'")?.[0] ?? 1) - 1;
    return { image: decoded.image, vats, crank };
  } catch (error) {
    if (error instanceof StateFileError) throw error;
    throw new StateFileError(`not a usable Cask state file: ${String(error)}`);
  } finally {
    store.close();
  }
}

/**
 * Makes `image` the whole durable state in `storage`, as a checkpoint at `seq` (above any
 * seq the storage holds), then removes every older checkpoint and log segment. A crash
 * part way leaves either the old state or the new one: recovery takes the newest
 * checkpoint and skips log records at or below its seq.
 */
export async function installStateImage(
  storage: DurableStorage,
  image: Uint8Array,
  seq: number,
): Promise<void> {
  await storage.writeCheckpoint(
    seq,
    encodeCheckpoint(seq, image, await crc32Chunked(image)),
  );
  for (const old of await storage.listCheckpoints()) {
    if (old !== seq) await storage.deleteCheckpoint(old);
  }
  for (const segment of await storage.listLogSegments()) {
    await storage.deleteLogSegment(segment);
  }
}
