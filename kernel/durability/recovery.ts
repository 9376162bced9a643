/**
 * Recovery: the store as the last durable record left it, from the newest usable
 * checkpoint and the log after it — or a refusal that names what is wrong and where.
 *
 * The log must be one unbroken chain: segments named by their first seq, each following
 * the one before, records numbered one by one from the first segment's seq, reaching back
 * to the checkpoint. A duplicate, a seq out of order, a gap, or a log that does not
 * connect to the checkpoint is refused. Only the newest segment may end in a torn write,
 * and only within its last record (tornTail in ./format.ts); those bytes are cut, kept
 * beside the log (DurableStorage.saveCutTail) and reported. Everything else unreadable
 * stops recovery before it applies anything after it, and nothing in storage changes.
 *
 * `readStore` does the same reading without changing a byte (for `cask inspect`).
 */
import type { SqlJsStatic } from 'sql.js';
import { KernelStore } from '../store/index.ts';
import {
  decodeCheckpoint,
  decodeRecord,
  decodeSegmentStart,
  encodeSegmentHeader,
  recordIsWhole,
  SEGMENT_HEADER_BYTES,
  skimRecord,
  tornTail,
  type LogRecord,
} from './format.ts';
import { Durability, type DurabilityOptions } from './durability.ts';
import type { CutTail, DurableStorage } from './storage.ts';

export class RecoveryError extends Error {
  override name = 'RecoveryError';
}

export interface RecoveryReport {
  /** The checkpoint recovery started from (0: none, an empty database). */
  checkpointSeq: number;
  /** Checkpoints that could not be used, newest first, with why. */
  skippedCheckpoints: Array<{ seq: number; reason: string }>;
  recordsReplayed: number;
  /** Bytes of the records replayed (the log since the checkpoint; older log is history). */
  logBytesReplayed?: number;
  /** The last log record recovered (0 if none). */
  lastSeq: number;
  /** The last crank recovered (0 if none). */
  lastCrank: number;
  /** True if storage held no kernel at all: no checkpoint and no record. */
  fresh: boolean;
  /**
   * A restore whose checkpoint was written but whose log record was not (a crash between
   * the two): recoverStore wrote the record from the checkpoint; readStore only finds it.
   */
  restoreCompleted?: { seq: number; crank: number; written: boolean };
  /**
   * A torn write at the end of the newest segment: cut (and kept, `cut`) by recoverStore;
   * only found by readStore.
   */
  tornTail?: {
    segment: number;
    offset: number;
    bytes: number;
    why: string;
    cut?: CutTail;
  };
}

/** What reading found, and what a writer must do before it appends. */
interface Scan {
  store: KernelStore;
  report: RecoveryReport;
  checkpointBytes: number;
  segments: number[];
  /** The stored checkpoints up to and including the one used. */
  checkpoints: number[];
  /** Bytes of records after the checkpoint (the log a next checkpoint will replace). */
  logBytes: number;
  /** Whether the newest segment can take appends as it is, and if it needs a header. */
  newest: { first: number; appendable: boolean; needsHeader: boolean } | undefined;
  /** The checkpoint's restore record, when the log does not hold it. */
  missingRestoreRecord?: Uint8Array;
}

/** Opens the store from durable storage, and the Durability that keeps it durable. */
export async function recoverStore(
  SQL: SqlJsStatic,
  storage: DurableStorage,
  options: DurabilityOptions = {},
): Promise<{ store: KernelStore; durability: Durability; report: RecoveryReport }> {
  const scan = await scanStorage(SQL, storage);
  const { store, report } = scan;
  try {
    const torn = report.tornTail;
    if (torn) {
      // Kept before it is cut: the bytes are never simply gone.
      const bytes = (await storage.readLogSegment(torn.segment)).slice(torn.offset);
      await storage.saveCutTail(torn.segment, torn.offset, bytes);
      await storage.truncateLogSegment(torn.segment, torn.offset);
      torn.cut = (await storage.listCutTails()).find(
        (c) => c.segment === torn.segment && c.offset === torn.offset,
      );
    }
    const nextSeq = report.lastSeq + 1;
    let segments = scan.segments;
    let segment: { first: number; needsHeader: boolean };
    if (scan.missingRestoreRecord && report.restoreCompleted) {
      // The restore's record goes where it would have: in the segment named after it if
      // the restore had opened one, else in a new one (the segment before ends just short).
      const first = report.checkpointSeq;
      const reuse = scan.newest?.first === first;
      await storage.openLogSegment(first);
      if (!reuse || scan.newest?.needsHeader) {
        await storage.appendLog(encodeSegmentHeader(first));
      }
      await storage.appendLog(scan.missingRestoreRecord);
      report.restoreCompleted.written = true;
      segment = { first, needsHeader: false };
      if (!reuse) segments = [...segments, first];
    } else if (scan.newest?.appendable) {
      segment = { first: scan.newest.first, needsHeader: scan.newest.needsHeader };
    } else {
      // No segment, or the newest ends before the checkpoint: appends start a new one.
      segment = { first: nextSeq, needsHeader: true };
      segments = [...segments, nextSeq];
    }
    const durability = new Durability(storage, store, options, {
      segment,
      nextSeq,
      checkpointSeq: report.checkpointSeq,
      checkpointBytes: scan.checkpointBytes,
      segments,
      // Every checkpoint up to the one used: the next checkpoint deletes them all (older
      // ones stay when a crash came between a checkpoint's rename and their deletion).
      checkpoints: scan.checkpoints,
      lastCrank: report.lastCrank,
      logBytes: scan.logBytes,
      logRecords: report.recordsReplayed,
    });
    return { store, durability, report };
  } catch (error) {
    store.close();
    throw error;
  }
}

/** Reads the store as recovery would, changing nothing in storage. */
export async function readStore(
  SQL: SqlJsStatic,
  storage: DurableStorage,
): Promise<{ store: KernelStore; report: RecoveryReport }> {
  const { store, report } = await scanStorage(SQL, storage);
  return { store, report };
}

async function scanStorage(SQL: SqlJsStatic, storage: DurableStorage): Promise<Scan> {
  const report: RecoveryReport = {
    checkpointSeq: 0,
    skippedCheckpoints: [],
    recordsReplayed: 0,
    logBytesReplayed: 0,
    lastSeq: 0,
    lastCrank: 0,
    fresh: false,
  };
  const listed = (await storage.listCheckpoints()).sort((a, b) => b - a);
  let image: Uint8Array | undefined;
  let restore: { record: LogRecord; bytes: Uint8Array } | undefined;
  let checkpointBytes = 0;
  for (const seq of listed) {
    const bytes = await storage.readCheckpoint(seq);
    const decoded = decodeCheckpoint(bytes);
    if (decoded.ok && decoded.seq === seq) {
      image = decoded.image;
      restore = decoded.restore;
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
  try {
    const { logEnd, ...scanned } = await scanLog(storage, store, report);
    report.fresh = listed.length === 0 && report.lastSeq === 0;
    const checkpoints = listed.filter((seq) => seq <= report.checkpointSeq && seq > 0);
    let missingRestoreRecord: Uint8Array | undefined;
    if (restore && logEnd < report.checkpointSeq) {
      missingRestoreRecord = restore.bytes;
      report.restoreCompleted = {
        seq: restore.record.seq,
        crank: restore.record.lastCrank,
        written: false,
      };
    }
    return {
      store,
      report,
      checkpointBytes,
      checkpoints,
      ...scanned,
      ...(missingRestoreRecord ? { missingRestoreRecord } : {}),
    };
  } catch (error) {
    store.close();
    throw error;
  }
}

/** Reads the log after the checkpoint into the store, checking that it is one chain. */
async function scanLog(
  storage: DurableStorage,
  store: KernelStore,
  report: RecoveryReport,
): Promise<
  Omit<
    Scan,
    'store' | 'report' | 'checkpointBytes' | 'checkpoints' | 'missingRestoreRecord'
  > & {
    /** The last seq the log holds (0: no log at all). */
    logEnd: number;
  }
> {
  const checkpointSeq = report.checkpointSeq;
  const segments = (await storage.listLogSegments()).sort((a, b) => a - b);
  const first = segments[0];
  if (first !== undefined && first > checkpointSeq + 1) {
    const [skipped] = report.skippedCheckpoints;
    throw new RecoveryError(
      skipped
        ? `no usable checkpoint: checkpoint ${skipped.seq} is ${skipped.reason}, and the crank log does not reach back to the start (it begins at seq ${first})`
        : `the crank log does not connect to ${checkpointSeq === 0 ? 'the start' : `checkpoint ${checkpointSeq}`}: it begins at seq ${first}, so records ${checkpointSeq + 1} to ${first - 1} are missing`,
    );
  }
  if (
    first === undefined &&
    report.skippedCheckpoints.length > 0 &&
    checkpointSeq === 0
  ) {
    const [skipped] = report.skippedCheckpoints;
    throw new RecoveryError(
      `no usable checkpoint: checkpoint ${skipped?.seq} is ${skipped?.reason}, and there is no crank log to recover from`,
    );
  }
  // A segment whose successor starts at or before the seq after the checkpoint holds
  // only what the checkpoint holds (old segments a crash kept from being deleted, perhaps
  // ending short of the checkpoint when it was written while its last record was torn):
  // it is not read, and the chain starts with the first segment that holds more.
  const from = segments.findIndex(
    (s, i) =>
      i === segments.length - 1 || (segments[i + 1] as number) > checkpointSeq + 1,
  );
  const needed = from < 0 ? [] : segments.slice(from);
  let prev = needed[0] === undefined ? checkpointSeq : needed[0] - 1;
  let logBytes = 0;
  let newest: Scan['newest'];
  for (const [index, segment] of needed.entries()) {
    const isNewest = index === needed.length - 1;
    if (segment !== prev + 1) {
      throw new RecoveryError(
        `the crank log is broken: segment ${segment} does not follow seq ${prev} (records ${prev + 1} to ${segment - 1} are missing, or a segment before it is empty)`,
      );
    }
    const bytes = await storage.readLogSegment(segment);
    const start = decodeSegmentStart(bytes);
    let offset = 0;
    if (start.kind === 'header') {
      if (start.firstSeq !== segment) {
        throw new RecoveryError(
          `log segment ${segment} says it begins at seq ${start.firstSeq}: it is not the file its name says`,
        );
      }
      offset = SEGMENT_HEADER_BYTES;
    } else if (start.kind === 'bad') {
      throw new RecoveryError(
        `log segment ${segment} is damaged: ${start.reason}. Its records cannot be read, so recovery stopped before them; move the segment away only if losing them is acceptable.`,
      );
    } else if (start.kind === 'torn') {
      if (!isNewest) {
        throw new RecoveryError(`log segment ${segment} holds only a torn header`);
      }
      report.tornTail = {
        segment,
        offset: 0,
        bytes: bytes.length,
        why: 'a segment header cut short',
      };
    }
    const before = prev;
    while (start.kind !== 'torn' && offset < bytes.length) {
      if (prev < checkpointSeq) {
        // Already in the checkpoint: only its framing and seq are needed. A torn write
        // can only be in a segment's last record: that one's checksum is checked too
        // (a torn one is then decoded, to be reported and cut).
        const skimmed = skimRecord(bytes, offset);
        if (
          skimmed &&
          skimmed.seq === prev + 1 &&
          skimmed.seq <= checkpointSeq &&
          (skimmed.end < bytes.length || recordIsWhole(bytes, offset))
        ) {
          offset = skimmed.end;
          prev = skimmed.seq;
          continue;
        }
      }
      const decoded = decodeRecord(bytes, offset);
      if (!decoded.ok) {
        const tail = tornTail(bytes, offset);
        if (isNewest && tail.torn) {
          report.tornTail = {
            segment,
            offset,
            bytes: bytes.length - offset,
            why: tail.why,
          };
          break;
        }
        const reason = decoded.kind === 'short' ? 'it is cut short' : decoded.reason;
        throw new RecoveryError(
          `the crank log is corrupt: segment ${segment}, byte ${offset} (the record after seq ${prev}): ${reason}${
            isNewest ? ` (not a torn write: ${tail.why})` : ''
          }. Records from seq ${prev + 1} on cannot be read, so recovery stopped before them and nothing after them was applied.`,
        );
      }
      const { record } = decoded;
      if (record.seq !== prev + 1) {
        throw new RecoveryError(
          record.seq <= prev
            ? `the crank log repeats itself: segment ${segment}, byte ${offset} holds seq ${record.seq} after seq ${prev} (a duplicate or out-of-order record; two writers?)`
            : `the crank log has a gap: segment ${segment}, byte ${offset} holds seq ${record.seq} after seq ${prev}`,
        );
      }
      const size = decoded.end - offset;
      offset = decoded.end;
      prev = record.seq;
      if (record.seq <= checkpointSeq) continue; // already in the checkpoint
      if (record.restore) {
        // Its state is only in the checkpoint it wrote: replaying past it would be wrong.
        throw new RecoveryError(
          `the crank log holds a restore (seq ${record.seq}, to crank ${record.restore.crank}) whose checkpoint is missing or unusable${
            report.skippedCheckpoints.length > 0
              ? ` (${report.skippedCheckpoints.map((c) => `checkpoint ${c.seq}: ${c.reason}`).join('; ')})`
              : ''
          }, so the state after it cannot be rebuilt`,
        );
      }
      // One record, one crank of the store: applied whole or not at all.
      store.beginCrank();
      try {
        store.applyChanges(record.changes);
      } catch (error) {
        store.abortCrank();
        throw new RecoveryError(
          `the crank log holds a record that cannot be applied: segment ${segment}, seq ${record.seq}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      store.commitCrank();
      store.takeChanges();
      report.recordsReplayed += 1;
      report.logBytesReplayed = (report.logBytesReplayed ?? 0) + size;
      logBytes += size;
      report.lastSeq = record.seq;
      report.lastCrank = record.lastCrank;
    }
    if (isNewest) {
      const empty = prev === before;
      newest = {
        first: segment,
        // Appends continue here if it reaches the newest state (or is the empty segment
        // that starts right after it).
        appendable: prev >= checkpointSeq,
        needsHeader: start.kind !== 'header' && (empty || report.tornTail?.offset === 0),
      };
    }
  }
  report.lastSeq = Math.max(report.lastSeq, checkpointSeq, prev);
  return { segments, logBytes, newest, logEnd: needed.length === 0 ? 0 : prev };
}
