/**
 * `setTimeout`, `setInterval` and their `clear…` for a vat that names them in `globals`.
 * A callback never runs outside a crank: the host's timer only records that it fired
 * (./completions.ts), the supervisor asks the kernel for a `settle` delivery, and the
 * callback runs inside it, as a crank of the vat's own. A timer is heap state: it dies
 * with the vat's worker (a restart, a kernel restart), as every promise of its heap does.
 * Durable wake-ups that outlive a restart are the timer service's (vat powers, next).
 */
import type { HostCompletions } from './completions.ts';

/** How many timers one vat may have armed at once. */
export const MAX_TIMERS = 1000;

interface HostTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

interface Timer {
  host: unknown;
  cancelled: boolean;
}

export interface VatTimers {
  setTimeout(callback: unknown, ms?: unknown, ...args: unknown[]): number;
  clearTimeout(id: unknown): void;
  setInterval(callback: unknown, ms?: unknown, ...args: unknown[]): number;
  clearInterval(id: unknown): void;
}

const delayOf = (ms: unknown): number => {
  const n = Number(ms ?? 0);
  // As in browsers: a delay that is not a finite number ≥ 0 counts as 0; at most 2^31-1.
  return Number.isFinite(n) && n > 0 ? Math.min(Math.floor(n), 2 ** 31 - 1) : 0;
};

export function makeVatTimers(
  completions: HostCompletions,
  report: (error: unknown) => void,
  host: HostTimers = globalThis as unknown as HostTimers,
): VatTimers {
  const timers = new Map<number, Timer>();
  let nextId = 1;

  const check = (callback: unknown): ((...a: unknown[]) => unknown) => {
    if (typeof callback !== 'function') {
      throw TypeError('a timer callback must be a function (strings are not evaluated)');
    }
    if (timers.size >= MAX_TIMERS) {
      throw RangeError(`a vat may have at most ${MAX_TIMERS} timers armed`);
    }
    return callback as (...a: unknown[]) => unknown;
  };

  /** Arms the host timer for `id`; `fired` runs inside the settle crank. */
  const arm = (id: number, ms: number, fired: () => void): void => {
    const timer = timers.get(id);
    if (!timer) return;
    void completions
      .defer(
        'a timer',
        () =>
          new Promise<void>((resolve) => {
            timer.host = host.setTimeout(resolve, ms);
          }),
        () => undefined,
      )
      .then(() => {
        if (!timer.cancelled) fired();
      });
  };

  const run = (fn: (...a: unknown[]) => unknown, args: unknown[]) => {
    try {
      fn(...args);
    } catch (error) {
      report(error);
    }
  };

  const clear = (id: unknown): void => {
    if (typeof id !== 'number') return;
    const timer = timers.get(id);
    if (!timer) return;
    timer.cancelled = true;
    timers.delete(id);
    if (timer.host !== undefined) host.clearTimeout(timer.host);
  };

  return harden({
    setTimeout(callback: unknown, ms?: unknown, ...args: unknown[]): number {
      const fn = check(callback);
      const id = nextId++;
      timers.set(id, { host: undefined, cancelled: false });
      arm(id, delayOf(ms), () => {
        timers.delete(id);
        run(fn, args);
      });
      return id;
    },
    clearTimeout: clear,
    setInterval(callback: unknown, ms?: unknown, ...args: unknown[]): number {
      const fn = check(callback);
      const id = nextId++;
      // At least 1 ms between ticks: each tick is a crank.
      const every = Math.max(1, delayOf(ms));
      timers.set(id, { host: undefined, cancelled: false });
      const tick = () => {
        run(fn, args);
        arm(id, every, tick);
      };
      arm(id, every, tick);
      return id;
    },
    clearInterval: clear,
  });
}
