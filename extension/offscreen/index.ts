/**
 * The offscreen document: the vat host. It keeps one sandboxed iframe per live vat and
 * hands the kernel (in the service worker) a MessagePort to each. It outlives the
 * service worker; every new control port means a new kernel boot, whose vats start
 * afresh from the store, so the iframes of the previous boot are removed then.
 */
import browser from 'webextension-polyfill';
import {
  HELLO,
  RECONNECT,
  VAT_PORT,
  parseWorkerToOffscreen,
  type OffscreenToWorker,
} from '../vat-link/index.ts';

const frames = new Map<string, HTMLIFrameElement>();
let control: MessagePort | undefined;

function removeAllVats(): void {
  for (const frame of frames.values()) frame.remove();
  frames.clear();
}

function launchVat(requestId: number, vatId: string, reply: MessagePort): void {
  frames.get(vatId)?.remove();
  const frame = document.createElement('iframe');
  // The manifest already sandboxes vat.html; the attribute says so here too.
  frame.setAttribute('sandbox', 'allow-scripts');
  // The vat id in the fragment names the iframe for debugging tools (each vat iframe is
  // a target of its own in Chrome's DevTools protocol); the page ignores it.
  frame.src = `vat.html#${encodeURIComponent(vatId)}`;
  frame.dataset.vatId = vatId;
  frames.set(vatId, frame);
  frame.addEventListener(
    'load',
    () => {
      const channel = new MessageChannel();
      frame.contentWindow?.postMessage({ type: VAT_PORT, vatId }, '*', [channel.port1]);
      const message: OffscreenToWorker = { type: 'vatLaunched', requestId, vatId };
      reply.postMessage(message, [channel.port2]);
    },
    { once: true },
  );
  frame.addEventListener(
    'error',
    () => {
      const message: OffscreenToWorker = {
        type: 'vatLaunchFailed',
        requestId,
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
  removeAllVats();
  const channel = new MessageChannel();
  control = channel.port1;
  const port = channel.port1;
  port.onmessage = (event: MessageEvent) => {
    const message = parseWorkerToOffscreen(event.data);
    if (message.type === 'launchVat') launchVat(message.requestId, message.vatId, port);
    else {
      frames.get(message.vatId)?.remove();
      frames.delete(message.vatId);
    }
  };
  worker.postMessage({ type: HELLO }, [channel.port2]);
}

browser.runtime.onMessage.addListener((message: unknown) => {
  if ((message as { type?: unknown } | null)?.type !== RECONNECT) return undefined;
  return connect().then(() => true);
});

void connect();
