/** CRC-32 (IEEE 802.3), the checksum of log records and checkpoints. */

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function update(crc: number, bytes: Uint8Array, start: number, end: number): number {
  let c = crc;
  for (let i = start; i < end; i += 1) {
    c = (TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  return c;
}

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return (update(0xffffffff, bytes, start, end) ^ 0xffffffff) >>> 0;
}

/**
 * The same checksum over a large buffer, yielding to the event loop between chunks so
 * the run queue keeps moving while a checkpoint is checksummed.
 */
export async function crc32Chunked(bytes: Uint8Array, chunk = 1 << 20): Promise<number> {
  let crc = 0xffffffff;
  for (let start = 0; start < bytes.length; start += chunk) {
    const end = Math.min(bytes.length, start + chunk);
    crc = update(crc, bytes, start, end);
    if (end < bytes.length) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return (crc ^ 0xffffffff) >>> 0;
}
