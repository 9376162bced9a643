/**
 * A paged vat's reads of the kernel's store (kernel/protocol VatstorePages), over shared
 * memory: the vat's thread writes its question into a SharedArrayBuffer and blocks in
 * `Atomics.wait` until the kernel's thread, which keeps an `Atomics.waitAsync` armed and
 * so never blocks, has written the answer. One question is open at a time (liveslots'
 * syscalls are synchronous). An answer larger than the buffer comes in parts, each
 * asked for (`MORE`); a question is one key, at most `maxKeyLength` UTF-16 units, so it
 * always fits (the vat loads its store whole for a longer key).
 */
import type { VatstorePages } from '../../kernel/protocol/index.ts';

/** Int32 fields at the start of the buffer. */
const STATE = 0;
const OP = 1;
const LENGTH = 2; // bytes of the question, or of this part of the answer
const TOTAL = 3; // bytes of the whole answer
const HEADER_BYTES = 16;

// 0: idle, as a new buffer is.
const ASKED = 1;
const ANSWERED = 2;
const FAILED = 3; // the answer is an error message
const CLOSED = 4;

const GET = 1;
const NEXT = 2;
const NEXT_LEAVING_PREFIX = 3;
const ALL = 4;
const MORE = 5;

/** Default bytes of question and answer space. */
export const DEFAULT_PAGE_BYTES = 64 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface PageChannelLayout {
  buffer: SharedArrayBuffer;
}

export function makePageChannelLayout(bytes = DEFAULT_PAGE_BYTES): PageChannelLayout {
  return { buffer: new SharedArrayBuffer(HEADER_BYTES + bytes) };
}

function views(buffer: SharedArrayBuffer): { header: Int32Array; bytes: Uint8Array } {
  return {
    header: new Int32Array(buffer, 0, HEADER_BYTES / 4),
    bytes: new Uint8Array(buffer, HEADER_BYTES),
  };
}

/** The vat's end: synchronous reads, for SupervisorPlatform.vatstorePages. */
export class PageClient implements VatstorePages {
  readonly #header: Int32Array;
  readonly #bytes: Uint8Array;
  /** A UTF-16 unit takes at most 3 bytes of UTF-8 (a surrogate pair, 4 for 2 units). */
  readonly maxKeyLength: number;

  constructor({ buffer }: PageChannelLayout) {
    ({ header: this.#header, bytes: this.#bytes } = views(buffer));
    this.maxKeyLength = Math.floor(this.#bytes.length / 3);
  }

  get(key: string): string | undefined {
    return (JSON.parse(this.#ask(GET, key)) as string | null) ?? undefined;
  }

  next(
    priorKey: string,
    leavePrefix: boolean,
  ): { entries: Array<[string, string]>; end: boolean } {
    const [entries, end] = JSON.parse(
      this.#ask(leavePrefix ? NEXT_LEAVING_PREFIX : NEXT, priorKey),
    ) as [Array<[string, string]>, boolean];
    return { entries, end };
  }

  all(): string {
    return this.#ask(ALL, '');
  }

  #ask(op: number, key: string): string {
    if (key.length > this.maxKeyLength) {
      throw RangeError(`vatstore key of ${key.length} units is too long to ask for`);
    }
    const header = this.#header;
    const bytes = this.#bytes;
    header[LENGTH] = encoder.encodeInto(key, bytes).written;
    header[OP] = op;
    this.#exchange();
    const total = header[TOTAL] as number;
    let length = header[LENGTH] as number;
    if (length === total) return decoder.decode(bytes.subarray(0, length));
    const answer = new Uint8Array(total);
    answer.set(bytes.subarray(0, length));
    for (let got = length; got < total; got += length) {
      header[OP] = MORE;
      header[LENGTH] = 0;
      this.#exchange();
      length = header[LENGTH] as number;
      answer.set(bytes.subarray(0, length), got);
    }
    return decoder.decode(answer);
  }

  #exchange(): void {
    const header = this.#header;
    if (Atomics.load(header, STATE) === CLOSED) throw this.#closed();
    Atomics.store(header, STATE, ASKED);
    Atomics.notify(header, STATE);
    while (Atomics.load(header, STATE) === ASKED) Atomics.wait(header, STATE, ASKED);
    const state = Atomics.load(header, STATE);
    if (state === CLOSED) throw this.#closed();
    if (state === FAILED) {
      const length = header[LENGTH] as number;
      throw Error(
        `the kernel could not read the vatstore: ${decoder.decode(this.#bytes.subarray(0, length))}`,
      );
    }
  }

  #closed(): Error {
    return Error('the kernel closed this vat’s vatstore pages');
  }
}

/**
 * The kernel's end: answers each question from `pages` as it comes, without blocking
 * the kernel's thread. Returns `close`, which ends the service and wakes a vat waiting
 * on it (its read then throws).
 */
export function servePageChannel(
  { buffer }: PageChannelLayout,
  pages: VatstorePages,
): () => void {
  const { header, bytes } = views(buffer);
  let closed = false;
  /** The rest of an answer larger than the buffer, for the vat's MORE. */
  let rest: Uint8Array | undefined;

  const answer = (): void => {
    const op = header[OP] as number;
    const length = header[LENGTH] as number;
    let text: Uint8Array;
    if (op === MORE && rest !== undefined) {
      text = rest;
    } else {
      rest = undefined;
      let reply: string;
      try {
        if (!(length >= 0 && length <= bytes.length)) throw Error(`bad length ${length}`);
        // A copy: the vat could change shared bytes while they are decoded.
        const key = decoder.decode(bytes.slice(0, length));
        if (op === GET) reply = JSON.stringify(pages.get(key) ?? null);
        else if (op === NEXT || op === NEXT_LEAVING_PREFIX) {
          const { entries, end } = pages.next(key, op === NEXT_LEAVING_PREFIX);
          reply = JSON.stringify([entries, end]);
        } else if (op === ALL) reply = pages.all();
        else throw Error(`unknown question ${op}`);
      } catch (error) {
        const message = encoder.encode(
          error instanceof Error ? error.message : String(error),
        );
        const part = message.subarray(0, bytes.length);
        bytes.set(part);
        header[LENGTH] = part.length;
        Atomics.store(header, STATE, FAILED);
        Atomics.notify(header, STATE);
        return;
      }
      text = encoder.encode(reply);
      header[TOTAL] = text.length;
    }
    const part = text.subarray(0, bytes.length);
    bytes.set(part);
    header[LENGTH] = part.length;
    rest = text.length > part.length ? text.subarray(part.length) : undefined;
    Atomics.store(header, STATE, ANSWERED);
    Atomics.notify(header, STATE);
  };

  const arm = (): void => {
    while (!closed) {
      const state = Atomics.load(header, STATE);
      if (state === ASKED) {
        answer();
        continue;
      }
      const waiting = Atomics.waitAsync(header, STATE, state);
      if (waiting.async) {
        void waiting.value.then(arm);
        return;
      }
    }
  };
  arm();
  return () => {
    if (closed) return;
    closed = true;
    Atomics.store(header, STATE, CLOSED);
    Atomics.notify(header, STATE);
  };
}
