import { rm } from 'node:fs/promises';
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir } from './fixtures/temp-dirs.ts';
import { openFileStorage } from '../node/file-storage/index.ts';
import { History, SealedSegments } from '../kernel/durability/history.ts';
import { recoverStore } from '../kernel/durability/recovery.ts';

afterAll(removeTempDirs);
const SQL = await initSqlJs();

/** A log of records, each writing key `k` = its seq, for the cranks given. */
async function logOf(groups: Array<[number, number]>) {
  const dir = await tempDir('cask-history-unit-');
  const storage = await openFileStorage(dir);
  const { store, durability } = await recoverStore(SQL, storage);
  for (const [i, [first, last]] of groups.entries()) {
    store.beginCrank();
    store.put('vatstore', ['v1', 'k', String(i + 1)]);
    store.commitCrank();
    await durability.append(store.takeChanges(), first, last);
  }
  return {
    storage,
    async close() {
      await durability.close();
      store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('History', () => {
  it('refuses a crank inside a group record, naming the nearest restorable cranks', async () => {
    const log = await logOf([
      [1, 1],
      [2, 4],
      [5, 5],
    ]);
    const history = new History(SQL, log.storage);
    await expect(history.stateAt(3)).rejects.toThrow(
      'crank 3 is inside a commit of cranks 2–4 (written as one log record); the nearest cranks to restore to are 1 and 4',
    );
    const { store, replayed } = await history.stateAt(4);
    expect(store.get('vatstore', ['v1', 'k'])?.[2]).toBe('2');
    expect(replayed).toBe(2);
    store.close();
    await log.close();
  });

  it('lists commits with their time and the vats they changed; a key’s changes', async () => {
    const log = await logOf([
      [1, 1],
      [2, 2],
    ]);
    const history = new History(SQL, log.storage);
    const commits = await history.commits([{ name: 'one', crank: 1, seq: 1 }]);
    expect(commits.map((c) => [c.seq, c.lastCrank, c.vats, c.labels])).toEqual([
      [1, 1, ['v1'], ['one']],
      [2, 2, ['v1'], []],
    ]);
    expect(typeof commits[0]?.time).toBe('number');
    expect((await history.keyHistory('v1', 'k')).map((c) => c.value)).toEqual(['1', '2']);
    await log.close();
  });
});

describe('SealedSegments', () => {
  it('readers sharing it decode each sealed segment once, the newest every time, and forget what retention removed', async () => {
    const dir = await tempDir('cask-history-sealed-');
    const files = await openFileStorage(dir);
    const reads: number[] = [];
    const storage: typeof files = Object.create(files) as typeof files;
    storage.readLogSegment = (segment) => {
      reads.push(segment);
      return files.readLogSegment(segment);
    };
    // A checkpoint (so a new segment) after every record; three checkpoints kept.
    const { store, durability } = await recoverStore(SQL, storage, {
      checkpointMinBytes: 1,
      checkpointRatio: 0,
      retention: { keepCheckpoints: 3 },
    });
    const append = async (crank: number) => {
      store.beginCrank();
      store.put('vatstore', ['v1', 'k', String(crank)]);
      store.commitCrank();
      await durability.append(store.takeChanges(), crank, crank);
      await durability.settled();
    };
    for (let crank = 1; crank <= 3; crank += 1) await append(crank);
    const sealed = new SealedSegments();
    const crankList = async () =>
      (await new History(SQL, storage, sealed).records()).map((r) => r.lastCrank);

    const segments = (await storage.listLogSegments()).sort((a, b) => a - b);
    expect(segments.length).toBeGreaterThan(1);
    const first = await crankList();
    expect(reads.sort((a, b) => a - b)).toEqual(segments);
    reads.length = 0;
    // Asked again: only the newest segment (the one appends go to) is read.
    expect(await crankList()).toEqual(first);
    expect(reads).toEqual([segments.at(-1)]);
    expect(sealed.size).toBe(segments.length - 1);

    // More records: the new ones are listed, and retention's removals are dropped.
    for (let crank = 4; crank <= 8; crank += 1) await append(crank);
    reads.length = 0;
    const later = await crankList();
    expect(later.at(-1)).toBe(8);
    const now = (await storage.listLogSegments()).sort((a, b) => a - b);
    expect(now[0]).toBeGreaterThan(segments[0] as number);
    expect(sealed.size).toBe(now.length - 1);
    // A fresh reader without the cache reads the same records.
    expect((await new History(SQL, storage).records()).map((r) => r.lastCrank)).toEqual(
      later,
    );
    await durability.close();
    store.close();
    await rm(dir, { recursive: true, force: true });
  });
});
