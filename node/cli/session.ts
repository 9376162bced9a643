/**
 * Where a command's request is answered: by the daemon of its data directory when one
 * runs (so vats' heaps live as long as it does), otherwise in this process, which opens
 * the directory itself for the one request and closes it after. Both run the same
 * handler (node/daemon/requests); a refusal becomes the command's one `cask:` line.
 */
import type { Struct } from '@metamask/superstruct';
import {
  DaemonRefusal,
  DaemonUnreachable,
  findDaemon,
  METHODS,
  parseWith,
  RequestError,
  type InspectionSource,
  type MethodName,
  type ParamsOf,
  type RequestHooks,
  type ResultOf,
} from '../daemon/index.ts';
import { readNodeHistory, readNodeStore, type NodeKernel } from '../host/index.ts';
import { CommandFailed, type CliIo } from './io.ts';
import { withExistingKernel, withKernel } from './kernel.ts';

export interface CallOptions {
  /** The directory may hold no kernel yet (cask run): one is made. */
  mayBeNew?: boolean;
}

/**
 * Answers one request, through the daemon of `dataDir` if one runs; without a
 * `dataDir`, in this process with a kernel in memory.
 */
export async function callKernel<M extends MethodName>(
  dataDir: string | undefined,
  io: CliIo,
  method: M,
  params: ParamsOf<M>,
  options: CallOptions = {},
): Promise<ResultOf<M>> {
  const daemon =
    dataDir === undefined ? undefined : await refused(() => findDaemon(dataDir));
  if (daemon) {
    try {
      return await refused(() => daemon.client.call(method, params));
    } finally {
      daemon.client.close();
    }
  }
  return refused(() => callHere(dataDir, io, method, params, options));
}

/** Answers a request in this process, with the directory opened for it alone. */
async function callHere<M extends MethodName>(
  dataDir: string | undefined,
  io: CliIo,
  method: M,
  params: ParamsOf<M>,
  options: CallOptions,
): Promise<ResultOf<M>> {
  const spec = METHODS[method];
  const valid = parseWith(
    spec.params as Struct<ParamsOf<M>>,
    params,
    `${method} request`,
  );
  const handler = spec.handler as (
    hooks: RequestHooks,
    p: ParamsOf<M>,
  ) => Promise<ResultOf<M>>;
  if (dataDir === undefined) {
    return withKernel(undefined, io, (host) =>
      handler(kernelHooks('(in memory)', host), valid),
    );
  }
  if (spec.readsOnly === true) return handler(readingHooks(dataDir), valid);
  const open = options.mayBeNew ? withKernel : withExistingKernel;
  return open(dataDir, io, (host) => handler(kernelHooks(dataDir, host), valid));
}

function kernelHooks(dataDir: string, host: NodeKernel): RequestHooks {
  let resumed: Promise<void> | undefined;
  return {
    dataDir,
    keepsHeap: false,
    host: async () => host,
    resume: () => (resumed ??= host.kernel.resume()),
    inspect: () =>
      Promise.reject(new Error('a read-only request reads without a kernel')),
    readHistory: (read) => host.readHistory(read),
  };
}

/**
 * A read-only request (inspect, versions) without a daemon: the directory read-only, no
 * kernel, no crank, no byte changed.
 */
function readingHooks(dataDir: string): RequestHooks {
  return {
    dataDir,
    keepsHeap: false,
    host: () => Promise.reject(new Error('a read-only request opens no kernel')),
    resume: async () => undefined,
    readHistory: (read) => readNodeHistory(dataDir, read),
    async inspect(read) {
      const reading = await readNodeStore(dataDir);
      try {
        const { state, storage, report } = reading;
        const sizes = await storage.sizes();
        const source: InspectionSource = {
          state,
          log: {
            records: report.recordsReplayed,
            bytes: report.logBytesReplayed ?? 0,
            lastSeq: report.lastSeq,
          },
          checkpoint: { seq: report.checkpointSeq, bytes: sizes.newestCheckpointBytes },
          ...(report.tornTail ? { tornTail: report.tornTail } : {}),
          skippedCheckpoints: report.skippedCheckpoints,
          cutTails: await storage.listCutTails(),
          leftovers: storage.leftovers.map((l) => ({ path: l.path, what: l.what })),
        };
        return await read(source);
      } finally {
        await reading.close();
      }
    },
  };
}

/** A refusal (the daemon's or this process's own) as the command's failure. */
async function refused<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    if (
      error instanceof RequestError ||
      error instanceof DaemonRefusal ||
      error instanceof DaemonUnreachable
    ) {
      throw new CommandFailed(error.message);
    }
    throw error;
  }
}
