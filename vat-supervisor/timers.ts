/**
 * `setTimeout`, `setInterval` and their `clear…` for a vat that names them in `globals`,
 * built on the kernel's timer queue (docs/timers.md): the callbacks stay in the vat's
 * heap, and arming one is a `setTimer` syscall, due that many ms after the crank's time
 * by the kernel's clock. When it comes due the kernel queues a `settle` delivery naming
 * it, in the same time order as the timer service's wake-ups, and the callback runs
 * inside that crank. A timer is heap state: it dies with the vat's worker (a restart, a
 * kernel restart), as every promise of its heap does; durable wake-ups are the timer
 * service's.
 */

/** How many timers one vat may have armed at once (the kernel also counts its others). */
export const MAX_TIMERS = 1000;

/** The two syscalls timers are made of. */
export interface TimerSyscalls {
  set(id: number, ms: number): void;
  clear(id: number): void;
}

export interface VatTimers {
  setTimeout(callback: unknown, ms?: unknown, ...args: unknown[]): number;
  clearTimeout(id: unknown): void;
  setInterval(callback: unknown, ms?: unknown, ...args: unknown[]): number;
  clearInterval(id: unknown): void;
}

interface Timer {
  fn: (...a: unknown[]) => unknown;
  args: unknown[];
  /** A setInterval's period; undefined for a setTimeout. */
  every: number | undefined;
}

const delayOf = (ms: unknown): number => {
  const n = Number(ms ?? 0);
  // As in browsers: a delay that is not a finite number ≥ 0 counts as 0; at most 2^31-1.
  return Number.isFinite(n) && n > 0 ? Math.min(Math.floor(n), 2 ** 31 - 1) : 0;
};

export function makeVatTimers(
  syscalls: TimerSyscalls,
  report: (error: unknown) => void,
): { timers: VatTimers; fire(ids: readonly number[]): void } {
  const armed = new Map<number, Timer>();
  let nextId = 1;

  const arm = (callback: unknown, ms: unknown, args: unknown[], repeat: boolean) => {
    if (typeof callback !== 'function') {
      throw TypeError('a timer callback must be a function (strings are not evaluated)');
    }
    if (armed.size >= MAX_TIMERS) {
      throw RangeError(`a vat may have at most ${MAX_TIMERS} timers armed`);
    }
    const id = nextId++;
    // At least 1 ms between ticks: each tick is a crank.
    const delay = repeat ? Math.max(1, delayOf(ms)) : delayOf(ms);
    armed.set(id, {
      fn: callback as Timer['fn'],
      args,
      every: repeat ? delay : undefined,
    });
    syscalls.set(id, delay);
    return id;
  };

  const clear = (id: unknown): void => {
    if (typeof id !== 'number' || !armed.delete(id)) return;
    syscalls.clear(id);
  };

  const timers: VatTimers = harden({
    setTimeout: (callback: unknown, ms?: unknown, ...args: unknown[]) =>
      arm(callback, ms, args, false),
    clearTimeout: clear,
    setInterval: (callback: unknown, ms?: unknown, ...args: unknown[]) =>
      arm(callback, ms, args, true),
    clearInterval: clear,
  });

  /** Inside a settle delivery: runs the callbacks of the timers that came due. */
  const fire = (ids: readonly number[]): void => {
    for (const id of ids) {
      // Cleared after it came due: it does not run.
      const timer = armed.get(id);
      if (!timer) continue;
      if (timer.every === undefined) armed.delete(id);
      else syscalls.set(id, timer.every);
      try {
        timer.fn(...timer.args);
      } catch (error) {
        report(error);
      }
    }
  };

  return { timers, fire };
}
