/**
 * The crank log and checkpoints as they are written: one record per commit of the gate,
 * appended in order, and from time to time a checkpoint of the whole database after which
 * the log before it is dropped.
 *
 * A write that fails (a short write, ENOSPC, EIO, a failed sync, a refused transaction)
 * is final: nothing after it is appended, every later append rejects with it, and the
 * kernel stops on it. What storage holds then is a prefix of what was committed, and the
 * next start resumes from it.
 */
import type { KernelStore, RowChange } from '../store/index.ts';
import type { CheckpointImageBuilder, CheckpointJob } from './checkpoint-image.ts';
import { crc32Chunked } from './crc32.ts';
import {
  decodeRecord,
  decodeSegmentStart,
  encodeCheckpoint,
  encodeRecord,
  encodeSegmentHeader,
  SEGMENT_HEADER_BYTES,
  type CrankNote,
  type LogRecord,
} from './format.ts';
import { planRetention, type RetentionPolicy } from './retention.ts';
import type { DurableStorage } from './storage.ts';

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
  /** What history is kept when a checkpoint is taken (./retention.ts). */
  retention?: RetentionPolicy;
  /** The wall clock records are stamped with (ms since the epoch); Date.now by default. */
  clock?: () => number;
  /**
   * Builds a checkpoint's image away from the kernel's thread (./checkpoint-image.ts), so
   * that the run queue does not stop for the export. Without it (or once it failed), the
   * store is exported in this thread. The checkpoint at close is always exported here.
   */
  buildImage?: CheckpointImageBuilder | undefined;
  /**
   * A database smaller than this is exported in this thread even with a builder: its
   * export costs less than a worker's start (a few ms under 4 MiB, the default).
   */
  buildImageMinBytes?: number;
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
  /** The write that failed, if one did (the kernel stopped on it). */
  failure?: string;
}

/** Where recovery left the log, for the Durability that goes on from there. */
export interface DurabilityState {
  /**
   * The segment appends go to, opened (and given a header, if it has none) at the first
   * append: a kernel that appends nothing changes nothing in storage.
   */
  segment: { first: number; needsHeader: boolean };
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
  readonly #retention: RetentionPolicy | undefined;
  readonly #clock: () => number;
  #buildImage: CheckpointImageBuilder | undefined;
  readonly #buildImageMinBytes: number;
  #nextSeq: number;
  #segments: number[];
  #checkpoints: number[];
  /** When each checkpoint's state was current (or a later time), for an age policy. */
  readonly #checkpointTimes = new Map<number, number>();
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
  /** The segment to open before the first append, if none is open yet. */
  #toOpen: { first: number; needsHeader: boolean } | undefined;
  /** Whether this Durability appended anything (a checkpoint at close is then worth it). */
  #appended = false;
  /** A restore replaced the state this log was writing (installRestore). */
  #replaced = false;

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
    this.#retention = options.retention;
    this.#clock = options.clock ?? Date.now;
    this.#buildImage = options.buildImage;
    this.#buildImageMinBytes = options.buildImageMinBytes ?? 4 * 1024 * 1024;
    this.#toOpen = state.segment;
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
   * Appends one record with the changes the gate took from the store. Resolves when the
   * record is durable; records become durable in order. With `betweenCranks` (no crank
   * open, nothing committed but not appended), a checkpoint that is due starts now: the
   * export then holds exactly the records appended so far.
   */
  append(
    changes: RowChange[],
    firstCrank: number,
    lastCrank: number,
    {
      betweenCranks = true,
      cranks,
    }: { betweenCranks?: boolean; cranks?: CrankNote[] } = {},
  ): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#replaced) {
      return Promise.reject(new Error('append: a restore replaced this log'));
    }
    const seq = this.#nextSeq;
    this.#nextSeq += 1;
    const bytes = encodeRecord({
      seq,
      firstCrank,
      lastCrank,
      changes,
      time: this.#clock(),
      ...(cranks ? { cranks } : {}),
    });
    this.#logBytes += bytes.length;
    this.#logRecords += 1;
    this.#appended = true;
    const toOpen = this.#toOpen;
    this.#toOpen = undefined;
    const durable = this.#serially(async () => {
      if (toOpen) {
        await this.#storage.openLogSegment(toOpen.first);
        if (toOpen.needsHeader)
          await this.#storage.appendLog(encodeSegmentHeader(toOpen.first));
      }
      await this.#storage.appendLog(bytes);
    }).then(() => {
      this.#lastDurableCrank = lastCrank;
    });
    if (
      betweenCranks &&
      this.#checkpointing === undefined &&
      this.#logBytes > Math.max(this.#minBytes, this.#ratio * this.#checkpointBytes)
    ) {
      this.#checkpointing = this.#checkpoint(seq)
        .catch((error: unknown) => this.#failed(error, `checkpoint ${seq}`))
        .finally(() => {
          this.#checkpointing = undefined;
        });
    }
    return durable;
  }

  /**
   * Writes a checkpoint of the database as of record `seq` (already appended). While the
   * kernel runs, appends move to a new segment first, so they go on while the checkpoint
   * is written; at close nothing more is appended, and the next start opens a segment.
   */
  async #checkpoint(
    seq: number,
    { rotate = true }: { rotate?: boolean } = {},
  ): Promise<void> {
    // The export is the only part that stops the run queue; the rest runs alongside it.
    // With a builder nothing stops it: the image is rebuilt elsewhere from storage.
    const build =
      rotate && this.#store.databaseBytes() >= this.#buildImageMinBytes
        ? this.#buildImage
        : undefined;
    const started = this.#now();
    this.#checkpointTimes.set(seq, this.#clock());
    let image = build ? undefined : this.#store.export();
    this.#longestPause = Math.max(this.#longestPause, this.#now() - started);
    this.#onCheckpoint?.(seq);
    const logBytes = this.#logBytes;
    const next = seq + 1;
    const rotated = rotate
      ? this.#serially(async () => {
          await this.#storage.openLogSegment(next);
          await this.#storage.appendLog(encodeSegmentHeader(next));
        })
      : Promise.resolve();
    if (rotate) {
      this.#segments.push(next);
      this.#toOpen = undefined;
    }
    this.#logBytes = 0;
    this.#logRecords = 0;
    if (build) {
      // The rotation follows record seq's append: once it is done, seq is in storage.
      await rotated;
      try {
        image = await build(await this.#jobFor(seq));
      } catch (error) {
        // Not the log's failure: the kernel goes on, and the next checkpoint (due at once,
        // as the log still counts since the last one) is exported in this thread.
        this.#buildImage = undefined;
        this.#logBytes += logBytes;
        this.#checkpointTimes.delete(seq);
        console.error(
          `cask: warning: checkpoint ${seq} could not be built away from the kernel's thread (${error instanceof Error ? error.message : String(error)}); checkpoints are exported in it from now on`,
        );
        return;
      }
    }
    if (!image) throw new Error(`checkpoint ${seq}: no image`);
    const bytes = encodeCheckpoint(seq, image, await crc32Chunked(image));
    await this.#storage.writeCheckpoint(seq, bytes);
    await rotated;
    // The new checkpoint is complete: what the retention policy no longer keeps can go.
    this.#checkpointSeq = seq;
    this.#checkpointBytes = bytes.length;
    if (!this.#checkpoints.includes(seq)) this.#checkpoints.push(seq);
    await this.#enforceRetention();
  }

  /** The stored files a checkpoint at `seq` is rebuilt from (the retained newest checkpoint and the log after it). */
  async #jobFor(seq: number): Promise<CheckpointJob> {
    const base = this.#checkpoints
      .filter((c) => c < seq)
      .reduce((a, b) => Math.max(a, b), 0);
    const segments = [...this.#segments].sort((a, b) => a - b).filter((s) => s <= seq);
    const from = segments.filter((s) => s <= base + 1).at(-1) ?? segments[0] ?? 0;
    const job: CheckpointJob = { seq, segments: [] };
    if (base > 0)
      job.checkpoint = { seq: base, bytes: await this.#storage.readCheckpoint(base) };
    for (const first of segments.filter((s) => s >= from)) {
      job.segments.push({ first, bytes: await this.#storage.readLogSegment(first) });
    }
    return job;
  }

  /**
   * Deletes the checkpoints and segments the policy no longer keeps. Oldest first, so a
   * crash part way leaves a history that starts later, never one with a hole in it.
   */
  async #enforceRetention(): Promise<void> {
    const aged = this.#retention?.keepFor !== undefined;
    if (aged) await this.#learnCheckpointTimes();
    const plan = planRetention({
      checkpoints: this.#checkpoints,
      segments: this.#segments,
      labelled: labelledSeqs(this.#store),
      ...(this.#retention ? { policy: this.#retention } : {}),
      ...(aged ? { checkpointTimes: this.#checkpointTimes, now: this.#clock() } : {}),
    });
    const dropped = new Set([
      ...this.#checkpoints.filter((c) => !plan.checkpoints.includes(c)),
    ]);
    for (const old of [...dropped].sort((a, b) => a - b)) {
      await this.#storage.deleteCheckpoint(old);
    }
    this.#checkpoints = plan.checkpoints;
    for (const first of this.#segments.filter((s) => !plan.segments.includes(s))) {
      await this.#storage.deleteLogSegment(first);
    }
    this.#segments = this.#segments.filter((s) => plan.segments.includes(s));
  }

  /**
   * Times for the checkpoints taken before this Durability (found at recovery): the time
   * of the record each was taken after, read once. One whose record is gone, or older
   * than records' times, keeps no time, so it counts young.
   */
  async #learnCheckpointTimes(): Promise<void> {
    const segments = [...this.#segments].sort((a, b) => a - b);
    for (const c of this.#checkpoints) {
      if (this.#checkpointTimes.has(c)) continue;
      const first = segments.filter((s) => s <= c).at(-1);
      if (first === undefined) continue;
      const bytes = await this.#storage.readLogSegment(first);
      const start = decodeSegmentStart(bytes).kind;
      let offset =
        start === 'header' ? SEGMENT_HEADER_BYTES : start === 'legacy' ? 0 : bytes.length;
      while (offset < bytes.length) {
        const decoded = decodeRecord(bytes, offset);
        if (!decoded.ok) break;
        offset = decoded.end;
        if (decoded.record.seq >= c) {
          if (decoded.record.seq === c && decoded.record.time !== undefined) {
            this.#checkpointTimes.set(c, decoded.record.time);
          }
          break;
        }
      }
    }
  }

  /**
   * Makes `image` the kernel's state (a restore, docs/history.md): a checkpoint at the
   * next seq — the moment the restore happens, atomically: before its rename recovery
   * finds the old state, after it the new one — then that seq's record, marking it a
   * restore to `restore.crank` (the state before it stays in the log, so the restore can
   * be undone). The checkpoint carries that record too: recovery writes it to the log if
   * a crash kept it from getting there. Call it with the kernel stopped and everything
   * settled; afterwards this Durability takes nothing more: recover the store from
   * storage again.
   */
  async installRestore(
    image: Uint8Array,
    crank: number,
    restore: NonNullable<LogRecord['restore']>,
  ): Promise<void> {
    await this.settled();
    if (this.#replaced) throw new Error('installRestore: this log was already replaced');
    this.#replaced = true;
    const seq = this.#nextSeq;
    this.#nextSeq += 1;
    const record = encodeRecord({
      seq,
      firstCrank: crank,
      lastCrank: crank,
      changes: [],
      time: this.#clock(),
      restore,
    });
    // The checkpoint is the restore's commit point; it carries the record, so that a
    // crash before the record reaches the log cannot leave a restore the log never saw
    // (recovery writes it from the checkpoint).
    const bytes = encodeCheckpoint(seq, image, await crc32Chunked(image), record);
    await this.#storage.writeCheckpoint(seq, bytes);
    this.#checkpoints.push(seq);
    this.#checkpointSeq = seq;
    this.#checkpointBytes = bytes.length;
    // Where appends would go: the segment recovery left or a checkpoint started.
    const toOpen = this.#toOpen;
    this.#toOpen = undefined;
    if (toOpen) {
      await this.#storage.openLogSegment(toOpen.first);
      if (toOpen.needsHeader)
        await this.#storage.appendLog(encodeSegmentHeader(toOpen.first));
    }
    await this.#storage.appendLog(record);
    this.#appended = false;
    await this.#enforceRetention();
  }

  #serially(op: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(() => {
      // A failed write leaves the log in an unknown state: nothing goes after it.
      if (this.#failure !== undefined) throw this.#failure;
      return op();
    });
    // The caller of the write hears of its failure (the gate stops the kernel on it).
    this.#tail = run.catch((error: unknown) => {
      this.#failure ??= error;
    });
    return run;
  }

  /** A checkpoint failed: no caller waits on it, so it is said here. */
  #failed(error: unknown, what: string): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    console.error(
      `cask: ${what} failed, so the kernel stops at its next commit: ${error instanceof Error ? error.message : String(error)}`,
    );
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
      ...(this.#failure === undefined ? {} : { failure: String(this.#failure) }),
    };
  }

  /**
   * Finishes pending writes and closes the storage. Call it with the store idle (no
   * crank open). If the log since the last checkpoint holds more than
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
      this.#appended &&
      this.#logBytes > this.#closeCheckpointMinBytes &&
      !this.#store.inCrank &&
      !this.#store.hasPendingChanges
    ) {
      // Best effort: without it the next start replays the log, which is just as correct.
      await this.#checkpoint(this.#nextSeq - 1, { rotate: false }).catch(
        (error: unknown) => {
          console.error(
            `cask: warning: no checkpoint at close (the next start replays the log instead): ${error instanceof Error ? error.message : String(error)}`,
          );
        },
      );
    }
    await this.#storage.close();
  }
}

/** Seqs of labelled commits (the history_labels table); none before that table exists. */
function labelledSeqs(store: KernelStore): number[] {
  return store
    .all('SELECT seq FROM history_labels ORDER BY seq')
    .map((r) => Number(r[0]));
}
