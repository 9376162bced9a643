/**
 * The timer queue: the kernel's one time order (docs/timers.md). It owns what of timing
 * lives in memory only —
 *
 * - the crank's time, taken once when a crank opens (getCurrentTimestamp, and the base
 *   of a heap timer's due time);
 * - a cache of the earliest due time of the stored wake-ups (the `timers` table is the
 *   truth; the cache is read again from it whenever it may be stale);
 * - the heap timers of vats (setTimeout, setInterval): never stored, ended with the
 *   worker that armed them;
 * - the host timer armed for the earliest of all, so that an idle kernel wakes.
 *
 * The kernel asks between every two cranks whether something is due; that is one
 * comparison of two numbers.
 */
import type { KernelClock } from '../platform/index.ts';
import type { VatId } from '../state/index.ts';

/** A heap timer of one incarnation of a vat. */
export interface HeapTimer {
  vatId: VatId;
  incarnation: number;
  /** Its id within the worker (vat-supervisor/timers.ts). */
  id: number;
  due: number;
  /** The order it was armed in, for equal due times. */
  seq: number;
}

export interface TimerQueueOptions {
  clock: KernelClock;
  /** Reads the earliest due time of the stored wake-ups from the store. */
  readEarliestStored: () => number | null;
  /** The host timer fired: the kernel should look. */
  onWake: () => void;
}

export class TimerQueue {
  readonly #clock: KernelClock;
  readonly #readEarliestStored: () => number | null;
  readonly #onWake: () => void;
  /** undefined: unknown, read the store again. */
  #stored: number | null | undefined;
  /**
   * By vat, then by `incarnation:id`: during an upgrade two incarnations of a vat run side
   * by side, each with its own ids.
   */
  readonly #heap = new Map<VatId, Map<string, HeapTimer>>();
  /** undefined: unknown, look through #heap again. */
  #heapEarliest: number | null | undefined = null;
  #seq = 0;
  #crankTime: number;
  #armed: { at: number; cancel: () => void } | undefined;
  #closed = false;

  constructor(options: TimerQueueOptions) {
    this.#clock = options.clock;
    this.#readEarliestStored = options.readEarliestStored;
    this.#onWake = options.onWake;
    this.#crankTime = options.clock.now();
  }

  /** A crank (or step) opens: its time is taken now, once. */
  openCrank(): void {
    this.#crankTime = this.#clock.now();
  }

  /** The open crank's time, ms since the epoch. */
  get crankTime(): number {
    return this.#crankTime;
  }

  now(): number {
    return this.#clock.now();
  }

  /** A wake-up was stored (and committed) with this due time. */
  storedAdded(due: number): void {
    if (this.#stored === undefined) return;
    this.#stored = this.#stored === null ? due : Math.min(this.#stored, due);
  }

  /** Stored wake-ups were removed or moved: read the earliest again when asked. */
  storedChanged(): void {
    this.#stored = undefined;
  }

  /** Arms (or re-arms) heap timer `id` of the vat, due `ms` after the crank's time. */
  setHeap(vatId: VatId, incarnation: number, id: number, ms: number): void {
    let timers = this.#heap.get(vatId);
    if (!timers) {
      timers = new Map();
      this.#heap.set(vatId, timers);
    }
    const key = `${incarnation}:${id}`;
    if (timers.has(key)) this.#heapEarliest = undefined;
    const due = this.#crankTime + ms;
    timers.set(key, { vatId, incarnation, id, due, seq: (this.#seq += 1) });
    if (this.#heapEarliest !== undefined) {
      this.#heapEarliest =
        this.#heapEarliest === null ? due : Math.min(this.#heapEarliest, due);
    }
  }

  clearHeap(vatId: VatId, incarnation: number, id: number): void {
    if (this.#heap.get(vatId)?.delete(`${incarnation}:${id}`)) {
      this.#heapEarliest = undefined;
    }
  }

  /**
   * The vat's worker stopped: its heap timers end with it (only those of `incarnation`,
   * if given: an upgrade stops one of the vat's two workers).
   */
  dropVat(vatId: VatId, incarnation?: number): void {
    const timers = this.#heap.get(vatId);
    if (!timers) return;
    this.#heapEarliest = undefined;
    if (incarnation === undefined) {
      this.#heap.delete(vatId);
      return;
    }
    for (const [key, timer] of timers) {
      if (timer.incarnation === incarnation) timers.delete(key);
    }
    if (timers.size === 0) this.#heap.delete(vatId);
  }

  /** Heap timers armed by the vat's worker (they count against its cap). */
  heapCount(vatId: VatId): number {
    return this.#heap.get(vatId)?.size ?? 0;
  }

  /** Removes and returns the heap timers due at `now`, in (due, seq) order. */
  takeDueHeap(now: number): HeapTimer[] {
    const due: HeapTimer[] = [];
    for (const [vatId, timers] of this.#heap) {
      for (const timer of timers.values()) if (timer.due <= now) due.push(timer);
      for (const timer of due) {
        if (timer.vatId === vatId) timers.delete(`${timer.incarnation}:${timer.id}`);
      }
      if (timers.size === 0) this.#heap.delete(vatId);
    }
    if (due.length > 0) this.#heapEarliest = undefined;
    return due.sort((a, b) => a.due - b.due || a.seq - b.seq);
  }

  /** The earliest due time of anything pending, or null. */
  earliest(): number | null {
    if (this.#stored === undefined) this.#stored = this.#readEarliestStored();
    if (this.#heapEarliest === undefined) {
      let min: number | null = null;
      for (const timers of this.#heap.values()) {
        for (const { due } of timers.values()) if (min === null || due < min) min = due;
      }
      this.#heapEarliest = min;
    }
    const [a, b] = [this.#stored, this.#heapEarliest];
    return a === null ? b : b === null ? a : Math.min(a, b);
  }

  /** True if something is due by the clock now. */
  hasDue(): boolean {
    const at = this.earliest();
    return at !== null && at <= this.#clock.now();
  }

  /** Keeps the host timer armed for the earliest due time (none if nothing is pending). */
  arm(): void {
    if (this.#closed) return;
    const at = this.earliest();
    if (this.#armed?.at === at) return;
    this.#armed?.cancel();
    this.#armed = undefined;
    if (at === null) return;
    const armed = {
      at,
      cancel: this.#clock.wakeAt(at, () => {
        if (this.#armed !== armed) return;
        this.#armed = undefined;
        this.#onWake();
      }),
    };
    this.#armed = armed;
  }

  /** The kernel is closing: the host timer is cancelled and never armed again. */
  close(): void {
    this.#closed = true;
    this.#armed?.cancel();
    this.#armed = undefined;
  }
}
