/**
 * DurableStorage in a data directory: the crank log as append-only segment files,
 * checkpoints as whole files written atomically, and a lock so that one process at a time
 * owns the directory.
 *
 *   DIR/LOCK                      pid of the owning process
 *   DIR/log/<first seq>.log       log segments (records, see kernel/durability/format.ts)
 *   DIR/checkpoints/<seq>.ckpt    checkpoints
 *
 * Appends are followed by fdatasync; a checkpoint is written to a temporary file, synced,
 * renamed into place, and the directory synced, so it is there whole or not at all.
 */
import { constants } from 'node:fs';
import {
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  type FileHandle,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { DurableStorage } from '../../kernel/index.ts';

export class DataDirectoryLockedError extends Error {
  override name = 'DataDirectoryLockedError';
}

const name = (seq: number, ext: string) => `${String(seq).padStart(16, '0')}.${ext}`;

async function listSeqs(dir: string, ext: string): Promise<number[]> {
  const entries = await readdir(dir);
  return entries
    .filter((e) => e.endsWith(`.${ext}`) && /^\d{16}\./u.test(e))
    .map((e) => Number(e.slice(0, 16)));
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the directory's lock, or explains who holds it. A dead owner's lock is taken over. */
async function lock(dir: string): Promise<string> {
  const file = join(dir, 'LOCK');
  const content = `${process.pid} ${hostname()} ${new Date().toISOString()}\n`;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(content);
      await handle.sync();
      await handle.close();
      return file;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const [pidText, host] = (await readFile(file, 'utf8').catch(() => '')).split(' ');
      const pid = Number(pidText);
      if (Number.isInteger(pid) && pid > 0 && host === hostname() && alive(pid)) {
        throw new DataDirectoryLockedError(
          `data directory ${dir} is in use by another cask process (pid ${pid}); stop it first`,
        );
      }
      if (host !== undefined && host !== hostname()) {
        throw new DataDirectoryLockedError(
          `data directory ${dir} is locked by a process on host ${host}; if none runs there, delete ${file}`,
        );
      }
      await rm(file, { force: true }); // its owner is gone
    }
  }
  throw new DataDirectoryLockedError(`could not lock data directory ${dir}`);
}

export interface FileStorage extends DurableStorage {
  readonly dir: string;
  /** Bytes of the stored log segments and checkpoints. */
  sizes(): Promise<{ logBytes: number; checkpointBytes: number }>;
}

export async function openFileStorage(dir: string): Promise<FileStorage> {
  const logDir = join(dir, 'log');
  const checkpointDir = join(dir, 'checkpoints');
  await mkdir(logDir, { recursive: true });
  await mkdir(checkpointDir, { recursive: true });
  const lockFile = await lock(dir);
  let segment: FileHandle | undefined;
  let closed = false;

  const fileSize = async (path: string) => {
    const handle = await open(path, 'r');
    try {
      return (await handle.stat()).size;
    } finally {
      await handle.close();
    }
  };

  return {
    dir,
    listCheckpoints: () => listSeqs(checkpointDir, 'ckpt'),
    readCheckpoint: async (seq) =>
      new Uint8Array(await readFile(join(checkpointDir, name(seq, 'ckpt')))),
    async writeCheckpoint(seq, bytes) {
      const final = join(checkpointDir, name(seq, 'ckpt'));
      const temporary = `${final}.tmp`;
      const handle = await open(temporary, 'w');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, final);
      await syncDir(checkpointDir);
    },
    async deleteCheckpoint(seq) {
      await rm(join(checkpointDir, name(seq, 'ckpt')), { force: true });
    },
    listLogSegments: () => listSeqs(logDir, 'log'),
    readLogSegment: async (first) =>
      new Uint8Array(await readFile(join(logDir, name(first, 'log')))),
    async truncateLogSegment(first, length) {
      const handle = await open(join(logDir, name(first, 'log')), 'r+');
      try {
        await handle.truncate(length);
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
    async openLogSegment(first) {
      await segment?.close();
      segment = await open(join(logDir, name(first, 'log')), 'a');
      await segment.sync();
      await syncDir(logDir);
    },
    async appendLog(bytes) {
      if (!segment) throw new Error('appendLog: no log segment is open');
      await segment.write(bytes);
      await segment.datasync();
    },
    async deleteLogSegment(first) {
      await rm(join(logDir, name(first, 'log')), { force: true });
    },
    async sizes() {
      let logBytes = 0;
      for (const first of await listSeqs(logDir, 'log')) {
        logBytes += await fileSize(join(logDir, name(first, 'log')));
      }
      let checkpointBytes = 0;
      for (const seq of await listSeqs(checkpointDir, 'ckpt')) {
        checkpointBytes += await fileSize(join(checkpointDir, name(seq, 'ckpt')));
      }
      return { logBytes, checkpointBytes };
    },
    async close() {
      if (closed) return;
      closed = true;
      await segment?.close();
      segment = undefined;
      await rm(lockFile, { force: true });
    },
  };
}
