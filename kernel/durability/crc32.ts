/** CRC-32 (IEEE 802.3), the checksum of log records and checkpoints. */

/**
 * Slicing-by-8 tables: TABLES[k][n] is the CRC of byte n followed by k zero bytes, so
 * eight bytes are folded in per step (about five times the bytewise loop's speed: a
 * 14 MB checkpoint took 290 ms to check at recovery, bytewise).
 */
const TABLES = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const first = tables[0] as Uint32Array;
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    first[n] = c >>> 0;
  }
  for (let k = 1; k < 8; k += 1) {
    const previous = tables[k - 1] as Uint32Array;
    const table = tables[k] as Uint32Array;
    for (let n = 0; n < 256; n += 1) {
      const c = previous[n] as number;
      table[n] = ((first[c & 0xff] as number) ^ (c >>> 8)) >>> 0;
    }
  }
  return tables;
})();
const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLES as [
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
];

function update(crc: number, bytes: Uint8Array, start: number, end: number): number {
  let c = crc;
  let i = start;
  for (const last = end - 8; i <= last; i += 8) {
    const a =
      (c ^
        ((bytes[i] as number) |
          ((bytes[i + 1] as number) << 8) |
          ((bytes[i + 2] as number) << 16) |
          ((bytes[i + 3] as number) << 24))) >>>
      0;
    c =
      (T7[a & 0xff] as number) ^
      (T6[(a >>> 8) & 0xff] as number) ^
      (T5[(a >>> 16) & 0xff] as number) ^
      (T4[a >>> 24] as number) ^
      (T3[bytes[i + 4] as number] as number) ^
      (T2[bytes[i + 5] as number] as number) ^
      (T1[bytes[i + 6] as number] as number) ^
      (T0[bytes[i + 7] as number] as number);
  }
  for (; i < end; i += 1) {
    c = (T0[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  return c >>> 0;
}

/**
 * A host's own CRC-32 (Node's `zlib.crc32`): the checksum of `bytes`, continuing from
 * `value`, the checksum of the bytes before them (0 for none).
 */
export type NativeCrc32 = (bytes: Uint8Array, value?: number) => number;

let native: NativeCrc32 | undefined;

/**
 * Has this realm checksum with the host's native CRC-32, after checking that it agrees
 * with this one, whole and continued, on the standard check input. In JavaScript a
 * 15 MB checkpoint takes about 30 ms to check at recovery, natively about 3.
 */
export function useNativeCrc32(fn: NativeCrc32): void {
  const input = new TextEncoder().encode('123456789');
  const whole = fn(input) >>> 0;
  const continued = fn(input.subarray(4), fn(input.subarray(0, 4))) >>> 0;
  const expected = crc32Js(input);
  if (whole !== expected || continued !== expected) {
    throw new Error(
      `useNativeCrc32: the native CRC-32 of "123456789" is ${whole.toString(16)} (continued: ${continued.toString(16)}), not ${expected.toString(16)}`,
    );
  }
  native = fn;
}

function crc32Js(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return (update(0xffffffff, bytes, start, end) ^ 0xffffffff) >>> 0;
}

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (native) return native(bytes.subarray(start, end)) >>> 0;
  return crc32Js(bytes, start, end);
}

/**
 * The same checksum over a large buffer, yielding to the event loop between chunks so
 * the run queue keeps moving while a checkpoint is checksummed.
 */
export async function crc32Chunked(bytes: Uint8Array, chunk = 1 << 20): Promise<number> {
  if (native) return crc32(bytes); // a few ms for the largest checkpoint: no need to yield
  let crc = 0xffffffff;
  for (let start = 0; start < bytes.length; start += chunk) {
    const end = Math.min(bytes.length, start + chunk);
    crc = update(crc, bytes, start, end);
    if (end < bytes.length) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return (crc ^ 0xffffffff) >>> 0;
}
