import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Chunked, useNativeCrc32 } from './crc32.ts';

/** The bytewise definition, for comparison. */
function reference(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i += 1) {
    c ^= bytes[i] as number;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

async function agreesWithTheDefinition(): Promise<void> {
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
}

// In this order: once the native CRC is in use, it stays for the rest of this file.
describe('crc32', () => {
  it('gives the standard check value and agrees with the bytewise definition', async () => {
    await agreesWithTheDefinition();
  });

  it('refuses a native CRC that disagrees, whole or continued, and keeps its own', async () => {
    expect(() => useNativeCrc32(() => 0)).toThrow(
      /native CRC-32 of "123456789" is 0 \(continued: 0\), not cbf43926/u,
    );
    // Right whole, wrong when continued from an earlier value.
    const wholeOnly = (bytes: Uint8Array, value = 0) =>
      value === 0 ? zlib.crc32(bytes) : 1;
    expect(() => useNativeCrc32(wholeOnly)).toThrow(/continued: 1\)/u);
    await agreesWithTheDefinition();
  });

  it("with Node's zlib.crc32 in use, gives the same checksums", async () => {
    useNativeCrc32(zlib.crc32);
    await agreesWithTheDefinition();
  });
});
