/**
 * Runs each vat in its own Node worker thread, behind the kernel's VatLauncher interface.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { VatChannel, VatLauncher } from '../../kernel/platform/index.ts';
import type { KernelToVat } from '../../kernel/protocol/index.ts';

export {
  makeNodeSupervisorPlatform,
  type NodeSupervisorPlatformOptions,
} from './platform.ts';

export interface NodeVatLauncherOptions {
  /** Whether vats whose config asks for `fetch` may have Node's. Default true. */
  offerFetch?: boolean;
  /** V8 heap limits for each vat's worker. */
  resourceLimits?: ResourceLimits;
}

/** What the launcher passes to worker.ts. */
export interface VatWorkerData {
  /** Only when running from source: the worker module for ts-entry.js to load. */
  entry?: string;
  offerFetch?: boolean;
}

/**
 * Where the worker starts. From source (this module's own URL ends in .ts) Node cannot
 * load worker.ts directly, so a .js trampoline registers tsx first; from the build,
 * worker.js sits next to this file and needs nothing else.
 */
function workerEntry(): { url: URL; entry?: string } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    return {
      url: new URL('./ts-entry.js', here),
      entry: new URL('./worker.ts', here).href,
    };
  }
  return { url: new URL('./worker.js', here) };
}

/**
 * An error from a worker arrives as a copy that keeps the name only for built-in error
 * classes; the worker puts any other class's name into the message itself.
 */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
}

export function makeNodeVatLauncher(options: NodeVatLauncherOptions = {}): VatLauncher {
  const { offerFetch = true, resourceLimits } = options;
  const { url, entry } = workerEntry();

  async function launch(vatId: string): Promise<VatChannel> {
    const workerData: VatWorkerData = { entry, offerFetch };
    const worker = new Worker(url, {
      workerData,
      ...(resourceLimits && { resourceLimits }),
    });

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
      if (exitHandler) exitHandler(reason);
      else exitReason = reason;
    };

    worker.on('message', (message: unknown) => {
      if (messageHandler) messageHandler(message);
      else early.push(message);
    });
    worker.on('error', (error) =>
      died(`vat ${vatId} worker crashed: ${describe(error)}`),
    );
    worker.on('messageerror', (error) => {
      died(`vat ${vatId} sent a message that could not be received: ${describe(error)}`);
      void worker.terminate();
    });
    worker.on('exit', (code) => died(`vat ${vatId} worker exited with code ${code}`));

    return {
      send(message: KernelToVat) {
        if (!ended) worker.postMessage(message);
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
      close() {
        if (closing === undefined) {
          ended = true;
          closing = worker.terminate().then(() => undefined);
        }
        return closing;
      },
    };
  }

  return { launch };
}
