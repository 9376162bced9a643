/**
 * The kernel's end of one vat incarnation's channel: sends `initVat` and deliveries, and
 * turns whatever comes back into either the reply the kernel waits for or a `VatFault`
 * that names what the vat did wrong. One request is outstanding at a time.
 */
import type { VatChannel } from '../platform/index.ts';
import {
  PROTOCOL_VERSION,
  parseVatToKernel,
  type Delivery,
  type DeliveryReply,
  type InitVat,
} from '../protocol/index.ts';

/** The vat broke the protocol, failed, or died: the kernel must terminate it. */
export class VatFault extends Error {
  override name = 'VatFault';
}

type Pending =
  | {
      kind: 'init';
      resolve: () => void;
      reject: (e: VatFault) => void;
    }
  | {
      kind: 'deliver';
      crank: number;
      resolve: (reply: DeliveryReply) => void;
      reject: (e: VatFault) => void;
    };

export class VatHandle {
  readonly vatId: string;
  readonly #channel: VatChannel;
  readonly #onFault: (reason: string) => void;
  #pending: Pending | undefined;
  #fault: string | undefined;
  #closed = false;

  /**
   * @param onFault - called for a fault that happens while nothing is outstanding (an
   *   unsolicited message, the worker dying between cranks); the kernel terminates the vat.
   */
  constructor(vatId: string, channel: VatChannel, onFault: (reason: string) => void) {
    this.vatId = vatId;
    this.#channel = channel;
    this.#onFault = onFault;
    channel.onMessage((message) => this.#receive(message));
    channel.onExit((reason) => this.#faulted(`its worker stopped: ${reason}`));
  }

  /** Sends `initVat`; resolves when the vat is ready, rejects with the vat's reason. */
  init(message: Omit<InitVat, 'type' | 'protocolVersion'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#request({ kind: 'init', resolve, reject }, () =>
        this.#channel.send({
          type: 'initVat',
          protocolVersion: PROTOCOL_VERSION,
          ...message,
        }),
      );
    });
  }

  /** Sends one delivery and resolves with the vat's reply for that crank. */
  deliver(crank: number, delivery: Delivery): Promise<DeliveryReply> {
    return new Promise<DeliveryReply>((resolve, reject) => {
      this.#request({ kind: 'deliver', crank, resolve, reject }, () =>
        this.#channel.send({ type: 'deliver', crank, delivery }),
      );
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#pending?.reject(new VatFault(`vat ${this.vatId} was stopped`));
    this.#pending = undefined;
    await this.#channel.close();
  }

  #request(pending: Pending, send: () => void): void {
    if (this.#fault !== undefined) {
      pending.reject(new VatFault(this.#fault));
      return;
    }
    if (this.#closed) {
      pending.reject(new VatFault(`vat ${this.vatId} was stopped`));
      return;
    }
    if (this.#pending) {
      throw new Error(
        `kernel bug: a second request to vat ${this.vatId} while one is open`,
      );
    }
    this.#pending = pending;
    send();
  }

  #receive(raw: unknown): void {
    if (this.#closed || this.#fault !== undefined) return;
    let message;
    try {
      message = parseVatToKernel(raw);
    } catch (error) {
      this.#faulted(`it sent an ${(error as Error).message}`);
      return;
    }
    const pending = this.#pending;
    switch (message.type) {
      case 'vatReady':
      case 'vatInitFailed': {
        if (pending?.kind !== 'init') {
          this.#faulted(`it sent ${message.type} when no initVat was open`);
          return;
        }
        if (message.protocolVersion !== PROTOCOL_VERSION) {
          this.#faulted(
            `it speaks protocol version ${message.protocolVersion}, the kernel ${PROTOCOL_VERSION}`,
          );
          return;
        }
        this.#pending = undefined;
        if (message.type === 'vatReady') pending.resolve();
        else pending.reject(new VatFault(`it failed to start: ${message.error}`));
        return;
      }
      case 'delivered':
      case 'deliveryFailed': {
        if (pending?.kind !== 'deliver') {
          this.#faulted(`it replied to crank ${message.crank} when no delivery was open`);
          return;
        }
        if (message.crank !== pending.crank) {
          this.#faulted(
            `it replied to crank ${message.crank} while crank ${pending.crank} was open`,
          );
          return;
        }
        this.#pending = undefined;
        pending.resolve(message);
        return;
      }
      default:
        this.#faulted('it sent a message of unknown type');
    }
  }

  #faulted(reason: string): void {
    if (this.#fault !== undefined || this.#closed) return;
    this.#fault = reason;
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) pending.reject(new VatFault(reason));
    else this.#onFault(reason);
  }
}
