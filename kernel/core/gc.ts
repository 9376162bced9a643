/**
 * Garbage collection between vats: after each crank, promises nobody refers to are
 * deleted and the exporters of objects nobody can reach (or recognise) are told, through
 * `dropExports` and `retireExports` items on the run queue. How often a vat is asked to
 * collect its own garbage (`bringOutYourDead`) is the reap policy's call.
 */
import type { Delivery } from '../protocol/index.ts';
import type { GcKind, KernelState, KRef, VatId } from '../state/index.ts';

/** Queues what the crank's refcount changes call for. Call once per crank, at its end. */
export function collectGarbage(state: KernelState): void {
  const { drop, retire } = state.collectGarbage();
  for (const [vatId, krefs] of drop) state.enqueue({ kind: 'dropExports', vatId, krefs });
  for (const [vatId, krefs] of retire) {
    state.enqueue({ kind: 'retireExports', vatId, krefs });
  }
}

/**
 * The vrefs a GC delivery tells `vatId` of, updating the c-list as it does: only what is
 * still true by the time the item runs (an export reachable again is not dropped).
 */
export function gcVrefs(
  state: KernelState,
  kind: GcKind,
  vatId: VatId,
  krefs: KRef[],
): string[] {
  const vrefs: string[] = [];
  for (const kref of krefs) {
    const vref = state.krefToVref(vatId, kref);
    if (vref === undefined) continue;
    const object = state.getObject(kref);
    if (kind === 'dropExports') {
      if (
        object?.owner !== vatId ||
        object.reachable > 0 ||
        !state.isReachableFlag(vatId, kref)
      )
        continue;
      state.setReachableFlag(vatId, kref, false);
    } else if (kind === 'retireExports') {
      if (object?.owner !== vatId || object.recognizable > 0) continue;
      state.deleteClistEntry(vatId, kref, false);
      state.deleteObject(kref);
    } else {
      state.deleteClistEntry(vatId, kref, true);
    }
    vrefs.push(vref);
  }
  return vrefs;
}

/**
 * When a vat is asked to `bringOutYourDead`. The delivery forces a full GC in the vat
 * (12–30 ms with liveslots loaded, about as long as 100 ping-pong deliveries; measured
 * with bench/ping-pong-transports), so it is kept off the hot path:
 *
 * - when the kernel is idle (the run queue empty), every vat with at least `idleAfter`
 *   deliveries (default 100) since its last reap is reaped: nobody waits then, and the
 *   reap never costs more than the work it follows (a daemon answering one request now
 *   and then does not run a GC and a crank after each);
 * - a vat that is never idle is reaped every `interval` deliveries (default 2,000, so a
 *   reap costs about 10 µs per delivery, a few per cent of a ping-pong delivery), or at
 *   its own interval (creationOptions.reapInterval);
 * - a vat that says `neverReap` is never asked.
 *
 * docs/gc.md has the measurements behind the defaults.
 */
export class ReapPolicy {
  readonly #interval: number;
  readonly #whenIdle: boolean;
  readonly #idleAfter: number;
  /** Deliveries to each vat since its last reap (or since its worker started). */
  readonly #deliveries = new Map<VatId, number>();

  constructor(
    interval: number,
    { whenIdle = true, idleAfter = 100 }: { whenIdle?: boolean; idleAfter?: number } = {},
  ) {
    this.#interval = interval;
    this.#whenIdle = whenIdle;
    this.#idleAfter = idleAfter;
  }

  /**
   * Counts a delivery; true when the vat is due a bringOutYourDead by count. `own` is
   * the vat's own interval (its creationOptions), if it has one.
   */
  delivered(
    vatId: VatId,
    kind: Delivery['kind'],
    own: number | 'never' | null = null,
  ): boolean {
    if (kind === 'bringOutYourDead') {
      this.#deliveries.delete(vatId);
      return false;
    }
    if (own === 'never') return false;
    const n = (this.#deliveries.get(vatId) ?? 0) + 1;
    this.#deliveries.set(vatId, n);
    // Exactly at the interval: until that bringOutYourDead runs, later deliveries queue no more.
    return n === (own ?? this.#interval);
  }

  /** The vats to reap now that the kernel is idle, in vat order. */
  idle(): VatId[] {
    if (!this.#whenIdle) return [];
    return [...this.#deliveries]
      .filter(([, n]) => n >= this.#idleAfter)
      .map(([vatId]) => vatId)
      .sort(compareVatIds);
  }

  /** True if the kernel, once idle, has vats to reap. */
  get idleDue(): boolean {
    if (!this.#whenIdle) return false;
    for (const n of this.#deliveries.values()) if (n >= this.#idleAfter) return true;
    return false;
  }

  /** The vat's worker went away (or is not to be reaped): its count starts again. */
  forget(vatId: VatId): void {
    this.#deliveries.delete(vatId);
  }
}

function compareVatIds(a: VatId, b: VatId): number {
  return Number(a.slice(1)) - Number(b.slice(1));
}
