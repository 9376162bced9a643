/**
 * What every DurableStorage must do under kernel/durability: run by each host's storage
 * (files in Node, IndexedDB in the browser). Corruption is made through the storage's
 * own API and faults are injected around it (fixtures/faulty-storage.ts), so the suite
 * needs nothing host-specific.
 */
import initSqlJs, { type SqlJsStatic } from 'sql.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  faultyStorage,
  type FaultKind,
  type FaultPlan,
} from './fixtures/faulty-storage.ts';
import {
  History,
  KernelStore,
  readStore,
  recoverStore,
  RecoveryError,
  SCHEMA_VERSION,
  StoreError,
  type DurabilityOptions,
  type DurableStorage,
  type Durability,
} from '../kernel/index.ts';

export interface StorageFixture {
  /** Opens the same storage again (as a restarted process would). */
  open(): Promise<DurableStorage>;
  /** Removes what the fixture made (a directory, a database). */
  dispose?(): Promise<void>;
}

let SQL: SqlJsStatic;

async function recover(fixture: StorageFixture, options?: DurabilityOptions) {
  const storage = await fixture.open();
  try {
    const recovered = await recoverStore(SQL, storage, options);
    return { ...recovered, storage };
  } catch (error) {
    await storage.close();
    throw error;
  }
}

/** Commits one crank that sets `key` to `value` in vat v1's vatstore, and logs it. */
function write(
  store: KernelStore,
  durability: Durability,
  crank: number,
  entries: Record<string, string | null>,
): Promise<void> {
  store.beginCrank();
  for (const [key, value] of Object.entries(entries)) {
    if (value === null) store.delete('vatstore', ['v1', key]);
    else store.put('vatstore', ['v1', key, value]);
  }
  store.put('counters', ['crank', crank + 1]);
  store.commitCrank();
  return durability.append(store.takeChanges(), crank, crank);
}

const rows = (store: KernelStore) =>
  Object.fromEntries(
    store
      .all("SELECT key, value FROM vatstore WHERE vat_id = 'v1' ORDER BY key")
      .map(([k, v]) => [String(k), String(v)]),
  );

async function writeMany(
  fixture: StorageFixture,
  count: number,
  options?: DurabilityOptions,
) {
  const { store, durability } = await recover(fixture, options);
  for (let i = 1; i <= count; i += 1) {
    await write(store, durability, i, {
      [`k${i}`]: `v${i}`,
      ...(i > 1 ? { [`k${i - 1}`]: `w${i - 1}` } : {}),
    });
  }
  await durability.close();
  store.close();
}

const expectedAfter = (n: number) => {
  const out: Record<string, string> = {};
  for (let i = 1; i <= n; i += 1) out[`k${i}`] = i === n ? `v${i}` : `w${i}`;
  return out;
};

/** The vatstore holds exactly the state after some number of writes: which. */
function writesIn(store: KernelStore): number {
  const found = rows(store);
  const n = Object.keys(found).length;
  expect(found, 'the recovered state is the state after a prefix of the writes').toEqual(
    expectedAfter(n),
  );
  return n;
}

/**
 * Runs `count` writes through a storage that faults as planned (checkpoints every few
 * records, so their steps are among the operations); resolves to how many writes were
 * acknowledged (their append resolved) before the fault stopped the log.
 */
async function writeThroughFault(
  fixture: StorageFixture,
  count: number,
  plan: FaultPlan | undefined,
  options: DurabilityOptions = CHECKPOINT_OFTEN,
): Promise<{ acked: number; ops: string[] }> {
  const storage = faultyStorage(await fixture.open(), plan);
  let acked = 0;
  let recovered;
  try {
    recovered = await recoverStore(SQL, storage, options);
  } catch {
    await storage.close();
    return { acked, ops: storage.ops };
  }
  const { store, durability } = recovered;
  for (let i = 1; i <= count; i += 1) {
    try {
      await write(store, durability, i, {
        [`k${i}`]: `v${i}`,
        ...(i > 1 ? { [`k${i - 1}`]: `w${i - 1}` } : {}),
      });
      acked = i;
    } catch {
      break;
    }
  }
  await durability.close().catch(() => undefined);
  store.close();
  return { acked, ops: storage.ops };
}

const NO_CLOSE_CHECKPOINT: DurabilityOptions = { closeCheckpointMinBytes: Infinity };

const CHECKPOINT_OFTEN: DurabilityOptions = {
  checkpointMinBytes: 700,
  checkpointRatio: 0,
  closeCheckpointMinBytes: Infinity,
};

export function durabilitySuite(
  name: string,
  makeFixture: () => Promise<StorageFixture>,
) {
  describe(`durability over ${name}`, () => {
    const made: StorageFixture[] = [];
    const newFixture = async () => {
      const f = await makeFixture();
      made.push(f);
      return f;
    };
    beforeAll(async () => {
      SQL = await initSqlJs();
    });
    afterEach(async () => {
      for (const f of made.splice(0)) await f.dispose?.();
    });

    it('recovers exactly the committed records, in order', async () => {
      const fixture = await newFixture();
      await writeMany(fixture, 20);
      const { store, durability, report } = await recover(fixture);
      expect(rows(store)).toEqual(expectedAfter(20));
      expect(report).toMatchObject({ recordsReplayed: 20, lastSeq: 20, lastCrank: 20 });
      expect(report.tornTail).toBeUndefined();
      await durability.close();
    });

    it('cuts a torn record off the end, keeps its bytes beside the log, reports it, and appends after the good ones', async () => {
      const fixture = await newFixture();
      await writeMany(fixture, 10);
      const storage = await fixture.open();
      const [segment] = await storage.listLogSegments();
      const bytes = await storage.readLogSegment(segment as number);
      const offsets = recordOffsets(bytes);
      const lastRecord = offsets.at(-1) as number;
      await storage.truncateLogSegment(segment as number, bytes.length - 7);
      await storage.close();
      const { store, durability, report } = await recover(fixture);
      expect(rows(store)).toEqual(expectedAfter(9));
      expect(report.tornTail).toMatchObject({
        segment,
        offset: lastRecord,
        bytes: bytes.length - 7 - lastRecord,
        why: 'a record cut short',
        cut: { segment, offset: lastRecord, bytes: bytes.length - 7 - lastRecord },
      });
      expect(report.tornTail?.cut?.location).toBeTruthy();
      expect(await durability.stats().lastSeq).toBe(9);
      await write(store, durability, 10, { k10: 'again' });
      await durability.close();
      const again = await recover(fixture);
      expect(again.report.tornTail).toBeUndefined();
      expect(rows(again.store)).toMatchObject({ k9: 'v9', k10: 'again' });
      await again.durability.close();
    });

    it('treats a zero-filled tail (a crash after the file grew) as torn', async () => {
      const fixture = await newFixture();
      await writeMany(fixture, 5);
      const storage = await fixture.open();
      const segments = await storage.listLogSegments();
      await storage.openLogSegment(Math.max(...segments));
      await storage.appendLog(new Uint8Array(300));
      await storage.close();
      const { store, durability, report } = await recover(fixture);
      expect(rows(store)).toEqual(expectedAfter(5));
      expect(report.tornTail?.bytes).toBe(300);
      await durability.close();
    });

    it('refuses a log with a flipped byte in the middle, naming where, applying nothing after it', async () => {
      const fixture = await newFixture();
      await writeMany(fixture, 10);
      const storage = await fixture.open();
      const [segment] = await storage.listLogSegments();
      const original = await storage.readLogSegment(segment as number);
      const bytes = new Uint8Array(original);
      // A byte inside the payload of the 4th record.
      const offsets = recordOffsets(bytes);
      const at = (offsets[3] as number) + 20;
      bytes[at] = (bytes[at] as number) ^ 0xff;
      await storage.deleteLogSegment(segment as number);
      await storage.openLogSegment(segment as number);
      await storage.appendLog(bytes);
      await storage.close();
      const attempt = recover(fixture);
      await expect(attempt).rejects.toThrow(RecoveryError);
      await expect(attempt).rejects.toThrow(
        new RegExp(
          `segment ${segment}, byte ${offsets[3]} \\(the record after seq 3\\): checksum mismatch`,
          'u',
        ),
      );
      // Refusing changed nothing: the same error again, the same bytes in storage.
      await expect(recover(fixture)).rejects.toThrow(/record after seq 3/u);
      const check = await fixture.open();
      expect(await check.readLogSegment(segment as number)).toEqual(bytes);
      await check.close();
    });

    it('skims the records its checkpoint holds (a damaged one there is history, not state) and checks every one after it', async () => {
      const fixture = await newFixture();
      // A checkpoint at seq 10 with records 1–10 before it in the same segment, then 11, 12.
      await writeMany(fixture, 10, { closeCheckpointMinBytes: 0 });
      {
        const { store, durability } = await recover(fixture, NO_CLOSE_CHECKPOINT);
        await write(store, durability, 11, { k11: 'v11', k10: 'w10' });
        await write(store, durability, 12, { k12: 'v12', k11: 'w11' });
        await durability.close();
        store.close();
      }
      const storage = await fixture.open();
      expect(await storage.listCheckpoints()).toEqual([10]);
      const [segment] = await storage.listLogSegments();
      const original = await storage.readLogSegment(segment as number);
      const offsets = recordOffsets(original);
      expect(offsets).toHaveLength(12);
      const flipped = (record: number) => {
        const bytes = new Uint8Array(original);
        const at = (offsets[record - 1] as number) + 12 + 40;
        bytes[at] = (bytes[at] as number) ^ 0xff;
        return bytes;
      };
      const install = async (bytes: Uint8Array) => {
        const s = await fixture.open();
        await s.deleteLogSegment(segment as number);
        await s.openLogSegment(segment as number);
        await s.appendLog(bytes);
        await s.close();
      };
      await storage.close();

      await install(flipped(4));
      // (Closed without a checkpoint: record 11 must stay after the checkpoint.)
      const { store, durability, report } = await recover(fixture, NO_CLOSE_CHECKPOINT);
      expect(rows(store)).toEqual(expectedAfter(12));
      expect(report).toMatchObject({
        checkpointSeq: 10,
        recordsReplayed: 2,
        lastSeq: 12,
      });
      await durability.close();
      store.close();

      // Record 11 is state: a flipped byte there is refused as before. (The segment's last
      // record, 12, would read as a torn write.)
      await install(flipped(11));
      await expect(recover(fixture)).rejects.toThrow(
        new RegExp(
          `byte ${offsets[10]} \\(the record after seq 10\\): checksum mismatch`,
          'u',
        ),
      );
    });

    it('refuses a segment zero-filled from its start (not a torn write), changing nothing', async () => {
      const fixture = await newFixture();
      await writeMany(fixture, 6);
      const storage = await fixture.open();
      const [segment] = await storage.listLogSegments();
      const length = (await storage.readLogSegment(segment as number)).length;
      await storage.deleteLogSegment(segment as number);
      await storage.openLogSegment(segment as number);
      await storage.appendLog(new Uint8Array(length));
      await storage.close();
      await expect(recover(fixture)).rejects.toThrow(
        new RegExp(
          `log segment ${segment} is damaged: all of its ${length} bytes are zeros`,
          'u',
        ),
      );
      const check = await fixture.open();
      expect((await check.readLogSegment(segment as number)).length).toBe(length);
      expect(await check.listCutTails()).toEqual([]);
      await check.close();
    });

    it('refuses bytes at the end that are not a torn record, changing nothing', async () => {
      const fixture = await newFixture();
      await writeMany(fixture, 4);
      const storage = await fixture.open();
      const [segment] = await storage.listLogSegments();
      const before = await storage.readLogSegment(segment as number);
      await storage.openLogSegment(segment as number);
      await storage.appendLog(new TextEncoder().encode('not a record, not zeros'));
      await storage.close();
      await expect(recover(fixture)).rejects.toThrow(
        /the crank log is corrupt: .*\(not a torn write: bytes that are not a record\)/u,
      );
      const check = await fixture.open();
      expect((await check.readLogSegment(segment as number)).length).toBe(
        before.length + 23,
      );
      await check.close();
    });

    it('refuses a record written twice (two writers), naming the seq', async () => {
      const fixture = await newFixture();
      await writeMany(fixture, 5);
      const storage = await fixture.open();
      const [segment] = await storage.listLogSegments();
      const bytes = await storage.readLogSegment(segment as number);
      const last = recordOffsets(bytes).at(-1) as number;
      await storage.openLogSegment(segment as number);
      await storage.appendLog(bytes.slice(last));
      await storage.close();
      await expect(recover(fixture)).rejects.toThrow(
        /the crank log repeats itself: segment \d+, byte \d+ holds seq 5 after seq 5/u,
      );
    });

    it('refuses a log that does not connect to a checkpoint (the checkpoint was deleted)', async () => {
      const fixture = await newFixture();
      await writeMany(fixture, 30, CHECKPOINT_OFTEN);
      const storage = await fixture.open();
      for (const seq of await storage.listCheckpoints())
        await storage.deleteCheckpoint(seq);
      const segments = await storage.listLogSegments();
      await storage.close();
      await expect(recover(fixture)).rejects.toThrow(
        new RegExp(
          `the crank log does not connect to the start: it begins at seq ${Math.min(...segments)}`,
          'u',
        ),
      );
    });

    it('reads the store without changing a byte (readStore): a torn tail is reported, not cut', async () => {
      const fixture = await newFixture();
      await writeMany(fixture, 6);
      const storage = await fixture.open();
      const [segment] = await storage.listLogSegments();
      const bytes = await storage.readLogSegment(segment as number);
      await storage.truncateLogSegment(segment as number, bytes.length - 3);
      const { store, report } = await readStore(SQL, storage);
      expect(rows(store)).toEqual(expectedAfter(5));
      expect(report.tornTail).toMatchObject({ segment, why: 'a record cut short' });
      expect(report.tornTail?.cut).toBeUndefined();
      store.close();
      expect((await storage.readLogSegment(segment as number)).length).toBe(
        bytes.length - 3,
      );
      expect(await storage.listCutTails()).toEqual([]);
      await storage.close();
    });

    for (const kind of ['enospc', 'eio', 'short', 'unsynced'] as const) {
      it(`a failed append (${kind}) acknowledges nothing more; the next start resumes at the last durable record`, async () => {
        const fixture = await newFixture();
        // Op 1 opens the first segment, op 2 writes its header: fault the 6th append.
        const { acked, ops } = await writeThroughFault(fixture, 10, { at: 8, kind }, {});
        expect(ops[7]).toMatch(/^appendLog/u);
        expect(acked).toBe(5);
        const { store, durability, report } = await recover(fixture);
        const n = writesIn(store);
        expect(n).toBeGreaterThanOrEqual(acked);
        // Bytes of a half-written record are cut and kept; an unsynced whole one is kept.
        if (kind === 'short') expect(report.tornTail?.cut).toBeDefined();
        expect(n).toBe(kind === 'unsynced' ? 6 : 5);
        await write(store, durability, n + 1, {
          [`k${n + 1}`]: `v${n + 1}`,
          [`k${n}`]: `w${n}`,
        });
        await durability.close();
        const again = await recover(fixture);
        expect(writesIn(again.store)).toBe(n + 1);
        await again.durability.close();
      });
    }

    it('a failed checkpoint stops the log: later appends are refused, nothing is lost', async () => {
      const fixture = await newFixture();
      const probe = await writeThroughFault(await newFixture(), 12, undefined);
      const first = probe.ops.findIndex((op) => op.startsWith('writeCheckpoint')) + 1;
      expect(first).toBeGreaterThan(0);
      const { acked } = await writeThroughFault(fixture, 12, {
        at: first,
        kind: 'enospc',
      });
      expect(acked).toBeLessThan(12);
      const { store, durability } = await recover(fixture);
      expect(writesIn(store)).toBeGreaterThanOrEqual(acked);
      await durability.close();
    });

    it('survives a crash before, during and after every step of appends and checkpoints', async () => {
      const writes = 12;
      const probe = await writeThroughFault(await newFixture(), writes, undefined);
      expect(
        probe.ops.filter((op) => op.startsWith('writeCheckpoint')).length,
      ).toBeGreaterThan(1);
      expect(
        probe.ops.filter((op) => op.startsWith('deleteLogSegment')).length,
      ).toBeGreaterThan(0);
      const kinds: FaultKind[] = ['crash-before', 'crash-after', 'crash-during'];
      let crashes = 0;
      for (let at = 1; at <= probe.ops.length; at += 1) {
        for (const kind of kinds) {
          if (kind === 'crash-during' && !probe.ops[at - 1]?.startsWith('appendLog'))
            continue;
          const fixture = await newFixture();
          const where = `${kind} at op ${at}, ${probe.ops[at - 1]}`;
          const { acked } = await writeThroughFault(fixture, writes, { at, kind });
          const { store, durability } = await recover(fixture, CHECKPOINT_OFTEN).catch(
            (error: unknown) => {
              throw new Error(`${where}: recovery failed: ${String(error)}`);
            },
          );
          const n = writesIn(store);
          expect(n, where).toBeGreaterThanOrEqual(acked);
          // And the log goes on from there.
          await write(store, durability, n + 1, {
            [`k${n + 1}`]: `v${n + 1}`,
            ...(n > 0 ? { [`k${n}`]: `w${n}` } : {}),
          });
          await durability.close();
          const again = await recover(fixture, CHECKPOINT_OFTEN);
          expect(writesIn(again.store), where).toBe(n + 1);
          await again.durability.close();
          crashes += 1;
          // Each fixture is disposed as soon as it is checked.
          await made.pop()?.dispose?.();
        }
      }
      expect(crashes).toBeGreaterThan(probe.ops.length * 2);
    }, 120_000);

    it("survives a crash before, during and after every step of a restore's install: the old state, or the new one with its restore in the log", async () => {
      /** Six writes, then a restore to a state holding three, through `plan`. */
      const restoreThroughFault = async (fixture: StorageFixture, plan?: FaultPlan) => {
        await writeMany(fixture, 6, NO_CLOSE_CHECKPOINT);
        const storage = faultyStorage(await fixture.open(), plan);
        const { store, durability } = await recoverStore(
          SQL,
          storage,
          NO_CLOSE_CHECKPOINT,
        );
        const restored = KernelStore.open(SQL);
        restored.beginCrank();
        for (const [k, v] of Object.entries(expectedAfter(3))) {
          restored.put('vatstore', ['v1', k, v]);
        }
        restored.put('counters', ['crank', 8]);
        restored.commitCrank();
        restored.takeChanges();
        const image = restored.export();
        restored.close();
        await durability
          .installRestore(image, 7, { crank: 3, seq: 3 })
          .catch(() => undefined);
        await durability.close().catch(() => undefined);
        store.close();
        await storage.close().catch(() => undefined);
        return storage.ops;
      };
      const probe = await restoreThroughFault(await newFixture());
      expect(probe.some((op) => op.startsWith('writeCheckpoint'))).toBe(true);
      const kinds: FaultKind[] = ['crash-before', 'crash-after', 'crash-during'];
      const seen = { old: 0, new: 0 };
      for (let at = 1; at <= probe.length; at += 1) {
        for (const kind of kinds) {
          if (kind === 'crash-during' && !probe[at - 1]?.startsWith('appendLog'))
            continue;
          const where = `${kind} at op ${at}, ${probe[at - 1]}`;
          const fixture = await newFixture();
          await restoreThroughFault(fixture, { at, kind });
          const { store, durability, storage, report } = await recover(fixture);
          const n = writesIn(store);
          expect([3, 6], where).toContain(n);
          const restores = (await new History(SQL, storage).commits()).filter(
            (c) => c.restore,
          );
          // The restore is in the log exactly when it is the state.
          expect(
            restores.map((c) => c.restore),
            where,
          ).toEqual(n === 3 ? [{ crank: 3, seq: 3 }] : []);
          if (n === 3) seen.new += 1;
          else seen.old += 1;
          if (report.restoreCompleted) {
            expect(report.restoreCompleted, where).toEqual({
              seq: report.checkpointSeq,
              crank: 7,
              written: true,
            });
          }
          // And the log goes on after it, across another recovery.
          await write(store, durability, 9, { k9: 'v9' });
          await durability.close();
          store.close();
          const again = await recover(fixture);
          expect(rows(again.store), where).toEqual({
            ...expectedAfter(n),
            k9: 'v9',
          });
          await again.durability.close();
          again.store.close();
          await made.pop()?.dispose?.();
        }
      }
      expect(seen.old).toBeGreaterThan(0);
      expect(seen.new).toBeGreaterThan(0);
    }, 120_000);

    it('writes checkpoints as the log grows, dropping the log they include', async () => {
      const fixture = await newFixture();
      const options = {
        checkpointMinBytes: 2_000,
        checkpointRatio: 0,
        retention: { keepCheckpoints: 1 },
      };
      await writeMany(fixture, 60, options);
      const storage = await fixture.open();
      const checkpoints = await storage.listCheckpoints();
      const segments = await storage.listLogSegments();
      await storage.close();
      expect(checkpoints).toHaveLength(1);
      // Only segments after the checkpoint remain.
      expect(Math.min(...segments)).toBeGreaterThan(checkpoints[0] as number);
      const { store, durability, report } = await recover(fixture, options);
      expect(report.checkpointSeq).toBe(checkpoints[0]);
      expect(rows(store)).toEqual(expectedAfter(60));
      expect(durability.stats().longestCheckpointPauseMs).toBe(0); // no checkpoint yet in this run
      await durability.close();
    });

    it('falls back to the previous checkpoint when the newest is truncated', async () => {
      const fixture = await newFixture();
      const options = { checkpointMinBytes: 2_000, checkpointRatio: 0 };
      await writeMany(fixture, 30, options);
      const storage = await fixture.open();
      const kept = Math.max(...(await storage.listCheckpoints()));
      const image = await storage.readCheckpoint(kept);
      // A newer checkpoint that never finished (as a non-atomic store might leave it).
      await storage.writeCheckpoint(1_000, image.subarray(0, image.length >> 1));
      await storage.close();
      const { store, durability, report } = await recover(fixture, options);
      expect(report.checkpointSeq).toBe(kept);
      expect(report.skippedCheckpoints).toEqual([
        { seq: 1_000, reason: expect.stringMatching(/^truncated/u) },
      ]);
      expect(rows(store)).toEqual(expectedAfter(30));
      await durability.close();
    });

    it('refuses to start when the only checkpoint is truncated and the log does not reach back', async () => {
      const fixture = await newFixture();
      const options = {
        checkpointMinBytes: 2_000,
        checkpointRatio: 0,
        retention: { keepCheckpoints: 1 },
      };
      await writeMany(fixture, 30, options);
      const storage = await fixture.open();
      const [seq] = await storage.listCheckpoints();
      const image = await storage.readCheckpoint(seq as number);
      await storage.writeCheckpoint(seq as number, image.subarray(0, 100));
      await storage.close();
      await expect(recover(fixture, options)).rejects.toThrow(
        /no usable checkpoint: checkpoint \d+ is truncated/u,
      );
    });

    it('recovers when a checkpoint was written while its last record was torn, and a crash then kept the old segments and checkpoints (found by SIGKILL at every step)', async () => {
      const fixture = await newFixture();
      await writeMany(fixture, 8);
      // Checkpoint 8 reached the disk, record 8 did not: the segment ends at seq 7.
      const storage = await fixture.open();
      const { store } = await readStore(SQL, storage);
      const image = store.export();
      store.close();
      const { encodeCheckpoint } = await import('../kernel/durability/format.ts');
      const { crc32 } = await import('../kernel/durability/crc32.ts');
      await storage.writeCheckpoint(8, encodeCheckpoint(8, image, crc32(image)));
      const [segment] = await storage.listLogSegments();
      const bytes = await storage.readLogSegment(segment as number);
      await storage.truncateLogSegment(
        segment as number,
        recordOffsets(bytes).at(-1) as number,
      );
      await storage.close();
      // The next life writes on, checkpointing, and dies before deleting anything old.
      const keepAll = await fixture.open();
      // A storage whose deletions never happen (methods bound: it may be a class).
      const undeleting: DurableStorage = {
        listCheckpoints: () => keepAll.listCheckpoints(),
        readCheckpoint: (seq) => keepAll.readCheckpoint(seq),
        writeCheckpoint: (seq, b) => keepAll.writeCheckpoint(seq, b),
        deleteCheckpoint: async () => undefined,
        listLogSegments: () => keepAll.listLogSegments(),
        readLogSegment: (first) => keepAll.readLogSegment(first),
        truncateLogSegment: (first, n) => keepAll.truncateLogSegment(first, n),
        openLogSegment: (first) => keepAll.openLogSegment(first),
        appendLog: (b) => keepAll.appendLog(b),
        deleteLogSegment: async () => undefined,
        saveCutTail: (seg, off, b) => keepAll.saveCutTail(seg, off, b),
        listCutTails: () => keepAll.listCutTails(),
        close: () => keepAll.close(),
      };
      const life = await recoverStore(SQL, undeleting, CHECKPOINT_OFTEN);
      expect(writesIn(life.store)).toBe(8);
      for (let i = 9; i <= 20; i += 1) {
        await write(life.store, life.durability, i, {
          [`k${i}`]: `v${i}`,
          [`k${i - 1}`]: `w${i - 1}`,
        });
      }
      await life.durability.close();
      life.store.close();
      const left = await fixture.open();
      expect((await left.listCheckpoints()).length).toBeGreaterThan(2);
      expect((await left.listLogSegments()).length).toBeGreaterThan(2);
      await left.close();
      // It recovers, and its next checkpoint deletes every older checkpoint and segment
      // the retention policy does not keep (by default the newest two checkpoints and the
      // log from the older one on).
      const { store: after, durability } = await recover(fixture, CHECKPOINT_OFTEN);
      expect(writesIn(after)).toBe(20);
      for (let i = 21; i <= 30; i += 1) {
        await write(after, durability, i, {
          [`k${i}`]: `v${i}`,
          [`k${i - 1}`]: `w${i - 1}`,
        });
      }
      await durability.close();
      after.close();
      const check = await fixture.open();
      const kept = await check.listCheckpoints();
      expect(kept).toHaveLength(2);
      expect(Math.min(...(await check.listLogSegments()))).toBe(Math.min(...kept) + 1);
      await check.close();
      const again = await recover(fixture);
      expect(writesIn(again.store)).toBe(30);
      await again.durability.close();
    });

    it('refuses a checkpoint from a newer schema version, naming both versions', async () => {
      const fixture = await newFixture();
      const options = { checkpointMinBytes: 2_000, checkpointRatio: 0 };
      await writeMany(fixture, 30, options);
      const storage = await fixture.open();
      const seq = Math.max(...(await storage.listCheckpoints()));
      const db = new SQL.Database();
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
      const { encodeCheckpoint } = await import('../kernel/durability/format.ts');
      const { crc32 } = await import('../kernel/durability/crc32.ts');
      const image = db.export();
      await storage.writeCheckpoint(
        seq as number,
        encodeCheckpoint(seq as number, image, crc32(image)),
      );
      await storage.close();
      const attempt = recover(fixture, options);
      await expect(attempt).rejects.toThrow(StoreError);
      await expect(attempt).rejects.toThrow(
        `schema version ${SCHEMA_VERSION + 1}, newer than this Cask's ${SCHEMA_VERSION}`,
      );
    });
  });
}

/**
 * Offsets of the records in a log segment, after its 16-byte segment header (a record's
 * own header: magic, length, crc).
 */
function recordOffsets(bytes: Uint8Array): number[] {
  const offsets: number[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 16; at + 12 <= bytes.length; at += 12 + view.getUint32(at + 4, true)) {
    offsets.push(at);
  }
  return offsets;
}
