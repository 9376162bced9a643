/**
 * Durability: the crank log, checkpoints and recovery, over a host's DurableStorage.
 *
 * - Each commit of the store (one crank, or a group of cranks that ran while the previous
 *   write was in flight) becomes one log record holding exactly the rows it changed, so a
 *   commit costs what the change costs, whatever the size of the database.
 * - When the log since the last checkpoint outgrows the database, the whole database is
 *   written as a new checkpoint; the previous checkpoint and the log it needs stay until
 *   the new one is complete.
 * - Recovery opens the newest usable checkpoint and replays the records after it, in
 *   order. A torn record at the very end (a crash mid-write) is cut off silently; any
 *   other unreadable record stops recovery with an error naming where, and nothing after
 *   it is applied.
 *
 * docs/durability.md has the formats and the rules.
 */
import type { SqlJsStatic } from 'sql.js';
import { KernelStore, type RowChange } from '../store/index.ts';
import {
  decodeCheckpoint,
  decodeRecord,
  encodeCheckpoint,
  encodeRecord,
  RECORD_HEADER_BYTES,
} from './format.ts';
import { crc32Chunked } from './crc32.ts';

/** Where a host keeps the log and checkpoints (files in Node, IndexedDB in the browser). */
export interface DurableStorage {
  /** Log seqs of the stored checkpoints, in any order. */
  listCheckpoints(): Promise<number[]>;
  readCheckpoint(seq: number): Promise<Uint8Array>;
  /** Stores a checkpoint atomically: afterwards it is there whole, or not at all. */
  writeCheckpoint(seq: number, bytes: Uint8Array): Promise<void>;
  deleteCheckpoint(seq: number): Promise<void>;
  /** First seqs of the stored log segments, in any order. */
  listLogSegments(): Promise<number[]>;
  readLogSegment(firstSeq: number): Promise<Uint8Array>;
  truncateLogSegment(firstSeq: number, length: number): Promise<void>;
  /** Makes the segment starting at `firstSeq` the one appends go to (creating it). */
  openLogSegment(firstSeq: number): Promise<void>;
  /** Appends to the open segment; resolves once the bytes are durable. */
  appendLog(bytes: Uint8Array): Promise<void>;
  deleteLogSegment(firstSeq: number): Promise<void>;
  /**
   * Keeps bytes that recovery cut from the end of a log segment (a torn write), beside
   * the log, so that a person can look at them; nothing reads them back. Stored whole or
   * not at all; saving the same (segment, offset) again replaces the earlier copy.
   */
  saveCutTail(segment: number, offset: number, bytes: Uint8Array): Promise<void>;
  /** The cut tails kept so far, ordered by segment then offset. */
  listCutTails(): Promise<CutTail[]>;
  close(): Promise<void>;
}

/** Bytes recovery cut from the end of a log segment and kept (DurableStorage.saveCutTail). */
export interface CutTail {
  segment: number;
  /** Where in the segment the cut began. */
  offset: number;
  /** How many bytes were cut. */
  bytes: number;
  /** Where a person finds them (a file path, an IndexedDB store and key). */
  location: string;
}

export class RecoveryError extends Error {
  override name = 'RecoveryError';
}

export interface RecoveryReport {
  /** The checkpoint recovery started from (0: none, an empty database). */
  checkpointSeq: number;
  /** Checkpoints that could not be used, newest first, with why. */
  skippedCheckpoints: Array<{ seq: number; reason: string }>;
  recordsReplayed: number;
  /** The last log record recovered (0 if none). */
  lastSeq: number;
  /** The last crank recovered (0 if none). */
  lastCrank: number;
  /** A torn record at the end of the log that was cut off. */
  tornTail?: { segment: number; offset: number; bytes: number };
}

export interface DurabilityOptions {
  /** No checkpoint before the log since the last one holds this many bytes. */
  checkpointMinBytes?: number;
  /** Checkpoint once the log since the last one exceeds this fraction of its size. */
  checkpointRatio?: number;
  now?: () => number;
  /** Called when a checkpoint starts, after the export, before it is written. */
  onCheckpoint?: (seq: number) => void;
  /** On close, checkpoint if the log since the last checkpoint exceeds this many bytes. */
  closeCheckpointMinBytes?: number;
}

export interface DurabilityStats {
  lastSeq: number;
  lastDurableCrank: number;
  logRecordsSinceCheckpoint: number;
  logBytesSinceCheckpoint: number;
  checkpointSeq: number;
  checkpointBytes: number;
  checkpoints: number;
  /** Longest time the run queue stood still for a checkpoint (the database export), ms. */
  longestCheckpointPauseMs: number;
}

/** Opens the store from durable storage, and the Durability that keeps it durable. */
export async function recoverStore(
  SQL: SqlJsStatic,
  storage: DurableStorage,
  options: DurabilityOptions = {},
): Promise<{ store: KernelStore; durability: Durability; report: RecoveryReport }> {
  const report: RecoveryReport = {
    checkpointSeq: 0,
    skippedCheckpoints: [],
    recordsReplayed: 0,
    lastSeq: 0,
    lastCrank: 0,
  };
  let image: Uint8Array | undefined;
  let checkpointBytes = 0;
  for (const seq of (await storage.listCheckpoints()).sort((a, b) => b - a)) {
    const bytes = await storage.readCheckpoint(seq);
    const decoded = decodeCheckpoint(bytes);
    if (decoded.ok && decoded.seq === seq) {
      image = decoded.image;
      report.checkpointSeq = seq;
      checkpointBytes = bytes.length;
      break;
    }
    report.skippedCheckpoints.push({
      seq,
      reason: decoded.ok ? `its header says seq ${decoded.seq}` : decoded.reason,
    });
  }
  const store = KernelStore.open(SQL, image);
  const segments = (await storage.listLogSegments()).sort((a, b) => a - b);
  const firstNeeded = report.checkpointSeq + 1;
  if (
    report.skippedCheckpoints.length > 0 &&
    report.checkpointSeq === 0 &&
    !segments.includes(1)
  ) {
    const [newest] = report.skippedCheckpoints;
    throw new RecoveryError(
      `no usable checkpoint: checkpoint ${newest?.seq} is ${newest?.reason}, and the crank log does not reach back to the start`,
    );
  }
  let expected = firstNeeded;
  let logBytes = 0;
  for (const [index, first] of segments.entries()) {
    const bytes = await storage.readLogSegment(first);
    const last = index === segments.length - 1;
    let offset = 0;
    while (offset < bytes.length) {
      const decoded = decodeRecord(bytes, offset);
      if (!decoded.ok) {
        if (last && !hasRecordAfter(bytes, offset)) {
          await storage.truncateLogSegment(first, offset);
          report.tornTail = { segment: first, offset, bytes: bytes.length - offset };
          break;
        }
        const reason = decoded.kind === 'short' ? 'it is cut short' : decoded.reason;
        throw new RecoveryError(
          `the crank log is corrupt: segment ${first}, byte ${offset} (the record after seq ${expected - 1}): ${reason}. Records from seq ${expected} on cannot be read, so recovery stopped before them and nothing after them was applied.`,
        );
      }
      const { record } = decoded;
      const size = decoded.end - offset;
      offset = decoded.end;
      if (record.seq < expected) continue; // already in the checkpoint
      if (record.seq !== expected) {
        throw new RecoveryError(
          `the crank log has a gap: expected seq ${expected}, found ${record.seq} in segment ${first}`,
        );
      }
      // One record, one transaction: a record is applied whole or not at all.
      store.beginCrank();
      store.applyChanges(record.changes);
      store.commitCrank();
      store.commit();
      report.recordsReplayed += 1;
      logBytes += size;
      report.lastSeq = record.seq;
      report.lastCrank = record.lastCrank;
      expected += 1;
    }
  }
  if (expected === firstNeeded && report.checkpointSeq > 0) {
    report.lastSeq = report.checkpointSeq;
  }
  const current = segments.at(-1);
  await storage.openLogSegment(current ?? expected);
  const durability = new Durability(storage, store, options, {
    nextSeq: expected,
    checkpointSeq: report.checkpointSeq,
    checkpointBytes,
    segments: current === undefined ? [expected] : segments,
    checkpoints: report.checkpointSeq > 0 ? [report.checkpointSeq] : [],
    lastCrank: report.lastCrank,
    logBytes,
    logRecords: report.recordsReplayed,
  });
  return { store, durability, report };
}

/** True if a well-formed record starts anywhere after `offset`: then it is not a torn tail. */
function hasRecordAfter(bytes: Uint8Array, offset: number): boolean {
  for (let at = offset + 1; at + RECORD_HEADER_BYTES <= bytes.length; at += 1) {
    // Cheap filter on the first magic byte ('C') before a full decode.
    if (bytes[at] === 0x43 && decodeRecord(bytes, at).ok) return true;
  }
  return false;
}

interface DurabilityState {
  nextSeq: number;
  checkpointSeq: number;
  checkpointBytes: number;
  segments: number[];
  checkpoints: number[];
  lastCrank: number;
  logBytes: number;
  logRecords: number;
}

export class Durability {
  readonly #storage: DurableStorage;
  readonly #store: KernelStore;
  readonly #minBytes: number;
  readonly #ratio: number;
  readonly #now: () => number;
  readonly #onCheckpoint: ((seq: number) => void) | undefined;
  readonly #closeCheckpointMinBytes: number;
  #nextSeq: number;
  #segments: number[];
  #checkpoints: number[];
  #checkpointSeq: number;
  #checkpointBytes: number;
  #logBytes: number;
  #logRecords: number;
  #lastDurableCrank: number;
  #longestPause = 0;
  /** Storage operations that must happen in order (appends, segment rotation). */
  #tail: Promise<void> = Promise.resolve();
  #checkpointing: Promise<void> | undefined;
  #failure: unknown;

  constructor(
    storage: DurableStorage,
    store: KernelStore,
    options: DurabilityOptions,
    state: DurabilityState,
  ) {
    this.#storage = storage;
    this.#store = store;
    this.#minBytes = options.checkpointMinBytes ?? 4 * 1024 * 1024;
    this.#ratio = options.checkpointRatio ?? 1;
    this.#now = options.now ?? (() => performance.now());
    this.#onCheckpoint = options.onCheckpoint;
    this.#closeCheckpointMinBytes = options.closeCheckpointMinBytes ?? 64 * 1024;
    this.#nextSeq = state.nextSeq;
    this.#segments = state.segments;
    this.#checkpoints = state.checkpoints;
    this.#checkpointSeq = state.checkpointSeq;
    this.#checkpointBytes = state.checkpointBytes;
    this.#lastDurableCrank = state.lastCrank;
    this.#logBytes = state.logBytes;
    this.#logRecords = state.logRecords;
  }

  /**
   * Appends one record with the changes of a store commit. Call it right after
   * `store.commit()`, with no transaction open (a checkpoint may export the database
   * now). Resolves when the record is durable; records become durable in order.
   */
  append(changes: RowChange[], firstCrank: number, lastCrank: number): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const seq = this.#nextSeq;
    this.#nextSeq += 1;
    const bytes = encodeRecord({ seq, firstCrank, lastCrank, changes });
    this.#logBytes += bytes.length;
    this.#logRecords += 1;
    const durable = this.#serially(() => this.#storage.appendLog(bytes)).then(() => {
      this.#lastDurableCrank = lastCrank;
    });
    if (
      this.#checkpointing === undefined &&
      this.#logBytes > Math.max(this.#minBytes, this.#ratio * this.#checkpointBytes)
    ) {
      this.#checkpointing = this.#checkpoint(seq).finally(() => {
        this.#checkpointing = undefined;
      });
    }
    return durable;
  }

  /** Writes a checkpoint of the database as of record `seq` (already appended). */
  async #checkpoint(seq: number): Promise<void> {
    // The export is the only part that stops the run queue; the rest runs alongside it.
    const started = this.#now();
    const image = this.#store.export();
    this.#longestPause = Math.max(this.#longestPause, this.#now() - started);
    this.#onCheckpoint?.(seq);
    const next = seq + 1;
    const rotated = this.#serially(() => this.#storage.openLogSegment(next));
    this.#segments.push(next);
    this.#logBytes = 0;
    this.#logRecords = 0;
    const bytes = encodeCheckpoint(seq, image, await crc32Chunked(image));
    await this.#storage.writeCheckpoint(seq, bytes);
    await rotated;
    // The new checkpoint is complete: the previous one and the log before it can go.
    this.#checkpointSeq = seq;
    this.#checkpointBytes = bytes.length;
    for (const old of this.#checkpoints) await this.#storage.deleteCheckpoint(old);
    this.#checkpoints = [seq];
    for (const first of this.#segments.filter((s) => s < next)) {
      await this.#storage.deleteLogSegment(first);
    }
    this.#segments = this.#segments.filter((s) => s >= next);
  }

  #serially(op: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(op);
    this.#tail = run.catch((error: unknown) => {
      // A failed write leaves the log in an unknown state: refuse everything after it.
      this.#failure ??= error;
    });
    return run;
  }

  /** Resolves when every append and checkpoint started so far has finished. */
  async settled(): Promise<void> {
    await this.#tail;
    await this.#checkpointing;
    if (this.#failure !== undefined) throw this.#failure;
  }

  stats(): DurabilityStats {
    return {
      lastSeq: this.#nextSeq - 1,
      lastDurableCrank: this.#lastDurableCrank,
      logRecordsSinceCheckpoint: this.#logRecords,
      logBytesSinceCheckpoint: this.#logBytes,
      checkpointSeq: this.#checkpointSeq,
      checkpointBytes: this.#checkpointBytes,
      checkpoints: this.#checkpoints.length,
      longestCheckpointPauseMs: this.#longestPause,
    };
  }

  /**
   * Finishes pending writes and closes the storage. Call it with the store idle (no
   * transaction open). If the log since the last checkpoint holds more than
   * `closeCheckpointMinBytes`, a checkpoint is written first, so the next start opens an
   * image instead of replaying the log.
   */
  async close(): Promise<void> {
    const failed = await this.settled().then(
      () => false,
      () => true,
    );
    if (
      !failed &&
      this.#logBytes > this.#closeCheckpointMinBytes &&
      !this.#store.hasUncommitted
    ) {
      // Best effort: without it the next start replays the log, which is just as correct.
      await this.#checkpoint(this.#nextSeq - 1).catch((error: unknown) => {
        console.error('cask: no checkpoint at close:', error);
      });
    }
    await this.#storage.close();
  }
}

export { CommitGate, type CommitGateOptions, type CommitLog } from './commit-gate.ts';
export { crc32 } from './crc32.ts';
export {
  StateFileError,
  checkStateFile,
  exportStateFile,
  installStateImage,
} from './state-file.ts';
