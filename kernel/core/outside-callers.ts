/**
 * Callers outside the kernel (the CLI, the panel, tests) waiting on kernel promises.
 *
 * A settlement reaches its caller only once the crank that made it is durable: the crank
 * runner hands what a crank settled to the commit gate, which calls `release` after the
 * write. The kernel deletes a promise as soon as nothing refers to it (usually as it
 * settles), so the settlements of enqueued messages are kept here for promiseStatus.
 */
import type { CapData } from '../protocol/index.ts';
import type { KRef } from '../state/index.ts';

/** How a promise the outside world waits on was settled. */
export interface Settlement {
  rejected: boolean;
  data: CapData;
}

interface Waiter {
  resolve: (s: Settlement) => void;
  reject: (e: unknown) => void;
  /** Who waits, if it holds what it is handed (pins); see Kernel.queueMessage. */
  caller?: string | undefined;
}

/** How many settlements of enqueueMessage results are kept (the newest). */
const KEPT_RESULTS = 1000;

export class OutsideCallers {
  readonly #waiters = new Map<KRef, Waiter[]>();
  /** Settlements made by the open crank, released once it is durable. */
  #settledInCrank: Array<[KRef, Settlement]> = [];
  readonly #kept = new Map<KRef, Settlement>();

  /** Resolves with the promise's settlement once the crank that made it is durable. */
  waitFor(kpid: KRef, caller?: string): Promise<Settlement> {
    return new Promise((resolve, reject) => this.#add(kpid, { resolve, reject, caller }));
  }

  /** Keeps the promise's settlement, once released, for `kept`. */
  keepResult(kpid: KRef, caller?: string): void {
    this.#add(kpid, {
      resolve: (settlement) => this.#keep(kpid, settlement),
      reject: () => undefined,
      caller,
    });
  }

  isWaitedOn(kpid: KRef): boolean {
    return this.#waiters.has(kpid);
  }

  kept(kpid: KRef): Settlement | undefined {
    return this.#kept.get(kpid);
  }

  /**
   * The open crank settled a promise; noted if anyone outside waits on it. Returns the
   * callers that will be handed the settlement and pin what it refers to.
   */
  noteSettled(kpid: KRef, settlement: Settlement): string[] {
    const waiters = this.#waiters.get(kpid);
    if (!waiters) return [];
    this.#settledInCrank.push([kpid, settlement]);
    const callers = new Set<string>();
    for (const w of waiters) if (w.caller !== undefined) callers.add(w.caller);
    return [...callers];
  }

  /** The open crank committed: its settlements, each as a release to run once durable. */
  takeReleases(): Array<() => void> {
    const settled = this.#settledInCrank;
    this.#settledInCrank = [];
    return settled.map(
      ([kpid, settlement]) =>
        () =>
          this.#release(kpid, settlement),
    );
  }

  /** The open crank was rolled back: what it settled never happened. */
  dropSettled(): void {
    this.#settledInCrank = [];
  }

  /** The kernel stopped: every waiter hears why. */
  failAll(error: unknown): void {
    for (const list of this.#waiters.values()) for (const w of list) w.reject(error);
    this.#waiters.clear();
  }

  #release(kpid: KRef, settlement: Settlement): void {
    const waiters = this.#waiters.get(kpid) ?? [];
    this.#waiters.delete(kpid);
    for (const w of waiters) w.resolve(settlement);
  }

  #add(kpid: KRef, waiter: Waiter): void {
    const list = this.#waiters.get(kpid);
    if (list) list.push(waiter);
    else this.#waiters.set(kpid, [waiter]);
  }

  #keep(kpid: KRef, settlement: Settlement): void {
    this.#kept.set(kpid, settlement);
    if (this.#kept.size > KEPT_RESULTS) {
      const oldest = this.#kept.keys().next();
      if (!oldest.done) this.#kept.delete(oldest.value);
    }
  }
}
