import { describe, expect, it } from 'vitest';
import { crc32, crc32Chunked } from './crc32.ts';

/** The bytewise definition, for comparison. */
function reference(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i += 1) {
    c ^= bytes[i] as number;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32', () => {
  it('gives the standard check value and agrees with the bytewise definition', async () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    let seed = 1;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (const length of [1, 7, 8, 9, 15, 16, 17, 1000, 4099]) {
      const bytes = Uint8Array.from({ length }, next);
      expect(crc32(bytes)).toBe(reference(bytes));
      // Any start and end, aligned or not.
      expect(crc32(bytes, 3, length - 1 > 3 ? length - 1 : 3)).toBe(
        reference(bytes, 3, length - 1 > 3 ? length - 1 : 3),
      );
      expect(await crc32Chunked(bytes, 5)).toBe(reference(bytes));
    }
  });
});
