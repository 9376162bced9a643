/**
 * What a data directory may hold, and the check that a directory is Cask's before the
 * storage uses it: anything it does not know is refused, never taken as new.
 */
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, failed, type FileSystem } from './fs.ts';

/** The directory is not (or not only) a Cask data directory, or holds no kernel. */
export class DataDirectoryError extends Error {
  override name = 'DataDirectoryError';
}

export const LOCK = 'LOCK';
export const LOG = 'log';
export const CHECKPOINTS = 'checkpoints';
/** A daemon's socket (node/daemon) and its log; neither is kernel state. */
export const DAEMON_SOCKET = 'daemon.sock';
export const DAEMON_LOG = 'daemon.log';

const pad = (n: number) => String(n).padStart(16, '0');
export const segmentName = (first: number) => `${pad(first)}.log`;
export const checkpointName = (seq: number) => `${pad(seq)}.ckpt`;
export const cutTailName = (segment: number, offset: number) =>
  `${pad(segment)}.cut-${offset}`;

export const SEGMENT = /^(\d{16})\.log$/u;
export const CHECKPOINT = /^(\d{16})\.ckpt$/u;
export const CUT_TAIL = /^(\d{16})\.cut-(\d+)$/u;

/** A file an interrupted write left behind: removed at a writable open. */
export interface Leftover {
  /** Absolute path. */
  path: string;
  /** What it is, for a person: "an interrupted checkpoint write", … */
  what: string;
  /** True if this open removed it (a writable open does); false if it is still there. */
  removed: boolean;
}

interface Folder {
  name: string;
  /** Names of Cask's files in it. */
  files: RegExp[];
  /** Names of temporary files an interrupted write leaves, with what they are. */
  leftovers: Array<[RegExp, string]>;
  /** For the refusal's message. */
  holds: string;
}

const TOP = {
  files: [/^LOCK$/u, /^daemon\.log$/u],
  leftovers: [[/^LOCK\.tmp$/u, 'an interrupted write of LOCK']] as Array<
    [RegExp, string]
  >,
  holds: "LOCK, log/, checkpoints/ and a daemon's daemon.sock and daemon.log",
};

const FOLDERS: Folder[] = [
  {
    name: LOG,
    files: [SEGMENT, CUT_TAIL],
    leftovers: [[/^\d{16}\.cut-\d+\.tmp$/u, 'an interrupted write of a cut tail']],
    holds: '<16 digits>.log and <16 digits>.cut-<offset>',
  },
  {
    name: CHECKPOINTS,
    files: [CHECKPOINT],
    leftovers: [[/^\d{16}\.ckpt\.tmp$/u, 'an interrupted checkpoint write']],
    holds: '<16 digits>.ckpt',
  },
];

/** A directory's entries, or undefined if it does not exist. Other failures name it. */
export async function readEntries(
  fs: FileSystem,
  path: string,
  op: string,
): Promise<Dirent[] | undefined> {
  try {
    return await fs.readdir(path, { withFileTypes: true });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw failed(op, `reading ${path}`, error);
  }
}

const listed = (names: string[]) => {
  const sorted = [...names].sort();
  const shown = sorted.slice(0, 8).join(', ');
  return sorted.length > 8 ? `${shown} and ${sorted.length - 8} more` : shown;
};

/**
 * Refuses a directory that holds anything but Cask's own entries (LOCK, log/,
 * checkpoints/, and what an interrupted write of LOCK leaves). Returns whether it holds a
 * log folder. Reads only, so it can run before the lock is taken.
 */
export function checkTopLevel(dir: string, entries: Dirent[]): { hasLog: boolean } {
  const known = (e: Dirent) =>
    e.name === LOG || e.name === CHECKPOINTS
      ? e.isDirectory() || e.isSymbolicLink()
      : e.name === DAEMON_SOCKET
        ? e.isSocket() // a daemon's, or left by one that was killed
        : e.isFile() &&
          [...TOP.files, ...TOP.leftovers.map(([re]) => re)].some((re) =>
            re.test(e.name),
          );
  const strangers = entries.filter((e) => !known(e)).map((e) => e.name);
  const hasLog = entries.some((e) => e.name === LOG && !strangers.includes(LOG));
  if (strangers.length > 0) {
    const holdsKernel = entries.some(
      (e) => (e.name === LOG || e.name === CHECKPOINTS) && !strangers.includes(e.name),
    );
    throw new DataDirectoryError(
      holdsKernel
        ? `${dir} holds a Cask kernel but also entries that are not Cask's (found: ${listed(strangers)}); Cask keeps only ${TOP.holds} there, so move them out of ${dir}`
        : `${dir} is not empty and holds no Cask kernel (found: ${listed(strangers)}); use a new or empty directory`,
    );
  }
  return { hasLog };
}

/**
 * Checks every entry of a data directory and its folders, and returns the leftovers of
 * interrupted writes (not removed: `removed` is false). Any file whose name is not one
 * of Cask's is refused, naming it.
 */
export async function scanDataDirectory(
  fs: FileSystem,
  dir: string,
  op: string,
): Promise<{ hasLog: boolean; leftovers: Leftover[] }> {
  const top = await readEntries(fs, dir, op);
  if (top === undefined) throw new DataDirectoryError(`${dir} holds no Cask kernel`);
  const { hasLog } = checkTopLevel(dir, top);
  const leftovers: Leftover[] = [];
  const collect = (folder: Folder, path: string, entries: Dirent[]) => {
    const strangers: string[] = [];
    for (const entry of entries) {
      const leftover = folder.leftovers.find(([re]) => re.test(entry.name));
      if (leftover && entry.isFile()) {
        leftovers.push({
          path: join(path, entry.name),
          what: leftover[1],
          removed: false,
        });
      } else if (!(entry.isFile() && folder.files.some((re) => re.test(entry.name)))) {
        strangers.push(join(path, entry.name));
      }
    }
    if (strangers.length === 1) {
      throw new DataDirectoryError(
        `${strangers[0]} is not a Cask file (${folder.name}/ holds only ${folder.holds}); move it out of ${dir}`,
      );
    }
    if (strangers.length > 1) {
      throw new DataDirectoryError(
        `${path} holds files that are not Cask's: ${listed(strangers)} (${folder.name}/ holds only ${folder.holds}); move them out of ${dir}`,
      );
    }
  };
  for (const entry of top) {
    const leftover = TOP.leftovers.find(([re]) => re.test(entry.name));
    if (leftover) {
      leftovers.push({ path: join(dir, entry.name), what: leftover[1], removed: false });
    }
  }
  for (const folder of FOLDERS) {
    const path = join(dir, folder.name);
    const entries = await readEntries(fs, path, op);
    if (entries !== undefined) collect(folder, path, entries);
  }
  return { hasLog, leftovers };
}
