import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir } from './fixtures/temp-dirs.ts';
import { join } from 'node:path';
import { openFileStorage } from '../node/file-storage/index.ts';
import { durabilitySuite } from './durability-suite.ts';

afterAll(removeTempDirs);

durabilitySuite('files in a data directory', async () => {
  const dir = await tempDir('cask-durability-');
  return {
    open: () => openFileStorage(dir),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('a data directory', () => {
  it('is held by one process at a time: a second open is refused with a clear error', async () => {
    const dir = await tempDir('cask-lock-');
    const first = await openFileStorage(dir);
    await expect(openFileStorage(dir)).rejects.toThrow(
      new RegExp(
        `data directory ${dir} is in use by another cask process \\(pid ${process.pid}\\)`,
        'u',
      ),
    );
    await first.close();
    const second = await openFileStorage(dir);
    await second.close();
  });

  it('takes over the lock of a process that died', async () => {
    const dir = await tempDir('cask-lock-');
    // A pid that is not running on this host.
    await writeFile(
      join(dir, 'LOCK'),
      `999999999 ${hostname()} 2026-01-01T00:00:00.000Z\n`,
    );
    const storage = await openFileStorage(dir);
    expect(await readFile(join(dir, 'LOCK'), 'utf8')).toMatch(
      new RegExp(`^${process.pid} `, 'u'),
    );
    await storage.close();
  });
});
