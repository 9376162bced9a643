/**
 * A client of the daemon of a data directory: finds it (or learns that none runs),
 * sends requests and validates their answers. Every wait has a deadline: the connect,
 * and each request (its method's, or the caller's).
 */
import { createConnection, type Socket } from 'node:net';
import { validate, type Struct } from '@metamask/superstruct';
import {
  encode,
  LineReader,
  MAX_FRAME_BYTES,
  parseAnswer,
  ProtocolError,
  request,
  type WireError,
} from './protocol.ts';
import {
  METHODS,
  type MethodName,
  type ParamsOf,
  type ResultOf,
} from './requests/index.ts';
import { distrust, realDataDir, socketPlace, type SocketPlace } from './socket-path.ts';

/** How long a connect may take: a daemon that does not accept within it is not answering. */
export const CONNECT_DEADLINE_MS = 5_000;

/** The daemon refused a request (its error, as it said it). */
export class DaemonRefusal extends Error {
  override name = 'DaemonRefusal';
  /** The error's name in the daemon: RequestError, KernelError, ProtocolError, … */
  readonly kind: string;
  constructor(error: WireError) {
    super(error.message);
    this.kind = error.name;
  }
}

/** The daemon could not be reached, or stopped answering. */
export class DaemonUnreachable extends Error {
  override name = 'DaemonUnreachable';
}

interface Pending {
  method: MethodName;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

export class DaemonClient {
  readonly socketPath: string;
  readonly #socket: Socket;
  readonly #pending = new Map<string, Pending>();
  #nextId = 1;
  #closed = false;
  readonly #onClose: Array<() => void> = [];

  private constructor(socket: Socket, socketPath: string) {
    this.#socket = socket;
    this.socketPath = socketPath;
    socket.setEncoding('utf8');
    const reader = new LineReader((line) => this.#answer(line));
    socket.on('data', (chunk: string) => {
      try {
        reader.push(chunk);
      } catch (error) {
        this.#fail(error);
        socket.destroy();
      }
    });
    socket.on('error', (error) => this.#fail(error));
    socket.on('close', () => {
      this.#closed = true;
      this.#fail(
        new DaemonUnreachable(
          `the daemon closed the connection on ${socketPath} before it answered (it stopped, or was killed)`,
        ),
      );
      for (const f of this.#onClose.splice(0)) f();
    });
  }

  /**
   * Connects to the socket at `place`; undefined if no daemon listens there (no socket,
   * or one a killed daemon left). Refuses a socket this user does not own alone.
   */
  static async connect(
    place: SocketPlace,
    deadlineMs = CONNECT_DEADLINE_MS,
  ): Promise<DaemonClient | undefined> {
    const reason = await distrust(place);
    if (reason !== undefined) {
      throw new DaemonUnreachable(`refusing to talk to the daemon's socket: ${reason}`);
    }
    return new Promise((resolve, reject) => {
      const socket = createConnection(place.path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new DaemonUnreachable(
            `the daemon's socket ${place.path} accepted no connection within ${deadlineMs} ms`,
          ),
        );
      }, deadlineMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new DaemonClient(socket, place.path));
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        // No socket file, or one nobody listens on (left by a daemon that was killed).
        if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') resolve(undefined);
        else {
          reject(
            new DaemonUnreachable(
              `cannot reach the daemon's socket ${place.path}: ${error.message}`,
            ),
          );
        }
      });
    });
  }

  /** Sends a request; resolves with its validated result, rejects with the refusal. */
  call<M extends MethodName>(
    method: M,
    params: ParamsOf<M>,
    deadlineMs?: number,
  ): Promise<ResultOf<M>> {
    const spec = METHODS[method];
    const limit = deadlineMs ?? (spec.deadlineMs as (p: ParamsOf<M>) => number)(params);
    const id = String(this.#nextId++);
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new DaemonUnreachable(`the connection to ${this.socketPath} is closed`));
        return;
      }
      const line = encode(request(id, method, params as Record<string, unknown>));
      // The daemon would drop the connection without an answer: say why here.
      const bytes = Buffer.byteLength(line);
      if (bytes > MAX_FRAME_BYTES) {
        reject(
          new ProtocolError(
            `the ${method} request is ${bytes} bytes, over the ${MAX_FRAME_BYTES} a daemon reads in one message; nothing was sent`,
          ),
        );
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new DaemonUnreachable(
            `the daemon gave no answer to ${method} within ${Math.round(limit / 1000)} s; it may still be working on it`,
          ),
        );
      }, limit);
      this.#pending.set(id, {
        method,
        resolve: resolve as (r: unknown) => void,
        reject,
        timer,
      });
      this.#socket.write(line);
    });
  }

  /** Resolves once the daemon has closed the connection, or after `deadlineMs`. */
  closed(deadlineMs: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), deadlineMs);
      this.#onClose.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  close(): void {
    this.#socket.end();
    this.#socket.destroy();
  }

  #answer(line: string): void {
    let answer;
    try {
      answer = parseAnswer(line);
    } catch (error) {
      this.#fail(error);
      this.#socket.destroy();
      return;
    }
    const pending = this.#pending.get(answer.id);
    if (!pending) return; // one we gave up waiting for
    this.#pending.delete(answer.id);
    clearTimeout(pending.timer);
    if (!answer.ok) {
      pending.reject(new DaemonRefusal(answer.error));
      return;
    }
    const [error, result] = validate(
      answer.result,
      METHODS[pending.method].result as Struct<unknown>,
      {
        coerce: true,
      },
    );
    if (error) {
      const first = error.failures()[0];
      pending.reject(
        new ProtocolError(
          `the daemon's answer to ${pending.method} is not valid${first && first.path.length > 0 ? ` at result.${first.path.join('.')}` : ''}: ${first?.message ?? error.message}`,
        ),
      );
      return;
    }
    pending.resolve(result);
  }

  #fail(error: unknown): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      pending.reject(error);
    }
  }
}

export interface FoundDaemon {
  client: DaemonClient;
  status: ResultOf<'status'>;
}

/**
 * The daemon of `dataDir`, connected and answering, or undefined if none runs. Checks
 * that the daemon found is the one of this directory.
 */
export async function findDaemon(dataDir: string): Promise<FoundDaemon | undefined> {
  const place = socketPlace(dataDir);
  const client = await DaemonClient.connect(place);
  if (!client) return undefined;
  try {
    const status = await client.call('status', {});
    const real = realDataDir(dataDir);
    if (status.dataDir !== real) {
      throw new DaemonUnreachable(
        `the daemon on ${place.path} (pid ${status.pid}) runs ${status.dataDir}, not ${real}`,
      );
    }
    return { client, status };
  } catch (error) {
    client.close();
    if (error instanceof DaemonRefusal && error.kind === 'DaemonStopping') {
      throw new DaemonUnreachable(
        `the daemon on ${dataDir} is stopping; run the command again once it has stopped`,
      );
    }
    throw error;
  }
}
