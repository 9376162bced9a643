/**
 * Writes are whole or fail, checked with a file system that injects faults at the true
 * system edge: the handles `open` returns write short, fail part way, or fail to sync.
 */
import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFileSystem, type FileSystem } from './fs.ts';
import { FileStorageError, openFileStorage, type FileStorage } from './index.ts';

const temporaryDirs: string[] = [];
const opened: FileStorage[] = [];

afterEach(async () => {
  for (const storage of opened.splice(0)) await storage.close().catch(() => undefined);
  for (const dir of temporaryDirs.splice(0))
    await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cask-writes-'));
  temporaryDirs.push(dir);
  return dir;
}

type Write = (
  real: FileHandle,
  bytes: Uint8Array,
  offset: number,
  length: number,
  position: number | null,
) => Promise<{ bytesWritten: number }>;

interface Faults {
  write?: Write;
  sync?: (real: FileHandle) => Promise<void>;
  datasync?: (real: FileHandle) => Promise<void>;
}

/** node:fs/promises, but the handles of files whose path `matches` have `faults`. */
function faulty(matches: (path: string) => boolean, faults: Faults): FileSystem {
  return {
    ...nodeFileSystem,
    open: (async (...args: Parameters<FileSystem['open']>) => {
      const handle = await nodeFileSystem.open(...args);
      if (!matches(String(args[0]))) return handle;
      return new Proxy(handle, {
        get(target, key) {
          if (key === 'write' && faults.write) {
            const write = faults.write;
            return (bytes: Uint8Array, offset = 0, length?: number, position?: number) =>
              write(
                target,
                bytes,
                offset,
                length ?? bytes.length - offset,
                position ?? null,
              );
          }
          if ((key === 'sync' || key === 'datasync') && faults[key]) {
            const sync = faults[key];
            return () => sync(target);
          }
          const value: unknown = Reflect.get(target, key, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    }) as FileSystem['open'],
  };
}

const errno = (code: string, message: string) =>
  Object.assign(new Error(`${code}: ${message}`), { code });

/** Writes at most half of what it is asked (at least a byte), and says so. */
const halfWrites = (calls: { count: number }): Write => {
  return (real, bytes, offset, length, position) => {
    calls.count += 1;
    return real.write(bytes, offset, Math.max(1, Math.floor(length / 2)), position);
  };
};

/** Writes part of what it is asked, then fails with ENOSPC. */
const fullDisk: Write = async (real, bytes, offset, length, position) => {
  await real.write(bytes, offset, Math.floor(length / 3), position);
  throw errno('ENOSPC', 'no space left on device, write');
};

const random = (n: number) => {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i += 1) bytes[i] = (i * 7919 + 13) % 251;
  return bytes;
};

async function open(dir: string, fs: FileSystem): Promise<FileStorage> {
  const storage = await openFileStorage(dir, { fs });
  opened.push(storage);
  return storage;
}

describe('file storage writes', () => {
  it('completes a short write: the segment holds the whole record', async () => {
    const dir = await tempDir();
    const calls = { count: 0 };
    const storage = await open(
      dir,
      faulty((path) => path.endsWith('.log'), { write: halfWrites(calls) }),
    );
    await storage.openLogSegment(1);
    const first = random(1000);
    const second = random(333).reverse();
    await storage.appendLog(first);
    await storage.appendLog(second);
    expect(calls.count).toBeGreaterThan(2);
    expect(await storage.readLogSegment(1)).toEqual(
      new Uint8Array([...first, ...second]),
    );
  });

  it('completes short writes of checkpoints, cut tails and LOCK', async () => {
    const dir = await tempDir();
    const calls = { count: 0 };
    const storage = await open(
      dir,
      faulty((path) => path.endsWith('.tmp'), { write: halfWrites(calls) }),
    );
    expect(calls.count).toBeGreaterThan(1); // LOCK.tmp
    expect(await readFile(join(dir, 'LOCK'), 'utf8')).toMatch(
      new RegExp(`^${process.pid} \\S+ \\S+Z\\n$`, 'u'),
    );
    const image = random(5000);
    await storage.writeCheckpoint(7, image);
    expect(await storage.readCheckpoint(7)).toEqual(image);
    const tail = random(77);
    await storage.saveCutTail(1, 40, tail);
    const [cut] = await storage.listCutTails();
    expect(cut).toMatchObject({ segment: 1, offset: 40, bytes: 77 });
    expect(new Uint8Array(await readFile(cut?.location as string))).toEqual(tail);
  });

  it('rejects appendLog when a write fails part way (ENOSPC), naming the file', async () => {
    const dir = await tempDir();
    const storage = await open(
      dir,
      faulty((path) => path.endsWith('.log'), { write: fullDisk }),
    );
    await storage.openLogSegment(1);
    const attempt = storage.appendLog(random(600));
    await expect(attempt).rejects.toThrow(FileStorageError);
    await expect(attempt).rejects.toThrow(
      `appendLog: write to ${join(dir, 'log', '0000000000000001.log')} failed: ENOSPC: no space left on device, write`,
    );
    await expect(attempt).rejects.toMatchObject({
      code: 'ENOSPC',
      cause: expect.objectContaining({ code: 'ENOSPC' }),
    });
  });

  it('rejects appendLog when datasync fails (EIO)', async () => {
    const dir = await tempDir();
    const storage = await open(
      dir,
      faulty((path) => path.endsWith('.log'), {
        datasync: () => Promise.reject(errno('EIO', 'i/o error, fdatasync')),
      }),
    );
    await storage.openLogSegment(1);
    const attempt = storage.appendLog(random(100));
    await expect(attempt).rejects.toThrow(
      `appendLog: datasync of ${join(dir, 'log', '0000000000000001.log')} failed: EIO: i/o error, fdatasync`,
    );
    await expect(attempt).rejects.toMatchObject({ code: 'EIO' });
  });

  it('rejects a write that writes nothing instead of trying for ever', async () => {
    const dir = await tempDir();
    const storage = await open(
      dir,
      faulty((path) => path.endsWith('.log'), {
        write: () => Promise.resolve({ bytesWritten: 0 }),
      }),
    );
    await storage.openLogSegment(1);
    await expect(storage.appendLog(random(10))).rejects.toThrow(
      /appendLog: write to .*0000000000000001\.log failed: it wrote nothing \(0 of 10 bytes written\)/u,
    );
  });

  it('leaves no checkpoint or cut tail, whole or partial, when their write fails', async () => {
    const dir = await tempDir();
    const storage = await open(
      dir,
      faulty((path) => path.endsWith('.tmp') && !path.endsWith('LOCK.tmp'), {
        write: fullDisk,
      }),
    );
    await expect(storage.writeCheckpoint(3, random(4000))).rejects.toMatchObject({
      code: 'ENOSPC',
      message: expect.stringMatching(
        /^writeCheckpoint: write to .*0000000000000003\.ckpt\.tmp failed: ENOSPC/u,
      ),
    });
    await expect(storage.saveCutTail(1, 9, random(50))).rejects.toMatchObject({
      code: 'ENOSPC',
      message: expect.stringMatching(
        /^saveCutTail: write to .*0000000000000001\.cut-9\.tmp failed: ENOSPC/u,
      ),
    });
    expect(await readdir(join(dir, 'checkpoints'))).toEqual([]);
    expect(await readdir(join(dir, 'log'))).toEqual([]);
    expect(await storage.listCheckpoints()).toEqual([]);
    expect(await storage.listCutTails()).toEqual([]);
  });

  it('rejects writeCheckpoint when the sync of its file fails, and keeps none', async () => {
    const dir = await tempDir();
    const storage = await open(
      dir,
      faulty((path) => path.endsWith('.ckpt.tmp'), {
        sync: () => Promise.reject(errno('EIO', 'i/o error, fsync')),
      }),
    );
    await expect(storage.writeCheckpoint(3, random(100))).rejects.toThrow(
      /^writeCheckpoint: sync of .*0000000000000003\.ckpt\.tmp failed: EIO/u,
    );
    expect(await readdir(join(dir, 'checkpoints'))).toEqual([]);
  });

  it('refuses to open when LOCK cannot be written, leaving no LOCK and the lock free', async () => {
    const dir = await tempDir();
    await expect(
      openFileStorage(dir, {
        fs: faulty((path) => path.endsWith('LOCK.tmp'), { write: fullDisk }),
      }),
    ).rejects.toThrow(/^openFileStorage: write to .*LOCK\.tmp failed: ENOSPC/u);
    expect(await readdir(dir)).toEqual([]);
    await (await openFileStorage(dir)).close();
  });
});
