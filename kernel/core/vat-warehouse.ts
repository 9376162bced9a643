/**
 * The vat warehouse: every vat's worker and its lifecycle. It starts workers and sends
 * them `initVat` with their stored state, begins new incarnations (after a kernel
 * restart or a restart by request), delivers to them, and terminates vats.
 *
 * It changes kernel state only through the crank runner's steps, and it is the only
 * owner of vat handles.
 */
import type { KernelPlatform } from '../platform/index.ts';
import type { Delivery, DeliveryReply, VatBundle } from '../protocol/index.ts';
import { kerror } from '../marshal/index.ts';
import {
  isObjectKref,
  type KernelState,
  type RunQueueItem,
  type VatId,
  type VatRecord,
} from '../state/index.ts';
import { VatFault, VatHandle } from '../vat-handle/index.ts';
import { KernelError } from './errors.ts';
import type { Resolver } from './promises.ts';
import { CrankFault } from './translate.ts';

/** What the warehouse needs of the crank runner. */
export interface Cranks {
  /**
   * Runs `change` as one committed step of its own (not a delivery). With `voidCrank`,
   * the step follows that rolled-back crank, whose number is not reused.
   */
  step<T>(change: () => T, voidCrank?: number): T;
  /** Runs `item` as one crank now. */
  run(item: RunQueueItem): Promise<void>;
}

export interface VatWarehouseOptions {
  state: KernelState;
  platform: KernelPlatform;
  resolve: Resolver;
  /** A vat's worker failed between cranks; the kernel's loop should look at it. */
  onFault: () => void;
  /** The vat's worker went away (its deliveries start counting afresh). */
  onStopped: (vatId: VatId) => void;
}

export class VatWarehouse {
  readonly #state: KernelState;
  readonly #platform: KernelPlatform;
  readonly #resolve: Resolver;
  readonly #options: VatWarehouseOptions;
  readonly #handles = new Map<VatId, VatHandle>();
  /** Vats that faulted between cranks, with the reason; terminated at the next step. */
  readonly #faulted = new Map<VatId, string>();
  #cranks: Cranks | undefined;

  constructor(options: VatWarehouseOptions) {
    this.#options = options;
    this.#state = options.state;
    this.#platform = options.platform;
    this.#resolve = options.resolve;
  }

  /** Wires the crank runner in (the two depend on each other). */
  useCranks(cranks: Cranks): void {
    this.#cranks = cranks;
  }

  get #steps(): Cranks {
    if (!this.#cranks)
      throw new Error('kernel bug: the vat warehouse has no crank runner');
    return this.#cranks;
  }

  /** True if a vat faulted between cranks and waits to be dealt with. */
  get hasFaulted(): boolean {
    return this.#faulted.size > 0;
  }

  faultOf(vatId: VatId): string | undefined {
    return this.#faulted.get(vatId);
  }

  /** Deals with one vat that faulted between cranks; false if there was none. */
  async handleNextFault(): Promise<boolean> {
    const faulted = this.#faulted.entries().next();
    if (faulted.done) return false;
    const [vatId, reason] = faulted.value;
    this.#faulted.delete(vatId);
    if (this.#isLive(vatId)) await this.terminate(vatId, reason);
    return true;
  }

  /** Delivers to a vat; throws CrankFault on any fault of the vat's. */
  async deliver(crank: number, vatId: VatId, delivery: Delivery): Promise<DeliveryReply> {
    const handle = this.#handles.get(vatId);
    if (!handle) throw new CrankFault(vatId, 'its worker is not running');
    let reply: DeliveryReply;
    try {
      reply = await handle.deliver(crank, delivery);
    } catch (error) {
      if (error instanceof VatFault) throw new CrankFault(vatId, error.message);
      throw error;
    }
    if (reply.type === 'deliveryFailed') {
      throw new CrankFault(vatId, `its ${delivery.kind} delivery failed: ${reply.error}`);
    }
    return reply;
  }

  /**
   * Starts workers for these vats side by side (a worker's start is mostly loading code)
   * and sends each `initVat` with its stored state; then terminates, one by one, those
   * that failed to start.
   */
  async startWorkers(vats: VatRecord[]): Promise<void> {
    const failures = await Promise.all(vats.map((vat) => this.#startWorker(vat)));
    for (const [i, reason] of failures.entries()) {
      const vat = vats[i];
      if (reason !== undefined && vat) await this.terminate(vat.vatId, reason);
    }
  }

  /**
   * Starts a worker for every live vat of a recovered store and gives it its stored
   * state; liveslots rebuilds each root from baggage (no second bootstrap).
   */
  async resumeAll(): Promise<void> {
    const vats = this.#state.listVats().filter((v) => v.state === 'running');
    const restarted = vats.filter((v) =>
      this.#beginIncarnation(v.vatId, 'the kernel restarted'),
    );
    await this.startWorkers(vats.map((v) => this.#state.requireVat(v.vatId)));
    for (const vat of restarted) {
      if (!this.#isLive(vat.vatId)) continue;
      await this.#steps.run({ kind: 'startVat', vatId: vat.vatId });
    }
  }

  /**
   * Stops a live vat's worker and starts a new incarnation from its stored state.
   * Rejects if the vat is about to be terminated for a fault.
   */
  async restart(vatId: VatId): Promise<void> {
    const vat = this.#state.requireVat(vatId);
    const fault = this.#faulted.get(vatId);
    if (fault !== undefined) {
      // Its worker failed between cranks; the loop terminates it next, as for any fault.
      throw new KernelError(
        `vat "${vat.name}" (${vatId}) faulted and is being terminated: ${fault}`,
      );
    }
    await this.#stopWorker(vatId);
    const needsStart = this.#beginIncarnation(vatId, 'restarted by request');
    await this.startWorkers([this.#state.requireVat(vatId)]);
    // Otherwise its first startVat is still queued and runs on the new worker.
    if (needsStart && this.#isLive(vatId)) {
      await this.#steps.run({ kind: 'startVat', vatId });
    }
  }

  /**
   * Terminates a vat in a step of its own: rejects the promises it decides, breaks its
   * objects, drops what it imported, deletes its vatstore, stops its worker.
   */
  async terminate(vatId: VatId, reason: string, voidCrank?: number): Promise<void> {
    const state = this.#state;
    this.#steps.step(() => {
      const vat = state.requireVat(vatId);
      const error = kerror(`vat "${vat.name}" (${vatId}) terminated: ${reason}`);
      vat.state = 'terminated';
      vat.terminationReason = reason;
      state.putVat(vat);
      for (const kpid of state.promisesDecidedBy(vatId)) this.#resolve(kpid, true, error);
      for (const [kref] of state.clistEntries(vatId)) {
        const object = isObjectKref(kref) ? state.getObject(kref) : undefined;
        // An object keeps its (terminated) owner, so messages to it say why they fail.
        state.deleteClistEntry(vatId, kref, object?.owner !== vatId);
      }
      // The vat record no longer holds its root.
      state.decref(vat.rootKref);
      for (const kpid of state.subscriptionsOf(vatId))
        state.removeSubscriber(kpid, vatId);
      state.deleteVatstore(vatId);
    }, voidCrank);
    await this.#stopWorker(vatId);
  }

  /** Stops every worker (the kernel is shutting down). */
  async stopAll(): Promise<void> {
    const handles = [...this.#handles.values()];
    this.#handles.clear();
    await Promise.all(handles.map((h) => h.close()));
  }

  async #stopWorker(vatId: VatId): Promise<void> {
    const handle = this.#handles.get(vatId);
    this.#handles.delete(vatId);
    this.#options.onStopped(vatId);
    await handle?.close();
  }

  /** Starts one worker; resolves to why it failed to start, if it did. */
  async #startWorker(vat: VatRecord): Promise<string | undefined> {
    // The state is read now, before any other crank can open.
    const init = {
      vatId: vat.vatId,
      incarnation: vat.incarnation,
      bundle: JSON.parse(this.#state.getBundle(vat.bundleId)) as VatBundle,
      globals: vat.globals,
      state: this.#state.loadVatstore(vat.vatId),
    };
    const channel = await this.#platform.vats.launch(vat.vatId);
    const handle = new VatHandle(vat.vatId, channel, (reason) => {
      this.#faulted.set(vat.vatId, reason);
      this.#options.onFault();
    });
    this.#handles.set(vat.vatId, handle);
    try {
      await handle.init(init);
      return undefined;
    } catch (error) {
      if (!(error instanceof VatFault)) throw error;
      return error.message;
    }
  }

  /**
   * Records a vat's new incarnation, before its worker starts. Whatever only its old heap
   * could settle or serve is settled now: the promises it decided are rejected, and its
   * exports that were not durable (plain `o+N` and virtual `o+vN/M` objects) are
   * abandoned. Returns whether it needs `startVat` (liveslots then rebuilds the root from
   * baggage); false if its first `startVat` is still queued.
   */
  #beginIncarnation(vatId: VatId, why: string): boolean {
    const state = this.#state;
    // A crash before its first startVat: that is still queued and will run as it is.
    if (state.hasQueuedStartVat(vatId)) return false;
    this.#steps.step(() => {
      const vat = state.requireVat(vatId);
      vat.incarnation += 1;
      state.putVat(vat);
      const error = kerror(
        `vat "${vat.name}" (${vatId}) restarted (${why}); promises its previous incarnation was deciding cannot be settled`,
      );
      for (const kpid of state.promisesDecidedBy(vatId)) this.#resolve(kpid, true, error);
      for (const [kref, vref] of state.clistEntries(vatId)) {
        if (/^o\+(?:[1-9]\d*|v.*)$/u.test(vref)) {
          state.deleteClistEntry(vatId, kref, false);
          state.setObjectOwner(kref, null);
        }
      }
    });
    return true;
  }

  #isLive(vatId: VatId): boolean {
    return this.#state.getVat(vatId)?.state === 'running';
  }
}
