/**
 * DurableStorage in a data directory: the crank log as append-only segment files,
 * checkpoints and cut tails as whole files written atomically, and a lock so that one
 * process at a time owns the directory.
 *
 *   DIR/LOCK                               `pid host iso-time` of the owner (information)
 *   DIR/log/<16-digit first seq>.log       log segments (records: kernel/durability/format.ts)
 *   DIR/log/<16-digit segment>.cut-<off>   bytes recovery cut from a segment at byte <off>
 *   DIR/checkpoints/<16-digit seq>.ckpt    checkpoints
 *
 * Rules:
 * - The lock (lock.ts): on Linux an abstract Unix socket named after DIR's device and
 *   inode, which the OS releases when the owner dies; elsewhere LOCK created exclusively,
 *   never taken over. A LOCK naming another host refuses in both cases.
 * - Writes are whole or fail: a write that wrote part goes on from where it stopped; an
 *   append is durable once written and fdatasync'd; a checkpoint, a cut tail and LOCK
 *   are written to `<name>.tmp`, synced, renamed into place and the directory synced.
 *   A failure rejects with a FileStorageError naming the operation, the file and the
 *   errno code.
 * - A directory it does not know is refused, never taken as new (layout.ts): DIR may
 *   hold only LOCK, log/ and checkpoints/, and these only Cask's file names. What an
 *   interrupted atomic write leaves (`*.tmp`) is removed by a writable open and reported
 *   by a read-only one (`leftovers`).
 * - `readOnly` (cask inspect) creates, writes and removes nothing, takes the socket lock
 *   all the same, and refuses every mutating method.
 */
import { existsSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CutTail, DurableStorage } from '../../kernel/index.ts';
import {
  attempt,
  closeQuietly,
  errnoCode,
  failed,
  nodeFileSystem,
  syncDir,
  writeAll,
  writeFileAtomically,
  type FileSystem,
} from './fs.ts';
import {
  CHECKPOINT,
  checkpointName,
  CHECKPOINTS,
  checkTopLevel,
  CUT_TAIL,
  cutTailName,
  DataDirectoryError,
  LOG,
  readEntries,
  scanDataDirectory,
  SEGMENT,
  segmentName,
  type Leftover,
} from './layout.ts';
import { lockDirectory } from './lock.ts';

export { FileStorageError, type FileSystem } from './fs.ts';
export { DataDirectoryError, type Leftover } from './layout.ts';
export { DataDirectoryLockedError } from './lock.ts';

/**
 * Whether `dir` holds a kernel's log already (a kernel to resume), checked without
 * opening or locking it: a hint, not a promise.
 */
export function holdsLog(dir: string): boolean {
  return existsSync(join(resolve(dir), LOG));
}

export interface FileStorageOptions {
  /**
   * Only read (cask inspect): DIR must hold a kernel; nothing is created, written or
   * removed, and every mutating method rejects. The directory is still locked against
   * writers, where the platform allows it without writing (Linux).
   */
  readOnly?: boolean;
  /** The file system functions to use (tests inject faults); node:fs/promises by default. */
  fs?: FileSystem;
}

export interface FileStorage extends DurableStorage {
  readonly dir: string;
  readonly readOnly: boolean;
  /** Files interrupted writes left behind: removed by a writable open, else still there. */
  readonly leftovers: readonly Leftover[];
  /**
   * Bytes of the stored log segments and checkpoints (cut tails not included), and of
   * the newest checkpoint (the live state; older ones are history).
   */
  sizes(): Promise<{
    logBytes: number;
    checkpointBytes: number;
    newestCheckpointBytes: number;
  }>;
}

const OPEN = 'openFileStorage';

/** The numbers in the names matching `pattern` in `dir` (none if it does not exist). */
async function listNames(
  fs: FileSystem,
  dir: string,
  pattern: RegExp,
  op: string,
): Promise<Array<{ name: string; numbers: number[] }>> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw failed(op, `reading ${dir}`, error);
  }
  return names.flatMap((name) => {
    const match = pattern.exec(name);
    return match ? [{ name, numbers: match.slice(1).map(Number) }] : [];
  });
}

/** A file's size, or undefined if it is gone (deleted since it was listed). */
async function sizeOf(fs: FileSystem, path: string, op: string) {
  try {
    return (await fs.stat(path)).size;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw failed(op, `stat of ${path}`, error);
  }
}

async function checkIsKernel(fs: FileSystem, root: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await fs.stat(root)).isDirectory();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new DataDirectoryError(`${root} holds no Cask kernel (it does not exist)`);
    }
    throw failed(OPEN, `stat of ${root}`, error);
  }
  if (!isDirectory) {
    throw new DataDirectoryError(`${root} holds no Cask kernel (it is not a directory)`);
  }
}

export async function openFileStorage(
  dir: string,
  options: FileStorageOptions = {},
): Promise<FileStorage> {
  const fs = options.fs ?? nodeFileSystem;
  const readOnly = options.readOnly ?? false;
  const root = resolve(dir);
  const logDir = join(root, LOG);
  const checkpointDir = join(root, CHECKPOINTS);

  if (readOnly) await checkIsKernel(fs, root);
  else await attempt(OPEN, `creating ${root}`, () => fs.mkdir(root, { recursive: true }));
  // Before the lock, which may write LOCK: nothing is written into a directory not Cask's.
  const top = await readEntries(fs, root, OPEN);
  if (top === undefined) throw new DataDirectoryError(`${root} holds no Cask kernel`);
  checkTopLevel(root, top);
  const lock = await lockDirectory(fs, root, { readOnly });
  let leftovers: Leftover[];
  try {
    // Again, holding the lock: now nobody else changes the directory.
    const scan = await scanDataDirectory(fs, root, OPEN);
    if (readOnly && !scan.hasLog) {
      throw new DataDirectoryError(`${root} holds no Cask kernel (it has no ${LOG}/)`);
    }
    leftovers = scan.leftovers;
    if (!readOnly) {
      for (const leftover of leftovers) {
        await attempt(OPEN, `removing ${leftover.path}`, () =>
          fs.rm(leftover.path, { force: true }),
        );
        leftover.removed = true;
      }
      await lock.recordOwner();
      await attempt(OPEN, `creating ${logDir}`, () =>
        fs.mkdir(logDir, { recursive: true }),
      );
      await attempt(OPEN, `creating ${checkpointDir}`, () =>
        fs.mkdir(checkpointDir, { recursive: true }),
      );
    }
  } catch (error) {
    await lock.release().catch(() => undefined);
    throw error;
  }

  let segment: { handle: FileHandle; path: string } | undefined;
  let closed = false;
  const writable = (op: string) => {
    if (readOnly) throw new Error(`${op}: ${root} was opened read-only`);
  };
  const segmentPath = (first: number) => join(logDir, segmentName(first));
  const checkpointPath = (seq: number) => join(checkpointDir, checkpointName(seq));
  const read = async (op: string, path: string) =>
    new Uint8Array(await attempt(op, `reading ${path}`, () => fs.readFile(path)));
  const remove = (op: string, path: string) =>
    attempt(op, `removing ${path}`, () => fs.rm(path, { force: true }));
  const seqs = async (folder: string, pattern: RegExp, op: string) =>
    (await listNames(fs, folder, pattern, op)).map(({ numbers: [n] }) => n as number);
  const total = async (folder: string, pattern: RegExp, op: string) => {
    let bytes = 0;
    for (const { name } of await listNames(fs, folder, pattern, op)) {
      bytes += (await sizeOf(fs, join(folder, name), op)) ?? 0;
    }
    return bytes;
  };

  return {
    dir,
    readOnly,
    leftovers,
    listCheckpoints: () => seqs(checkpointDir, CHECKPOINT, 'listCheckpoints'),
    readCheckpoint: (seq) => read('readCheckpoint', checkpointPath(seq)),
    async writeCheckpoint(seq, bytes) {
      writable('writeCheckpoint');
      await writeFileAtomically(fs, checkpointPath(seq), bytes, 'writeCheckpoint');
    },
    async deleteCheckpoint(seq) {
      writable('deleteCheckpoint');
      await remove('deleteCheckpoint', checkpointPath(seq));
    },
    listLogSegments: () => seqs(logDir, SEGMENT, 'listLogSegments'),
    readLogSegment: (first) => read('readLogSegment', segmentPath(first)),
    async truncateLogSegment(first, length) {
      writable('truncateLogSegment');
      const op = 'truncateLogSegment';
      const path = segmentPath(first);
      const handle = await attempt(op, `opening ${path}`, () => fs.open(path, 'r+'));
      try {
        await attempt(op, `truncate of ${path}`, () => handle.truncate(length));
        await attempt(op, `sync of ${path}`, () => handle.sync());
      } catch (error) {
        await closeQuietly(handle);
        throw error;
      }
      await attempt(op, `closing ${path}`, () => handle.close());
    },
    async openLogSegment(first) {
      writable('openLogSegment');
      const op = 'openLogSegment';
      const previous = segment;
      segment = undefined;
      if (previous) {
        await attempt(op, `closing ${previous.path}`, () => previous.handle.close());
      }
      const path = segmentPath(first);
      const handle = await attempt(op, `opening ${path}`, () => fs.open(path, 'a'));
      segment = { handle, path };
      await attempt(op, `sync of ${path}`, () => handle.sync());
      await syncDir(fs, logDir, op);
    },
    async appendLog(bytes) {
      writable('appendLog');
      const op = 'appendLog';
      if (!segment) throw new Error(`${op}: no log segment is open`);
      const { handle, path } = segment;
      await writeAll(handle, bytes, { op, path, position: null });
      await attempt(op, `datasync of ${path}`, () => handle.datasync());
    },
    async deleteLogSegment(first) {
      writable('deleteLogSegment');
      await remove('deleteLogSegment', segmentPath(first));
    },
    async saveCutTail(segmentSeq, offset, bytes) {
      writable('saveCutTail');
      for (const [what, n] of [
        ['segment', segmentSeq],
        ['offset', offset],
      ] as const) {
        if (!Number.isSafeInteger(n) || n < 0) {
          throw new RangeError(`saveCutTail: ${what} ${n} is not a whole number ≥ 0`);
        }
      }
      const path = join(logDir, cutTailName(segmentSeq, offset));
      await writeFileAtomically(fs, path, bytes, 'saveCutTail');
    },
    async listCutTails() {
      const op = 'listCutTails';
      const tails: CutTail[] = [];
      for (const { name, numbers } of await listNames(fs, logDir, CUT_TAIL, op)) {
        const location = join(logDir, name);
        const size = await sizeOf(fs, location, op);
        const [tailSegment = 0, offset = 0] = numbers;
        if (size !== undefined)
          tails.push({ segment: tailSegment, offset, bytes: size, location });
      }
      return tails.sort((a, b) => a.segment - b.segment || a.offset - b.offset);
    },
    async sizes() {
      const newest = (await seqs(checkpointDir, CHECKPOINT, 'sizes')).sort(
        (a, b) => b - a,
      )[0];
      return {
        logBytes: await total(logDir, SEGMENT, 'sizes'),
        checkpointBytes: await total(checkpointDir, CHECKPOINT, 'sizes'),
        newestCheckpointBytes:
          newest === undefined
            ? 0
            : ((await sizeOf(fs, checkpointPath(newest), 'sizes')) ?? 0),
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      const open = segment;
      segment = undefined;
      try {
        if (open)
          await attempt('close', `closing ${open.path}`, () => open.handle.close());
      } finally {
        await lock.release();
      }
    },
  };
}
