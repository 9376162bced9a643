// The crash test's view of the storage's steps: node:fs/promises wrapped so that every
// operation that changes the data directory is named by what it does for the log (a
// record append's write, a checkpoint's rename, …) and counted by kind. The workload
// uses it to report each step and to SIGKILL its own process right before or right
// after the n-th step of one kind (CASK_KILL_AT, see workload.mjs).
//
// A kind is told from the file's path (the data directory's layout: docs/durability.md),
// the open mode, and for writes to a segment the bytes (a segment header begins "CKLS").
// Reads, opens that create nothing, and closes change nothing and are not steps.
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

const SEGMENT_HEADER = 'CKLS';

/** What a path is in a data directory at `root`. */
function fileRole(root, path) {
  const full = resolve(String(path));
  if (full === root) return 'data-dir';
  if (full === join(root, 'log')) return 'log-dir';
  if (full === join(root, 'checkpoints')) return 'checkpoints-dir';
  if (full === join(root, 'LOCK')) return 'lock';
  if (full === join(root, 'LOCK.tmp')) return 'lock-temp';
  const name = basename(full);
  if (dirname(full) === join(root, 'log')) {
    if (/^\d{16}\.log$/u.test(name)) return 'segment';
    if (/^\d{16}\.cut-\d+\.tmp$/u.test(name)) return 'cut-tail-temp';
    if (/^\d{16}\.cut-\d+$/u.test(name)) return 'cut-tail';
  }
  if (dirname(full) === join(root, 'checkpoints')) {
    if (/^\d{16}\.ckpt\.tmp$/u.test(name)) return 'checkpoint-temp';
    if (/^\d{16}\.ckpt$/u.test(name)) return 'checkpoint';
  }
  return 'other';
}

// The kinds of each operation, by the role of its file.
const TEMP_WRITES = {
  'lock-temp': 'lock',
  'cut-tail-temp': 'cut-tail',
  'checkpoint-temp': 'checkpoint',
};
const DELETES = {
  lock: 'lock-delete',
  checkpoint: 'checkpoint-delete',
  segment: 'segment-delete',
  'cut-tail': 'cut-tail-delete',
  'lock-temp': 'leftover-delete',
  'cut-tail-temp': 'leftover-delete',
  'checkpoint-temp': 'leftover-delete',
};

/**
 * The file system for a data directory at `dataDir`: node:fs/promises, but each step
 * (a changing operation) calls `around(kind, run, tear)`, which runs it (`run()`,
 * resolving to its result) and may do something before or after; for a write to a log
 * segment, `tear()` writes only the first half of its bytes instead. `temporaries()`
 * says how many temporary files (of an atomic write) may be on disk now: from just
 * before one is created until it is renamed or removed.
 */
export function stepFileSystem(dataDir, around) {
  const root = resolve(dataDir);
  const temporaries = new Set();
  // Which entry of log/ was changed last, so that its directory sync can be named.
  let logDirChange = 'segment';

  const wrapHandle = (handle, role, mode) => {
    let lastWrite;
    const kindOf = (op, bytes, offset) => {
      if (role === 'segment' && mode === 'append') {
        if (op === 'write') {
          // A write that goes on from where a short one stopped is of the same kind.
          if (offset === 0 || lastWrite === undefined) {
            const magic = Buffer.from(bytes.buffer, bytes.byteOffset + offset, 4);
            lastWrite =
              magic.toString('latin1') === SEGMENT_HEADER
                ? 'segment-header'
                : 'record-append';
          }
          return `${lastWrite}-write`;
        }
        if (op === 'datasync') return `${lastWrite ?? 'segment'}-datasync`;
        if (op === 'sync') return 'segment-sync';
      }
      if (role === 'segment' && mode === 'update') {
        if (op === 'truncate') return 'torn-tail-truncate';
        if (op === 'sync') return 'torn-tail-truncate-sync';
      }
      if (role in TEMP_WRITES) return `${TEMP_WRITES[role]}-${op}`;
      if (mode === 'directory' && op === 'sync') {
        if (role === 'log-dir')
          return logDirChange === 'cut-tail' ? 'cut-tail-dir-sync' : 'log-dir-sync';
        return `${role}-sync`;
      }
      return `${role}-${op}`;
    };
    const step = (op) => {
      const real = handle[op].bind(handle);
      return (...args) => {
        const kind = kindOf(op, args[0], args[1] ?? 0);
        // A write to a segment torn by the crash: only the first half of its bytes reach
        // the file, which recovery then reads. (A torn temporary file is only a leftover,
        // removed whatever it holds, as after a kill before its rename.)
        const tear =
          op === 'write' && role === 'segment'
            ? () => {
                const [bytes, offset = 0, length = bytes.length - offset, position] =
                  args;
                const half = Math.max(1, Math.floor(length / 2));
                return real(bytes, offset, half, position ?? null);
              }
            : undefined;
        return around(kind, () => real(...args), tear);
      };
    };
    return {
      write: step('write'),
      datasync: step('datasync'),
      sync: step('sync'),
      truncate: step('truncate'),
      // A close changes nothing on disk: not a step.
      close: () => handle.close(),
    };
  };

  const fileSystem = {
    readdir: fsp.readdir,
    readFile: fsp.readFile,
    stat: fsp.stat,
    async mkdir(path, options) {
      // mkdir of a directory that exists (recursive) changes nothing.
      if (existsSync(path)) return fsp.mkdir(path, options);
      return around(`${fileRole(root, path)}-create`, () => fsp.mkdir(path, options));
    },
    async open(path, flags = 'r', mode) {
      const role = fileRole(root, path);
      const open = () => fsp.open(path, flags, mode);
      if (typeof flags === 'number') {
        // O_RDONLY: a directory opened to sync it.
        return wrapHandle(await open(), role, 'directory');
      }
      if (flags === 'a' && role === 'segment') {
        const exists = existsSync(path);
        if (!exists) logDirChange = 'segment';
        const kind = exists ? 'segment-reopen' : 'segment-create';
        return wrapHandle(await around(kind, open), role, 'append');
      }
      if (flags === 'r+') return wrapHandle(await open(), role, 'update');
      if (flags === 'w' || flags === 'wx') {
        const temporary = role in TEMP_WRITES;
        if (temporary) temporaries.add(resolve(path));
        const kind = temporary ? `${TEMP_WRITES[role]}-temp-create` : `${role}-create`;
        return wrapHandle(await around(kind, open), role, 'write');
      }
      return wrapHandle(await open(), role, String(flags));
    },
    async rename(from, to) {
      const role = fileRole(root, from);
      if (role === 'cut-tail-temp') logDirChange = 'cut-tail';
      const kind = role in TEMP_WRITES ? `${TEMP_WRITES[role]}-rename` : `${role}-rename`;
      const result = await around(kind, () => fsp.rename(from, to));
      temporaries.delete(resolve(from));
      return result;
    },
    async rm(path, options) {
      // rm with force of a file that is not there changes nothing.
      if (!existsSync(path)) return fsp.rm(path, options);
      const role = fileRole(root, path);
      if (role === 'segment') logDirChange = 'segment';
      const result = await around(DELETES[role] ?? `${role}-delete`, () =>
        fsp.rm(path, options),
      );
      temporaries.delete(resolve(path));
      return result;
    },
  };
  return { fileSystem, temporaries: () => temporaries.size };
}
