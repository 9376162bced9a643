/**
 * Where the daemon of a data directory listens, and the checks that only its owner can
 * reach it.
 *
 * The socket is DIR/daemon.sock when that path fits in a Unix socket address (sun_path:
 * 108 bytes on Linux, 104 on macOS and the BSDs, with the terminating NUL); otherwise it
 * is in a runtime directory of this user — $XDG_RUNTIME_DIR/cask, else
 * $TMPDIR/cask-UID — named by a hash of DIR's real path, so every client finds the same
 * one however it names DIR.
 *
 * Node gives a server no way to learn a Unix-socket peer's uid (no SO_PEERCRED), so the
 * daemon relies on permissions: the socket is 0600 (Linux refuses a connect without
 * write permission on it) and a runtime directory 0700, owned by this user. A client
 * checks the same before it connects: a socket or runtime directory that another user
 * owns or can write is refused, so nobody can stand in for the daemon.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, chmod } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const SOCKET_NAME = 'daemon.sock';
export const LOG_NAME = 'daemon.log';

/** Bytes of a socket path, without the NUL. */
const maxSocketPath = (platform: NodeJS.Platform) => (platform === 'linux' ? 107 : 103);

export interface SocketPlace {
  /** The socket's path. */
  path: string;
  /** Undefined when the socket is inside DIR; otherwise the runtime directory. */
  runtimeDir?: string;
}

const uid = () => process.getuid?.() ?? -1;

/** DIR as the daemon and clients both name it: its real path when it exists. */
export function realDataDir(dataDir: string): string {
  try {
    return realpathSync(dataDir);
  } catch {
    return resolve(dataDir);
  }
}

export function runtimeDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_RUNTIME_DIR;
  return xdg !== undefined && xdg !== ''
    ? join(xdg, 'cask')
    : join(tmpdir(), `cask-${uid()}`);
}

/** Where the daemon of `dataDir` listens. */
export function socketPlace(
  dataDir: string,
  { platform = process.platform, env = process.env } = {},
): SocketPlace {
  const real = realDataDir(dataDir);
  const inside = join(real, SOCKET_NAME);
  if (Buffer.byteLength(inside) <= maxSocketPath(platform)) return { path: inside };
  const runtimeDir = runtimeDirectory(env);
  const name = `${createHash('sha256').update(real).digest('hex').slice(0, 32)}.sock`;
  const path = join(runtimeDir, name);
  if (Buffer.byteLength(path) > maxSocketPath(platform)) {
    throw new Error(
      `the daemon of ${dataDir} cannot listen: both ${inside} and ${path} are longer than a Unix socket path may be; set XDG_RUNTIME_DIR to a shorter directory`,
    );
  }
  return { path, runtimeDir };
}

/** Makes (or checks) the runtime directory: a directory of this user's, 0700. */
export async function ensureRuntimeDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stat = await lstat(dir);
  if (!stat.isDirectory()) throw new Error(`${dir} is not a directory; remove it`);
  if (stat.uid !== uid()) {
    throw new Error(
      `${dir} belongs to another user (uid ${stat.uid}); the daemon's socket cannot go there`,
    );
  }
  if ((stat.mode & 0o077) !== 0) await chmod(dir, 0o700);
}

/**
 * Whether what is at `place` may be trusted as our daemon: a socket owned by this user,
 * that no one else may write, in a directory no one else may write. Undefined if no
 * socket is there; a reason otherwise.
 */
export async function distrust(place: SocketPlace): Promise<string | undefined> {
  if (place.runtimeDir !== undefined) {
    const dir = await lstat(place.runtimeDir).catch(() => undefined);
    if (dir === undefined) return undefined;
    if (!dir.isDirectory() || dir.uid !== uid() || (dir.mode & 0o022) !== 0) {
      return `${place.runtimeDir} is not a directory only this user may write`;
    }
  }
  const stat = await lstat(place.path).catch(() => undefined);
  if (stat === undefined) return undefined;
  if (!stat.isSocket()) return `${place.path} is not a socket`;
  if (stat.uid !== uid())
    return `${place.path} belongs to another user (uid ${stat.uid})`;
  if ((stat.mode & 0o077) !== 0) {
    return `${place.path} may be used by other users (mode ${(stat.mode & 0o777).toString(8)})`;
  }
  return undefined;
}
