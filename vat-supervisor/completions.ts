/**
 * Host completions: what the vat's host finishes for it outside any crank (an endowed
 * fetch's response, a body read, a crypto.subtle operation) is held here and handed to
 * the vat only inside a crank of its own.
 *
 * liveslots relies on a vat losing agency once its promise queue drains: a host promise
 * that settled between cranks would run the vat's reactions outside a crank, where their
 * syscalls and vatstore writes belong to no crank (and a crank already replied would
 * never see them). So the vat gets a promise of ours, and the host's settlement is only
 * recorded when it happens; the supervisor then asks the kernel for a `settle` delivery
 * (one request until that delivery comes) and settles every recorded completion at the
 * start of it, before liveslots waits for the vat to go quiet and flushes its state.
 *
 * What the host finishes after the vat's worker is gone dies with it: a restarted vat
 * starts with no promises of its old heap.
 */

type Settler = () => void;

/** What the vat may see of a host failure: a plain error of an intrinsic class. */
export function vatError(error: unknown, what: string): Error {
  const message =
    error instanceof Error ? error.message : `${String(error as string)} (not an Error)`;
  const name = error instanceof Error ? error.name : 'Error';
  // The host's error (a DOMException, an undici error with a cause chain) is of a class
  // from outside the vat's reach; only its name and message cross.
  const made =
    name === 'TypeError'
      ? TypeError(`${what}: ${message}`)
      : Error(`${what}: ${message}`);
  if (name !== 'Error' && name !== 'TypeError') {
    Object.defineProperty(made, 'name', { value: name });
  }
  return harden(made);
}

export class HostCompletions {
  readonly #requestSettle: () => void;
  #ready: Settler[] = [];
  /** A settle delivery was asked for and has not come yet. */
  #asked = false;
  #pending = 0;

  /** @param requestSettle - asks the kernel for a `settle` delivery */
  constructor(requestSettle: () => void) {
    this.#requestSettle = requestSettle;
  }

  /** Host operations started and not yet handed to the vat. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Starts a host operation and returns the vat's promise for its result. `adapt` turns
   * the host's value into what the vat sees; it runs inside the settle crank. A failure
   * reaches the vat as `vatError(…, what)`.
   */
  defer<T, R>(what: string, start: () => Promise<T>, adapt: (value: T) => R): Promise<R> {
    let resolve!: (value: R) => void;
    let reject!: (reason: unknown) => void;
    const forVat = new Promise<R>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    let host: Promise<T>;
    try {
      host = Promise.resolve(start());
    } catch (error) {
      host = Promise.reject(error as Error);
    }
    this.#pending += 1;
    host.then(
      (value) =>
        this.#hold(() => {
          let adapted: R;
          try {
            adapted = adapt(value);
          } catch (error) {
            reject(vatError(error, what));
            return;
          }
          resolve(adapted);
        }),
      (error: unknown) => this.#hold(() => reject(vatError(error, what))),
    );
    return forVat;
  }

  /**
   * Settles, in the order they finished, every completion held so far; call only inside
   * a delivery, before liveslots waits for the vat to go quiet. Returns how many.
   */
  settleAll(): number {
    this.#asked = false;
    const ready = this.#ready;
    this.#ready = [];
    for (const settle of ready) settle();
    return ready.length;
  }

  #hold(settle: Settler): void {
    this.#pending -= 1;
    this.#ready.push(settle);
    if (this.#asked) return;
    this.#asked = true;
    this.#requestSettle();
  }
}
