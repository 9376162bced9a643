/** A restore's checkpoint (version 2) carries its record; a damaged one is refused with why. */
import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.ts';
import { decodeCheckpoint, encodeCheckpoint, encodeRecord } from './format.ts';

const image = new TextEncoder().encode('not really a database, but bytes');
const restoreRecord = (seq: number, restore = true) =>
  encodeRecord({
    seq,
    firstCrank: 9,
    lastCrank: 9,
    changes: [],
    time: 1,
    ...(restore ? { restore: { crank: 3, seq: 3 } } : {}),
  });

describe("a restore's checkpoint", () => {
  it('gives back the image and the record it carries; a plain one carries none', () => {
    const decoded = decodeCheckpoint(
      encodeCheckpoint(7, image, crc32(image), restoreRecord(7)),
    );
    expect(decoded).toMatchObject({ ok: true, seq: 7, image });
    if (!decoded.ok) return;
    expect(decoded.restore?.record).toMatchObject({
      seq: 7,
      restore: { crank: 3, seq: 3 },
    });
    expect(decoded.restore?.bytes).toEqual(restoreRecord(7));
    const plain = decodeCheckpoint(encodeCheckpoint(7, image, crc32(image)));
    expect(plain.ok && plain.restore).toBe(undefined);
  });

  it('is refused, naming why, when its record is cut, damaged, of another seq or no restore', () => {
    const whole = encodeCheckpoint(7, image, crc32(image), restoreRecord(7));
    const cut = whole.subarray(0, whole.length - 3);
    expect(decodeCheckpoint(cut)).toEqual({
      ok: false,
      reason: 'its restore record is unreadable: it is cut short',
    });
    const flipped = whole.slice();
    flipped[flipped.length - 2] = (flipped.at(-2) ?? 0) ^ 1;
    expect(decodeCheckpoint(flipped)).toEqual({
      ok: false,
      reason: 'its restore record is unreadable: checksum mismatch',
    });
    const bare = encodeCheckpoint(7, image, crc32(image), restoreRecord(7)).subarray(
      0,
      24 + image.length,
    );
    expect(decodeCheckpoint(bare)).toEqual({
      ok: false,
      reason: "a restore's checkpoint without its record",
    });
    expect(
      decodeCheckpoint(encodeCheckpoint(7, image, crc32(image), restoreRecord(6))),
    ).toEqual({ ok: false, reason: 'its restore record is seq 6' });
    expect(
      decodeCheckpoint(encodeCheckpoint(7, image, crc32(image), restoreRecord(7, false))),
    ).toEqual({ ok: false, reason: 'its restore record is seq 7, not a restore' });
  });

  it('a plain checkpoint with bytes after its image is refused', () => {
    const plain = encodeCheckpoint(7, image, crc32(image));
    const longer = new Uint8Array(plain.length + 2);
    longer.set(plain);
    expect(decodeCheckpoint(longer)).toEqual({
      ok: false,
      reason: '2 bytes after the image',
    });
  });
});
