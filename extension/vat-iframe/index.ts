/**
 * One vat, in a sandboxed iframe (manifest `sandbox.pages`: opaque origin, no `chrome.*`,
 * no IndexedDB, no cookies) of the offscreen document. The realm is locked down by
 * lockdown.js before this script runs; the vat's code runs in a Compartment that sees
 * only the globals its config endows (vat-supervisor/endowments).
 *
 * The page waits for its MessagePort from the offscreen document, then serves the kernel
 * over it. It answers nothing else: window messages after the port arrived are ignored.
 */
import {
  makeVatSupervisor,
  type SupervisorPlatform,
} from '../../vat-supervisor/index.ts';
import { VAT_PORT, type VatExit } from '../vat-link/index.ts';

/** A macrotask: MessageChannel is not clamped the way nested setTimeout(0) is. */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

function makeBrowserSupervisorPlatform(): SupervisorPlatform {
  const realFetch = globalThis.fetch.bind(globalThis);
  return {
    WeakRef,
    FinalizationRegistry,
    waitUntilQuiescent: nextMacrotask,
    // A page cannot force a GC; liveslots then collects what the engine already has.
    async gcAndFinalize() {
      await nextMacrotask();
      await nextMacrotask();
    },
    // Offered only to vats whose config asks for it; a frozen wrapper, so a vat cannot
    // replace the page's fetch.
    hostGlobals: harden({
      fetch: harden((input: string | URL | Request, init?: RequestInit) =>
        realFetch(input, init),
      ),
    }),
  };
}

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
    supervisor.handle(event.data).catch((error: unknown) => {
      exit(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    });
  };
  port.onmessageerror = () => exit('a message from the kernel could not be deserialised');
}

const onWindowMessage = (event: MessageEvent) => {
  const port = event.ports[0];
  if (event.source !== window.parent || !port) return;
  if ((event.data as { type?: unknown } | null)?.type !== VAT_PORT) return;
  window.removeEventListener('message', onWindowMessage);
  serve(port);
};
window.addEventListener('message', onWindowMessage);
