/**
 * `cask start --data DIR [--foreground]`: runs the kernel of DIR as a daemon on a local
 * socket, so its vats (and their heaps) stay up between commands. It detaches: a
 * daemon process of its own is started, and this one prints its pid and socket and
 * exits 0 once the daemon answers. With --foreground the daemon is this process: it
 * prints the same, logs to stderr, and runs until `cask stop` or SIGTERM / SIGINT.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DaemonRunningError,
  findDaemon,
  LOG_NAME,
  startDaemon,
  type Daemon,
} from '../../daemon/index.ts';
import { parse, requireData } from '../args.ts';
import { CommandFailed, printRecoveryNotes, suspendedLines, type CliIo } from '../io.ts';

/** How long the detaching `cask start` waits for its daemon to answer. */
const READY_DEADLINE_MS = 120_000;

/** What a daemon started by `cask start` tells the process that started it. */
type ReadyMessage =
  { type: 'ready'; pid: number; socket: string } | { type: 'failed'; message: string };

export async function start(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(
    args,
    {
      data: { type: 'string' },
      foreground: { type: 'boolean' },
      log: { type: 'string' },
    },
    { min: 0, max: 0, names: 'no positional arguments' },
  );
  const dataDir = requireData(values.data, 'start');
  const found = await findDaemon(dataDir).catch(() => undefined);
  if (found) {
    found.client.close();
    throw new CommandFailed(
      `a daemon (pid ${found.status.pid}) already runs on ${dataDir}`,
    );
  }
  if (values.foreground === true) return foreground(dataDir, values.log, io);
  return detach(dataDir, io);
}

async function foreground(
  dataDir: string,
  logFile: string | undefined,
  io: CliIo,
): Promise<number> {
  const tell = (message: ReadyMessage) => process.send?.(message);
  let daemon: Daemon;
  try {
    daemon = await startDaemon({
      dataDir,
      log: io.stderr,
      onOpened: (host) => {
        // Only now, with DIR checked and locked, may a log be written into it.
        if (logFile !== undefined) redirectOutput(logFile);
        printRecoveryNotes(host.recovery, host.storage, io);
      },
    });
  } catch (error) {
    const message =
      error instanceof Error ? error.message.replace(/\s*\n\s*/gu, ' ') : String(error);
    tell({ type: 'failed', message });
    if (error instanceof DaemonRunningError) throw new CommandFailed(message);
    throw error;
  }
  const stop = () => {
    void daemon.stop();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const suspended = daemon.host.kernel.state
    .listVats()
    .filter((v) => v.state === 'suspended');
  for (const line of suspendedLines(suspended, dataDir)) io.stderr(`cask: ${line}`);
  io.stderr(
    `cask: daemon pid ${daemon.pid} runs ${daemon.dataDir}, listening on ${daemon.socket}`,
  );
  io.stdout(
    JSON.stringify({ pid: daemon.pid, socket: daemon.socket, dataDir: daemon.dataDir }),
  );
  tell({ type: 'ready', pid: daemon.pid, socket: daemon.socket });
  const code = await daemon.stopped;
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
  if (process.connected) process.disconnect();
  // The kernel is closed; a timer left behind (a send's --timeout) must not keep the
  // process up. Unref'd: it fires only if something still holds the event loop.
  setTimeout(() => process.exit(code), 1000).unref();
  return code;
}

/** Starts the daemon as a process of its own and waits until it answers. */
async function detach(dataDir: string, io: CliIo): Promise<number> {
  const dir = resolve(dataDir);
  const child = spawn(
    process.execPath,
    [caskBin(), 'start', '--foreground', '--data', dir, '--log', join(dir, LOG_NAME)],
    { detached: true, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] },
  );
  const outcome = await new Promise<ReadyMessage | { type: 'exit'; code: number | null }>(
    (done) => {
      const timer = setTimeout(() => {
        done({
          type: 'failed',
          message: `the daemon did not answer within ${READY_DEADLINE_MS / 1000} s; it was stopped`,
        });
        child.kill('SIGTERM');
      }, READY_DEADLINE_MS);
      child.once('message', (message: ReadyMessage) => {
        clearTimeout(timer);
        done(message);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        done({ type: 'exit', code });
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        done({ type: 'failed', message: `could not start the daemon: ${error.message}` });
      });
    },
  );
  if (outcome.type === 'failed') throw new CommandFailed(outcome.message);
  if (outcome.type === 'exit') {
    throw new CommandFailed(
      `the daemon exited (code ${outcome.code}) before it answered; see ${join(dir, LOG_NAME)}`,
    );
  }
  child.disconnect();
  child.unref();
  // Ready is the daemon's word; its answer on the socket is the proof.
  const found = await findDaemon(dataDir);
  if (!found)
    throw new CommandFailed(
      `the daemon (pid ${outcome.pid}) said it listens on ${outcome.socket}, but nothing answers there`,
    );
  found.client.close();
  io.stderr(
    `cask: daemon pid ${found.status.pid} runs ${found.status.dataDir}, listening on ${found.status.socket}; its log is ${join(dir, LOG_NAME)}`,
  );
  io.stdout(
    JSON.stringify({
      pid: found.status.pid,
      socket: found.status.socket,
      dataDir: found.status.dataDir,
    }),
  );
  return 0;
}

/** bin/cask.js, found from this module in the source tree or in the build. */
function caskBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'bin', 'cask.js');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('cannot find bin/cask.js to start the daemon with');
    dir = parent;
  }
}

/**
 * Sends everything this process writes to stdout and stderr — its own lines and what
 * its vats' workers print — to `file` (appended, owner-only): a detached daemon has no
 * terminal.
 */
function redirectOutput(file: string): void {
  const fd = openSync(file, 'a', 0o600);
  const write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const done = typeof encoding === 'function' ? encoding : callback;
    try {
      if (chunk instanceof Uint8Array) writeSync(fd, chunk);
      else writeSync(fd, String(chunk));
    } catch {
      // A full disk must not stop the daemon.
    }
    if (typeof done === 'function') (done as () => void)();
    return true;
  };
  process.stdout.write = write as typeof process.stdout.write;
  process.stderr.write = write as typeof process.stderr.write;
}
