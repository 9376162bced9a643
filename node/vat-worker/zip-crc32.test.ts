import { describe, expect, it } from 'vitest';
import { crc32 } from './zip-crc32.ts';

/** @endo/zip's own (pako's) bytewise CRC-32, which zip-crc32.ts stands in for. */
function endoCrc32(bytes: Uint8Array, length = bytes.length, index = 0, crc = 0): number {
  let c = crc ^ -1;
  for (let i = index; i < index + length; i += 1) {
    c ^= bytes[i] as number;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ -1) >>> 0;
}

describe("the vat worker's zip CRC-32", () => {
  it("gives @endo/zip's checksum for any bytes, length, index and earlier crc", () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (const size of [0, 1, 9, 100, 4099, 70_000]) {
      const bytes = Uint8Array.from({ length: size }, next);
      expect(crc32(bytes)).toBe(endoCrc32(bytes));
      const index = Math.min(3, size);
      const length = Math.max(0, size - index - 2);
      expect(crc32(bytes, length, index)).toBe(endoCrc32(bytes, length, index));
      const earlier = endoCrc32(bytes.subarray(0, index));
      expect(crc32(bytes, length, index, earlier)).toBe(
        endoCrc32(bytes, length, index, earlier),
      );
    }
  });
});
