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

/** Asks each vat to `bringOutYourDead` once every `interval` deliveries to it. */
export class ReapPolicy {
  readonly #interval: number;
  readonly #deliveries = new Map<VatId, number>();

  constructor(interval: number) {
    this.#interval = interval;
  }

  /**
   * Counts a delivery; true when the vat is due a bringOutYourDead. `own` is the vat's
   * own interval (its creationOptions), if it has one.
   */
  delivered(
    vatId: VatId,
    kind: Delivery['kind'],
    own: number | 'never' | null = null,
  ): boolean {
    if (kind === 'bringOutYourDead') {
      this.#deliveries.set(vatId, 0);
      return false;
    }
    if (own === 'never') return false;
    const n = (this.#deliveries.get(vatId) ?? 0) + 1;
    this.#deliveries.set(vatId, n);
    // Exactly at the interval: until that bringOutYourDead runs, later deliveries queue no more.
    return n === (own ?? this.#interval);
  }

  /** The vat's worker went away: its count starts again with the next one. */
  forget(vatId: VatId): void {
    this.#deliveries.delete(vatId);
  }
}
