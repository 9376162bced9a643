/**
 * One direction of a vat channel over shared memory: a single-slot mailbox in a
 * SharedArrayBuffer for the usual small message, and a MessagePort for whatever does not
 * fit (or arrives while the slot is still full). A counter in the buffer is the doorbell
 * for both lanes, so a reader never needs its event loop to learn that a message is
 * waiting, and can take a port message synchronously with `receiveMessageOnPort`.
 *
 * Order is kept without sequence numbers on the port: messages are numbered as they are
 * sent, each goes to exactly one lane, both lanes are FIFO, and the slot holds at most one
 * message. So if the next expected message is not in the slot, it is the next one on the
 * port. A port message is queued on the receiving side before `postMessage` returns, which
 * is before the doorbell rings.
 *
 * The slot carries JSON (UTF-8). Protocol messages are JSON data; a value JSON cannot
 * carry (undefined, NaN, a Map) would arrive as JSON makes it, which the protocol schemas
 * reject wherever it matters.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

/** Int32 fields at the start of each direction's region. */
const SENT = 0; // messages sent on either lane, wrapping: the doorbell readers wait on
const FULL = 1; // 1 while the slot holds a message the reader has not taken
const SLOT_SEQ = 2; // which message (by SENT count) the slot holds
const SLOT_LENGTH = 3; // its length in bytes
const HEADER_BYTES = 16;

/** Bytes of shared memory one direction needs for a slot of `capacity` bytes. */
export const regionBytes = (capacity: number): number =>
  HEADER_BYTES + Math.ceil(capacity / 8) * 8;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The message as JSON, or undefined if JSON cannot carry it at all (a cycle, a BigInt). */
function toJSON(message: unknown): string | undefined {
  try {
    return JSON.stringify(message);
  } catch {
    return undefined;
  }
}

interface Region {
  header: Int32Array;
  bytes: Uint8Array;
}

function region(buffer: SharedArrayBuffer, offset: number, capacity: number): Region {
  return {
    header: new Int32Array(buffer, offset, HEADER_BYTES / 4),
    bytes: new Uint8Array(buffer, offset + HEADER_BYTES, capacity),
  };
}

export class MailboxWriter {
  readonly #header: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #port: MessagePort;
  #sent = 0;

  constructor(
    buffer: SharedArrayBuffer,
    offset: number,
    capacity: number,
    port: MessagePort,
  ) {
    ({ header: this.#header, bytes: this.#bytes } = region(buffer, offset, capacity));
    this.#port = port;
  }

  /** Sends one message; `inline: false` sends it on the port without trying the slot. */
  post(message: unknown, inline = true): void {
    const header = this.#header;
    const seq = (this.#sent + 1) | 0;
    let sentInline = false;
    if (inline && Atomics.load(header, FULL) === 0) {
      const json = toJSON(message);
      const bytes = this.#bytes;
      // A UTF-8 encoding is never shorter than the UTF-16 length, so this skips the
      // encoding of a message that cannot fit.
      if (json !== undefined && json.length <= bytes.length) {
        const { read, written } = encoder.encodeInto(json, bytes);
        if (read === json.length) {
          header[SLOT_SEQ] = seq;
          header[SLOT_LENGTH] = written;
          Atomics.store(header, FULL, 1);
          sentInline = true;
        }
      }
    }
    if (!sentInline) this.#port.postMessage(message);
    this.#sent = seq;
    Atomics.store(header, SENT, seq);
    Atomics.notify(header, SENT);
  }
}

export class MailboxReader {
  readonly #header: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #port: MessagePort;
  #received = 0;

  constructor(
    buffer: SharedArrayBuffer,
    offset: number,
    capacity: number,
    port: MessagePort,
  ) {
    ({ header: this.#header, bytes: this.#bytes } = region(buffer, offset, capacity));
    this.#port = port;
  }

  /** Whether a message is waiting. */
  available(): boolean {
    return Atomics.load(this.#header, SENT) !== this.#received;
  }

  /** Takes the next message; call only when `available()`. */
  take(): unknown {
    const header = this.#header;
    const seq = (this.#received + 1) | 0;
    let message: unknown;
    if (Atomics.load(header, FULL) === 1 && header[SLOT_SEQ] === seq) {
      const length = header[SLOT_LENGTH] as number;
      message = JSON.parse(decoder.decode(this.#bytes.subarray(0, length)));
      Atomics.store(header, FULL, 0);
    } else {
      const received = receiveMessageOnPort(this.#port);
      if (received === undefined) {
        throw Error(
          `shared mailbox: message ${seq} is neither in the slot nor on the port`,
        );
      }
      message = received.message;
    }
    this.#received = seq;
    return message;
  }

  /**
   * Resolves once a message may be waiting, without blocking the thread (the event loop
   * runs meanwhile); returns undefined if one is waiting already. A pending wait does
   * not keep a thread's event loop alive.
   */
  waitAsync(): Promise<unknown> | undefined {
    const result = Atomics.waitAsync(this.#header, SENT, this.#received);
    return result.async ? result.value : undefined;
  }

  /** Releases a pending `waitAsync`, e.g. when the channel closes. */
  wake(): void {
    Atomics.notify(this.#header, SENT);
  }
}

/** How the two ends share one buffer: kernel→vat region first, then vat→kernel. */
export interface SharedChannelLayout {
  buffer: SharedArrayBuffer;
  capacity: number;
}

export function makeSharedChannelLayout(capacity: number): SharedChannelLayout {
  return { buffer: new SharedArrayBuffer(2 * regionBytes(capacity)), capacity };
}

export const toVatOffset = 0;
export const toKernelOffset = (capacity: number): number => regionBytes(capacity);
