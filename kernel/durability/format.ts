/**
 * Byte formats of the crank log and of checkpoints. docs/durability.md describes them.
 *
 * A log segment: a segment header, then records back to back. Segments written before
 * headers existed start with their first record (or are empty); they are still read.
 * A segment header: "CKLS" | u32 format version | f64 the segment's first seq.
 * A log record: "CKLR" | u32 payload length | u32 CRC-32 of payload | payload (UTF-8 JSON
 * `{ seq, firstCrank, lastCrank, changes: [[table, key, row|null]…] }`; from record
 * version 2 on also `v: 2`, `time` (ms since the epoch) and, for a restore's record,
 * `restore: { crank, seq }`, and `cranks`: a note of each crank it holds — kind, vat,
 * method, target and result krefs, outcome, duration, delta size — for inspectors).
 * A payload without `v` is version 1 and still read.
 * A checkpoint: "CKCP" | u32 format version | f64 log seq it includes | u32 image length |
 * u32 CRC-32 of image | image (a SQLite database). A restore's checkpoint (version 2)
 * is followed by the restore's own log record (framed as in the log), which recovery
 * writes to the log when a crash came between the checkpoint and that record.
 */
import type { RowChange, TableName } from '../store/index.ts';
import { crc32 } from './crc32.ts';

const RECORD_MAGIC = 0x524c4b43; // "CKLR" little-endian
const SEGMENT_MAGIC = 0x534c4b43; // "CKLS" little-endian
const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 16;
const CHECKPOINT_MAGIC = 0x50434b43; // "CKCP" little-endian
const CHECKPOINT_VERSION = 1;
/** A restore's checkpoint: the image, then the restore's log record. */
const RESTORE_CHECKPOINT_VERSION = 2;
export const RECORD_HEADER_BYTES = 12;
const CHECKPOINT_HEADER_BYTES = 24;

/** The payload version new records are written with (1: no `v`, `time` or `restore`). */
export const RECORD_VERSION = 2;

/**
 * What the log notes of one crank besides its changes, for inspectors (the panel's
 * Cranks view): replay ignores it. A faulted crank, rolled back, is noted in the next
 * record written.
 */
export interface CrankNote {
  crank: number;
  kind: string;
  vatId: string | null;
  method: string | null;
  outcome: 'ok' | 'fault' | 'no-delivery';
  detail?: string;
  durationMs: number;
  deltaKeys: number;
  deltaBytes: number;
  /** A send's target and result kpid, a notify's kpid. */
  target?: string;
  result?: string;
  /** The result's state when the crank ended (a later crank may settle it). */
  resultState?: 'unresolved' | 'fulfilled' | 'rejected';
  /** What it was rejected with, as JSON (short). */
  rejection?: string;
}

export interface LogRecord {
  seq: number;
  firstCrank: number;
  lastCrank: number;
  changes: RowChange[];
  /** When it was written, ms since the epoch (absent in version 1 records). */
  time?: number;
  /**
   * A restore's record: the kernel's state was replaced by the state after `crank`
   * (record `seq`). Its state is in the checkpoint at this record's seq, not in its
   * changes (none), so no replay may cross it.
   */
  restore?: { crank: number; seq: number };
  /** Notes of the cranks it holds (version 2 records written since they exist). */
  cranks?: CrankNote[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeRecord(record: LogRecord): Uint8Array {
  const payload = encoder.encode(
    JSON.stringify({
      v: RECORD_VERSION,
      seq: record.seq,
      firstCrank: record.firstCrank,
      lastCrank: record.lastCrank,
      time: record.time ?? Date.now(),
      ...(record.restore ? { restore: record.restore } : {}),
      ...(record.cranks && record.cranks.length > 0 ? { cranks: record.cranks } : {}),
      changes: record.changes.map((c) => [c.table, c.key, c.row]),
    }),
  );
  const bytes = new Uint8Array(RECORD_HEADER_BYTES + payload.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, RECORD_MAGIC, true);
  view.setUint32(4, payload.length, true);
  view.setUint32(8, crc32(payload), true);
  bytes.set(payload, RECORD_HEADER_BYTES);
  return bytes;
}

export type DecodeResult =
  | { ok: true; record: LogRecord; end: number }
  /** Too few bytes for the header or the payload the header announces. */
  | { ok: false; kind: 'short' }
  /** The bytes are there but wrong: bad magic, bad checksum, bad JSON. */
  | { ok: false; kind: 'bad'; reason: string; end: number };

const SEQ_PREFIX = /^\{(?:"v":\d+,)?"seq":(\d{1,16}),/u;

/**
 * The seq and end of the record at `offset`, read from its header and the start of its
 * payload only: no checksum, no parse. Recovery skims the records a checkpoint already
 * holds this way (they are history, not state), which was most of a resume's log reading.
 * Undefined when the bytes do not look like a whole record (decodeRecord says why).
 */
export function skimRecord(
  bytes: Uint8Array,
  offset: number,
): { seq: number; end: number } | undefined {
  if (bytes.length - offset < RECORD_HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, RECORD_HEADER_BYTES);
  if (view.getUint32(0, true) !== RECORD_MAGIC) return undefined;
  const start = offset + RECORD_HEADER_BYTES;
  const end = start + view.getUint32(4, true);
  if (end > bytes.length) return undefined;
  let prefix = '';
  for (let i = start; i < Math.min(end, start + 40); i += 1) {
    prefix += String.fromCharCode(bytes[i] as number);
  }
  const seq = SEQ_PREFIX.exec(prefix)?.[1];
  return seq === undefined ? undefined : { seq: Number(seq), end };
}

/** The framing of the record at `offset`: where it ends, or why it is not whole. */
function checkFrame(
  bytes: Uint8Array,
  offset: number,
): { ok: true; end: number } | Exclude<DecodeResult, { ok: true }> {
  if (bytes.length - offset < RECORD_HEADER_BYTES) return { ok: false, kind: 'short' };
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, RECORD_HEADER_BYTES);
  const length = view.getUint32(4, true);
  const end = offset + RECORD_HEADER_BYTES + length;
  if (view.getUint32(0, true) !== RECORD_MAGIC) {
    return { ok: false, kind: 'bad', reason: 'no record header', end };
  }
  if (end > bytes.length) return { ok: false, kind: 'short' };
  if (crc32(bytes, offset + RECORD_HEADER_BYTES, end) !== view.getUint32(8, true)) {
    return { ok: false, kind: 'bad', reason: 'checksum mismatch', end };
  }
  return { ok: true, end };
}

/**
 * True if the record at `offset` is whole: its header, and a payload matching the header's
 * checksum. Not parsed: recovery asks this of the last record of a segment whose content
 * its checkpoint already holds, only to know whether appends may go after it.
 */
export function recordIsWhole(bytes: Uint8Array, offset: number): boolean {
  return checkFrame(bytes, offset).ok;
}

/** Decodes the record that starts at `offset`. */
export function decodeRecord(bytes: Uint8Array, offset: number): DecodeResult {
  const frame = checkFrame(bytes, offset);
  if (!frame.ok) return frame;
  const { end } = frame;
  try {
    const json: unknown = JSON.parse(
      decoder.decode(bytes.subarray(offset + RECORD_HEADER_BYTES, end)),
    );
    const record = recordFromJson(json);
    if (typeof record === 'string') {
      return { ok: false, kind: 'bad', reason: `invalid record: ${record}`, end };
    }
    return { ok: true, record, end };
  } catch (error) {
    return {
      ok: false,
      kind: 'bad',
      reason: `unreadable payload: ${String(error)}`,
      end,
    };
  }
}

const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isRow = (v: unknown): v is RowChange['key'] =>
  Array.isArray(v) &&
  v.every((c) => c === null || typeof c === 'string' || typeof c === 'number');

/**
 * The record a payload holds, or what is wrong with it. The checksum says the bytes are
 * the ones written; this says they are a record this code wrote (a record from a buggy or
 * foreign writer must not reach the store).
 */
function recordFromJson(json: unknown): LogRecord | string {
  if (typeof json !== 'object' || json === null) return 'not an object';
  const { v, seq, firstCrank, lastCrank, changes, time, restore, cranks } =
    json as Record<string, unknown>;
  if (v !== undefined && v !== RECORD_VERSION)
    return `unknown record version ${String(v)}`;
  if (!isCount(seq) || seq < 1) return `seq ${String(seq)}`;
  if (!isCount(firstCrank) || !isCount(lastCrank)) return 'crank numbers';
  if (v !== undefined && !isCount(time)) return 'time';
  let restored: LogRecord['restore'];
  if (restore !== undefined) {
    const r = restore as Record<string, unknown> | null;
    if (v === undefined || !isCount(r?.crank) || !isCount(r.seq)) return 'restore';
    restored = { crank: r.crank, seq: r.seq };
  }
  let notes: CrankNote[] | undefined;
  if (cranks !== undefined) {
    if (v === undefined || !Array.isArray(cranks) || !cranks.every(isCrankNote)) {
      return 'crank notes';
    }
    notes = cranks;
  }
  if (!Array.isArray(changes)) return 'no changes';
  const out: RowChange[] = [];
  for (const [i, change] of changes.entries()) {
    if (!Array.isArray(change) || change.length !== 3) return `change ${i}`;
    const [table, key, row] = change as unknown[];
    if (typeof table !== 'string' || !isRow(key) || (row !== null && !isRow(row))) {
      return `change ${i}`;
    }
    out.push({ table: table as TableName, key, row: row });
  }
  return {
    seq,
    firstCrank,
    lastCrank,
    changes: out,
    ...(isCount(time) ? { time } : {}),
    ...(restored ? { restore: restored } : {}),
    ...(notes ? { cranks: notes } : {}),
  };
}

const isText = (v: unknown): boolean => v === undefined || typeof v === 'string';

function isCrankNote(v: unknown): v is CrankNote {
  if (typeof v !== 'object' || v === null) return false;
  const n = v as Record<string, unknown>;
  return (
    isCount(n.crank) &&
    typeof n.kind === 'string' &&
    (n.vatId === null || typeof n.vatId === 'string') &&
    (n.method === null || typeof n.method === 'string') &&
    (n.outcome === 'ok' || n.outcome === 'fault' || n.outcome === 'no-delivery') &&
    typeof n.durationMs === 'number' &&
    isCount(n.deltaKeys) &&
    isCount(n.deltaBytes) &&
    isText(n.detail) &&
    isText(n.target) &&
    isText(n.result) &&
    isText(n.rejection) &&
    (n.resultState === undefined ||
      n.resultState === 'unresolved' ||
      n.resultState === 'fulfilled' ||
      n.resultState === 'rejected')
  );
}

/**
 * A checkpoint of the log up to `seq`; `imageCrc` is crc32(image), computed by the caller
 * (it may take a while). With `restoreRecord` (the encoded record `seq` of
 * a restore) it is a restore's checkpoint and carries that record: the checkpoint is the
 * restore's commit point, and the record can always be rebuilt from it.
 */
export function encodeCheckpoint(
  seq: number,
  image: Uint8Array,
  imageCrc: number,
  restoreRecord?: Uint8Array,
): Uint8Array {
  const trailer = restoreRecord?.length ?? 0;
  const bytes = new Uint8Array(CHECKPOINT_HEADER_BYTES + image.length + trailer);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, CHECKPOINT_MAGIC, true);
  view.setUint32(
    4,
    restoreRecord ? RESTORE_CHECKPOINT_VERSION : CHECKPOINT_VERSION,
    true,
  );
  view.setFloat64(8, seq, true);
  view.setUint32(16, image.length, true);
  view.setUint32(20, imageCrc, true);
  bytes.set(image, CHECKPOINT_HEADER_BYTES);
  if (restoreRecord) bytes.set(restoreRecord, CHECKPOINT_HEADER_BYTES + image.length);
  return bytes;
}

export type DecodedCheckpoint =
  | {
      ok: true;
      seq: number;
      image: Uint8Array;
      /** A restore's checkpoint: its log record, decoded and as bytes. */
      restore?: { record: LogRecord; bytes: Uint8Array };
    }
  | { ok: false; reason: string };

/** The checkpoint's log seq and database image, or why it cannot be used. */
export function decodeCheckpoint(bytes: Uint8Array): DecodedCheckpoint {
  if (bytes.length < CHECKPOINT_HEADER_BYTES) {
    return { ok: false, reason: `truncated (${bytes.length} bytes, no complete header)` };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, CHECKPOINT_HEADER_BYTES);
  if (view.getUint32(0, true) !== CHECKPOINT_MAGIC) {
    return { ok: false, reason: 'not a Cask checkpoint (bad header)' };
  }
  const version = view.getUint32(4, true);
  if (version !== CHECKPOINT_VERSION && version !== RESTORE_CHECKPOINT_VERSION) {
    return { ok: false, reason: `unknown checkpoint format version ${version}` };
  }
  const seq = view.getFloat64(8, true);
  const length = view.getUint32(16, true);
  const imageEnd = CHECKPOINT_HEADER_BYTES + length;
  const whole =
    version === CHECKPOINT_VERSION ? bytes.length === imageEnd : bytes.length > imageEnd;
  if (!whole) {
    return {
      ok: false,
      reason:
        bytes.length < imageEnd
          ? `truncated (${bytes.length - CHECKPOINT_HEADER_BYTES} of ${length} image bytes)`
          : version === CHECKPOINT_VERSION
            ? `${bytes.length - imageEnd} bytes after the image`
            : "a restore's checkpoint without its record",
    };
  }
  const image = bytes.subarray(CHECKPOINT_HEADER_BYTES, imageEnd);
  if (crc32(image) !== view.getUint32(20, true)) {
    return { ok: false, reason: 'checksum mismatch' };
  }
  if (version === CHECKPOINT_VERSION) return { ok: true, seq, image };
  const decoded = decodeRecord(bytes, imageEnd);
  if (!decoded.ok || decoded.end !== bytes.length) {
    const why = decoded.ok
      ? `${bytes.length - decoded.end} bytes after it`
      : decoded.kind === 'short'
        ? 'it is cut short'
        : decoded.reason;
    return { ok: false, reason: `its restore record is unreadable: ${why}` };
  }
  const { record } = decoded;
  if (record.seq !== seq || !record.restore) {
    return {
      ok: false,
      reason: `its restore record is seq ${record.seq}${record.restore ? '' : ', not a restore'}`,
    };
  }
  return { ok: true, seq, image, restore: { record, bytes: bytes.subarray(imageEnd) } };
}

export function encodeSegmentHeader(firstSeq: number): Uint8Array {
  const bytes = new Uint8Array(SEGMENT_HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, SEGMENT_MAGIC, true);
  view.setUint32(4, SEGMENT_VERSION, true);
  view.setFloat64(8, firstSeq, true);
  return bytes;
}

export type SegmentStart =
  /** A header: records start after it. */
  | { kind: 'header'; firstSeq: number }
  /** No header: written before headers existed (records from byte 0), or empty. */
  | { kind: 'legacy' }
  /** Fewer bytes than a header, all of them a header's or zeros: a torn header write. */
  | { kind: 'torn' }
  | { kind: 'bad'; reason: string };

/** What a segment starts with. */
export function decodeSegmentStart(bytes: Uint8Array): SegmentStart {
  if (bytes.length === 0) return { kind: 'legacy' };
  if (bytes.length < SEGMENT_HEADER_BYTES) {
    const prefix = encodeSegmentHeader(0).subarray(0, Math.min(8, bytes.length));
    const asHeader = prefix.every((b, i) => bytes[i] === b);
    return asHeader || isZeros(bytes, 0) ? { kind: 'torn' } : magicOr(bytes);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
  if (view.getUint32(0, true) !== SEGMENT_MAGIC) return magicOr(bytes);
  const version = view.getUint32(4, true);
  if (version !== SEGMENT_VERSION) {
    return { kind: 'bad', reason: `unknown segment format version ${version}` };
  }
  return { kind: 'header', firstSeq: view.getFloat64(8, true) };
}

/** A headerless segment is legacy if it starts with a record; anything else is bad. */
function magicOr(bytes: Uint8Array): SegmentStart {
  if (startsLikeRecord(bytes, 0)) return { kind: 'legacy' };
  return {
    kind: 'bad',
    reason: isZeros(bytes, 0)
      ? `all of its ${bytes.length} bytes are zeros (the file was zero-filled, or its blocks lost)`
      : 'it starts with neither a segment header nor a record',
  };
}

export function isZeros(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i += 1) if (bytes[i] !== 0) return false;
  return true;
}

/** True if the bytes at `offset` begin as a record's header does (as far as they go). */
function startsLikeRecord(bytes: Uint8Array, offset: number): boolean {
  const magic = new Uint8Array(4);
  new DataView(magic.buffer).setUint32(0, RECORD_MAGIC, true);
  const n = Math.min(4, bytes.length - offset);
  for (let i = 0; i < n; i += 1) if (bytes[offset + i] !== magic[i]) return false;
  return n > 0;
}

/**
 * Whether the bytes from `offset` to the end, which are not a readable record, can only
 * be the last append torn by a crash: zeros (blocks the crash left unwritten), or the
 * start of one record that reaches to or past the end. Anything else — bytes that are
 * not a record's, or a bad record with more after it — is damage, not a torn write.
 */
export function tornTail(
  bytes: Uint8Array,
  offset: number,
): { torn: boolean; why: string } {
  const rest = bytes.length - offset;
  if (isZeros(bytes, offset)) return { torn: true, why: `${rest} zero bytes` };
  if (!startsLikeRecord(bytes, offset)) {
    return { torn: false, why: 'bytes that are not a record' };
  }
  if (rest < RECORD_HEADER_BYTES) return { torn: true, why: 'a cut record header' };
  const length = new DataView(bytes.buffer, bytes.byteOffset + offset, 8).getUint32(
    4,
    true,
  );
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > bytes.length) return { torn: true, why: 'a record cut short' };
  if (end === bytes.length)
    return { torn: true, why: 'a record whose bytes did not all reach the disk' };
  return {
    torn: false,
    why: `a damaged record with ${bytes.length - end} more bytes after it`,
  };
}
