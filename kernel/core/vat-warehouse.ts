/**
 * The vat warehouse: every vat's worker and its lifecycle — start, new incarnations,
 * restart, suspension, termination — and what to do when a vat faults (docs/faults.md):
 *
 * | fault                        | the vat                                  | the item       |
 * | ---------------------------- | ---------------------------------------- | -------------- |
 * | its host was lost            | restarted from its store, up to N times  | delivered again |
 * |                              | in a row; then suspended                 | (then held)    |
 * | a delivery passed its deadline | worker killed, restarted from its store | consumed: its result rejected |
 * | it broke the protocol, or its own start failed | suspended, with the reason | held      |
 *
 * A vat's stored state is never deleted here unless a person asks (`terminate` with
 * `deleteState`). The warehouse changes kernel state only through the crank runner's
 * steps, and it is the only owner of vat handles. No request to a vat goes without a
 * deadline.
 */
import { timerOf, type KernelPlatform } from '../platform/index.ts';
import type {
  CapData,
  Delivery,
  DeliveryReply,
  VatBundle,
  VatLog,
  VatstorePages,
} from '../protocol/index.ts';
import { kerror } from '../marshal/index.ts';
import {
  isObjectKref,
  type KernelState,
  type RunQueueItem,
  type VatId,
  type VatRecord,
} from '../state/index.ts';
import { VatFault, VatHandle, type SetTimer } from '../vat-handle/index.ts';
import type { Resolver } from './promises.ts';
import { CrankFault } from './translate.ts';

/** What the warehouse needs of the crank runner. */
export interface Cranks {
  /** Runs `change` as one committed step of its own (not a delivery). */
  step<T>(change: () => T): T;
  /** Runs `item` as one crank now. */
  run(item: RunQueueItem): Promise<void>;
}

/** After a fault: deliver the item again, consume it (rejected), or hold it. */
export type Recovery = 'retry' | 'consume' | 'hold';

export const DEFAULT_DELIVERY_TIMEOUT_MS = 30_000;
/**
 * How long a new worker may take to load and answer initVat. No vat code runs before
 * startVat, so a vat's own deadline does not apply: this covers the host's start-up.
 */
export const DEFAULT_START_TIMEOUT_MS = 30_000;
/**
 * Vatstores of more keys than this start paged where the host can serve it (the Node
 * host): below it, initVat carrying the whole store costs about as much as the reads a
 * paged vat makes in its first deliveries (bench/README "Paged vatstores").
 */
export const DEFAULT_PAGED_VATSTORE_ABOVE = 5_000;
/** Host losses in a row after which a vat is suspended instead of restarted. */
export const DEFAULT_MAX_HOST_RESTARTS = 3;
/** How long stopping a worker may take before the kernel stops waiting for it. */
const STOP_DEADLINE_MS = 5_000;

export interface VatWarehouseOptions {
  state: KernelState;
  platform: KernelPlatform;
  resolve: Resolver;
  /** Deadline of one delivery for vats that set none of their own. */
  deliveryTimeoutMs?: number | undefined;
  /** Deadline of a new worker's initVat. */
  startTimeoutMs?: number | undefined;
  /** Vatstores of more keys than this start paged where the host can serve it. */
  pagedVatstoreAbove?: number | undefined;
  maxHostRestarts?: number | undefined;
  /** resumeAll starts no worker; each starts at its vat's first delivery (wake). */
  startOnDemand?: boolean | undefined;
  /** A vat's worker failed between cranks; the kernel's loop should look at it. */
  onFault: () => void;
  /**
   * The vat's worker went away (its deliveries start counting afresh); with
   * `incarnation`, only that incarnation's worker (an upgrade ran two side by side).
   */
  onStopped: (vatId: VatId, incarnation?: number) => void;
  /** A line a vat logged (vatPowers.logger, testLog). */
  onLog?: ((vatId: VatId, line: Omit<VatLog, 'type'>) => void) | undefined;
  /** A vat asked for a settle delivery; the kernel's loop should queue it (queueSettles). */
  onSettleRequest?: (() => void) | undefined;
}

export class VatWarehouse {
  readonly #state: KernelState;
  readonly #platform: KernelPlatform;
  readonly #resolve: Resolver;
  readonly #options: VatWarehouseOptions;
  readonly #setTimer: SetTimer;
  readonly #defaultDeadline: number;
  readonly #maxHostRestarts: number;
  readonly #handles = new Map<VatId, VatHandle>();
  /** Faults of workers between cranks, with the handle that faulted. */
  readonly #faulted = new Map<VatId, { handle: VatHandle; fault: VatFault }>();
  /** Vats whose current worker asked for a settle delivery not yet queued. */
  readonly #settleRequests = new Set<VatId>();
  /** During an upgrade: the old version's worker, set aside until the upgrade commits. */
  readonly #setAside = new Map<VatId, VatHandle>();
  /** Host losses in a row, per vat; a delivery that goes through clears it. */
  readonly #losses = new Map<VatId, number>();
  /**
   * Running vats resumed without a worker (startOnDemand): each is started at its first
   * delivery; true if that start needs a startVat first.
   */
  readonly #dormant = new Map<VatId, boolean>();
  #cranks: Cranks | undefined;
  /** Set by stopAll: the kernel is shutting down, and nothing is restarted or suspended. */
  #closing = false;

  constructor(options: VatWarehouseOptions) {
    this.#options = options;
    this.#state = options.state;
    this.#platform = options.platform;
    this.#resolve = options.resolve;
    this.#setTimer = timerOf(options.platform);
    this.#defaultDeadline = options.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
    this.#maxHostRestarts = options.maxHostRestarts ?? DEFAULT_MAX_HOST_RESTARTS;
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

  /** True once stopAll began: the kernel is shutting down. */
  get closing(): boolean {
    return this.#closing;
  }

  /** How long one delivery to the vat may take. */
  deadlineOf(vatId: VatId): number {
    return this.#state.getVat(vatId)?.deliveryTimeoutMs ?? this.#defaultDeadline;
  }

  /** True if a worker faulted between cranks and waits to be dealt with. */
  get hasFaulted(): boolean {
    return this.#faulted.size > 0;
  }

  /** True if a vat asked for a settle delivery that is not queued yet. */
  get hasSettleRequests(): boolean {
    return this.#settleRequests.size > 0;
  }

  /**
   * Queues a `settle` item for every running vat that asked for one, in one committed
   * step; false if none asked. (Queued, not run at once: it takes its turn with the
   * rest of the run queue.)
   */
  queueSettles(): boolean {
    if (this.#settleRequests.size === 0) return false;
    const vats = [...this.#settleRequests].filter((vatId) => this.#isRunning(vatId));
    this.#settleRequests.clear();
    if (vats.length > 0) {
      this.#steps.step(() => {
        for (const vatId of vats) this.#state.enqueue({ kind: 'settle', vatId });
      });
    }
    return true;
  }

  /** Deals with one worker that faulted between cranks; false if there was none. */
  async handleNextFault(): Promise<boolean> {
    const next = this.#faulted.entries().next();
    if (next.done) return false;
    const [vatId, { handle, fault }] = next.value;
    this.#faulted.delete(vatId);
    // Only if that worker is still the vat's (not already replaced or stopped).
    if (this.#handles.get(vatId) === handle && this.#isRunning(vatId)) {
      await this.recover(vatId, fault);
    }
    return true;
  }

  /** True if the vat runs but has no worker yet (resumed with startOnDemand). */
  isDormant(vatId: VatId): boolean {
    return this.#dormant.has(vatId);
  }

  /**
   * Starts a dormant vat's worker, inside the crank that first delivers to it; true if
   * the crank must deliver `startVat` before its own delivery. A start that fails is the
   * crank's fault (CrankFault), which the crank runner rolls back and recovers from as
   * from any other: a lost host is started again, a refused start suspends the vat.
   */
  async wake(vatId: VatId): Promise<boolean> {
    const needsStart = this.#dormant.get(vatId);
    if (needsStart === undefined) return false;
    this.#dormant.delete(vatId);
    const fault = await this.#startWorker(this.#state.requireVat(vatId));
    if (fault) {
      this.#handles.delete(vatId);
      throw new CrankFault(vatId, `it failed to start: ${fault.message}`, fault.kind);
    }
    return needsStart;
  }

  /** Delivers to a vat; throws CrankFault (of the fault's kind) on any fault. */
  async deliver(
    crank: number,
    vatId: VatId,
    delivery: Delivery,
    what: string,
  ): Promise<DeliveryReply> {
    const handle = this.#handles.get(vatId);
    if (!handle) throw new CrankFault(vatId, 'its worker is not running', 'lost');
    let reply: DeliveryReply;
    try {
      reply = await handle.deliver(crank, delivery, this.deadlineOf(vatId), what);
    } catch (error) {
      if (error instanceof VatFault)
        throw new CrankFault(vatId, error.message, error.kind);
      throw error;
    }
    if (reply.type === 'deliveryFailed') {
      throw new CrankFault(
        vatId,
        `its ${delivery.kind} delivery failed: ${reply.error}`,
        'failed',
      );
    }
    // A delivery went through: the host is sound again. (A restart's own startVat does
    // not count: the delivery that lost the host is the one to try again.)
    if (delivery.kind !== 'startVat') this.#losses.delete(vatId);
    return reply;
  }

  /**
   * After a vat faulted (during a crank, already rolled back, or between cranks): stops
   * its worker, then restarts or suspends it as the fault's kind says, and tells the
   * caller what becomes of the item that was being delivered, if any.
   */
  async recover(
    vatId: VatId,
    fault: { kind: VatFault['kind']; message: string },
    during?: RunQueueItem['kind'],
  ): Promise<Recovery> {
    await this.#stopWorker(vatId);
    // Shutting down: the rolled-back item stays queued for the next start, as it was.
    if (this.#closing) return 'retry';
    switch (fault.kind) {
      case 'lost': {
        const losses = (this.#losses.get(vatId) ?? 0) + 1;
        this.#losses.set(vatId, losses);
        if (losses > this.#maxHostRestarts) {
          this.suspend(
            vatId,
            `its host was lost ${losses} times in a row; the last time: ${fault.message}`,
          );
          return 'hold';
        }
        await this.#restart(vatId, `its host was lost: ${fault.message}`);
        return this.#isRunning(vatId) ? 'retry' : 'hold';
      }
      case 'deadline':
        if (during === 'startVat') {
          this.suspend(vatId, `it did not start: ${fault.message}`);
          return 'hold';
        }
        await this.#restart(vatId, `it was stopped by the watchdog: ${fault.message}`);
        return 'consume';
      case 'violation':
      case 'failed':
        this.suspend(vatId, fault.message);
        return 'hold';
    }
  }

  /**
   * Starts workers for these vats side by side (a worker's start is mostly loading code)
   * and sends each `initVat` with its stored state. A vat that fails to start is
   * suspended, with the reason.
   */
  async startWorkers(vats: VatRecord[]): Promise<void> {
    await Promise.all(vats.map((vat) => this.#launch(vat)));
  }

  /**
   * Starts a worker for every running vat of a recovered store and gives it its stored
   * state; liveslots rebuilds each root from baggage (no second bootstrap). Suspended
   * vats stay suspended.
   */
  async resumeAll(): Promise<void> {
    // Once per database (one from before paged vatstores): which vats may be paged.
    if (this.#state.orderSensitiveKeysUnscanned) {
      this.#steps.step(() => this.#state.scanOrderSensitiveKeys());
    }
    const vats = this.#state.listVats().filter((v) => v.state === 'running');
    const restarted = vats.filter((v) =>
      this.#beginIncarnation(v.vatId, 'the kernel restarted'),
    );
    if (this.#options.startOnDemand) {
      const needStart = new Set(restarted.map((v) => v.vatId));
      for (const vat of vats) this.#dormant.set(vat.vatId, needStart.has(vat.vatId));
      return;
    }
    await this.startWorkers(vats.map((v) => this.#state.requireVat(v.vatId)));
    for (const vat of restarted) {
      if (this.#handles.has(vat.vatId) && this.#isRunning(vat.vatId)) {
        await this.#steps.run({ kind: 'startVat', vatId: vat.vatId });
      }
    }
  }

  /**
   * Starts a new incarnation of a running or suspended vat from its stored state (a
   * person asked): a running vat's worker is stopped first; a suspended vat runs again,
   * its held messages back at the head of the queue.
   */
  async restart(vatId: VatId): Promise<void> {
    this.#losses.delete(vatId);
    await this.#stopWorker(vatId);
    await this.#restart(vatId, 'restarted by request');
  }

  /**
   * Suspends a vat: it stops, keeping its vatstore, c-list and queued messages; messages
   * to it wait until it is restarted. Its worker must already be stopped.
   */
  suspend(vatId: VatId, reason: string): void {
    this.#steps.step(() => {
      const vat = this.#state.requireVat(vatId);
      vat.state = 'suspended';
      vat.reason = reason;
      this.#state.putVat(vat);
    });
    this.#losses.delete(vatId);
    this.#options.onStopped(vatId);
  }

  /**
   * Terminates a vat (running or suspended) in a step of its own: rejects the promises it
   * decides, breaks its objects, drops what it imported, stops its worker; the messages
   * held for it go back on the queue to be rejected. Its vatstore is deleted only with
   * `deleteState` (which also deletes what an already terminated vat kept).
   */
  async terminate(
    vatId: VatId,
    reason: string,
    { deleteState = false }: { deleteState?: boolean } = {},
  ): Promise<void> {
    const state = this.#state;
    const vat = state.requireVat(vatId);
    if (vat.state === 'terminated') {
      if (deleteState) this.#steps.step(() => state.deleteVatstore(vatId));
      return;
    }
    await this.#stopWorker(vatId);
    this.#steps.step(() => {
      const error = kerror(`vat "${vat.name}" (${vatId}) terminated: ${reason}`);
      vat.state = 'terminated';
      vat.reason = reason;
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
      // Routed again, they are rejected with the reason.
      state.releaseHeld(vatId);
      if (deleteState) state.deleteVatstore(vatId);
    });
    this.#losses.delete(vatId);
  }

  /**
   * Upgrade, inside its crank: sets the vat's current worker aside (untouched, so it can
   * run on if the upgrade is rolled back) and starts one for the vat's record as it now
   * stands (its new bundle), with its stored state. Resolves to why the new worker did
   * not start, if it did not.
   */
  async startVersion(vat: VatRecord): Promise<VatFault | undefined> {
    const old = this.#handles.get(vat.vatId);
    if (old) this.#setAside.set(vat.vatId, old);
    this.#handles.delete(vat.vatId);
    const fault = await this.#startWorker(vat);
    if (fault) this.#handles.delete(vat.vatId);
    return fault;
  }

  /**
   * Upgrade, once its crank has committed (`kept`) or been rolled back: the old worker
   * is stopped, or the new one is and the old one is the vat's again.
   */
  async finishUpgrade(vatId: VatId, kept: boolean): Promise<void> {
    const old = this.#setAside.get(vatId);
    this.#setAside.delete(vatId);
    // An upgrade adds one to the incarnation: the old worker ran the one before the
    // stored one (kept), the new worker the one after it (rolled back).
    const incarnation = this.#state.requireVat(vatId).incarnation;
    if (kept) {
      this.#losses.delete(vatId);
      this.#options.onStopped(vatId, incarnation - 1);
      await old?.close(STOP_DEADLINE_MS);
      return;
    }
    const candidate = this.#handles.get(vatId);
    this.#handles.delete(vatId);
    if (old) this.#handles.set(vatId, old);
    this.#options.onStopped(vatId, incarnation + 1);
    await candidate?.close(STOP_DEADLINE_MS);
  }

  /** Stops every worker (the kernel is shutting down). */
  async stopAll(): Promise<void> {
    this.#closing = true;
    const handles = [...this.#handles.entries(), ...this.#setAside.entries()];
    this.#handles.clear();
    this.#setAside.clear();
    await Promise.all(handles.map(([, h]) => h.close(STOP_DEADLINE_MS)));
  }

  /** New incarnation, worker, startVat: what a vat runs again with, after its old worker is gone. */
  async #restart(vatId: VatId, why: string): Promise<void> {
    const vat = this.#state.requireVat(vatId);
    if (vat.state === 'suspended') {
      this.#steps.step(() => {
        vat.state = 'running';
        vat.reason = null;
        this.#state.putVat(vat);
        this.#state.releaseHeld(vatId);
      });
    }
    const needsStart = this.#beginIncarnation(vatId, why);
    const started = await this.#launch(this.#state.requireVat(vatId));
    // Otherwise its first startVat is still queued and runs on the new worker.
    if (started && needsStart && this.#isRunning(vatId)) {
      await this.#steps.run({ kind: 'startVat', vatId });
    }
  }

  async #stopWorker(vatId: VatId): Promise<void> {
    // Whatever comes next (a restart, a suspension, a termination) starts afresh.
    this.#dormant.delete(vatId);
    const handle = this.#handles.get(vatId);
    this.#handles.delete(vatId);
    this.#faulted.delete(vatId);
    // What the old worker was waiting for died with its heap.
    this.#settleRequests.delete(vatId);
    this.#options.onStopped(vatId);
    await handle?.close(STOP_DEADLINE_MS);
  }

  /**
   * Starts a worker for the vat and sends it `initVat`; a host lost on the way is tried
   * again (same incarnation: no vat code ran yet), up to the limit. Resolves true once
   * the vat is ready; false if it failed to start and was suspended.
   */
  async #launch(vat: VatRecord): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      const fault = await this.#startWorker(vat);
      if (fault === undefined) return true;
      this.#handles.delete(vat.vatId);
      if (fault.kind === 'lost' && attempt <= this.#maxHostRestarts) continue;
      this.suspend(vat.vatId, `it failed to start: ${fault.message}`);
      return false;
    }
  }

  /** Starts one worker; resolves to why it failed to start, if it did. */
  async #startWorker(vat: VatRecord): Promise<VatFault | undefined> {
    // The state is read now, before any other crank can open; a paged vat reads its
    // vatstore as it runs, and only its own cranks change that.
    const bundle = JSON.parse(this.#state.getBundle(vat.bundleId)) as VatBundle;
    const above = this.#options.pagedVatstoreAbove ?? DEFAULT_PAGED_VATSTORE_ABOVE;
    const pageable =
      this.#platform.vats.servesPages === true &&
      Number.isFinite(above) &&
      this.#state.vatstorePageable(vat.vatId) &&
      this.#state.vatstoreHasMoreThan(vat.vatId, above);
    const whole = pageable ? undefined : this.#state.loadVatstoreJson(vat.vatId);
    let channel;
    try {
      channel = await this.#platform.vats.launch(vat.vatId);
    } catch (error) {
      return new VatFault(
        'lost',
        `its host could not be started: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (pageable) {
      if (channel.servePages === undefined) {
        await channel.close();
        throw Error(
          `kernel bug: the launcher serves pages, vat ${vat.vatId}'s channel does not`,
        );
      }
      channel.servePages(this.#pagesOf(vat.vatId));
    }
    const init = {
      vatId: vat.vatId,
      incarnation: vat.incarnation,
      bundle,
      globals: vat.globals,
      ...(vat.network ? { network: vat.network } : {}),
      state: whole ?? '[]',
      ...(pageable ? { paged: true } : {}),
    };
    const handle: VatHandle = new VatHandle({
      vatId: vat.vatId,
      channel,
      setTimer: this.#setTimer,
      onFault: (fault) => {
        this.#faulted.set(vat.vatId, { handle, fault });
        this.#options.onFault();
      },
      onLog: (line) => this.#options.onLog?.(vat.vatId, line),
      onSettleRequest: () => {
        if (this.#handles.get(vat.vatId) !== handle) return;
        this.#settleRequests.add(vat.vatId);
        this.#options.onSettleRequest?.();
      },
    });
    this.#handles.set(vat.vatId, handle);
    try {
      await handle.init(init, this.#options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
      return undefined;
    } catch (error) {
      await handle.close(STOP_DEADLINE_MS);
      if (!(error instanceof VatFault)) throw error;
      return error;
    }
  }

  /** The kernel's side of a paged vat's reads: its committed vatstore. */
  #pagesOf(vatId: VatId): VatstorePages {
    const state = this.#state;
    return {
      get: (key) => state.vatstoreGet(vatId, key),
      next: (priorKey, leavePrefix) =>
        state.vatstoreAfter(vatId, priorKey, { leavePrefix }),
      all: () => state.loadVatstoreJson(vatId),
    };
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
      endIncarnation(state, this.#resolve, vatId, error);
    });
    return true;
  }

  #isRunning(vatId: VatId): boolean {
    return this.#state.getVat(vatId)?.state === 'running';
  }
}

/**
 * What only a vat's old heap could settle or serve, settled as its incarnation ends (a
 * restart, an upgrade), in the open crank: the promises it decided are rejected with
 * `rejection`, and its exports that were not durable (plain `o+N` and virtual `o+vN/M`
 * objects) are abandoned. Durable exports (`o+0`, `o+dN/M`) keep their krefs.
 */
export function endIncarnation(
  state: KernelState,
  resolve: Resolver,
  vatId: VatId,
  rejection: CapData,
): void {
  for (const kpid of state.promisesDecidedBy(vatId)) resolve(kpid, true, rejection);
  for (const [kref, vref] of state.clistEntries(vatId)) {
    if (/^o\+(?:[1-9]\d*|v.*)$/u.test(vref)) {
      state.deleteClistEntry(vatId, kref, false);
      state.setObjectOwner(kref, null);
    }
  }
}
