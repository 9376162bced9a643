/**
 * The worker_threads entry for one vat: wires the parent port to a vat supervisor.
 */
import '../../vat-supervisor/lockdown.ts';
import { parentPort, workerData } from 'node:worker_threads';
import { makeVatSupervisor } from '../../vat-supervisor/index.ts';
import { makeNodeSupervisorPlatform } from './platform.ts';
import type { VatWorkerData } from './index.ts';

const port = parentPort;
if (port === null) throw Error('the vat worker must run in a worker thread');

// SES traps uncaught exceptions by logging them and exiting with -1, which would leave
// the kernel with an exit code and no reason. Without the trap Node hands the error to
// the parent's Worker 'error' event, and the launcher reports its message.
process.removeAllListeners('uncaughtException');

const { offerFetch } = (workerData ?? {}) as VatWorkerData;
const supervisor = makeVatSupervisor({
  post: (message) => port.postMessage(message),
  platform: makeNodeSupervisorPlatform({ offerFetch }),
});

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

port.on('message', (message: unknown) => {
  supervisor.handle(message).catch(crash);
});
