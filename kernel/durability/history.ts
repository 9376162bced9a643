/**
 * The kernel's history, read from durable storage: the retained commits, the state after
 * any of them (built off to the side, in a separate database), and what a key was over
 * time. docs/history.md says what is kept and what each costs.
 *
 * A commit is one log record (one crank, or a group of cranks written together); a
 * restore point is the end of a record. The state after a record is rebuilt from the
 * newest checkpoint at or before it and the records between: the cost is at most one
 * checkpoint interval's replay, however far back the record is.
 *
 * Reads only: nothing here changes a byte of storage.
 */
import type { SqlJsStatic } from 'sql.js';
import { KernelStore, type RowChange } from '../store/index.ts';
import {
  decodeCheckpoint,
  decodeRecord,
  decodeSegmentStart,
  SEGMENT_HEADER_BYTES,
  type LogRecord,
} from './format.ts';
import type { DurableStorage } from './storage.ts';

/** A request history cannot answer (an unknown or no longer retained crank…). */
export class HistoryError extends Error {
  override name = 'HistoryError';
}

/** One retained commit, as `history` lists it. */
export interface HistoryCommit {
  /** The log record's seq. */
  seq: number;
  firstCrank: number;
  lastCrank: number;
  /** When it was written (ms since the epoch); absent for records older than v2. */
  time?: number;
  /** Vats whose state (vatstore, c-list, vat record) the commit changed, by id. */
  vats: string[];
  /** Rows changed, and the record's bytes in the log. */
  changes: number;
  bytes: number;
  /** Labels naming this commit. */
  labels: string[];
  /** Set for a restore's commit: the crank and record it restored to. */
  restore?: { crank: number; seq: number };
  /**
   * A step between cranks (a message queued from outside, a vat launched…): it ends at
   * the same crank as the commit before it, and a restore to that crank stops before it.
   */
  between?: boolean;
}

/** One change of one vatstore key, for keyHistory. */
export interface KeyChange {
  seq: number;
  firstCrank: number;
  lastCrank: number;
  time?: number;
  /** The value it was set to, or null when the commit deleted it. */
  value: string | null;
}

export interface HistoryLabel {
  name: string;
  crank: number;
  seq: number;
}

export interface DecodedRecord extends LogRecord {
  bytes: number;
}

/** Tables whose key starts with the vat the row belongs to. */
const VAT_KEYED = new Set(['vatstore', 'clist', 'vats', 'vat_versions']);

/**
 * Decoded log segments that no longer change, kept across the readers of one storage so
 * that an inspector asking again (the panel's Cranks and History views) decodes only the
 * newest segment. Every segment but the newest is sealed: appends go to the newest, and
 * recovery cuts a torn tail only there. Segment numbers are first seqs, which only grow
 * within a storage (an imported state starts after the last seq), so a number never
 * names two contents; a segment retention removed is dropped at the next listing.
 */
export class SealedSegments {
  readonly #decoded = new Map<number, { records: DecodedRecord[]; bytes: number }>();
  readonly #maxBytes: number;
  #bytes = 0;

  /** Keeps at most `maxBytes` of encoded records (the oldest segments go first). */
  constructor(maxBytes = 32 * 1024 * 1024) {
    this.#maxBytes = maxBytes;
  }

  get(segment: number): DecodedRecord[] | undefined {
    return this.#decoded.get(segment)?.records;
  }

  set(segment: number, records: DecodedRecord[]): void {
    const bytes = records.reduce((sum, r) => sum + r.bytes, 0);
    if (bytes > this.#maxBytes || this.#decoded.has(segment)) return;
    this.#decoded.set(segment, { records, bytes });
    this.#bytes += bytes;
    for (const [old, entry] of [...this.#decoded].sort((a, b) => a[0] - b[0])) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#decoded.delete(old);
      this.#bytes -= entry.bytes;
    }
  }

  /** Forgets every segment not in `listed` (removed by retention). */
  keepOnly(listed: readonly number[]): void {
    const kept = new Set(listed);
    for (const [segment, entry] of this.#decoded) {
      if (kept.has(segment)) continue;
      this.#decoded.delete(segment);
      this.#bytes -= entry.bytes;
    }
  }

  get size(): number {
    return this.#decoded.size;
  }
}

/**
 * A reader of the history in `storage`; caches what it reads, so use it for one task.
 * `sealed`, if given, keeps the decoded sealed segments for the next reader.
 */
export class History {
  readonly #SQL: SqlJsStatic;
  readonly #storage: DurableStorage;
  readonly #segmentCache = new Map<number, DecodedRecord[]>();
  readonly #sealed: SealedSegments | undefined;
  #layout: { segments: number[]; checkpoints: number[] } | undefined;

  constructor(SQL: SqlJsStatic, storage: DurableStorage, sealed?: SealedSegments) {
    this.#SQL = SQL;
    this.#storage = storage;
    this.#sealed = sealed;
  }

  /**
   * Every retained commit, oldest first: the records that can be restored (a checkpoint
   * at or before each, and the log between). Records that only changed labels are left
   * out (they are the same state as the commit before them).
   */
  async commits(labels: readonly HistoryLabel[] = []): Promise<HistoryCommit[]> {
    const { segments, checkpoints } = await this.#list();
    const records: DecodedRecord[] = [];
    for (const segment of segments) records.push(...(await this.#records(segment)));
    const haveCheckpoint = new Set(checkpoints);
    const out: HistoryCommit[] = [];
    let previous: { seq: number; restorable: boolean } | undefined;
    let lastCrank: number | undefined;
    for (const record of records) {
      const chained =
        !record.restore &&
        (record.seq === 1 ||
          (previous?.seq === record.seq - 1 && previous.restorable) ||
          haveCheckpoint.has(record.seq - 1));
      const restorable = haveCheckpoint.has(record.seq) || chained;
      previous = { seq: record.seq, restorable };
      const between = lastCrank === record.lastCrank;
      lastCrank = record.lastCrank;
      if (!restorable || isLabelsOnly(record.changes)) continue;
      out.push({ ...commitOf(record, labels), ...(between ? { between } : {}) });
    }
    return out;
  }

  /** Every record the log still holds, oldest first (what inspectors read). */
  async records(): Promise<DecodedRecord[]> {
    const { segments } = await this.#list();
    const records: DecodedRecord[] = [];
    for (const segment of segments) records.push(...(await this.#records(segment)));
    return records;
  }

  /** The retained cranks: the first and last restorable, for messages. */
  async retainedRange(): Promise<{ first: number; last: number } | undefined> {
    const commits = await this.commits();
    const first = commits[0];
    const last = commits.at(-1);
    return first && last ? { first: first.lastCrank, last: last.lastCrank } : undefined;
  }

  /**
   * The record a restore to `crank` ends at: the first record whose last crank is
   * `crank` — the one that committed it (records after it with the same last crank are
   * steps between cranks: a message queued from outside, a label). Refuses a crank
   * inside a group record, naming the nearest cranks a restore can reach, and one not
   * retained.
   */
  async locate(crank: number): Promise<DecodedRecord> {
    if (!Number.isSafeInteger(crank) || crank < 0) {
      throw new HistoryError(`${String(crank)} is not a crank number`);
    }
    const { segments } = await this.#list();
    // Binary search on each segment's first record: the cost grows with the logarithm
    // of the number of segments, not with how far back the crank is.
    let lo = 0;
    let hi = segments.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const first = (await this.#records(segments[mid] as number))[0];
      if (first === undefined || first.lastCrank >= crank) hi = mid - 1;
      else {
        found = mid;
        lo = mid + 1;
      }
    }
    let target: DecodedRecord | undefined;
    let before: DecodedRecord | undefined;
    search: for (let i = Math.max(found, 0); i < segments.length; i += 1) {
      for (const record of await this.#records(segments[i] as number)) {
        if (record.lastCrank < crank) before = record;
        else if (record.lastCrank === crank) {
          target = record;
          break search;
        } else {
          if (record.firstCrank <= crank) {
            // Inside a group record: cranks before it ended with the record before.
            const from = before?.lastCrank ?? record.firstCrank - 1;
            throw new HistoryError(
              `crank ${crank} is inside a commit of cranks ${record.firstCrank}–${record.lastCrank} (written as one log record); the nearest cranks to restore to are ${from} and ${record.lastCrank}`,
            );
          }
          break search;
        }
      }
    }
    if (!target || !(await this.#restorable(target.seq))) {
      const range = await this.retainedRange();
      const newest = range?.last;
      if (newest !== undefined && crank > newest) {
        throw new HistoryError(
          `crank ${crank} is not committed yet (the newest commit is crank ${newest})`,
        );
      }
      throw new HistoryError(
        range
          ? `crank ${crank} is not in the retained history (retained: cranks ${range.first}–${range.last}, see cask history)`
          : `crank ${crank} is not in the retained history (no commit is retained)`,
      );
    }
    return target;
  }

  /**
   * The whole kernel state after the commit ending at `crank`, in a new store of its own
   * (the caller closes it): the newest checkpoint at or before that record, then the
   * records after it, up to and including that record.
   */
  async stateAt(crank: number): Promise<{
    store: KernelStore;
    seq: number;
    checkpointSeq: number;
    replayed: number;
  }> {
    const target = await this.locate(crank);
    return this.stateAtSeq(target.seq);
  }

  /** stateAt, by the record's seq. */
  async stateAtSeq(seq: number): Promise<{
    store: KernelStore;
    seq: number;
    checkpointSeq: number;
    replayed: number;
  }> {
    const { segments, checkpoints } = await this.#list();
    const base = checkpoints.filter((c) => c <= seq).at(-1) ?? 0;
    let image: Uint8Array | undefined;
    if (base > 0) {
      const decoded = decodeCheckpoint(await this.#storage.readCheckpoint(base));
      if (!decoded.ok || decoded.seq !== base) {
        throw new HistoryError(
          `checkpoint ${base} cannot be read (${decoded.ok ? `its header says seq ${decoded.seq}` : decoded.reason}), so the state after seq ${seq} cannot be rebuilt`,
        );
      }
      image = decoded.image.slice();
    }
    const store = KernelStore.open(this.#SQL, image);
    try {
      let expected = base + 1;
      // The segments holding base + 1 … seq.
      const from = segments.filter((s) => s <= base + 1).at(-1) ?? segments[0];
      for (const segment of segments.filter((s) => s >= (from ?? Infinity))) {
        if (expected > seq) break;
        for (const record of await this.#records(segment)) {
          if (record.seq < expected) continue;
          if (record.seq > seq) break;
          if (record.seq !== expected) {
            throw new HistoryError(
              `the log between checkpoint ${base} and seq ${seq} is not retained whole (seq ${expected} is missing)`,
            );
          }
          if (record.restore) {
            throw new HistoryError(
              `seq ${record.seq} is a restore whose checkpoint is gone, so the state after it cannot be rebuilt`,
            );
          }
          store.beginCrank();
          try {
            store.applyChanges(record.changes);
          } catch (error) {
            store.abortCrank();
            throw error;
          }
          store.commitCrank();
          store.takeChanges();
          expected += 1;
        }
      }
      if (expected <= seq) {
        throw new HistoryError(
          `the log between checkpoint ${base} and seq ${seq} is not retained whole (seq ${expected} is missing)`,
        );
      }
      return { store, seq, checkpointSeq: base, replayed: seq - base };
    } catch (error) {
      store.close();
      throw error;
    }
  }

  /** Every retained commit that changed one vatstore key, oldest first. */
  async keyHistory(vatId: string, key: string): Promise<KeyChange[]> {
    const { segments } = await this.#list();
    const out: KeyChange[] = [];
    for (const segment of segments) {
      for (const record of await this.#records(segment)) {
        for (const change of record.changes) {
          if (
            change.table === 'vatstore' &&
            change.key[0] === vatId &&
            change.key[1] === key
          ) {
            out.push({
              seq: record.seq,
              firstCrank: record.firstCrank,
              lastCrank: record.lastCrank,
              ...(record.time === undefined ? {} : { time: record.time }),
              value: change.row ? String(change.row[2]) : null,
            });
          }
        }
      }
    }
    return out;
  }

  async #restorable(seq: number): Promise<boolean> {
    const { checkpoints } = await this.#list();
    const base = checkpoints.filter((c) => c <= seq).at(-1);
    if (base === seq) return true;
    const { segments } = await this.#list();
    const from = (base ?? 0) + 1;
    // Every record from the base's next one up to seq must be there.
    const holding = segments.filter((s) => s <= from).at(-1);
    if (holding === undefined) return false;
    let expected = from;
    for (const segment of segments.filter((s) => s >= holding)) {
      for (const record of await this.#records(segment)) {
        if (record.seq < expected) continue;
        if (record.seq !== expected || (record.restore && record.seq !== base)) {
          return false;
        }
        if (record.seq === seq) return true;
        expected += 1;
      }
    }
    return false;
  }

  async #list(): Promise<{ segments: number[]; checkpoints: number[] }> {
    if (!this.#layout) {
      this.#layout = {
        segments: (await this.#storage.listLogSegments()).sort((a, b) => a - b),
        checkpoints: (await this.#storage.listCheckpoints()).sort((a, b) => a - b),
      };
      this.#sealed?.keepOnly(this.#layout.segments);
    }
    return this.#layout;
  }

  /** A segment's records, up to a torn tail (the newest may end in one). */
  async #records(segment: number): Promise<DecodedRecord[]> {
    const cached = this.#segmentCache.get(segment);
    if (cached) return cached;
    const sealed = this.#sealed && segment !== (await this.#list()).segments.at(-1);
    const kept = sealed ? this.#sealed?.get(segment) : undefined;
    if (kept) {
      this.#segmentCache.set(segment, kept);
      return kept;
    }
    const bytes = await this.#storage.readLogSegment(segment);
    const start = decodeSegmentStart(bytes);
    const records: DecodedRecord[] = [];
    if (start.kind === 'bad') {
      throw new HistoryError(`log segment ${segment} is damaged: ${start.reason}`);
    }
    let offset = start.kind === 'header' ? SEGMENT_HEADER_BYTES : 0;
    while (start.kind !== 'torn' && offset < bytes.length) {
      const decoded = decodeRecord(bytes, offset);
      if (!decoded.ok) break; // a torn tail: recovery deals with it; history stops there
      records.push({ ...decoded.record, bytes: decoded.end - offset });
      offset = decoded.end;
    }
    this.#segmentCache.set(segment, records);
    if (sealed) this.#sealed?.set(segment, records);
    return records;
  }
}

function isLabelsOnly(changes: readonly RowChange[]): boolean {
  return changes.length > 0 && changes.every((c) => c.table === 'history_labels');
}

function commitOf(record: DecodedRecord, labels: readonly HistoryLabel[]): HistoryCommit {
  const vats = new Set<string>();
  for (const change of record.changes) {
    if (VAT_KEYED.has(change.table)) vats.add(String(change.key[0]));
  }
  return {
    seq: record.seq,
    firstCrank: record.firstCrank,
    lastCrank: record.lastCrank,
    ...(record.time === undefined ? {} : { time: record.time }),
    vats: [...vats].sort(),
    changes: record.changes.length,
    bytes: record.bytes,
    labels: labels.filter((l) => l.seq === record.seq).map((l) => l.name),
    ...(record.restore ? { restore: record.restore } : {}),
  };
}

/**
 * The image a restore installs: the state after the target commit, with the labels the
 * kernel has now (labels are about history, not state) and every counter at least where
 * it is now, so crank numbers never go back and no kref or vat id is handed out twice.
 * The restore's own commit is crank `crank`; the image's next crank is after it.
 */
export function restoreImage(
  restored: KernelStore,
  now: { labels: readonly HistoryLabel[]; counters: ReadonlyMap<string, number> },
  crank: number,
): Uint8Array {
  restored.beginCrank();
  try {
    for (const row of restored.all('SELECT name FROM history_labels ORDER BY name')) {
      restored.delete('history_labels', [row[0] as string]);
    }
    for (const label of now.labels) {
      restored.put('history_labels', [label.name, label.crank, label.seq]);
    }
    for (const [name, value] of now.counters) {
      const then = Number(
        restored.one('SELECT value FROM counters WHERE name = ?', [name])?.[0] ?? 0,
      );
      const next = name === 'crank' ? crank + 1 : Math.max(then, value);
      restored.put('counters', [name, next]);
    }
  } catch (error) {
    restored.abortCrank();
    throw error;
  }
  restored.commitCrank();
  restored.takeChanges();
  return restored.export();
}

/** The image a fork starts from: the state as it was, without the original's labels. */
export function forkImage(state: KernelStore): Uint8Array {
  state.beginCrank();
  for (const row of state.all('SELECT name FROM history_labels ORDER BY name')) {
    state.delete('history_labels', [row[0] as string]);
  }
  state.commitCrank();
  state.takeChanges();
  return state.export();
}
