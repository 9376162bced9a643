/**
 * The daemon: the kernel of one data directory, kept up, answering requests on a Unix
 * socket only its owner may use (./socket-path.ts).
 *
 * The directory's lock (node/file-storage/lock.ts) makes it the only opener of DIR; so
 * it alone may remove a socket a killed daemon left, and it does so before it listens.
 * A client that dies mid-request harms nothing: its request runs on and its crank
 * commits; only the answer has nowhere to go. Stopping runs no crank after the stop is
 * taken (what is queued stays queued), makes every committed crank durable, releases
 * DIR, and only then answers the stop.
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { validate, type Struct } from '@metamask/superstruct';
import { DataDirectoryLockedError } from '../file-storage/index.ts';
import { makeNodeKernel, type NodeKernel } from '../host/index.ts';
import { findDaemon } from './client.ts';
import {
  answerError,
  answerOk,
  encode,
  LineReader,
  parseRequest,
  type DaemonAnswer,
  type WireError,
} from './protocol.ts';
import { METHODS, type InspectionSource, type RequestHooks } from './requests/index.ts';
import { ensureRuntimeDir, realDataDir, socketPlace } from './socket-path.ts';

export interface DaemonOptions {
  dataDir: string;
  /** Called once the kernel is open (recovered), before its vats start. */
  onOpened?: (host: NodeKernel) => void | Promise<void>;
  /** Where the daemon says what happens to it (a request it could not answer, a stop). */
  log: (line: string) => void;
}

export interface Daemon {
  pid: number;
  socket: string;
  dataDir: string;
  host: NodeKernel;
  /** Stops the daemon (once; later calls get the same stop). */
  stop(): Promise<StopReport>;
  /** Resolves once the daemon has stopped: 0 after a stop, 1 if the kernel failed. */
  stopped: Promise<number>;
}

export interface StopReport {
  crank: number;
  durableCrank: number;
  runQueueLength: number;
}

/** The refusal of a daemon already running on the directory. */
export class DaemonRunningError extends Error {
  override name = 'DaemonRunningError';
}

/** Opens the kernel of `dataDir`, resumes its vats, and listens. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const running = (pid: number) =>
    new DaemonRunningError(`a daemon (pid ${pid}) already runs on ${options.dataDir}`);
  let kernelFailure: unknown;
  let onKernelStop: (error: unknown) => void = (error) => {
    kernelFailure = error;
  };
  let host: NodeKernel;
  try {
    host = await makeNodeKernel({
      dataDir: options.dataDir,
      onStop: (error) => onKernelStop(error),
    });
  } catch (error) {
    if (error instanceof DataDirectoryLockedError) {
      const other = await findDaemon(options.dataDir).catch(() => undefined);
      if (other) {
        other.client.close();
        throw running(other.status.pid);
      }
    }
    throw error;
  }
  const dataDir = realDataDir(options.dataDir);
  let server: Server | undefined;
  try {
    await options.onOpened?.(host);
    await host.kernel.resume();
    const place = socketPlace(dataDir);
    if (place.runtimeDir !== undefined) await ensureRuntimeDir(place.runtimeDir);
    await removeStaleSocket(place.path);
    server = createServer();
    await listenPrivately(server, place.path);
    return serve({
      host,
      server,
      socket: place.path,
      dataDir,
      log: options.log,
      kernelFailure,
      setOnKernelStop: (f) => {
        onKernelStop = f;
      },
    });
  } catch (error) {
    server?.close();
    await host.close().catch(() => undefined);
    throw error;
  }
}

/** Removes a socket a killed daemon left; refuses anything else in its place. */
async function removeStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch(() => undefined);
  if (stat === undefined) return;
  if (!stat.isSocket()) {
    throw new Error(
      `${path} is in the way of the daemon's socket and is not one; move it`,
    );
  }
  // Only the holder of DIR's lock gets here: no live daemon owns this socket.
  await unlink(path);
}

/** Listens with a umask that gives the socket no group or other bits from its birth. */
async function listenPrivately(server: Server, path: string): Promise<void> {
  const mask = process.umask(0o077);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(mask);
  }
  await chmod(path, 0o600);
}

interface Serving {
  host: NodeKernel;
  server: Server;
  socket: string;
  dataDir: string;
  log: (line: string) => void;
  kernelFailure: unknown;
  setOnKernelStop: (f: (error: unknown) => void) => void;
}

interface InFlight {
  socket: Socket;
  id: string;
  method: string;
}

function serve(s: Serving): Daemon {
  const { host, server } = s;
  // Always host.kernel, never a copy: a restore replaces the kernel (NodeKernel.restore).
  const startedAt = Date.now();
  const connections = new Set<Socket>();
  const inFlight = new Set<InFlight>();
  let stopping: Promise<StopReport> | undefined;
  let exitCode = 0;
  let markStopped: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => {
    markStopped = resolve;
  });

  const send = (socket: Socket, answer: DaemonAnswer) => {
    // A client that went away mid-request: its answer has nowhere to go, nothing else.
    if (!socket.destroyed && socket.writable) socket.write(encode(answer));
  };

  const stop = (): Promise<StopReport> => {
    stopping ??= (async () => {
      server.close();
      await unlink(s.socket).catch(() => undefined);
      // Runs nothing more; every committed crank durable. Read before the store closes.
      await host.kernel.shutdown();
      const status = host.kernel.status();
      const report = {
        crank: status.crank,
        durableCrank: status.durableCrank,
        runQueueLength: host.kernel.state.runQueueLength(),
      };
      await host.close();
      s.log(
        `cask: daemon stopped at crank ${report.crank} (durable ${report.durableCrank}); ${report.runQueueLength} item(s) stay queued`,
      );
      return report;
    })();
    return stopping;
  };

  /** After the stop's own answer: everything still waiting hears why, then all closes. */
  const finish = () => {
    for (const request of inFlight) {
      send(request.socket, answerError(request.id, stoppedBefore(request.method)));
    }
    inFlight.clear();
    for (const socket of connections) socket.end();
    setImmediate(() => {
      for (const socket of connections) socket.destroy();
      markStopped(exitCode);
    });
  };

  s.setOnKernelStop((error) => {
    exitCode = 1;
    s.log(
      `cask: the kernel stopped: ${String(error instanceof Error ? error.message : error)}`,
    );
    void stop().then(finish, finish);
  });
  if (s.kernelFailure !== undefined) {
    exitCode = 1;
    void stop().then(finish, finish);
  }

  const hooks: RequestHooks = {
    dataDir: s.dataDir,
    keepsHeap: true,
    host: async () => host,
    resume: async () => undefined,
    inspect: (read) =>
      // Between cranks, once every committed crank is durable; runs nothing.
      host.kernel.exportImage(async () => read(await liveSource(host))),
    readHistory: (read) => host.readHistory(read),
    daemon: { pid: process.pid, socket: s.socket, startedAt, stop },
  };

  const handle = async (socket: Socket, line: string) => {
    let request;
    try {
      request = parseRequest(line);
    } catch (error) {
      send(socket, answerError(idOf(line), wireError(error)));
      return;
    }
    const { id, method: name, params } = request;
    if (stopping && name !== 'stop') {
      send(
        socket,
        answerError(id, {
          name: 'DaemonStopping',
          message: `the daemon of ${s.dataDir} is stopping; ${name} was not run`,
        }),
      );
      return;
    }
    const method = Object.hasOwn(METHODS, name)
      ? METHODS[name as keyof typeof METHODS]
      : undefined;
    if (!method) {
      send(
        socket,
        answerError(id, {
          name: 'ProtocolError',
          message: `unknown request "${name}" (this daemon answers: ${Object.keys(METHODS).join(', ')})`,
        }),
      );
      return;
    }
    const [failure, valid] = validate(params, method.params as Struct<unknown>, {
      coerce: true,
    });
    if (failure) {
      const first = failure.failures()[0];
      const where =
        first && first.path.length > 0 ? ` at params.${first.path.join('.')}` : '';
      send(
        socket,
        answerError(id, {
          name: 'ProtocolError',
          message: `invalid ${name} request${where}: ${first?.message ?? failure.message}`,
        }),
      );
      return;
    }
    const entry = { socket, id, method: name };
    if (name !== 'stop') inFlight.add(entry);
    try {
      const handler = method.handler as (h: RequestHooks, p: unknown) => Promise<unknown>;
      const result = await handler(hooks, valid);
      if (name === 'stop' || inFlight.has(entry)) send(socket, answerOk(id, result));
    } catch (error) {
      if (name === 'stop' || inFlight.has(entry)) {
        send(
          socket,
          answerError(
            id,
            stopping && name !== 'stop' ? stoppedBefore(name) : wireError(error),
          ),
        );
      }
    } finally {
      inFlight.delete(entry);
      if (name === 'stop') finish();
    }
  };

  server.on('connection', (socket) => {
    connections.add(socket);
    socket.setEncoding('utf8');
    const reader = new LineReader((line) => {
      void handle(socket, line);
    });
    socket.on('data', (chunk: string) => {
      try {
        reader.push(chunk);
      } catch (error) {
        send(socket, answerError('-', wireError(error)));
        socket.destroy();
      }
    });
    socket.on('error', () => undefined); // a client killed mid-request
    socket.on('close', () => connections.delete(socket));
  });
  // A failed accept must not bring the daemon down.
  server.on('error', (error) => s.log(`cask: daemon socket error: ${error.message}`));

  return {
    pid: process.pid,
    socket: s.socket,
    dataDir: s.dataDir,
    host,
    stop: async () => {
      const report = await stop();
      finish();
      return report;
    },
    stopped,
  };
}

/** What inspect shows, from the live kernel (the log as it is now, not as at start). */
async function liveSource(host: NodeKernel): Promise<InspectionSource> {
  const stats = host.durability?.stats();
  return {
    state: host.kernel.state,
    log: {
      records: stats?.logRecordsSinceCheckpoint ?? 0,
      bytes: stats?.logBytesSinceCheckpoint ?? 0,
      lastSeq: stats?.lastSeq ?? 0,
    },
    checkpoint: { seq: stats?.checkpointSeq ?? 0, bytes: stats?.checkpointBytes ?? 0 },
    skippedCheckpoints: host.recovery?.skippedCheckpoints ?? [],
    cutTails: (await host.storage?.listCutTails()) ?? [],
    leftovers: (host.storage?.leftovers ?? []).map((l) => ({
      path: l.path,
      what: l.what,
    })),
  };
}

const stoppedBefore = (method: string): WireError => ({
  name: 'DaemonStopped',
  message: `the daemon stopped before ${method} was answered; a message it had queued stays queued and runs at the next start`,
});

function wireError(error: unknown): WireError {
  if (error instanceof Error) {
    const message = error.message.replace(/\s*\n\s*/gu, ' ').trim();
    return { name: error.name, message: message === '' ? error.name : message };
  }
  return { name: 'Error', message: String(error) };
}

/** The id of a request that failed validation, if it has a usable one. */
function idOf(line: string): string {
  try {
    const id = (JSON.parse(line) as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && id.length > 0 && id.length <= 64) return id;
  } catch {
    // not JSON: answered under '-'
  }
  return '-';
}
