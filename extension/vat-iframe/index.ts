/**
 * One vat, in a sandboxed iframe (manifest `sandbox.pages`: opaque origin, no `chrome.*`,
 * no IndexedDB, no cookies) of the offscreen document. The iframe starts two dedicated
 * workers and does nothing else itself:
 *
 * - the vat's worker runs this same script again, where the vat's supervisor serves the
 *   kernel over the port the iframe hands it. The vat's code runs in a Compartment that
 *   sees only the globals its config endows (vat-supervisor/endowments);
 * - the heartbeat worker answers the offscreen document's pings on the liveness port, so
 *   that the document can tell the kernel when the iframe is gone (its renderer crashed).
 *
 * Why workers. Chromium (150) puts every sandboxed iframe of the extension in one
 * renderer process (they are one site), apart from the offscreen document, and the
 * iframes of a process share its main thread. A vat looping on that thread held up every
 * other vat and anything that would answer for them, and removing its iframe did not
 * stop it: the frame is torn down by its own thread, which never came back (the
 * renderer went only once every vat iframe was removed). A worker is a thread of its
 * own: a vat's loop holds up only its own, and removing its iframe terminates it (within
 * about two seconds, Chromium's delay before it forcibly stops a busy worker).
 *
 * Both realms that run Cask code are locked down first: the page loads lockdown.js before
 * this script, and the vat's worker runs the same two scripts in the same order. The
 * iframe answers nothing but its first `vat-port` message; the vat's worker, nothing but
 * its first message.
 */
import {
  makeVatSupervisor,
  type SupervisorPlatform,
} from '../../vat-supervisor/index.ts';
import { VAT_PORT, type FrameToHost, type VatExit } from '../vat-link/index.ts';

/**
 * A macrotask: MessageChannel is not clamped the way nested setTimeout(0) is. One
 * channel for all of them (a new one per call cost about 40 µs of a delivery), each
 * message the turn of the oldest waiter.
 */
let ticks: { port: MessagePort; waiting: Array<() => void> } | undefined;
const TICK = 'cask:tick';
function nextMacrotask(): Promise<void> {
  if (!ticks) {
    const channel = new MessageChannel();
    const waiting: Array<() => void> = [];
    // Only its own ticks count: a stray message on it must not end a wait early.
    channel.port1.onmessage = (event: MessageEvent) => {
      if (event.data === TICK) waiting.shift()?.();
    };
    ticks = { port: channel.port2, waiting };
  }
  const { port, waiting } = ticks;
  return new Promise((resolve) => {
    waiting.push(resolve);
    port.postMessage(TICK);
  });
}

function makeBrowserSupervisorPlatform(): SupervisorPlatform {
  const realFetch = globalThis.fetch.bind(globalThis);
  return {
    WeakRef,
    FinalizationRegistry,
    waitUntilQuiescent: nextMacrotask,
    // A worker cannot force a GC; liveslots then collects what the engine already has.
    async gcAndFinalize() {
      await nextMacrotask();
      await nextMacrotask();
    },
    // Offered only to vats whose config asks for it; a frozen wrapper, so a vat cannot
    // replace the worker's fetch.
    hostGlobals: harden({
      fetch: harden((input: string | URL | Request, init?: RequestInit) =>
        realFetch(input, init),
      ),
    }),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** In the vat's worker: the supervisor, serving the kernel over its port. */
function serve(port: MessagePort): void {
  const exit = (reason: string) => {
    const message: VatExit = { type: 'vatExit', reason };
    port.postMessage(message);
    port.close();
  };
  const supervisor = makeVatSupervisor({
    post: (message) => port.postMessage(message),
    platform: makeBrowserSupervisorPlatform(),
  });
  port.onmessage = (event: MessageEvent) => {
    supervisor.handle(event.data).catch((error: unknown) => exit(describe(error)));
  };
  port.onmessageerror = () => exit('a message from the kernel could not be deserialised');
}

/**
 * The vat's worker, from this page's own scripts (lockdown.js, then this one). A
 * sandboxed page may not start a worker from an extension URL (its origin is opaque),
 * but it may fetch its own files and start one from a blob (the sandbox CSP allows
 * `worker-src blob:`); one blob, because the worker's `script-src 'self'` does not
 * cover importing a second one.
 */
async function startVatWorker(name: string): Promise<Worker> {
  const sources = [...document.querySelectorAll<HTMLScriptElement>('script[src]')].map(
    (script) => script.src,
  );
  const texts = await Promise.all(
    sources.map(async (src) => {
      const response = await fetch(src);
      if (!response.ok) throw new Error(`${src}: ${response.status}`);
      // Each script keeps its own name in stacks and DevTools.
      return `${await response.text()}\n//# sourceURL=${src}\n`;
    }),
  );
  // Not revoked: the URL lives as long as this iframe, which is this incarnation's.
  const url = URL.createObjectURL(new Blob(texts, { type: 'text/javascript' }));
  return new Worker(url, { name });
}

/**
 * The iframe's heartbeat, in a worker of its own: the iframes of every vat share their
 * renderer's main thread, which loading a batch of vat iframes (each runs SES lockdown
 * and this script) can hold for seconds, but nothing holds this thread. It dies with
 * the renderer and with the iframe, which is what the heartbeat is to tell. It answers
 * `ping` on the liveness port, and passes on the iframe's own reports.
 */
const HEARTBEAT_SOURCE = `onmessage = (first) => {
  const liveness = first.ports[0];
  onmessage = (event) => liveness.postMessage(event.data);
  liveness.onmessage = (event) => {
    if (event.data && event.data.type === 'ping') {
      liveness.postMessage({ type: 'pong', seq: event.data.seq });
    }
  };
};`;

function startHeartbeat(name: string): Worker {
  const url = URL.createObjectURL(
    new Blob([HEARTBEAT_SOURCE], { type: 'text/javascript' }),
  );
  return new Worker(url, { name: `${name} heartbeat` });
}

/** In the iframe, once the ports came: the heartbeat, then the vat's worker. */
function host(
  vatId: string,
  kernel: MessagePort,
  liveness: MessagePort,
  heartbeat: Worker,
  starting: Promise<Worker>,
): void {
  heartbeat.postMessage(null, [liveness]);
  const tell = (message: FrameToHost) => heartbeat.postMessage(message);
  starting.then(
    (worker) => {
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        tell({ type: 'vatExit', reason: `its worker failed: ${event.message}` });
      };
      worker.onmessageerror = () =>
        tell({ type: 'vatExit', reason: 'its worker posted what could not be read' });
      worker.postMessage({ type: VAT_PORT, vatId }, [kernel]);
    },
    (error: unknown) => {
      // The kernel port is still here: the kernel hears it as the vat's exit.
      const message: VatExit = {
        type: 'vatExit',
        reason: `its worker could not be started: ${describe(error)}`,
      };
      kernel.postMessage(message);
      kernel.close();
    },
  );
}

if (typeof document === 'undefined') {
  // The vat's worker: its first message, from the iframe, brings the kernel's port.
  const onFirstMessage = (event: MessageEvent) => {
    const port = event.ports[0];
    if ((event.data as { type?: unknown } | null)?.type !== VAT_PORT || !port) return;
    removeEventListener('message', onFirstMessage);
    serve(port);
  };
  addEventListener('message', onFirstMessage);
} else {
  // Both workers start at once, while the offscreen document readies the ports. The
  // fragment names the vat (for DevTools); the port message says which vat it is.
  const name = `vat ${decodeURIComponent(location.hash.slice(1))}`;
  const heartbeat = startHeartbeat(name);
  const starting = startVatWorker(name);
  // Reported once there is a port to report it on.
  starting.catch(() => undefined);
  const onWindowMessage = (event: MessageEvent) => {
    const [kernel, liveness] = event.ports;
    if (event.source !== window.parent || !kernel || !liveness) return;
    const data = event.data as { type?: unknown; vatId?: unknown } | null;
    if (data?.type !== VAT_PORT || typeof data.vatId !== 'string') return;
    window.removeEventListener('message', onWindowMessage);
    host(data.vatId, kernel, liveness, heartbeat, starting);
  };
  window.addEventListener('message', onWindowMessage);
}
