/**
 * What every DurableStorage must do under kernel/durability: run by each host's storage
 * (files in Node now; IndexedDB in the extension). Corruption is made through the
 * storage's own API, so the suite needs nothing host-specific.
 */
import initSqlJs, { type SqlJsStatic } from 'sql.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  recoverStore,
  RecoveryError,
  SCHEMA_VERSION,
  StoreError,
  type DurabilityOptions,
  type DurableStorage,
  type KernelStore,
  type Durability,
} from '../kernel/index.ts';

export interface StorageFixture {
  /** Opens the same storage again (as a restarted process would). */
  open(): Promise<DurableStorage>;
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
  return durability.append(store.commit(), crank, crank);
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

export function durabilitySuite(
  name: string,
  makeFixture: () => Promise<StorageFixture>,
) {
  describe(`durability over ${name}`, () => {
    beforeAll(async () => {
      SQL = await initSqlJs();
    });

    it('recovers exactly the committed records, in order', async () => {
      const fixture = await makeFixture();
      await writeMany(fixture, 20);
      const { store, durability, report } = await recover(fixture);
      expect(rows(store)).toEqual(expectedAfter(20));
      expect(report).toMatchObject({ recordsReplayed: 20, lastSeq: 20, lastCrank: 20 });
      expect(report.tornTail).toBeUndefined();
      await durability.close();
    });

    it('cuts off a torn record at the end silently, and appends after the good ones', async () => {
      const fixture = await makeFixture();
      await writeMany(fixture, 10);
      const storage = await fixture.open();
      const [segment] = await storage.listLogSegments();
      const bytes = await storage.readLogSegment(segment as number);
      await storage.truncateLogSegment(segment as number, bytes.length - 7);
      await storage.close();
      const { store, durability, report } = await recover(fixture);
      expect(rows(store)).toEqual(expectedAfter(9));
      expect(report.tornTail).toMatchObject({ segment });
      await write(store, durability, 10, { k10: 'again' });
      await durability.close();
      const again = await recover(fixture);
      expect(again.report.tornTail).toBeUndefined();
      expect(rows(again.store)).toMatchObject({ k9: 'v9', k10: 'again' });
      await again.durability.close();
    });

    it('treats a zero-filled tail (a crash after the file grew) as torn', async () => {
      const fixture = await makeFixture();
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
      const fixture = await makeFixture();
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

    it('writes checkpoints as the log grows, dropping the log they include', async () => {
      const fixture = await makeFixture();
      const options = { checkpointMinBytes: 2_000, checkpointRatio: 0 };
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
      const fixture = await makeFixture();
      const options = { checkpointMinBytes: 2_000, checkpointRatio: 0 };
      await writeMany(fixture, 30, options);
      const storage = await fixture.open();
      const [kept] = await storage.listCheckpoints();
      const image = await storage.readCheckpoint(kept as number);
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
      const fixture = await makeFixture();
      const options = { checkpointMinBytes: 2_000, checkpointRatio: 0 };
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

    it('refuses a checkpoint from a newer schema version, naming both versions', async () => {
      const fixture = await makeFixture();
      const options = { checkpointMinBytes: 2_000, checkpointRatio: 0 };
      await writeMany(fixture, 30, options);
      const storage = await fixture.open();
      const [seq] = await storage.listCheckpoints();
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

/** Offsets of the records in a log segment (header: magic, length, crc). */
function recordOffsets(bytes: Uint8Array): number[] {
  const offsets: number[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 12 <= bytes.length; at += 12 + view.getUint32(at + 4, true)) {
    offsets.push(at);
  }
  return offsets;
}
