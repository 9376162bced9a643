/**
 * The kernel's CRC-32 (checkpoints, log records) in Node's native code: `zlib.crc32`,
 * about ten times the JavaScript one; a 100k-key resume spent some 30 ms checking its
 * checkpoint. Each thread that reads or writes the log calls this once.
 */
import * as zlib from 'node:zlib';
import { useNativeCrc32 } from '../../kernel/durability/index.ts';

export function useNodeCrc32(): void {
  // Node 20.15 and later; an older one keeps the JavaScript CRC.
  if (typeof zlib.crc32 === 'function') useNativeCrc32(zlib.crc32);
}
