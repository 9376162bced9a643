/**
 * Runs each vat in its own Node worker thread, behind the kernel's VatLauncher interface.
 *
 * Two transports carry the kernel–vat messages; both keep every message in order:
 *
 * - `message` (the default): `postMessage` both ways (structured clone).
 * - `shared`: deliveries and replies through a SharedArrayBuffer mailbox
 *   (./shared-mailbox.ts) with `Atomics.waitAsync` on both sides; `initVat` and
 *   anything too large for the mailbox's slot through a MessagePort.
 *
 * `shared` avoids the structured clone and the MessagePort machinery, yet measured no
 * faster, neither in a whole kernel (bench/ping-pong-transports) nor for one vat's
 * round trip alone (bench/vat-dispatch): a delivery's cost is the kernel's and the
 * vat's own work and the threads' wake-ups, which both transports pay alike. Having
 * the kernel's thread poll the mailbox for 300 µs after each send (tried, spinning and
 * in a short blocking wait) won nothing measurable either and cost 20–25% when
 * other work competed for the two cores. So `shared` stays an option.
 */
import { statSync } from 'node:fs';
import {
  MessageChannel,
  Worker,
  type MessagePort,
  type ResourceLimits,
} from 'node:worker_threads';
import type { VatChannel, VatLauncher } from '../../kernel/platform/index.ts';
import type { KernelToVat } from '../../kernel/protocol/index.ts';
import {
  MailboxReader,
  MailboxWriter,
  makeSharedChannelLayout,
  toKernelOffset,
  toVatOffset,
  type SharedChannelLayout,
} from './shared-mailbox.ts';
import { workerEntry } from '../worker-entry/index.ts';
import {
  makePageChannelLayout,
  servePageChannel,
  type PageChannelLayout,
} from './page-channel.ts';

export {
  makeNodeSupervisorPlatform,
  type NodeSupervisorPlatformOptions,
} from './platform.ts';

export type VatTransport = 'message' | 'shared';

export interface NodeVatLauncherOptions {
  /** Whether vats whose config asks for `fetch` may have Node's. Default true. */
  offerFetch?: boolean;
  /** V8 heap limits for each vat's worker. */
  resourceLimits?: ResourceLimits;
  /** How messages cross the thread boundary; see the module comment. Default `message`. */
  transport?: VatTransport;
  /**
   * `shared` only: bytes of the mailbox slot in each direction; a larger message goes
   * through the MessagePort instead. Default 64 KiB.
   */
  slotBytes?: number;
  /**
   * Workers to start at once, before any launch, for the first launches to take (a
   * worker's start is mostly loading code, so a host starts them while it recovers its
   * store). `message` transport only. Default 0.
   */
  warm?: number;
}

/** A worker started ahead of its launch, with the buffer its vat's pages will use. */
interface Spare {
  worker: Worker;
  pages: PageChannelLayout;
  died?: string;
}

/** The Node launcher; `close` ends the warm workers no launch took. */
export interface NodeVatLauncher extends VatLauncher {
  /** Warm workers not yet taken by a launch. */
  readonly warmWorkers: number;
  close(): Promise<void>;
}

/** What the launcher passes to worker.ts. */
export interface VatWorkerData {
  /** Only when running from source: the worker module for ts-entry.js to load. */
  entry?: string;
  offerFetch?: boolean;
  /** With the `shared` transport: the mailbox and the port for what does not fit. */
  shared?: SharedChannelLayout & { port: MessagePort };
  /** Where a paged vat asks the kernel for its vatstore (./page-channel.ts). */
  pages?: PageChannelLayout;
}

const DEFAULT_SLOT_BYTES = 64 * 1024;

/**
 * Where the worker starts. From source (this module's own URL ends in .ts) Node cannot
 * load worker.ts directly, so a .js trampoline registers tsx first (node/worker-entry).
 * From the build, the one-file bundle of worker.js and all it imports
 * (vite.vat-worker.config.ts), run by ./bundle-loader.ts with V8's code cache, which
 * starts in well under half the time; worker.js itself if the bundle is missing or older
 * than it (tsc was run without `npm run build`), so a worker never runs stale code.
 */
export function vatWorkerEntry(): { url: URL; entry?: string } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return workerEntry(here, 'vat-worker/worker');
  // Up and into the room: `here` may be the one-file host in build/node/bundled.
  const modules = new URL('../vat-worker/worker.js', here);
  const bundle = new URL('../vat-worker/worker.bundle.cjs', here);
  const loader = new URL('../vat-worker/bundle-loader.js', here);
  const mtime = (url: URL) => statSync(url, { throwIfNoEntry: false })?.mtimeMs;
  const [bundled, built] = [mtime(bundle), mtime(modules)];
  return { url: bundled !== undefined && bundled >= (built ?? 0) ? loader : modules };
}

/**
 * An error from a worker arrives as a copy that keeps the name only for built-in error
 * classes; the worker puts any other class's name into the message itself.
 */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
}

/** The kernel's end of one transport. */
interface Lane {
  send(message: KernelToVat): void;
  /** Called once, when the channel ends (closed, or the worker died). */
  end(): void;
}

interface LaneEvents {
  received(message: unknown): void;
  /** A message that could not be received: the channel is unusable. */
  failed(reason: string): void;
  isEnded(): boolean;
}

function messageLane(worker: Worker, events: LaneEvents): Lane {
  worker.on('message', (message: unknown) => events.received(message));
  return {
    send: (message) => worker.postMessage(message),
    end() {},
  };
}

/**
 * The kernel's end of the shared-memory transport: one `Atomics.waitAsync` kept armed
 * for as long as the channel lives, so the kernel's thread never blocks, and each wake
 * takes every message that is waiting.
 */
function sharedLane(layout: SharedChannelLayout, port: MessagePort, events: LaneEvents) {
  const { buffer, capacity } = layout;
  const writer = new MailboxWriter(buffer, toVatOffset, capacity, port);
  const reader = new MailboxReader(buffer, toKernelOffset(capacity), capacity, port);

  const arm = (): void => {
    while (!events.isEnded()) {
      while (reader.available()) {
        let message: unknown;
        try {
          message = reader.take();
        } catch (error) {
          events.failed(describe(error));
          return;
        }
        events.received(message);
        if (events.isEnded()) return;
      }
      const waiting = reader.waitAsync();
      if (waiting !== undefined) {
        void waiting.then(arm);
        return;
      }
    }
  };

  arm();
  const lane: Lane = {
    send(message) {
      // initVat carries the bundle: it goes by the port, without a try at the slot.
      writer.post(message, message.type === 'deliver');
    },
    end() {
      // Releases the armed wait, which then sees the channel ended and stops.
      reader.wake();
    },
  };
  return lane;
}

export function makeNodeVatLauncher(
  options: NodeVatLauncherOptions = {},
): NodeVatLauncher {
  const {
    offerFetch = true,
    resourceLimits,
    transport = 'message',
    slotBytes = DEFAULT_SLOT_BYTES,
    warm = 0,
  } = options;
  const { url, entry } = vatWorkerEntry();
  const start = (workerData: VatWorkerData) =>
    new Worker(url, {
      workerData,
      transferList: workerData.shared ? [workerData.shared.port] : [],
      ...(resourceLimits && { resourceLimits }),
    });

  /** Started ahead, not yet launched: they hold the process open only once taken. */
  const spares: Spare[] = [];
  if (transport === 'message') {
    for (let i = 0; i < warm; i += 1) {
      const pages = makePageChannelLayout();
      const spare: Spare = { worker: start({ entry, offerFetch, pages }), pages };
      spare.worker.unref();
      const died = (why: string) => (spare.died ??= why);
      spare.worker.on('error', (error) => died(`worker crashed: ${describe(error)}`));
      spare.worker.on('exit', (code) => died(`worker exited with code ${code}`));
      spares.push(spare);
    }
  }

  async function launch(vatId: string): Promise<VatChannel> {
    const workerData: VatWorkerData = {
      entry,
      offerFetch,
      pages: makePageChannelLayout(),
    };
    let shared: { layout: SharedChannelLayout; port: MessagePort } | undefined;
    if (transport === 'shared') {
      const layout = makeSharedChannelLayout(slotBytes);
      const { port1, port2 } = new MessageChannel();
      shared = { layout, port: port1 };
      workerData.shared = { ...layout, port: port2 };
    }
    let spare = spares.shift();
    // A spare that died before it was wanted is dropped; the vat gets a new worker.
    while (spare?.died !== undefined) spare = spares.shift();
    const worker = spare?.worker ?? start(workerData);
    const pages = spare?.pages ?? (workerData.pages as PageChannelLayout);
    worker.ref();
    let stopServingPages: (() => void) | undefined;

    // Events that arrive before the kernel registers its handlers are held, not lost.
    let messageHandler: ((message: unknown) => void) | undefined;
    let early: unknown[] = [];
    let exitHandler: ((reason: string) => void) | undefined;
    let exitReason: string | undefined;
    /** Set once the worker is gone or going; after that nothing more is reported. */
    let ended = false;
    let closing: Promise<void> | undefined;

    const died = (reason: string) => {
      if (ended) return;
      ended = true;
      lane.end();
      stopServingPages?.();
      if (exitHandler) exitHandler(reason);
      else exitReason = reason;
    };
    const events: LaneEvents = {
      received(message) {
        if (ended) return;
        if (messageHandler) messageHandler(message);
        else early.push(message);
      },
      failed(reason) {
        died(`vat ${vatId} sent a message that could not be received: ${reason}`);
        void worker.terminate();
      },
      isEnded: () => ended,
    };
    // Constructing a lane reports nothing yet: the worker has not started.
    const lane: Lane =
      shared === undefined
        ? messageLane(worker, events)
        : sharedLane(shared.layout, shared.port, events);

    worker.on('error', (error) =>
      died(`vat ${vatId} worker crashed: ${describe(error)}`),
    );
    worker.on('messageerror', (error) => events.failed(describe(error)));
    worker.on('exit', (code) => died(`vat ${vatId} worker exited with code ${code}`));

    return {
      send(message: KernelToVat) {
        if (!ended) lane.send(message);
      },
      onMessage(handler) {
        if (messageHandler) throw Error(`vat ${vatId}: onMessage handler already set`);
        messageHandler = handler;
        const held = early;
        early = [];
        for (const message of held) handler(message);
      },
      onExit(handler) {
        if (exitHandler) throw Error(`vat ${vatId}: onExit handler already set`);
        exitHandler = handler;
        if (exitReason !== undefined) handler(exitReason);
      },
      servePages(source) {
        if (stopServingPages) throw Error(`vat ${vatId}: its pages are served already`);
        if (ended) return;
        stopServingPages = servePageChannel(pages, source);
      },
      close() {
        if (closing === undefined) {
          ended = true;
          lane.end();
          stopServingPages?.();
          closing = worker.terminate().then(() => undefined);
        }
        return closing;
      },
    };
  }

  return {
    launch,
    servesPages: true,
    get warmWorkers() {
      return spares.filter((spare) => spare.died === undefined).length;
    },
    async close() {
      const unused = spares.splice(0);
      await Promise.all(unused.map(({ worker }) => worker.terminate()));
    },
  };
}
