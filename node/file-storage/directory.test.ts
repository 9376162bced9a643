/**
 * What a data directory may hold: a directory that is not Cask's is refused, never taken
 * as new; leftovers of interrupted writes; cut tails; and a read-only open that changes
 * nothing at all.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFileSystem, type FileSystem } from './fs.ts';
import {
  DataDirectoryError,
  FileStorageError,
  openFileStorage,
  type FileStorage,
} from './index.ts';

const temporaryDirs: string[] = [];
const opened: FileStorage[] = [];

afterEach(async () => {
  for (const storage of opened.splice(0)) await storage.close().catch(() => undefined);
  for (const dir of temporaryDirs.splice(0))
    await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cask-dir-'));
  temporaryDirs.push(dir);
  return dir;
}

async function open(dir: string, options?: Parameters<typeof openFileStorage>[1]) {
  const storage = await openFileStorage(dir, options);
  opened.push(storage);
  return storage;
}

const bytes = (...values: number[]) => new Uint8Array(values);

/** A data directory with a log segment, a checkpoint and a cut tail in it. */
async function kernelDir(): Promise<string> {
  const dir = await tempDir();
  const storage = await openFileStorage(dir);
  await storage.openLogSegment(1);
  await storage.appendLog(bytes(1, 2, 3, 4, 5));
  await storage.writeCheckpoint(1, bytes(9, 8, 7));
  await storage.saveCutTail(1, 5, bytes(0, 0, 0));
  await storage.close();
  return dir;
}

/**
 * Every entry under `dir`: its kind, size, mtime (ns) and, for a file, its bytes; the
 * mtimes of directories only `withDirectoryTimes`.
 */
async function snapshot(
  dir: string,
  withDirectoryTimes = true,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const walk = async (path: string) => {
    const info = await stat(path, { bigint: true });
    const entry: Record<string, unknown> = {
      directory: info.isDirectory(),
      size: info.size,
      ...(withDirectoryTimes || !info.isDirectory() ? { mtimeNs: info.mtimeNs } : {}),
    };
    out[relative(dir, path) || '.'] = entry;
    if (info.isDirectory()) {
      for (const name of await readdir(path)) await walk(join(path, name));
    } else {
      entry.bytes = (await readFile(path)).toString('base64');
    }
  };
  await walk(dir);
  return out;
}

describe('a directory that is not a Cask data directory', () => {
  it('is created when missing, and an empty one is taken', async () => {
    const missing = join(await tempDir(), 'new', 'data');
    await (await openFileStorage(missing)).close();
    expect((await readdir(missing)).sort()).toEqual(['checkpoints', 'log']);
    const empty = await tempDir();
    const storage = await open(empty);
    expect(storage.leftovers).toEqual([]);
    expect((await readdir(empty)).sort()).toEqual(['LOCK', 'checkpoints', 'log']);
  });

  it('is refused when it holds anything else, and is left as it was', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await mkdir(join(dir, 'photos'));
    const attempt = openFileStorage(dir);
    await expect(attempt).rejects.toThrow(DataDirectoryError);
    await expect(attempt).rejects.toThrow(
      `${dir} is not empty and holds no Cask kernel (found: notes.txt, photos); use a new or empty directory`,
    );
    expect((await readdir(dir)).sort()).toEqual(['notes.txt', 'photos']);
  });

  it('is refused when a kernel directory also holds something else', async () => {
    const dir = await kernelDir();
    await writeFile(join(dir, 'README'), '');
    await expect(openFileStorage(dir)).rejects.toThrow(
      `${dir} holds a Cask kernel but also entries that are not Cask's (found: README)`,
    );
  });

  it("is refused, naming the file, when log/ or checkpoints/ hold a name that is not Cask's", async () => {
    const dir = await kernelDir();
    // Adding and removing the strangers changes the folders' mtimes, and only those.
    const before = await snapshot(dir, false);
    const stranger = join(dir, 'log', '1.log');
    await writeFile(stranger, '');
    await expect(openFileStorage(dir)).rejects.toThrow(
      `${stranger} is not a Cask file (log/ holds only <16 digits>.log and <16 digits>.cut-<offset>); move it out of ${dir}`,
    );
    await rm(stranger);
    const misplaced = join(dir, 'checkpoints', '0000000000000001.log');
    await writeFile(misplaced, '');
    await expect(openFileStorage(dir, { readOnly: true })).rejects.toThrow(
      `${misplaced} is not a Cask file (checkpoints/ holds only <16 digits>.ckpt)`,
    );
    await rm(misplaced);
    await mkdir(join(dir, 'log', '0000000000000009.log'));
    await expect(openFileStorage(dir)).rejects.toThrow(
      /0000000000000009\.log is not a Cask file/u,
    );
    await rm(join(dir, 'log', '0000000000000009.log'), { recursive: true });
    expect(await snapshot(dir, false)).toEqual(before);
  });

  it('propagates a read error, naming the path, instead of taking the directory as new', async () => {
    const dir = await kernelDir();
    const logDir = join(dir, 'log');
    const fs: FileSystem = {
      ...nodeFileSystem,
      readdir: ((path: string, ...rest: unknown[]) =>
        path === logDir
          ? Promise.reject(
              Object.assign(new Error(`EACCES: permission denied, scandir '${logDir}'`), {
                code: 'EACCES',
              }),
            )
          : (nodeFileSystem.readdir as (...a: unknown[]) => unknown)(
              path,
              ...rest,
            )) as FileSystem['readdir'],
    };
    const attempt = openFileStorage(dir, { fs });
    await expect(attempt).rejects.toThrow(FileStorageError);
    await expect(attempt).rejects.toThrow(
      `openFileStorage: reading ${logDir} failed: EACCES: permission denied, scandir '${logDir}'`,
    );
    await expect(attempt).rejects.toMatchObject({ code: 'EACCES' });
    // The refused open let the lock go.
    await (await openFileStorage(dir)).close();
  });
});

describe('leftovers of interrupted writes', () => {
  it('are removed at a writable open, and listed', async () => {
    const dir = await kernelDir();
    const checkpoint = join(dir, 'checkpoints', '0000000000000002.ckpt.tmp');
    const cut = join(dir, 'log', '0000000000000001.cut-3.tmp');
    const lock = join(dir, 'LOCK.tmp');
    for (const path of [checkpoint, cut, lock]) await writeFile(path, 'half');
    const storage = await open(dir);
    expect([...storage.leftovers].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: lock, what: 'an interrupted write of LOCK', removed: true },
      { path: checkpoint, what: 'an interrupted checkpoint write', removed: true },
      { path: cut, what: 'an interrupted write of a cut tail', removed: true },
    ]);
    expect(await readdir(join(dir, 'checkpoints'))).toEqual(['0000000000000001.ckpt']);
    expect(await storage.listCheckpoints()).toEqual([1]);
    expect((await readdir(dir)).sort()).toEqual(['LOCK', 'checkpoints', 'log']);
  });
});

describe('cut tails', () => {
  it('are kept whole beside the log, replaced when saved again, listed in order', async () => {
    const dir = await tempDir();
    const storage = await open(dir);
    await storage.saveCutTail(20, 7, bytes(1));
    await storage.saveCutTail(3, 100, bytes(1, 2));
    await storage.saveCutTail(3, 9, bytes(1, 2, 3));
    await storage.saveCutTail(3, 100, bytes(4, 5, 6, 7));
    const location = (segment: number, offset: number) =>
      join(dir, 'log', `${String(segment).padStart(16, '0')}.cut-${offset}`);
    expect(await storage.listCutTails()).toEqual([
      { segment: 3, offset: 9, bytes: 3, location: location(3, 9) },
      { segment: 3, offset: 100, bytes: 4, location: location(3, 100) },
      { segment: 20, offset: 7, bytes: 1, location: location(20, 7) },
    ]);
    expect(new Uint8Array(await readFile(location(3, 100)))).toEqual(bytes(4, 5, 6, 7));
    await storage.close();
    // A kernel directory with cut tails opens again, and keeps them.
    const again = await open(dir);
    expect(await again.listCutTails()).toHaveLength(3);
    await expect(again.saveCutTail(-1, 0, bytes())).rejects.toThrow(RangeError);
  });

  it('are no log segment and count in no size', async () => {
    const dir = await tempDir();
    const storage = await open(dir);
    await storage.openLogSegment(1);
    await storage.appendLog(bytes(1, 2, 3));
    await storage.writeCheckpoint(1, bytes(4, 5));
    await storage.saveCutTail(1, 3, new Uint8Array(1000));
    expect(await storage.listLogSegments()).toEqual([1]);
    expect(await storage.sizes()).toEqual({
      logBytes: 3,
      checkpointBytes: 2,
      newestCheckpointBytes: 2,
    });
  });

  it('have an absolute location when the directory was given relative', async () => {
    const dir = await tempDir();
    const storage = await open(relative(process.cwd(), dir));
    await storage.saveCutTail(1, 0, bytes(1));
    const [tail] = await storage.listCutTails();
    expect(tail?.location).toBe(join(dir, 'log', '0000000000000001.cut-0'));
  });
});

describe('a read-only open', () => {
  it('leaves every byte and file as it was, reports leftovers, and refuses every change', async () => {
    const dir = await kernelDir();
    const leftover = join(dir, 'checkpoints', '0000000000000002.ckpt.tmp');
    await writeFile(leftover, 'half');
    const before = await snapshot(dir);
    const storage = await openFileStorage(dir, { readOnly: true });
    expect(storage.readOnly).toBe(true);
    expect(storage.leftovers).toEqual([
      { path: leftover, what: 'an interrupted checkpoint write', removed: false },
    ]);
    expect(await storage.listLogSegments()).toEqual([1]);
    expect(await storage.readLogSegment(1)).toEqual(bytes(1, 2, 3, 4, 5));
    expect(await storage.listCheckpoints()).toEqual([1]);
    expect(await storage.readCheckpoint(1)).toEqual(bytes(9, 8, 7));
    expect(await storage.listCutTails()).toMatchObject([
      { segment: 1, offset: 5, bytes: 3 },
    ]);
    expect(await storage.sizes()).toEqual({
      logBytes: 5,
      checkpointBytes: 3,
      newestCheckpointBytes: 3,
    });
    const changes: Array<[string, () => Promise<void>]> = [
      ['writeCheckpoint', () => storage.writeCheckpoint(2, bytes(1))],
      ['deleteCheckpoint', () => storage.deleteCheckpoint(1)],
      ['truncateLogSegment', () => storage.truncateLogSegment(1, 0)],
      ['openLogSegment', () => storage.openLogSegment(6)],
      ['appendLog', () => storage.appendLog(bytes(1))],
      ['deleteLogSegment', () => storage.deleteLogSegment(1)],
      ['saveCutTail', () => storage.saveCutTail(1, 0, bytes(1))],
    ];
    for (const [name, change] of changes) {
      await expect(change()).rejects.toThrow(`${name}: ${dir} was opened read-only`);
    }
    await storage.close();
    expect(await snapshot(dir)).toEqual(before);
  });

  it('creates nothing: a missing directory, or one without log/, holds no Cask kernel', async () => {
    const parent = await tempDir();
    const missing = join(parent, 'data');
    await expect(openFileStorage(missing, { readOnly: true })).rejects.toThrow(
      new DataDirectoryError(`${missing} holds no Cask kernel (it does not exist)`),
    );
    expect(await readdir(parent)).toEqual([]);
    await expect(openFileStorage(parent, { readOnly: true })).rejects.toThrow(
      `${parent} holds no Cask kernel (it has no log/)`,
    );
    expect(await readdir(parent)).toEqual([]);
    await writeFile(missing, '');
    await expect(openFileStorage(missing, { readOnly: true })).rejects.toThrow(
      `${missing} holds no Cask kernel (it is not a directory)`,
    );
  });
});
