import { describe, expect, it } from 'vitest';
import { crc32 as kernelCrc32 } from '../../kernel/durability/crc32.ts';
import { crc32 } from './zip-crc32.ts';

// The kernel's CRC (here its JavaScript one: nothing in this file installs a native one)
// is the same IEEE CRC-32 as @endo/zip's; a continued checksum is that of the bytes
// before and the bytes given, together.
describe("the vat worker's zip CRC-32", () => {
  it("gives @endo/zip's checksum for any bytes, length, index and earlier crc", () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (const size of [0, 1, 9, 100, 4099, 70_000]) {
      const bytes = Uint8Array.from({ length: size }, next);
      expect(crc32(bytes)).toBe(kernelCrc32(bytes));
      const index = Math.min(3, size);
      const length = Math.max(0, size - index - 2);
      expect(crc32(bytes, length, index)).toBe(kernelCrc32(bytes, index, index + length));
      const earlier = kernelCrc32(bytes, 0, index);
      expect(crc32(bytes, length, index, earlier)).toBe(
        kernelCrc32(bytes, 0, index + length),
      );
    }
  });
});
