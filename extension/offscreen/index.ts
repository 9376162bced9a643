/**
 * The offscreen document: the vat host. It keeps one sandboxed iframe per live vat and
 * hands the kernel (in the service worker) a MessagePort to each. It outlives the
 * service worker; every new control port means a new kernel boot, whose vats start
 * afresh from the store, so the iframes of the previous boot are removed then.
 *
 * It also watches its iframes, because nothing else can tell the kernel that one has
 * died. Looked for in this Chromium (150), most direct first:
 *
 * - MessagePort `close` events: not shipped (`'onclose' in MessagePort.prototype` is
 *   false), so the kernel's port to a dead vat just stays silent;
 * - anything in this document: a vat iframe whose renderer crashed stays in the DOM as
 *   it was, and fires no event (load, error) here;
 * - a heartbeat: each iframe answers `ping` from a worker of its own (see
 *   extension/vat-iframe), a thread that neither a busy vat nor the iframes' shared main
 *   thread holds up, and that dies with the iframe and with its renderer. An iframe that
 *   leaves LOST_AFTER_PINGS pings in a row unanswered for LOST_AFTER_MS is reported lost
 *   (`vatLost`) and removed.
 *
 * All the vat iframes share one renderer process, a different one from this document's:
 * a crash of one is a crash of all, and each is reported.
 */
import browser from 'webextension-polyfill';
import {
  HELLO,
  RECONNECT,
  VAT_PORT,
  parseFrameToHost,
  parseWorkerToOffscreen,
  vatHostPortName,
  type Hello,
  type OffscreenToWorker,
  type Ping,
} from '../vat-link/index.ts';

/** How often each vat iframe is pinged. */
const PING_INTERVAL_MS = 1_000;
/**
 * An iframe is lost when this many pings in a row went unanswered, the first at least
 * LOST_AFTER_MS ago: both, so that a late tick of this document's timers (which sends
 * the pings late) is not taken for silence.
 */
const LOST_AFTER_PINGS = 3;
const LOST_AFTER_MS = 3_000;
/** Until its first pong, while its heartbeat worker starts (slower in a busy renderer). */
const FIRST_PONG_WITHIN_MS = 10_000;

interface VatFrame {
  launchId: number;
  vatId: string;
  frame: HTMLIFrameElement;
  /** Set once the iframe has loaded and has its ports. */
  liveness?: MessagePort;
  nextSeq: number;
  /** Pings sent since the last pong, and when the first of them was sent. */
  unanswered: number;
  unansweredSince: number;
  /** Whether it has answered once. */
  answered: boolean;
}

/** The iframes of the current control port, by launch id. */
const frames = new Map<number, VatFrame>();
let control: MessagePort | undefined;
let hostPort: browser.Runtime.Port | undefined;

function removeFrame(vatFrame: VatFrame): void {
  frames.delete(vatFrame.launchId);
  vatFrame.liveness?.close();
  vatFrame.frame.remove();
}

function removeAllVats(): void {
  for (const vatFrame of [...frames.values()]) removeFrame(vatFrame);
}

/** Reports a vat's host lost to the kernel, and removes what is left of its iframe. */
function lost(vatFrame: VatFrame, reason: string): void {
  if (frames.get(vatFrame.launchId) !== vatFrame) return;
  removeFrame(vatFrame);
  const message: OffscreenToWorker = {
    type: 'vatLost',
    launchId: vatFrame.launchId,
    vatId: vatFrame.vatId,
    reason,
  };
  control?.postMessage(message);
}

function heartbeat(): void {
  const now = performance.now();
  for (const vatFrame of [...frames.values()]) {
    if (!vatFrame.liveness) continue;
    const silence = now - vatFrame.unansweredSince;
    if (
      vatFrame.unanswered >= LOST_AFTER_PINGS &&
      silence >= (vatFrame.answered ? LOST_AFTER_MS : FIRST_PONG_WITHIN_MS)
    ) {
      lost(
        vatFrame,
        `its iframe answered none of ${vatFrame.unanswered} heartbeats in ${Math.round(silence)} ms (its renderer crashed or was killed)`,
      );
      continue;
    }
    if (vatFrame.unanswered === 0) vatFrame.unansweredSince = now;
    vatFrame.unanswered += 1;
    const ping: Ping = { type: 'ping', seq: vatFrame.nextSeq++ };
    vatFrame.liveness.postMessage(ping);
  }
}

function launchVat(launchId: number, vatId: string, reply: MessagePort): void {
  // An older iframe of the same vat is left alone: during an upgrade the old version
  // runs on until the new one has started (and on, if the upgrade rolls back). The
  // kernel stops each iframe it is done with (stopVat), and a new control port
  // removes all of them.
  const frame = document.createElement('iframe');
  // The manifest already sandboxes vat.html; the attribute says so here too.
  frame.setAttribute('sandbox', 'allow-scripts');
  // The vat id in the fragment names the iframe for debugging tools (each vat iframe is
  // a target of its own in Chrome's DevTools protocol); the page ignores it.
  frame.src = `vat.html#${encodeURIComponent(vatId)}`;
  frame.dataset.vatId = vatId;
  const vatFrame: VatFrame = {
    launchId,
    vatId,
    frame,
    nextSeq: 1,
    unanswered: 0,
    unansweredSince: 0,
    answered: false,
  };
  frames.set(launchId, vatFrame);
  frame.addEventListener(
    'load',
    () => {
      if (frames.get(launchId) !== vatFrame) return;
      const kernel = new MessageChannel();
      const liveness = new MessageChannel();
      vatFrame.liveness = liveness.port2;
      liveness.port2.onmessage = (event: MessageEvent) => {
        const message = parseFrameToHost(event.data);
        if (message?.type === 'pong') {
          vatFrame.unanswered = 0;
          vatFrame.answered = true;
        } else if (message?.type === 'vatExit') lost(vatFrame, message.reason);
      };
      frame.contentWindow?.postMessage({ type: VAT_PORT, vatId }, '*', [
        kernel.port1,
        liveness.port1,
      ]);
      const message: OffscreenToWorker = { type: 'vatLaunched', launchId, vatId };
      reply.postMessage(message, [kernel.port2]);
    },
    { once: true },
  );
  frame.addEventListener(
    'error',
    () => {
      if (frames.get(launchId) !== vatFrame) return;
      removeFrame(vatFrame);
      const message: OffscreenToWorker = {
        type: 'vatLaunchFailed',
        launchId,
        vatId,
        error: 'the vat page failed to load',
      };
      reply.postMessage(message);
    },
    { once: true },
  );
  document.body.append(frame);
}

async function connect(): Promise<void> {
  const registration = await navigator.serviceWorker.ready;
  const worker = registration.active;
  if (!worker) throw new Error('no active service worker to connect to');
  control?.close();
  hostPort?.disconnect();
  removeAllVats();
  const hostId = crypto.randomUUID();
  // Never used to send: the worker watches it to learn that this document has gone.
  hostPort = browser.runtime.connect({ name: vatHostPortName(hostId) });
  const channel = new MessageChannel();
  control = channel.port1;
  const port = channel.port1;
  port.onmessage = (event: MessageEvent) => {
    const message = parseWorkerToOffscreen(event.data);
    if (message.type === 'launchVat') {
      launchVat(message.launchId, message.vatId, port);
      return;
    }
    const vatFrame = frames.get(message.launchId);
    if (vatFrame) removeFrame(vatFrame);
  };
  const hello: Hello = { type: HELLO, hostId };
  worker.postMessage(hello, [channel.port2]);
}

browser.runtime.onMessage.addListener((message: unknown) => {
  if ((message as { type?: unknown } | null)?.type !== RECONNECT) return undefined;
  return connect().then(() => true);
});

setInterval(heartbeat, PING_INTERVAL_MS);
void connect();
