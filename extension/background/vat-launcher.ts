/**
 * The kernel's VatLauncher in the service worker: vats live in sandboxed iframes of the
 * offscreen document (extension/offscreen); this asks for one over the control port and
 * wraps the MessagePort it gets back as a VatChannel.
 */
import type { VatChannel, VatLauncher } from '../../kernel/index.ts';
import type { KernelToVat } from '../../kernel/protocol/index.ts';
import {
  HELLO,
  RECONNECT,
  isVatExit,
  parseOffscreenToWorker,
  type WorkerToOffscreen,
} from '../vat-link/index.ts';

const OFFSCREEN_URL = 'offscreen.html';

/** How long a vat iframe may take to load before its launch is reported failed. */
const LAUNCH_TIMEOUT_MS = 30_000;

class PortChannel implements VatChannel {
  readonly #port: MessagePort;
  readonly #stop: () => void;
  #onExit: ((reason: string) => void) | undefined;
  #closed = false;

  constructor(port: MessagePort, stop: () => void) {
    this.#port = port;
    this.#stop = stop;
  }

  send(message: KernelToVat): void {
    if (!this.#closed) this.#port.postMessage(message);
  }

  onMessage(handler: (message: unknown) => void): void {
    this.#port.onmessage = (event: MessageEvent) => {
      // The vat page's own "I cannot go on"; anything else is the protocol (validated
      // by the kernel's VatHandle, which terminates a vat that posts garbage).
      if (isVatExit(event.data)) {
        this.#exit(event.data.reason);
        return;
      }
      handler(event.data);
    };
    this.#port.onmessageerror = () =>
      this.#exit('it posted a message that could not be deserialised');
  }

  onExit(handler: (reason: string) => void): void {
    this.#onExit = handler;
  }

  #exit(reason: string): void {
    if (this.#closed) return;
    this.#onExit?.(reason);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#port.close();
    this.#stop();
  }
}

export interface OffscreenVatLauncher extends VatLauncher {
  /** Called with each `hello` the offscreen document posts to the worker. */
  acceptHello(event: MessageEvent): boolean;
}

export function makeOffscreenVatLauncher(): OffscreenVatLauncher {
  let control: MessagePort | undefined;
  let connected: Promise<MessagePort> | undefined;
  let resolveConnected: ((port: MessagePort) => void) | undefined;
  let nextRequestId = 1;
  const pending = new Map<
    number,
    { resolve: (port: MessagePort) => void; reject: (e: Error) => void }
  >();

  const onControlMessage = (event: MessageEvent) => {
    const message = parseOffscreenToWorker(event.data);
    const request = pending.get(message.requestId);
    if (!request) return;
    pending.delete(message.requestId);
    const port = event.ports[0];
    if (message.type === 'vatLaunchFailed') request.reject(new Error(message.error));
    else if (!port) request.reject(new Error('the offscreen document sent no vat port'));
    else request.resolve(port);
  };

  /** The control port of this boot; creates the offscreen document or asks it to reconnect. */
  const connect = (): Promise<MessagePort> => {
    connected ??= (async () => {
      const port = new Promise<MessagePort>((resolve) => {
        resolveConnected = resolve;
      });
      // The `hello` of a document created now comes when it loads; a document that
      // outlived the previous worker is asked for a fresh control port.
      if (await chrome.offscreen.hasDocument()) {
        await chrome.runtime.sendMessage({ type: RECONNECT });
      } else {
        await chrome.offscreen
          .createDocument({
            url: OFFSCREEN_URL,
            reasons: [chrome.offscreen.Reason.IFRAME_SCRIPTING],
            justification: 'Cask runs each vat in a sandboxed iframe.',
          })
          .catch(async (error: unknown) => {
            // Created meanwhile by another boot of this worker (the API allows one).
            if (!(await chrome.offscreen.hasDocument())) throw error;
            await chrome.runtime.sendMessage({ type: RECONNECT });
          });
      }
      return port;
    })();
    return connected;
  };

  const post = (message: WorkerToOffscreen) => control?.postMessage(message);

  return {
    acceptHello(event) {
      if ((event.data as { type?: unknown } | null)?.type !== HELLO) return false;
      const port = event.ports[0];
      if (!port) return false;
      control?.close();
      control = port;
      port.onmessage = onControlMessage;
      // Launches asked of the previous control port will never be answered.
      for (const request of pending.values()) {
        request.reject(new Error('the offscreen document reconnected during the launch'));
      }
      pending.clear();
      resolveConnected?.(port);
      resolveConnected = undefined;
      return true;
    },

    async launch(vatId) {
      // The latest control port: the offscreen document may have said hello again since
      // the first one (each hello replaces the port).
      const first = await connect();
      const port = control ?? first;
      const requestId = nextRequestId++;
      const vatPort = await new Promise<MessagePort>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(requestId);
          reject(
            new Error(
              `vat ${vatId}'s iframe did not load within ${LAUNCH_TIMEOUT_MS} ms`,
            ),
          );
        }, LAUNCH_TIMEOUT_MS);
        pending.set(requestId, {
          resolve: (p) => {
            clearTimeout(timer);
            resolve(p);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        const message: WorkerToOffscreen = { type: 'launchVat', requestId, vatId };
        port.postMessage(message);
      });
      return new PortChannel(vatPort, () => post({ type: 'stopVat', vatId }));
    },
  };
}
