/**
 * One process at a time owns a data directory.
 *
 * On Linux the lock is an abstract-namespace Unix socket named after the directory's
 * device and inode (so the same directory reached by another path is the same lock).
 * Binding a name is atomic, so of any number of processes starting at once exactly one
 * gets it, and the kernel releases it when its process dies, however it dies: there is
 * never a stale lock to take over, so there is no takeover race (two processes both
 * deciding that a dead owner's lock is theirs). DIR/LOCK (`pid host iso-time`) is only
 * information: the owner writes it after binding and removes it on close; it names the
 * owner to whoever is refused. A LOCK naming another host still refuses: on a shared
 * file system the socket cannot see a process there.
 *
 * Elsewhere the lock is DIR/LOCK itself, created exclusively (`wx`). Its owner may have
 * died, but a stale LOCK is never taken over automatically (deciding that it is stale
 * and taking it is the race above); the refusal tells the user what to delete.
 */
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  attempt,
  closeQuietly,
  errnoCode,
  failed,
  writeAll,
  writeFileAtomically,
  type FileSystem,
} from './fs.ts';
import { DataDirectoryError, LOCK } from './layout.ts';

export class DataDirectoryLockedError extends DataDirectoryError {
  override name = 'DataDirectoryLockedError';
}

export interface DirectoryLock {
  /** Writes DIR/LOCK naming this process (a writable owner, once it has checked DIR). */
  recordOwner(): Promise<void>;
  /** Lets the directory go (and removes the LOCK this process wrote). */
  release(): Promise<void>;
}

export interface LockOptions {
  /** Write nothing: no LOCK file (on Linux the socket is still taken). */
  readOnly: boolean;
  /** 'linux' locks with the socket, anything else with the LOCK file. */
  platform?: NodeJS.Platform;
}

const OP = 'openFileStorage';

interface Owner {
  pid: number;
  host: string;
}

const ownerLine = () => `${process.pid} ${hostname()} ${new Date().toISOString()}\n`;

/** Who DIR/LOCK names: undefined if there is no LOCK, 'unnamed' if it names nobody. */
async function readOwner(
  fs: FileSystem,
  file: string,
): Promise<Owner | 'unnamed' | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw failed(OP, `reading ${file}`, error);
  }
  const [pidText, host] = text.trim().split(/\s+/u);
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !host) return 'unnamed';
  return { pid, host };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

const inUse = (dir: string, pid: number) =>
  new DataDirectoryLockedError(
    `data directory ${dir} is in use by another cask process (pid ${pid}); stop it first`,
  );

const otherHost = (dir: string, file: string, host: string) =>
  new DataDirectoryLockedError(
    `data directory ${dir} is locked by a process on host ${host}; if none runs there, delete ${file}`,
  );

export async function lockDirectory(
  fs: FileSystem,
  dir: string,
  options: LockOptions,
): Promise<DirectoryLock> {
  return (options.platform ?? process.platform) === 'linux'
    ? socketLock(fs, dir, options.readOnly)
    : fileLock(fs, dir, options.readOnly);
}

function listen(address: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((connection) => connection.destroy());
    server.once('error', reject);
    server.listen(address, () => {
      server.off('error', reject);
      // A failed accept must not crash the process; the name stays bound regardless.
      server.on('error', () => undefined);
      server.unref(); // the lock must not keep the process alive
      resolve(server);
    });
  });
}

const stop = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
  });

async function socketLock(
  fs: FileSystem,
  dir: string,
  readOnly: boolean,
): Promise<DirectoryLock> {
  const file = join(dir, LOCK);
  const { dev, ino } = await attempt(OP, `stat of ${dir}`, () =>
    fs.stat(dir, { bigint: true }),
  );
  let server: Server;
  try {
    server = await listen(`\0cask-data-${dev}-${ino}`);
  } catch (error) {
    if (errnoCode(error) !== 'EADDRINUSE') {
      throw failed(OP, `taking the lock of ${dir}`, error);
    }
    const owner = await readOwner(fs, file).catch(() => undefined);
    if (typeof owner === 'object' && owner.host === hostname() && alive(owner.pid)) {
      throw inUse(dir, owner.pid);
    }
    // The owner has bound the socket but not yet written LOCK, or it only reads.
    throw new DataDirectoryLockedError(
      `data directory ${dir} is in use by another cask process (one that is starting, or only reading it, as cask inspect does: ${file} does not name it); stop it first`,
    );
  }
  try {
    const owner = await readOwner(fs, file);
    if (typeof owner === 'object' && owner.host !== hostname()) {
      throw otherHost(dir, file, owner.host);
    }
  } catch (error) {
    await stop(server);
    throw error;
  }
  let recorded = false;
  return {
    async recordOwner() {
      if (readOnly) throw new Error(`${OP}: ${dir} was opened read-only`);
      await writeFileAtomically(fs, file, new TextEncoder().encode(ownerLine()), OP);
      recorded = true;
    },
    async release() {
      try {
        // Before the socket goes: once it has, a new owner may write its own LOCK.
        if (recorded) {
          await attempt('close', `removing ${file}`, () => fs.rm(file, { force: true }));
        }
      } finally {
        await stop(server);
      }
    },
  };
}

async function fileLock(
  fs: FileSystem,
  dir: string,
  readOnly: boolean,
): Promise<DirectoryLock> {
  const file = join(dir, LOCK);
  const refusal = (owner: Owner | 'unnamed' | undefined) => {
    if (owner === undefined || owner === 'unnamed') {
      return new DataDirectoryLockedError(
        `data directory ${dir} is locked, but ${file} names no process; if no cask uses ${dir}, delete ${file}`,
      );
    }
    if (owner.host !== hostname()) return otherHost(dir, file, owner.host);
    if (alive(owner.pid)) return inUse(dir, owner.pid);
    return new DataDirectoryLockedError(
      `data directory ${dir} is locked by pid ${owner.pid}, which is no longer running; if no cask uses ${dir}, delete ${file}`,
    );
  };
  const nothing = async () => undefined;
  if (readOnly) {
    // Reading takes no lock here (it would have to write one), but is refused while an
    // owner may be writing; a dead owner's LOCK does not stop a reader.
    const owner = await readOwner(fs, file);
    const deadHere =
      typeof owner === 'object' && owner.host === hostname() && !alive(owner.pid);
    if (owner !== undefined && !deadHere) throw refusal(owner);
    return { recordOwner: nothing, release: nothing };
  }
  let handle;
  try {
    handle = await fs.open(file, 'wx');
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') {
      throw failed(OP, `creating ${file}`, error);
    }
    throw refusal(await readOwner(fs, file));
  }
  try {
    try {
      const line = new TextEncoder().encode(ownerLine());
      await writeAll(handle, line, { op: OP, path: file, position: 0 });
      await attempt(OP, `sync of ${file}`, () => handle.sync());
    } catch (error) {
      await closeQuietly(handle);
      throw error;
    }
    await attempt(OP, `closing ${file}`, () => handle.close());
  } catch (error) {
    await fs.rm(file, { force: true }).catch(() => undefined);
    throw error;
  }
  return {
    recordOwner: nothing,
    release: () =>
      attempt('close', `removing ${file}`, () => fs.rm(file, { force: true })),
  };
}
