/**
 * IndexedDB storage in real Chromium (vitest.browser.config.ts): the durability suite
 * every DurableStorage passes, then what is particular to IndexedDB.
 */
// The Playwright provider's types give cdp() its send().
/// <reference types="@vitest/browser-playwright" />
import { afterAll, describe, expect, it } from 'vitest';
import { cdp } from 'vitest/browser';
import { durabilitySuite } from '../../test/durability-suite.ts';
import { openIndexedDbStorage } from './index.ts';

const made: string[] = [];

/** A database name no other test uses; each is deleted after the file. */
function fresh(what: string): string {
  const name = `cask-test-${what}-${crypto.randomUUID()}`;
  made.push(name);
  return name;
}

function settle<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () =>
      reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error ?? new Error(`cannot delete ${name}`));
    request.onblocked = () => reject(new Error(`deleting ${name} is blocked`));
  });
}

/** Reads one value of the database directly, past the storage. */
async function rawGet(name: string, store: string, key: IDBValidKey): Promise<unknown> {
  const db = await settle(indexedDB.open(name));
  try {
    return await settle(db.transaction(store).objectStore(store).get(key));
  } finally {
    db.close();
  }
}

afterAll(async () => {
  for (const name of made) await deleteDatabase(name);
});

// First, before anything opens IndexedDB here: Chromium reads an origin's quota when it
// opens the origin's IndexedDB backing store and keeps it while that stays open, so a
// quota override made later does not apply to IndexedDB.
describe('IndexedDB storage over quota', () => {
  it('says the quota is exhausted when an append does not fit, and keeps the appends before it', async () => {
    const name = fresh('quota');
    const session = cdp();
    await session.send('Storage.overrideQuotaForOrigin', {
      origin: location.origin,
      quotaSize: 256 * 1024,
    });
    const storage = await openIndexedDbStorage(name);
    try {
      await storage.openLogSegment(1);
      const kept: Uint8Array[] = [];
      let failure: unknown;
      // Random bytes, because Chromium compresses what IndexedDB stores.
      for (let i = 0; i < 32 && failure === undefined; i += 1) {
        const chunk = crypto.getRandomValues(new Uint8Array(32 * 1024));
        await storage.appendLog(chunk).then(
          () => kept.push(chunk),
          (error: unknown) => {
            failure = error;
          },
        );
      }
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(
        new RegExp(
          `^IndexedDB database "${name}": appendLog \\(segment 1\\) failed: the browser's storage quota is exhausted.*QuotaExceededError`,
          'u',
        ),
      );
      expect(kept.length).toBeGreaterThan(0);
      // The failed append left nothing behind; the ones before it are whole.
      const segment = await storage.readLogSegment(1);
      expect(segment.length).toBe(kept.length * 32 * 1024);
      expect(segment.subarray(segment.length - 32 * 1024)).toEqual(kept.at(-1));
    } finally {
      await session.send('Storage.overrideQuotaForOrigin', { origin: location.origin });
      await storage.close();
    }
  });
});

durabilitySuite('IndexedDB in Chromium', async () => {
  const name = fresh('suite');
  return { open: () => openIndexedDbStorage(name) };
});

const bytes = (...values: number[]) => new Uint8Array(values);

describe('IndexedDB storage', () => {
  it('keeps each append as a chunk and reads a segment back whole, in order', async () => {
    const name = fresh('chunks');
    const storage = await openIndexedDbStorage(name);
    await storage.openLogSegment(7);
    await storage.appendLog(bytes(1, 2, 3));
    await storage.appendLog(bytes(4));
    await storage.appendLog(bytes(5, 6));
    expect(await storage.readLogSegment(7)).toEqual(bytes(1, 2, 3, 4, 5, 6));
    // Chunk 0 is the empty one that makes an opened segment exist.
    expect(await rawGet(name, 'log', [7, 0])).toEqual(bytes());
    expect(await rawGet(name, 'log', [7, 2])).toEqual(bytes(4));
    await storage.close();
    // Reopened, appends go after the chunks already there.
    const again = await openIndexedDbStorage(name);
    await again.openLogSegment(7);
    await again.appendLog(bytes(7));
    expect(await again.readLogSegment(7)).toEqual(bytes(1, 2, 3, 4, 5, 6, 7));
    await again.close();
  });

  it('truncates to exactly the length asked: inside a chunk, at a boundary, to empty, and longer with zeros', async () => {
    const storage = await openIndexedDbStorage(fresh('truncate'));
    await storage.openLogSegment(1);
    for (const chunk of [bytes(1, 2, 3), bytes(4, 5), bytes(6, 7, 8, 9)]) {
      await storage.appendLog(chunk);
    }
    await storage.truncateLogSegment(1, 7); // splits the last chunk
    expect(await storage.readLogSegment(1)).toEqual(bytes(1, 2, 3, 4, 5, 6, 7));
    await storage.truncateLogSegment(1, 5); // drops it whole
    expect(await storage.readLogSegment(1)).toEqual(bytes(1, 2, 3, 4, 5));
    await storage.truncateLogSegment(1, 2);
    expect(await storage.readLogSegment(1)).toEqual(bytes(1, 2));
    await storage.appendLog(bytes(9));
    expect(await storage.readLogSegment(1)).toEqual(bytes(1, 2, 9));
    await storage.truncateLogSegment(1, 6);
    expect(await storage.readLogSegment(1)).toEqual(bytes(1, 2, 9, 0, 0, 0));
    await storage.truncateLogSegment(1, 0);
    expect(await storage.readLogSegment(1)).toEqual(bytes());
    expect(await storage.listLogSegments()).toEqual([1]); // still there, empty
    await storage.appendLog(bytes(3));
    expect(await storage.readLogSegment(1)).toEqual(bytes(3));
    await storage.close();
  });

  it('lists segments, an empty one included, and deletes a segment with all its chunks', async () => {
    const storage = await openIndexedDbStorage(fresh('segments'));
    await storage.openLogSegment(1);
    await storage.appendLog(bytes(1));
    await storage.appendLog(bytes(2));
    await storage.openLogSegment(3);
    await storage.appendLog(bytes(3));
    await storage.openLogSegment(12);
    expect(await storage.listLogSegments()).toEqual([1, 3, 12]);
    expect(await storage.readLogSegment(12)).toEqual(bytes());
    await storage.deleteLogSegment(3);
    expect(await storage.listLogSegments()).toEqual([1, 12]);
    await storage.deleteLogSegment(12);
    // The open segment is gone: an append must not vanish silently.
    await expect(storage.appendLog(bytes(4))).rejects.toThrow(/no log segment is open/u);
    await storage.close();
  });

  it('stores a view as its own bytes, not the whole buffer behind it', async () => {
    const name = fresh('view');
    const storage = await openIndexedDbStorage(name);
    const big = new Uint8Array(1 << 20).fill(7);
    await storage.writeCheckpoint(5, big.subarray(10, 20));
    const stored = await rawGet(name, 'checkpoints', 5);
    expect(stored).toBeInstanceOf(Uint8Array);
    expect((stored as Uint8Array).buffer.byteLength).toBe(10);
    expect(await storage.readCheckpoint(5)).toEqual(big.subarray(10, 20));
    await storage.close();
  });

  it('names the database and the operation when something is missing or closed', async () => {
    const name = fresh('errors');
    const storage = await openIndexedDbStorage(name);
    await expect(storage.readCheckpoint(4)).rejects.toThrow(
      `IndexedDB database "${name}": readCheckpoint(4) failed: there is no checkpoint 4`,
    );
    await expect(storage.readLogSegment(9)).rejects.toThrow(
      `IndexedDB database "${name}": readLogSegment(9) failed: there is no log segment 9`,
    );
    await expect(storage.truncateLogSegment(9, 0)).rejects.toThrow(
      `IndexedDB database "${name}": truncateLogSegment(9, 0) failed: there is no log segment 9`,
    );
    await expect(storage.appendLog(bytes(1))).rejects.toThrow(
      `IndexedDB database "${name}": appendLog failed: no log segment is open`,
    );
    await storage.close();
    await storage.close(); // twice is harmless
    await expect(storage.listCheckpoints()).rejects.toThrow(
      `IndexedDB database "${name}": listCheckpoints failed: the storage is closed`,
    );
  });

  it('refuses a database made by a newer Cask, naming it', async () => {
    const name = fresh('newer');
    (await settle(indexedDB.open(name, 2))).close();
    await expect(openIndexedDbStorage(name)).rejects.toThrow(
      new RegExp(
        `^IndexedDB database "${name}": open failed: it was created by a newer Cask .*VersionError`,
        'u',
      ),
    );
  });

  it('gives way to a connection that deletes the database, and says so afterwards', async () => {
    const name = fresh('deleted');
    const storage = await openIndexedDbStorage(name);
    await storage.writeCheckpoint(1, bytes(1));
    // Resolves only because the storage closes its connection on versionchange.
    await deleteDatabase(name);
    await expect(storage.writeCheckpoint(2, bytes(2))).rejects.toThrow(
      `IndexedDB database "${name}": writeCheckpoint(2) failed: the database was closed: another connection asked to delete it`,
    );
    await storage.close();
  });
});
