/**
 * DurableStorage over IndexedDB, for the extension's background service worker (it uses
 * only the `indexedDB` global, nothing of the DOM).
 *
 * One IndexedDB database per kernel, with three object stores:
 *
 *   checkpoints   key: log seq                     → Uint8Array (a whole checkpoint)
 *   log           key: [segment first seq, chunk]  → Uint8Array (one append)
 *   cutTails      key: [segment first seq, offset] → Uint8Array (bytes recovery cut off)
 *
 * A log segment is the concatenation of its chunks in key order. Opening a segment writes
 * an empty chunk 0, so that an empty segment exists (as an empty file does in Node).
 * A cut tail is kept for a person to look at and never read back by Cask; deleting a log
 * segment leaves its cut tails.
 *
 * Schema versions (IndexedDB's, of the object stores): 1 had checkpoints and log; 2 adds
 * cutTails. Opening a version-1 database upgrades it in place, its data untouched.
 *
 * Durability: every write is its own readwrite transaction opened with
 * `durability: 'strict'` and resolves on the transaction's `complete` event, which then
 * means the data has been flushed to disk (without it the browser may report a
 * transaction complete before it is). A checkpoint is one `put` in one transaction, so
 * it is there whole or not at all. Chromium here: about 2 ms per strict append, and
 * about 0.9 ms of the browser's CPU plus 0.2 ms of this worker's, whatever its size.
 *
 * Pacing (`appendPaceMs`): a log append starts no sooner than that long after the
 * previous one started. The kernel's commit gate writes one record at a time and puts
 * every crank that commits meanwhile in the next one, so while cranks stream the pause
 * makes records hold more cranks and the log costs fewer transactions; an append asked
 * for after a quiet spell starts at once. Only when it starts does it count as written:
 * results wait for it as before (nothing is released before it is durable).
 *
 * Ownership: unlike the Node host there is no lock. One kernel per database is
 * guaranteed in the extension by there being one background service worker; nothing
 * else (pages, the offscreen document, vat iframes, which have an opaque origin and no
 * IndexedDB anyway) may open a kernel's database for writing. If another connection asks
 * to upgrade or delete the database, this one closes at once rather than block it, and
 * every later operation fails, naming why.
 */
import type { CutTail, DurableStorage } from '../../kernel/index.ts';

/** The IndexedDB schema version of the database (its object stores), not Cask's. */
const DB_VERSION = 2;
const CHECKPOINTS = 'checkpoints';
const LOG = 'log';
const CUT_TAILS = 'cutTails';

export class IndexedDbStorageError extends Error {
  override name = 'IndexedDbStorageError';
}

export interface IndexedDbStorage extends DurableStorage {
  /** The IndexedDB database's name. */
  readonly name: string;
  /** Bytes held: all log chunks, all checkpoints, the newest checkpoint (history's space). */
  sizes(): Promise<{
    logBytes: number;
    checkpointBytes: number;
    newestCheckpointBytes: number;
  }>;
}

/** Says what an IndexedDB error means, for a person reading the kernel's error. */
function explain(error: DOMException | Error | null | undefined): string {
  if (!error) return 'the transaction was aborted';
  // Chromium's QuotaExceededError has an empty message.
  const detail = error.message ? `${error.name}: ${error.message}` : error.name;
  switch (error.name) {
    case 'QuotaExceededError':
      return `the browser's storage quota is exhausted; free space or grant the extension "unlimitedStorage" (${detail})`;
    case 'VersionError':
      return `it was created by a newer Cask (database version newer than ${DB_VERSION}) (${detail})`;
    case 'UnknownError':
      return `the browser could not read or write it, a disk or profile problem (${detail})`;
    case 'InvalidStateError':
      return `its connection is closed (${detail})`;
    default:
      return detail;
  }
}

/** All chunks of the segment whose first seq is `first`. */
const segmentRange = (first: number) => IDBKeyRange.bound([first, 0], [first, Infinity]);

/**
 * The bytes to store. Structured cloning a view clones its whole ArrayBuffer, so a
 * subarray of a larger buffer would store (and read back) all of it: copy those.
 */
function own(bytes: Uint8Array): Uint8Array {
  return bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : bytes.slice();
}

function chunkOf(value: unknown, where: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new Error(`${where} holds a ${typeof value}, not bytes`);
}

/**
 * A transaction body: issues its requests synchronously (IndexedDB commits a transaction
 * as soon as it has no pending request at the end of a task, so a body must never await
 * anything else), and returns what the transaction yields once it has completed.
 */
type Body<T> = (tx: IDBTransaction, fail: (error: Error) => void) => () => T;

class Storage implements IndexedDbStorage {
  readonly name: string;
  readonly #db: IDBDatabase;
  /** Why the connection went away under us (another connection upgraded or deleted it). */
  #lost: string | undefined;
  #closed = false;
  /** Transactions not yet finished: close() waits for them. */
  readonly #pending = new Set<Promise<unknown>>();
  /** The segment appends go to, and the chunk index of the next append. */
  #open: { first: number; nextChunk: number } | undefined;
  readonly #appendPaceMs: number;
  /** performance.now() before which the next append does not start. */
  #nextAppendAt = 0;
  /** Appends waiting for their pace, each with what starts it now (close() does). */
  readonly #paced = new Map<Promise<void>, () => void>();
  #closing: Promise<void> | undefined;

  constructor(name: string, db: IDBDatabase, appendPaceMs: number) {
    this.name = name;
    this.#db = db;
    this.#appendPaceMs = appendPaceMs;
    db.onversionchange = (event) => {
      // Another connection wants to upgrade or delete the database. Staying open would
      // block it indefinitely; closing lets it go on, and this storage fails loudly.
      this.#lost =
        event.newVersion === null
          ? 'another connection asked to delete it'
          : `another connection asked to upgrade it to version ${event.newVersion}`;
      db.close();
    };
    db.onclose = () => {
      // Fired only when the browser closes the connection itself (site data cleared, a
      // disk failure), never after db.close().
      this.#lost = 'the browser closed its connection (storage cleared or failed)';
    };
  }

  #error(op: string, reason: string, cause?: unknown): IndexedDbStorageError {
    return new IndexedDbStorageError(
      `IndexedDB database "${this.name}": ${op} failed: ${reason}`,
      cause === undefined || cause === null ? undefined : { cause },
    );
  }

  #run<T>(
    op: string,
    stores: string[],
    mode: IDBTransactionMode,
    body: Body<T>,
  ): Promise<T> {
    if (this.#closed) return Promise.reject(this.#error(op, 'the storage is closed'));
    if (this.#lost !== undefined) {
      return Promise.reject(this.#error(op, `the database was closed: ${this.#lost}`));
    }
    const done = new Promise<T>((resolve, reject) => {
      let tx: IDBTransaction;
      try {
        // Every write is flushed before its transaction completes: see the module comment.
        tx = this.#db.transaction(
          stores,
          mode,
          mode === 'readwrite' ? { durability: 'strict' } : undefined,
        );
      } catch (error) {
        reject(this.#error(op, explain(error as DOMException), error));
        return;
      }
      let failure: Error | undefined;
      const fail = (error: Error) => {
        failure ??= error;
        try {
          tx.abort();
        } catch {
          // Already finished or aborting: the abort event carries on.
        }
      };
      let result: () => T = () => undefined as T;
      tx.oncomplete = () => {
        try {
          resolve(result());
        } catch (error) {
          reject(this.#error(op, (error as Error).message, error));
        }
      };
      tx.onabort = () => {
        const reason =
          failure?.message ??
          (this.#lost === undefined
            ? explain(tx.error)
            : `the database was closed: ${this.#lost} (${explain(tx.error)})`);
        reject(this.#error(op, reason, failure ?? tx.error));
      };
      try {
        result = body(tx, fail);
      } catch (error) {
        fail(error as Error);
      }
    });
    this.#pending.add(done);
    const forget = () => this.#pending.delete(done);
    done.then(forget, forget);
    return done;
  }

  listCheckpoints(): Promise<number[]> {
    return this.#run('listCheckpoints', [CHECKPOINTS], 'readonly', (tx) => {
      const request = tx.objectStore(CHECKPOINTS).getAllKeys();
      return () => request.result.map(Number);
    });
  }

  readCheckpoint(seq: number): Promise<Uint8Array> {
    return this.#run(`readCheckpoint(${seq})`, [CHECKPOINTS], 'readonly', (tx) => {
      const request = tx.objectStore(CHECKPOINTS).get(seq);
      return () => {
        if (request.result === undefined) {
          throw new Error(`there is no checkpoint ${seq}`);
        }
        return chunkOf(request.result, `checkpoint ${seq}`);
      };
    });
  }

  writeCheckpoint(seq: number, bytes: Uint8Array): Promise<void> {
    return this.#run(`writeCheckpoint(${seq})`, [CHECKPOINTS], 'readwrite', (tx) => {
      tx.objectStore(CHECKPOINTS).put(own(bytes), seq);
      return () => undefined;
    });
  }

  deleteCheckpoint(seq: number): Promise<void> {
    return this.#run(`deleteCheckpoint(${seq})`, [CHECKPOINTS], 'readwrite', (tx) => {
      tx.objectStore(CHECKPOINTS).delete(seq);
      return () => undefined;
    });
  }

  listLogSegments(): Promise<number[]> {
    return this.#run('listLogSegments', [LOG], 'readonly', (tx, fail) => {
      const firsts: number[] = [];
      const request = tx.objectStore(LOG).openKeyCursor();
      request.onsuccess = () => {
        const cursor = request.result;
        if (!cursor) return;
        const [first] = cursor.key as [number, number];
        firsts.push(first);
        // Skip the segment's other chunks: [first, Infinity] sorts after all of them.
        try {
          cursor.continue([first, Infinity]);
        } catch (error) {
          fail(error as Error);
        }
      };
      return () => firsts;
    });
  }

  readLogSegment(first: number): Promise<Uint8Array> {
    return this.#run(`readLogSegment(${first})`, [LOG], 'readonly', (tx) => {
      const request = tx.objectStore(LOG).getAll(segmentRange(first));
      return () => {
        const chunks = request.result.map((c: unknown) => chunkOf(c, `segment ${first}`));
        if (chunks.length === 0) throw new Error(`there is no log segment ${first}`);
        if (chunks.length === 1) return chunks[0] as Uint8Array;
        const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let at = 0;
        for (const chunk of chunks) {
          bytes.set(chunk, at);
          at += chunk.length;
        }
        return bytes;
      };
    });
  }

  truncateLogSegment(first: number, length: number): Promise<void> {
    const op = `truncateLogSegment(${first}, ${length})`;
    if (!Number.isSafeInteger(length) || length < 0) {
      return Promise.reject(
        this.#error(op, 'the length must be a whole number of bytes'),
      );
    }
    return this.#run(op, [LOG], 'readwrite', (tx, fail) => {
      const store = tx.objectStore(LOG);
      const request = store.openCursor(segmentRange(first));
      let offset = 0;
      let lastChunk = -1;
      request.onsuccess = () => {
        try {
          const cursor = request.result;
          if (cursor) {
            const chunk = chunkOf(cursor.value, `segment ${first}`);
            const [, index] = cursor.primaryKey as [number, number];
            const keep = Math.min(chunk.length, Math.max(0, length - offset));
            offset += chunk.length;
            lastChunk = index;
            if (keep < chunk.length) {
              // The first chunk stays, if only empty, so that the segment still exists.
              if (keep > 0 || index === 0) cursor.update(chunk.slice(0, keep));
              else cursor.delete();
            }
            cursor.continue();
            return;
          }
          if (lastChunk < 0) throw new Error(`there is no log segment ${first}`);
          if (offset < length) {
            // Longer than the segment: zeros, as truncate(2) extends a file.
            const index = lastChunk + 1;
            store.put(new Uint8Array(length - offset), [first, index]);
            if (this.#open?.first === first) {
              this.#open.nextChunk = Math.max(this.#open.nextChunk, index + 1);
            }
          }
        } catch (error) {
          fail(error as Error);
        }
      };
      return () => undefined;
    });
  }

  async openLogSegment(first: number): Promise<void> {
    const nextChunk = await this.#run(
      `openLogSegment(${first})`,
      [LOG],
      'readwrite',
      (tx) => {
        const store = tx.objectStore(LOG);
        const request = store.openKeyCursor(segmentRange(first), 'prev');
        let next = 1;
        request.onsuccess = () => {
          const cursor = request.result;
          if (cursor) next = (cursor.primaryKey as [number, number])[1] + 1;
          else store.put(new Uint8Array(0), [first, 0]);
        };
        return () => next;
      },
    );
    this.#open = { first, nextChunk };
  }

  appendLog(bytes: Uint8Array): Promise<void> {
    const open = this.#open;
    if (!open) {
      return Promise.reject(this.#error('appendLog', 'no log segment is open'));
    }
    // Taken now, not in the transaction: appends are numbered in call order, and
    // IndexedDB runs readwrite transactions on one store in the order they were created.
    const index = open.nextChunk;
    open.nextChunk += 1;
    const write = () => {
      this.#nextAppendAt = performance.now() + this.#appendPaceMs;
      return this.#run(`appendLog (segment ${open.first})`, [LOG], 'readwrite', (tx) => {
        tx.objectStore(LOG).put(own(bytes), [open.first, index]);
        return () => undefined;
      });
    };
    const wait = this.#nextAppendAt - performance.now();
    if (wait <= 0) return write();
    // Paced (see the module comment). Appends come one at a time (Durability waits for
    // each), so none overtakes another here; close() starts it at once.
    let startNow: () => void = () => undefined;
    const due = new Promise<void>((resolve) => {
      startNow = resolve;
    });
    const timer = setTimeout(startNow, wait);
    const paced = due.then(() => {
      clearTimeout(timer);
      return write();
    });
    this.#paced.set(paced, startNow);
    const forget = () => this.#paced.delete(paced);
    paced.then(forget, forget);
    return paced;
  }

  deleteLogSegment(first: number): Promise<void> {
    // Appends to a deleted segment would be lost: refuse them until one is opened again.
    if (this.#open?.first === first) this.#open = undefined;
    return this.#run(`deleteLogSegment(${first})`, [LOG], 'readwrite', (tx) => {
      tx.objectStore(LOG).delete(segmentRange(first));
      return () => undefined;
    });
  }

  saveCutTail(segment: number, offset: number, bytes: Uint8Array): Promise<void> {
    const op = `saveCutTail(${segment}, ${offset})`;
    if (!Number.isSafeInteger(segment) || !Number.isSafeInteger(offset) || offset < 0) {
      return Promise.reject(
        this.#error(
          op,
          'the segment and the offset must be whole numbers, the offset not negative',
        ),
      );
    }
    // One put in one transaction: the tail is there whole or not at all, and a second
    // save of the same (segment, offset) replaces the first.
    return this.#run(op, [CUT_TAILS], 'readwrite', (tx) => {
      tx.objectStore(CUT_TAILS).put(own(bytes), [segment, offset]);
      return () => undefined;
    });
  }

  listCutTails(): Promise<CutTail[]> {
    return this.#run('listCutTails', [CUT_TAILS], 'readonly', (tx, fail) => {
      // Array keys sort element by element: by segment, then by offset.
      const tails: CutTail[] = [];
      const request = tx.objectStore(CUT_TAILS).openCursor();
      request.onsuccess = () => {
        try {
          const cursor = request.result;
          if (!cursor) return;
          const [segment, offset] = cursor.primaryKey as [number, number];
          const tail = chunkOf(cursor.value, `cut tail [${segment}, ${offset}]`);
          tails.push({
            segment,
            offset,
            bytes: tail.length,
            location: `IndexedDB "${this.name}" store ${CUT_TAILS} key [${segment}, ${offset}]`,
          });
          cursor.continue();
        } catch (error) {
          fail(error as Error);
        }
      };
      return () => tails;
    });
  }

  sizes(): Promise<{
    logBytes: number;
    checkpointBytes: number;
    newestCheckpointBytes: number;
  }> {
    return this.#run('sizes', [CHECKPOINTS, LOG], 'readonly', (tx, fail) => {
      const sizes = { logBytes: 0, checkpointBytes: 0, newestCheckpointBytes: 0 };
      // IndexedDB keeps no sizes: one pass of cursors over the values (history's space
      // is asked for rarely, when the History view opens).
      const count = (store: string, add: (bytes: number, key: IDBValidKey) => void) => {
        const request = tx.objectStore(store).openCursor();
        request.onsuccess = () => {
          try {
            const cursor = request.result;
            if (!cursor) return;
            add(
              chunkOf(cursor.value, `${store} ${String(cursor.key)}`).length,
              cursor.key,
            );
            cursor.continue();
          } catch (error) {
            fail(error as Error);
          }
        };
      };
      let newest = -1;
      count(CHECKPOINTS, (bytes, key) => {
        sizes.checkpointBytes += bytes;
        if (Number(key) > newest) {
          newest = Number(key);
          sizes.newestCheckpointBytes = bytes;
        }
      });
      count(LOG, (bytes) => {
        sizes.logBytes += bytes;
      });
      return () => sizes;
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // An append asked for before close() is written, at once.
    for (const startNow of this.#paced.values()) startNow();
    await Promise.allSettled([...this.#paced.keys()]);
    this.#closed = true;
    this.#open = undefined;
    // Their callers get their outcome; close only waits so that "closed" means "settled".
    await Promise.allSettled([...this.#pending]);
    this.#db.close();
  }
}

/**
 * Opens (creating if need be) the IndexedDB database `name` as a kernel's DurableStorage.
 * Rejects with an IndexedDbStorageError naming the database if it cannot be opened: made
 * by a newer Cask, its upgrade blocked by another open connection, no IndexedDB here.
 */
export function openIndexedDbStorage(
  name: string,
  options: { appendPaceMs?: number } = {},
): Promise<IndexedDbStorage> {
  const appendPaceMs = options.appendPaceMs ?? 0;
  const failed = (reason: string, cause?: unknown) =>
    new IndexedDbStorageError(
      `IndexedDB database "${name}": open failed: ${reason}`,
      cause === undefined || cause === null ? undefined : { cause },
    );
  if (typeof indexedDB === 'undefined') {
    return Promise.reject(failed('there is no IndexedDB in this context'));
  }
  return new Promise((resolve, reject) => {
    let request: IDBOpenDBRequest;
    try {
      request = indexedDB.open(name, DB_VERSION);
    } catch (error) {
      reject(failed(explain(error as DOMException), error));
      return;
    }
    let gaveUp = false;
    request.onupgradeneeded = (event) => {
      // Runs inside the version-change transaction: a failure here aborts the upgrade and
      // leaves the database as it was. Each later version adds its step below.
      const db = request.result;
      if (event.oldVersion < 1) {
        db.createObjectStore(CHECKPOINTS);
        db.createObjectStore(LOG);
      }
      if (event.oldVersion < 2) {
        db.createObjectStore(CUT_TAILS);
      }
    };
    request.onblocked = (event) => {
      // Another connection with older code keeps the database open and does not close on
      // versionchange. Waiting could hang the kernel's start forever: say so instead.
      gaveUp = true;
      reject(
        failed(
          `upgrading it from version ${event.oldVersion} to ${event.newVersion} is blocked by another open connection to it; close the other extension pages and try again`,
        ),
      );
    };
    request.onsuccess = () => {
      // The blocked upgrade went through after all, too late: do not leak the connection.
      if (gaveUp) request.result.close();
      else resolve(new Storage(name, request.result, appendPaceMs));
    };
    request.onerror = () => {
      if (!gaveUp) reject(failed(explain(request.error), request.error));
    };
  });
}
