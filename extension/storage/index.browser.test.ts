/**
 * IndexedDB storage in real Chromium (vitest.browser.config.ts): the durability suite
 * every DurableStorage passes, then what is particular to IndexedDB.
 */
// The Playwright provider's types give cdp() its send().
/// <reference types="@vitest/browser-playwright" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/** Makes, past the storage, a database as version 1 of the schema (before cutTails) did. */
async function makeVersion1(
  name: string,
  contents: {
    checkpoints: Array<[number, Uint8Array]>;
    log: Array<[[number, number], Uint8Array]>;
  },
): Promise<void> {
  const request = indexedDB.open(name, 1);
  request.onupgradeneeded = () => {
    request.result.createObjectStore('checkpoints');
    request.result.createObjectStore('log');
  };
  const db = await settle(request);
  try {
    const tx = db.transaction(['checkpoints', 'log'], 'readwrite');
    for (const [seq, value] of contents.checkpoints) {
      tx.objectStore('checkpoints').put(value, seq);
    }
    for (const [key, value] of contents.log) tx.objectStore('log').put(value, key);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error ?? new Error('aborted'));
    });
  } finally {
    db.close();
  }
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
  const session = cdp();
  beforeAll(async () => {
    await session.send('Storage.overrideQuotaForOrigin', {
      origin: location.origin,
      quotaSize: 256 * 1024,
    });
  });
  afterAll(async () => {
    await session.send('Storage.overrideQuotaForOrigin', { origin: location.origin });
  });

  it('says the quota is exhausted when an append does not fit, and keeps the appends before it', async () => {
    const name = fresh('quota');
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
      await storage.close();
    }
  });

  it('rejects a cut tail that does not fit, naming the database and the operation, and keeps none of it', async () => {
    const name = fresh('quota-tail');
    const storage = await openIndexedDbStorage(name);
    try {
      // More than the whole quota, whatever the test before left. Random (Chromium
      // compresses what IndexedDB stores), 64 KiB at a time (getRandomValues' limit).
      const big = new Uint8Array(512 * 1024);
      for (let at = 0; at < big.length; at += 65536) {
        crypto.getRandomValues(big.subarray(at, at + 65536));
      }
      await expect(storage.saveCutTail(3, 120, big)).rejects.toThrow(
        new RegExp(
          `^IndexedDB database "${name}": saveCutTail\\(3, 120\\) failed: the browser's storage quota is exhausted.*QuotaExceededError`,
          'u',
        ),
      );
      expect(await storage.listCutTails()).toEqual([]);
    } finally {
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
  it('paces appends: the next starts a pace after the previous one started', async () => {
    const name = fresh('paced');
    const pace = 200;
    const storage = await openIndexedDbStorage(name, { appendPaceMs: pace });
    await storage.openLogSegment(1);
    const t0 = performance.now();
    await storage.appendLog(bytes(1));
    await storage.appendLog(bytes(2));
    // The first started at t0 or after; the second no sooner than a pace later.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(pace - 1);
    expect(await storage.readLogSegment(1)).toEqual(bytes(1, 2));
    await storage.close();
  });

  it('writes a paced append asked for before close()', async () => {
    const name = fresh('paced-close');
    const storage = await openIndexedDbStorage(name, { appendPaceMs: 10_000 });
    await storage.openLogSegment(1);
    await storage.appendLog(bytes(1));
    const waiting = storage.appendLog(bytes(2));
    const closed = storage.close();
    await waiting;
    await closed;
    const again = await openIndexedDbStorage(name);
    expect(await again.readLogSegment(1)).toEqual(bytes(1, 2));
    await again.close();
  });

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

  it('sums what it holds: every log chunk, every checkpoint, and the newest checkpoint', async () => {
    const storage = await openIndexedDbStorage(fresh('sizes'));
    expect(await storage.sizes()).toEqual({
      logBytes: 0,
      checkpointBytes: 0,
      newestCheckpointBytes: 0,
    });
    await storage.openLogSegment(1);
    await storage.appendLog(bytes(1, 2, 3));
    await storage.openLogSegment(9);
    await storage.appendLog(bytes(4, 5));
    await storage.writeCheckpoint(8, new Uint8Array(100));
    await storage.writeCheckpoint(20, new Uint8Array(30));
    await storage.writeCheckpoint(3, new Uint8Array(7));
    expect(await storage.sizes()).toEqual({
      logBytes: 5,
      checkpointBytes: 137,
      newestCheckpointBytes: 30,
    });
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
    (await settle(indexedDB.open(name, 3))).close();
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

describe('IndexedDB cut tails', () => {
  it('saves cut tails and lists them by segment then offset, a second save of a key replacing the first', async () => {
    const name = fresh('tails');
    const storage = await openIndexedDbStorage(name);
    expect(await storage.listCutTails()).toEqual([]);
    await storage.saveCutTail(12, 5, bytes(1, 2, 3));
    await storage.saveCutTail(3, 900, bytes(4));
    await storage.saveCutTail(3, 40, bytes(5, 6));
    await storage.saveCutTail(12, 5, bytes(7, 8, 9, 10)); // replaces [12, 5]
    // A view of a larger buffer counts (and stores) only its own bytes.
    await storage.saveCutTail(100, 0, new Uint8Array(4096).subarray(10, 17));
    const at = (segment: number, offset: number) =>
      `IndexedDB "${name}" store cutTails key [${segment}, ${offset}]`;
    // Numerically, not as strings: 100 after 12 after 3, 900 after 40.
    expect(await storage.listCutTails()).toEqual([
      { segment: 3, offset: 40, bytes: 2, location: at(3, 40) },
      { segment: 3, offset: 900, bytes: 1, location: at(3, 900) },
      { segment: 12, offset: 5, bytes: 4, location: at(12, 5) },
      { segment: 100, offset: 0, bytes: 7, location: at(100, 0) },
    ]);
    // The location is true: the bytes are there.
    expect(await rawGet(name, 'cutTails', [12, 5])).toEqual(bytes(7, 8, 9, 10));
    expect(
      ((await rawGet(name, 'cutTails', [100, 0])) as Uint8Array).buffer.byteLength,
    ).toBe(7);
    await storage.close();
    // Kept across a reopen.
    const again = await openIndexedDbStorage(name);
    expect(
      (await again.listCutTails()).map((t) => [t.segment, t.offset, t.bytes]),
    ).toEqual([
      [3, 40, 2],
      [3, 900, 1],
      [12, 5, 4],
      [100, 0, 7],
    ]);
    await again.close();
  });

  it('keeps an empty cut tail, and refuses a key that is not whole numbers, naming the operation', async () => {
    const name = fresh('tail-keys');
    const storage = await openIndexedDbStorage(name);
    await storage.saveCutTail(1, 0, bytes());
    expect(await storage.listCutTails()).toEqual([
      {
        segment: 1,
        offset: 0,
        bytes: 0,
        location: `IndexedDB "${name}" store cutTails key [1, 0]`,
      },
    ]);
    await expect(storage.saveCutTail(1, -1, bytes(1))).rejects.toThrow(
      `IndexedDB database "${name}": saveCutTail(1, -1) failed: the segment and the offset must be whole numbers`,
    );
    await expect(storage.saveCutTail(Number.NaN, 0, bytes(1))).rejects.toThrow(
      `IndexedDB database "${name}": saveCutTail(NaN, 0) failed:`,
    );
    await expect(storage.saveCutTail(2, 0.5, bytes(1))).rejects.toThrow(
      `IndexedDB database "${name}": saveCutTail(2, 0.5) failed:`,
    );
    expect(await storage.listCutTails()).toHaveLength(1);
    await storage.close();
    await expect(storage.listCutTails()).rejects.toThrow(
      `IndexedDB database "${name}": listCutTails failed: the storage is closed`,
    );
  });

  it('leaves the cut tails of a log segment when the segment is deleted', async () => {
    const storage = await openIndexedDbStorage(fresh('tail-delete'));
    await storage.openLogSegment(1);
    await storage.appendLog(bytes(1, 2, 3));
    await storage.saveCutTail(1, 3, bytes(9, 9));
    await storage.openLogSegment(4);
    await storage.deleteLogSegment(1);
    await storage.deleteLogSegment(4);
    expect(await storage.listLogSegments()).toEqual([]);
    expect(
      (await storage.listCutTails()).map((t) => [t.segment, t.offset, t.bytes]),
    ).toEqual([[1, 3, 2]]);
    await storage.close();
  });

  it('upgrades a version-1 database in place: its checkpoints and log kept, cut tails accepted', async () => {
    const name = fresh('v1');
    await makeVersion1(name, {
      checkpoints: [[5, bytes(50, 51, 52)]],
      log: [
        [[1, 0], bytes()],
        [[1, 1], bytes(1, 2)],
        [[1, 2], bytes(3)],
        [[6, 0], bytes()],
        [[6, 1], bytes(6, 7)],
      ],
    });
    const storage = await openIndexedDbStorage(name);
    expect(await storage.listCheckpoints()).toEqual([5]);
    expect(await storage.readCheckpoint(5)).toEqual(bytes(50, 51, 52));
    expect((await storage.listLogSegments()).sort((a, b) => a - b)).toEqual([1, 6]);
    expect(await storage.readLogSegment(1)).toEqual(bytes(1, 2, 3));
    expect(await storage.readLogSegment(6)).toEqual(bytes(6, 7));
    expect(await storage.listCutTails()).toEqual([]);
    // Appends go after the chunks version 1 left.
    await storage.openLogSegment(6);
    await storage.appendLog(bytes(8));
    expect(await storage.readLogSegment(6)).toEqual(bytes(6, 7, 8));
    await storage.saveCutTail(6, 3, bytes(0xff));
    expect(await storage.listCutTails()).toEqual([
      {
        segment: 6,
        offset: 3,
        bytes: 1,
        location: `IndexedDB "${name}" store cutTails key [6, 3]`,
      },
    ]);
    await storage.close();
    const db = await settle(indexedDB.open(name));
    try {
      expect(db.version).toBe(2);
      expect([...db.objectStoreNames].sort()).toEqual(['checkpoints', 'cutTails', 'log']);
    } finally {
      db.close();
    }
    // A new database gets all three stores at once.
    const fresh2 = fresh('v2-new');
    await (await openIndexedDbStorage(fresh2)).close();
    const made2 = await settle(indexedDB.open(fresh2));
    try {
      expect(made2.version).toBe(2);
      expect([...made2.objectStoreNames].sort()).toEqual([
        'checkpoints',
        'cutTails',
        'log',
      ]);
    } finally {
      made2.close();
    }
  });

  it('refuses to wait on an upgrade from version 1 that another connection blocks, naming both versions', async () => {
    const name = fresh('v1-blocked');
    await makeVersion1(name, { checkpoints: [[2, bytes(2)]], log: [] });
    // A connection that, unlike the storage, does not close on versionchange.
    const old = await settle(indexedDB.open(name, 1));
    await expect(openIndexedDbStorage(name)).rejects.toThrow(
      `IndexedDB database "${name}": open failed: upgrading it from version 1 to 2 is blocked by another open connection to it`,
    );
    old.close();
    // The upgrade that was blocked goes through once the other connection closes (its
    // connection closed again unused); after that the database opens as usual.
    const storage = await openIndexedDbStorage(name);
    expect(await storage.readCheckpoint(2)).toEqual(bytes(2));
    await storage.saveCutTail(1, 0, bytes(1));
    expect(await storage.listCutTails()).toHaveLength(1);
    await storage.close();
  });
});
