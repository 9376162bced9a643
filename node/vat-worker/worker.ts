/**
 * The worker_threads entry for one vat: wires the kernel's transport (see ./index.ts)
 * to a vat supervisor.
 */
import '../../vat-supervisor/lockdown.ts';
import { parentPort, workerData } from 'node:worker_threads';
import { makeVatSupervisor } from '../../vat-supervisor/index.ts';
import type { VatToKernel } from '../../kernel/protocol/index.ts';
import { makeNodeSupervisorPlatform } from './platform.ts';
import { PageClient } from './page-channel.ts';
import type { VatWorkerData } from './index.ts';
import {
  MailboxReader,
  MailboxWriter,
  toKernelOffset,
  toVatOffset,
} from './shared-mailbox.ts';

const port = parentPort;
if (port === null) throw Error('the vat worker must run in a worker thread');

// SES traps uncaught exceptions by logging them and exiting with -1, which would leave
// the kernel with an exit code and no reason. Without the trap Node hands the error to
// the parent's Worker 'error' event, and the launcher reports its message.
process.removeAllListeners('uncaughtException');

const { offerFetch, shared, pages } = (workerData ?? {}) as VatWorkerData;

/**
 * A message the supervisor cannot answer means the kernel and vat are out of step. The
 * error's class name goes into the message: only built-in classes survive the copy to
 * the parent thread.
 */
const crash = (error: unknown) =>
  setImmediate(() => {
    if (!(error instanceof Error)) throw Error(String(error));
    const named = Error(`${error.name}: ${error.message}`);
    named.stack = error.stack;
    throw named;
  });

let post: (message: VatToKernel) => void;
if (shared === undefined) {
  post = (message) => port.postMessage(message);
} else {
  const writer = new MailboxWriter(
    shared.buffer,
    toKernelOffset(shared.capacity),
    shared.capacity,
    shared.port,
  );
  post = (message) => writer.post(message);
}

const supervisor = makeVatSupervisor({
  post: (message) => post(message),
  platform: makeNodeSupervisorPlatform({
    offerFetch,
    ...(pages && { vatstorePages: new PageClient(pages) }),
  }),
});

if (shared === undefined) {
  port.on('message', (message: unknown) => {
    supervisor.handle(message).catch(crash);
  });
} else {
  const reader = new MailboxReader(
    shared.buffer,
    toVatOffset,
    shared.capacity,
    shared.port,
  );
  // Between deliveries the worker waits with Atomics.waitAsync, not Atomics.wait: a
  // blocked thread would also hold up whatever I/O a vat left in flight (a fetch), and
  // blocking measured no faster (bench/ping-pong-transports).
  const arm = (): void => {
    for (;;) {
      while (reader.available()) {
        let message: unknown;
        try {
          message = reader.take();
        } catch (error) {
          crash(error);
          return;
        }
        supervisor.handle(message).catch(crash);
      }
      const waiting = reader.waitAsync();
      if (waiting !== undefined) {
        void waiting.then(arm);
        return;
      }
    }
  };
  // A pending Atomics.waitAsync does not keep a worker alive; a listening port does.
  port.on('message', () => crash(Error('unexpected message on the worker port')));
  arm();
}
