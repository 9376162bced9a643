/**
 * Byte formats of the crank log and of checkpoints. docs/durability.md describes them.
 *
 * A log record: "CKLR" | u32 payload length | u32 CRC-32 of payload | payload (UTF-8 JSON
 * `{ seq, firstCrank, lastCrank, changes: [[table, key, row|null]…] }`).
 * A checkpoint: "CKCP" | u32 format version | f64 log seq it includes | u32 image length |
 * u32 CRC-32 of image | image (a SQLite database).
 */
import type { RowChange, TableName } from '../store/index.ts';
import { crc32 } from './crc32.ts';

const RECORD_MAGIC = 0x524c4b43; // "CKLR" little-endian
const CHECKPOINT_MAGIC = 0x50434b43; // "CKCP" little-endian
const CHECKPOINT_VERSION = 1;
export const RECORD_HEADER_BYTES = 12;
const CHECKPOINT_HEADER_BYTES = 24;

export interface LogRecord {
  seq: number;
  firstCrank: number;
  lastCrank: number;
  changes: RowChange[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeRecord(record: LogRecord): Uint8Array {
  const payload = encoder.encode(
    JSON.stringify({
      seq: record.seq,
      firstCrank: record.firstCrank,
      lastCrank: record.lastCrank,
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

/** Decodes the record that starts at `offset`. */
export function decodeRecord(bytes: Uint8Array, offset: number): DecodeResult {
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
  try {
    const json = JSON.parse(
      decoder.decode(bytes.subarray(offset + RECORD_HEADER_BYTES, end)),
    ) as { seq: number; firstCrank: number; lastCrank: number; changes: unknown[] };
    const changes = json.changes.map((c) => {
      const [table, key, row] = c as [TableName, RowChange['key'], RowChange['row']];
      return { table, key, row };
    });
    return {
      ok: true,
      record: {
        seq: json.seq,
        firstCrank: json.firstCrank,
        lastCrank: json.lastCrank,
        changes,
      },
      end,
    };
  } catch (error) {
    return {
      ok: false,
      kind: 'bad',
      reason: `unreadable payload: ${String(error)}`,
      end,
    };
  }
}

/** `imageCrc` is crc32(image), computed by the caller (it may take a while). */
export function encodeCheckpoint(
  seq: number,
  image: Uint8Array,
  imageCrc: number,
): Uint8Array {
  const bytes = new Uint8Array(CHECKPOINT_HEADER_BYTES + image.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, CHECKPOINT_MAGIC, true);
  view.setUint32(4, CHECKPOINT_VERSION, true);
  view.setFloat64(8, seq, true);
  view.setUint32(16, image.length, true);
  view.setUint32(20, imageCrc, true);
  bytes.set(image, CHECKPOINT_HEADER_BYTES);
  return bytes;
}

/** The checkpoint's log seq and database image, or why it cannot be used. */
export function decodeCheckpoint(
  bytes: Uint8Array,
): { ok: true; seq: number; image: Uint8Array } | { ok: false; reason: string } {
  if (bytes.length < CHECKPOINT_HEADER_BYTES) {
    return { ok: false, reason: `truncated (${bytes.length} bytes, no complete header)` };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, CHECKPOINT_HEADER_BYTES);
  if (view.getUint32(0, true) !== CHECKPOINT_MAGIC) {
    return { ok: false, reason: 'not a Cask checkpoint (bad header)' };
  }
  const version = view.getUint32(4, true);
  if (version !== CHECKPOINT_VERSION) {
    return { ok: false, reason: `unknown checkpoint format version ${version}` };
  }
  const length = view.getUint32(16, true);
  if (bytes.length !== CHECKPOINT_HEADER_BYTES + length) {
    return {
      ok: false,
      reason: `truncated (${bytes.length - CHECKPOINT_HEADER_BYTES} of ${length} image bytes)`,
    };
  }
  const image = bytes.subarray(CHECKPOINT_HEADER_BYTES);
  if (crc32(image) !== view.getUint32(20, true)) {
    return { ok: false, reason: 'checksum mismatch' };
  }
  return { ok: true, seq: view.getFloat64(8, true), image };
}
