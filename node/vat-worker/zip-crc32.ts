/**
 * @endo/zip's `crc32`, for the one-file vat worker (vite.vat-worker.config.ts puts it in
 * place of the library's): the same function over Node's native `zlib.crc32`. Reading a
 * vat's bundle checks the CRC-32 of every file in its archive, byte by byte in
 * JavaScript, about 40 ms of a vat's start for a bundle of Endo's packages; natively,
 * under 2. The bundle's SHA-512 is checked as before.
 */
import * as zlib from 'node:zlib';

/** The CRC-32 of `length` bytes from `index`, continuing from `crc` (0 for none). */
export function crc32(
  bytes: Uint8Array,
  length = bytes.length,
  index = 0,
  crc = 0,
): number {
  return zlib.crc32(bytes.subarray(index, index + length), crc) >>> 0;
}
