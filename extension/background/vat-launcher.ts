/**
 * The kernel's VatLauncher in the service worker: vats live in sandboxed iframes of the
 * offscreen document (extension/offscreen); this asks for one over the control port and
 * wraps the MessagePort it gets back as a VatChannel.
 *
 * It is also where the kernel hears that a vat's host is gone (VatChannel.onExit), so
 * that the kernel restarts the vat from its store:
 *
 * - one vat iframe died (its renderer crashed, it was removed): the offscreen document
 *   notices by its heartbeat and says `vatLost`; the vat page itself says `vatExit`
 *   when its vat worker cannot go on;
 * - the offscreen document went away (closed, crashed, the extension's renderer gone):
 *   every vat in it is lost, every launch asked of it fails, and the next launch makes a
 *   new document. The document opens a runtime port to this worker with each hello and
 *   this watches its onDisconnect, which Chrome fires as soon as the document is gone.
 *   MessagePorts give no such signal here (no `close` event in this Chromium), and a
 *   heartbeat would wait on this worker's own timers, which a long crank or checkpoint
 *   holds up.
 *
 * Every launch also has a deadline, so that none can hang the kernel, whatever the
 * document does.
 */
import type { Runtime } from 'webextension-polyfill';
import type { VatChannel, VatLauncher } from '../../kernel/index.ts';
import type { KernelToVat } from '../../kernel/protocol/index.ts';
import {
  RECONNECT,
  hostIdOfPort,
  isHello,
  isVatExit,
  parseOffscreenToWorker,
  type WorkerToOffscreen,
} from '../vat-link/index.ts';

const OFFSCREEN_URL = 'offscreen.html';

/**
 * How long a launch may take, from asking for the offscreen document (created if need
 * be) to the vat iframe's port, before it is reported failed.
 */
const LAUNCH_TIMEOUT_MS = 30_000;

/** One control port of an offscreen document (one per hello), and what it launched. */
interface VatHost {
  id: string;
  control: MessagePort;
  /** Why it is gone, once it is. */
  lost?: string;
  /** Its live vat channels, by launch id. */
  channels: Map<number, PortChannel>;
}

class PortChannel implements VatChannel {
  readonly #port: MessagePort;
  readonly #host: VatHost;
  readonly #launchId: number;
  readonly #vatId: string;
  #onExit: ((reason: string) => void) | undefined;
  /** Why the vat exited before anyone listened. */
  #exited: string | undefined;
  #closed = false;

  constructor(port: MessagePort, host: VatHost, launchId: number, vatId: string) {
    this.#port = port;
    this.#host = host;
    this.#launchId = launchId;
    this.#vatId = vatId;
    host.channels.set(launchId, this);
  }

  send(message: KernelToVat): void {
    if (!this.#closed) this.#port.postMessage(message);
  }

  onMessage(handler: (message: unknown) => void): void {
    this.#port.onmessage = (event: MessageEvent) => {
      // The vat's own "I cannot go on"; anything else is the protocol (validated by the
      // kernel's VatHandle, which suspends a vat that posts garbage).
      if (isVatExit(event.data)) {
        this.exit(event.data.reason);
        return;
      }
      handler(event.data);
    };
    this.#port.onmessageerror = () =>
      this.exit('it posted a message that could not be deserialised');
  }

  onExit(handler: (reason: string) => void): void {
    this.#onExit = handler;
    const early = this.#exited;
    // Told on a later microtask: the kernel registers this while it builds its handle.
    if (early !== undefined) queueMicrotask(() => handler(early));
  }

  /** Its host is gone: tells the kernel, once. */
  exit(reason: string): void {
    if (this.#closed || this.#exited !== undefined) return;
    this.#exited = reason;
    this.#host.channels.delete(this.#launchId);
    this.#onExit?.(reason);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#port.close();
    this.#host.channels.delete(this.#launchId);
    if (this.#host.lost === undefined) {
      const message: WorkerToOffscreen = {
        type: 'stopVat',
        launchId: this.#launchId,
        vatId: this.#vatId,
      };
      this.#host.control.postMessage(message);
    }
  }
}

export interface OffscreenVatLauncher extends VatLauncher {
  /** Called with each `message` event of the worker; true for a `hello` it took. */
  acceptHello(event: MessageEvent): boolean;
  /** Called with each runtime port that connects; true for a vat host's, which it keeps. */
  acceptHostPort(port: Runtime.Port): boolean;
}

export function makeOffscreenVatLauncher(): OffscreenVatLauncher {
  /** Every control port of this boot, by host id; the latest is the one launches use. */
  const hosts = new Map<string, VatHost>();
  let current: VatHost | undefined;
  /** Host ids whose document went before its hello reached this worker. */
  const goneBeforeHello = new Set<string>();
  let connecting: Promise<VatHost> | undefined;
  let helloWaiters: Array<(host: VatHost) => void> = [];
  let nextLaunchId = 1;
  const pending = new Map<
    number,
    {
      host: VatHost;
      vatId: string;
      resolve: (channel: PortChannel) => void;
      reject: (e: Error) => void;
    }
  >();

  const hostLost = (host: VatHost, reason: string) => {
    if (host.lost !== undefined) return;
    host.lost = reason;
    host.control.close();
    if (current === host) current = undefined;
    for (const [launchId, request] of pending) {
      if (request.host !== host) continue;
      pending.delete(launchId);
      request.reject(new Error(`${reason} before vat ${request.vatId} was launched`));
    }
    for (const channel of [...host.channels.values()]) channel.exit(reason);
  };

  const onControlMessage = (host: VatHost, event: MessageEvent) => {
    if (host.lost !== undefined) return;
    const message = parseOffscreenToWorker(event.data);
    if (message.type === 'vatLost') {
      host.channels.get(message.launchId)?.exit(message.reason);
      return;
    }
    const port = event.ports[0];
    const request = pending.get(message.launchId);
    if (!request || request.host !== host) {
      // A launch given up on (its deadline passed): its iframe is of no use.
      if (port) new PortChannel(port, host, message.launchId, message.vatId).close();
      return;
    }
    pending.delete(message.launchId);
    if (message.type === 'vatLaunchFailed') request.reject(new Error(message.error));
    else if (!port) request.reject(new Error('the offscreen document sent no vat port'));
    else request.resolve(new PortChannel(port, host, message.launchId, message.vatId));
  };

  /** Asks for a control port: creates the offscreen document, or asks it to reconnect. */
  const openHost = async (): Promise<VatHost> => {
    let take: (host: VatHost) => void = () => undefined;
    const hello = new Promise<VatHost>((resolve) => {
      take = resolve;
    });
    helloWaiters.push(take);
    try {
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
    } catch (error) {
      helloWaiters = helloWaiters.filter((waiter) => waiter !== take);
      throw error;
    }
    return hello;
  };

  /** The control port launches go to: the latest, if its document is still there. */
  const liveHost = (): Promise<VatHost> => {
    if (current && current.lost === undefined) return Promise.resolve(current);
    connecting ??= openHost().finally(() => {
      connecting = undefined;
    });
    return connecting;
  };

  const launchOn = async (
    launchId: number,
    vatId: string,
    launch: { givenUp: boolean },
  ): Promise<PortChannel> => {
    const host = await liveHost();
    if (host.lost !== undefined) throw new Error(host.lost);
    if (launch.givenUp) throw new Error(`the launch of vat ${vatId} was given up`);
    return new Promise<PortChannel>((resolve, reject) => {
      pending.set(launchId, { host, vatId, resolve, reject });
      const message: WorkerToOffscreen = { type: 'launchVat', launchId, vatId };
      host.control.postMessage(message);
    });
  };

  return {
    acceptHello(event) {
      const port = event.ports[0];
      if (!isHello(event.data) || !port) return false;
      const host: VatHost = { id: event.data.hostId, control: port, channels: new Map() };
      hosts.set(host.id, host);
      const previous = current;
      current = host;
      port.onmessage = (e: MessageEvent) => onControlMessage(host, e);
      // A new control port: the document has removed the iframes of the previous one.
      if (previous) hostLost(previous, 'the offscreen document reconnected');
      if (goneBeforeHello.delete(host.id))
        hostLost(host, 'the offscreen document closed');
      const waiters = helloWaiters;
      helloWaiters = [];
      for (const waiter of waiters) waiter(host);
      return true;
    },

    acceptHostPort(port) {
      const hostId = hostIdOfPort(port.name);
      if (hostId === undefined) return false;
      port.onDisconnect.addListener(() => {
        const host = hosts.get(hostId);
        if (host) hostLost(host, 'the offscreen document closed');
        else goneBeforeHello.add(hostId);
      });
      return true;
    },

    async launch(vatId) {
      const launchId = nextLaunchId++;
      const launch = { givenUp: false };
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `vat ${vatId}'s iframe did not load within ${LAUNCH_TIMEOUT_MS} ms`,
              ),
            ),
          LAUNCH_TIMEOUT_MS,
        );
      });
      try {
        return await Promise.race([launchOn(launchId, vatId, launch), deadline]);
      } finally {
        launch.givenUp = true;
        clearTimeout(timer);
        pending.delete(launchId);
      }
    },
  };
}
