/**
 * The file system as the file storage sees it: the few `node:fs/promises` functions it
 * calls (replaceable, so that tests can inject faults at the true system edge), and the
 * careful writes built on them: every byte written or an error, atomic whole files.
 */
import { constants } from 'node:fs';
import * as fsPromises from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Exactly the `node:fs/promises` functions the file storage uses. */
export type FileSystem = Pick<
  typeof fsPromises,
  'mkdir' | 'open' | 'readdir' | 'readFile' | 'rename' | 'rm' | 'stat'
>;

export const nodeFileSystem: FileSystem = {
  mkdir: fsPromises.mkdir,
  open: fsPromises.open,
  readdir: fsPromises.readdir,
  readFile: fsPromises.readFile,
  rename: fsPromises.rename,
  rm: fsPromises.rm,
  stat: fsPromises.stat,
};

/** A file operation failed: the message says which operation, what and where. */
export class FileStorageError extends Error {
  override name = 'FileStorageError';
  /** The errno code of the failure underneath (ENOSPC, EIO, EACCES, …), if it had one. */
  readonly code: string | undefined;

  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options?.cause === undefined ? {} : { cause: options.cause });
    this.code = options?.code ?? errnoCode(options?.cause);
  }
}

export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Runs one file operation; a failure becomes a FileStorageError saying
 * "`op`: `action` failed: <the system's message>", keeping the errno code and the cause.
 */
export async function attempt<T>(
  op: string,
  action: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw failed(op, action, error);
  }
}

/** The FileStorageError for a failed operation (`error` as is if it is one already). */
export function failed(op: string, action: string, error: unknown): FileStorageError {
  if (error instanceof FileStorageError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new FileStorageError(`${op}: ${action} failed: ${reason}`, { cause: error });
}

/**
 * Writes all of `bytes`: a write may write fewer bytes than asked, so each write goes on
 * from where the last one stopped. `position` null writes at the file's position (an
 * append-mode file always writes at its end); a number writes there.
 */
export async function writeAll(
  handle: FileHandle,
  bytes: Uint8Array,
  where: { op: string; path: string; position: number | null },
): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const position = where.position === null ? null : where.position + done;
    const { bytesWritten } = await attempt(where.op, `write to ${where.path}`, () =>
      handle.write(bytes, done, bytes.length - done, position),
    );
    if (!(bytesWritten > 0)) {
      throw new FileStorageError(
        `${where.op}: write to ${where.path} failed: it wrote nothing (${done} of ${bytes.length} bytes written)`,
      );
    }
    done += bytesWritten;
  }
}

/** Closes a handle after another failure, which is the one worth reporting. */
export async function closeQuietly(handle: FileHandle): Promise<void> {
  await handle.close().catch(() => undefined);
}

/** Makes a directory's entries (a file created, renamed or deleted in it) durable. */
export async function syncDir(fs: FileSystem, dir: string, op: string): Promise<void> {
  const handle = await attempt(op, `opening ${dir}`, () =>
    fs.open(dir, constants.O_RDONLY),
  );
  try {
    await attempt(op, `sync of ${dir}`, () => handle.sync());
  } catch (error) {
    await closeQuietly(handle);
    throw error;
  }
  await attempt(op, `closing ${dir}`, () => handle.close());
}

/**
 * Stores `bytes` at `path` whole or not at all: written to `path.tmp`, synced, renamed
 * over `path`, and the directory synced. On failure the temporary file is removed (if
 * that fails too, the next writable open removes it).
 */
export async function writeFileAtomically(
  fs: FileSystem,
  path: string,
  bytes: Uint8Array,
  op: string,
): Promise<void> {
  const temporary = `${path}.tmp`;
  const handle = await attempt(op, `creating ${temporary}`, () =>
    fs.open(temporary, 'w'),
  );
  try {
    try {
      await writeAll(handle, bytes, { op, path: temporary, position: 0 });
      await attempt(op, `sync of ${temporary}`, () => handle.sync());
    } catch (error) {
      await closeQuietly(handle);
      throw error;
    }
    await attempt(op, `closing ${temporary}`, () => handle.close());
    await attempt(op, `rename of ${temporary} to ${path}`, () =>
      fs.rename(temporary, path),
    );
  } catch (error) {
    await fs.rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncDir(fs, dirname(path), op);
}
