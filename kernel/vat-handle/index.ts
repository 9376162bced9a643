/**
 * The kernel's end of one vat incarnation's channel: sends `initVat` and deliveries, and
 * turns whatever comes back into either the reply the kernel waits for or a `VatFault`
 * that says what went wrong, and of which kind. One request is outstanding at a time,
 * and none without a deadline: the kernel never waits on a vat for ever.
 */
import type { VatChannel } from '../platform/index.ts';
import {
  PROTOCOL_VERSION,
  VAT_LOG_LIMITS,
  cutLogText,
  parseVatToKernel,
  type Delivery,
  type DeliveryReply,
  type InitVat,
  type VatLog,
} from '../protocol/index.ts';

/**
 * What kind of fault (docs/faults.md): the vat's host went away (`lost`), a request
 * passed its deadline (`deadline`), the vat broke the protocol (`violation`), or the
 * vat's own code failed where it must not (`failed`: initVat, or liveslots itself).
 */
export type VatFaultKind = 'lost' | 'deadline' | 'violation' | 'failed';

export class VatFault extends Error {
  override name = 'VatFault';
  readonly kind: VatFaultKind;
  constructor(kind: VatFaultKind, reason: string) {
    super(reason);
    this.kind = kind;
  }
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

/** Arms a one-shot timer; returns its cancel. */
export type SetTimer = (ms: number, fire: () => void) => () => void;

export interface VatHandleOptions {
  vatId: string;
  channel: VatChannel;
  /**
   * Called for a fault that happens while nothing is outstanding (an unsolicited
   * message, the worker dying between cranks).
   */
  onFault: (fault: VatFault) => void;
  setTimer: SetTimer;
  /** A line the vat logged (already bounded: see VAT_LOG_LIMITS). */
  onLog?: ((line: Omit<VatLog, 'type'>) => void) | undefined;
  /** The vat asked for a `settle` delivery. */
  onSettleRequest?: (() => void) | undefined;
}

export class VatHandle {
  readonly vatId: string;
  readonly #channel: VatChannel;
  readonly #onFault: (fault: VatFault) => void;
  readonly #setTimer: SetTimer;
  #pending: Pending | undefined;
  #cancelDeadline: (() => void) | undefined;
  #fault: VatFault | undefined;
  #closed = false;
  readonly #onLog: VatHandleOptions['onLog'];
  readonly #onSettleRequest: VatHandleOptions['onSettleRequest'];
  /** Lines taken since the vat's last reply, and lines dropped past the limit. */
  #logLines = 0;
  #logDropped = 0;

  constructor(options: VatHandleOptions) {
    this.vatId = options.vatId;
    this.#channel = options.channel;
    this.#onFault = options.onFault;
    this.#setTimer = options.setTimer;
    this.#onLog = options.onLog;
    this.#onSettleRequest = options.onSettleRequest;
    this.#channel.onMessage((message) => this.#receive(message));
    this.#channel.onExit((reason) =>
      this.#faulted(new VatFault('lost', `its worker stopped: ${reason}`)),
    );
  }

  /** True once the vat faulted or was stopped: it serves nothing more. */
  get dead(): boolean {
    return this.#fault !== undefined || this.#closed;
  }

  /** Sends `initVat`; resolves when the vat is ready, rejects with a VatFault. */
  init(
    message: Omit<InitVat, 'type' | 'protocolVersion'>,
    deadlineMs: number,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#request({ kind: 'init', resolve, reject }, deadlineMs, 'initVat', () =>
        this.#channel.send({
          type: 'initVat',
          protocolVersion: PROTOCOL_VERSION,
          ...message,
        }),
      );
    });
  }

  /** Sends one delivery and resolves with the vat's reply for that crank. */
  deliver(
    crank: number,
    delivery: Delivery,
    deadlineMs: number,
    what: string = delivery.kind,
  ): Promise<DeliveryReply> {
    return new Promise<DeliveryReply>((resolve, reject) => {
      this.#request({ kind: 'deliver', crank, resolve, reject }, deadlineMs, what, () =>
        this.#channel.send({ type: 'deliver', crank, delivery }),
      );
    });
  }

  /** Stops the vat's host; resolves once it is gone, or after `deadlineMs` regardless. */
  async close(deadlineMs: number): Promise<void> {
    this.#closed = true;
    this.#settle()?.reject(new VatFault('lost', `vat ${this.vatId} was stopped`));
    let cancel: (() => void) | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      cancel = this.#setTimer(deadlineMs, resolve);
    });
    try {
      await Promise.race([this.#channel.close(), gaveUp]);
    } finally {
      cancel?.();
    }
  }

  #request(pending: Pending, deadlineMs: number, what: string, send: () => void): void {
    if (this.#fault !== undefined) {
      pending.reject(this.#fault);
      return;
    }
    if (this.#closed) {
      pending.reject(new VatFault('lost', `vat ${this.vatId} was stopped`));
      return;
    }
    if (this.#pending) {
      throw new Error(
        `kernel bug: a second request to vat ${this.vatId} while one is open`,
      );
    }
    this.#pending = pending;
    this.#cancelDeadline = this.#setTimer(deadlineMs, () =>
      this.#faulted(
        new VatFault('deadline', `its ${what} did not finish within ${deadlineMs} ms`),
      ),
    );
    send();
  }

  /** Takes the outstanding request off, its deadline cancelled. */
  #settle(): Pending | undefined {
    const pending = this.#pending;
    this.#pending = undefined;
    this.#cancelDeadline?.();
    this.#cancelDeadline = undefined;
    return pending;
  }

  #receive(raw: unknown): void {
    if (this.#closed || this.#fault !== undefined) return;
    let message;
    try {
      message = parseVatToKernel(raw);
    } catch (error) {
      this.#violation(`it sent an ${(error as Error).message}`);
      return;
    }
    const pending = this.#pending;
    switch (message.type) {
      case 'vatReady':
      case 'vatInitFailed': {
        if (pending?.kind !== 'init') {
          this.#violation(`it sent ${message.type} when no initVat was open`);
          return;
        }
        if (message.protocolVersion !== PROTOCOL_VERSION) {
          this.#violation(
            `it speaks protocol version ${message.protocolVersion}, the kernel ${PROTOCOL_VERSION}`,
          );
          return;
        }
        this.#settle();
        if (message.type === 'vatReady') pending.resolve();
        else
          pending.reject(new VatFault('failed', `it failed to start: ${message.error}`));
        return;
      }
      case 'delivered':
      case 'deliveryFailed': {
        if (pending?.kind !== 'deliver') {
          this.#violation(
            `it replied to crank ${message.crank} when no delivery was open`,
          );
          return;
        }
        if (message.crank !== pending.crank) {
          this.#violation(
            `it replied to crank ${message.crank} while crank ${pending.crank} was open`,
          );
          return;
        }
        this.#settle();
        this.#newLogBudget();
        pending.resolve(message);
        return;
      }
      case 'vatLog':
        this.#log(message);
        return;
      case 'settleRequest':
        this.#onSettleRequest?.();
        return;
      default:
        this.#violation('it sent a message of unknown type');
    }
  }

  /**
   * Passes a log line on, bounded whatever the worker sends: a line's text and tags are
   * cut, and past `linesPerDelivery` lines since the last reply the rest are
   * dropped and counted (the supervisor keeps to the same limits, so an honest vat only
   * meets them if it logs more than that in one crank).
   */
  #log({ level, tags, text }: VatLog): void {
    if (this.#onLog === undefined) return;
    if (this.#logLines >= VAT_LOG_LIMITS.linesPerDelivery) {
      this.#logDropped += 1;
      return;
    }
    this.#logLines += 1;
    const { textLength, tags: maxTags, tagLength } = VAT_LOG_LIMITS;
    this.#onLog({
      level,
      tags: tags.slice(0, maxTags).map((tag) => tag.slice(0, tagLength)),
      text: cutLogText(text, textLength),
    });
  }

  #newLogBudget(): void {
    if (this.#logDropped > 0 && this.#onLog) {
      this.#onLog({
        level: 'warn',
        tags: ['cask'],
        text: `${this.#logDropped} log lines dropped: more than ${VAT_LOG_LIMITS.linesPerDelivery} in one crank`,
      });
    }
    this.#logLines = 0;
    this.#logDropped = 0;
  }

  #violation(reason: string): void {
    this.#faulted(new VatFault('violation', reason));
  }

  #faulted(fault: VatFault): void {
    if (this.#fault !== undefined || this.#closed) return;
    this.#fault = fault;
    const pending = this.#settle();
    if (pending) pending.reject(fault);
    else this.#onFault(fault);
  }
}
