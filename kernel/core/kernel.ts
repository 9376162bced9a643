/**
 * The kernel: one serial lane that runs control operations (launch a cluster, queue a
 * message from outside, restart or terminate a vat) and cranks (one run-queue item each),
 * never two at once; the run queue can be held while controls still run. Each crank runs inside a store savepoint; a vat that faults voids its crank and
 * is terminated in the next one, and the kernel and the other vats carry on.
 */
import type { KernelPlatform } from '../platform/index.ts';
import type {
  CapData,
  CrankDelta,
  Delivery,
  DeliveryReply,
  VatBundle,
} from '../protocol/index.ts';
import type { ResolvedCluster } from '../cluster/index.ts';
import {
  jsonToCapdata,
  kerror,
  kser,
  kslot,
  singleObjectKref,
} from '../marshal/index.ts';
import {
  KernelState,
  isObjectKref,
  isPromiseKref,
  type KRef,
  type Message,
  type RunQueueItem,
  type VatId,
  type VatRecord,
} from '../state/index.ts';
import type { KernelStore, RowChange } from '../store/index.ts';
import { VatFault, VatHandle } from '../vat-handle/index.ts';
import { handleSyscall, type SyscallContext } from './syscalls.ts';
import { CrankFault, capdataToVat, krefToVatRef } from './translate.ts';

/** How a promise the outside world waits on was settled. */
export interface Settlement {
  rejected: boolean;
  data: CapData;
}

/** What the kernel knows of a promise; `data` once it is settled. */
export interface PromiseStatus {
  state: 'unresolved' | 'fulfilled' | 'rejected';
  data?: CapData;
}

export interface KernelStatus {
  crank: number;
  durableCrank: number;
  runQueueLength: number;
  vats: number;
  /** True while the run queue is held (pauseRunQueue). */
  paused: boolean;
}

export interface CrankRecord {
  crank: number;
  kind: RunQueueItem['kind'];
  vatId: VatId | null;
  method: string | null;
  outcome: 'ok' | 'fault' | 'no-delivery';
  detail?: string;
  durationMs: number;
  /**
   * Vatstore keys the crank's delta set or deleted, and the size of its keys and values
   * (in UTF-16 code units, which is bytes for ASCII).
   */
  deltaKeys: number;
  deltaBytes: number;
  /** The delta with each key's previous value; only while `captureDeltas` is on. */
  delta?: CrankDeltaRecord;
}

/** What running a run-queue item tells of it; #runCrank adds timing and the delta. */
type CrankOutcome = Omit<
  CrankRecord,
  'durationMs' | 'deltaKeys' | 'deltaBytes' | 'delta'
>;

/** A crank's vatstore delta as an inspector shows it: each key's value before and after. */
export interface CrankDeltaRecord {
  vatId: VatId;
  sets: Array<{ key: string; old: string | null; new: string }>;
  deletes: Array<{ key: string; old: string | null }>;
}

/** Where committed changes go to become durable (kernel/durability's Durability). */
export interface CommitLog {
  /** Resolves once the changes are durable; appends become durable in order. */
  append(changes: RowChange[], firstCrank: number, lastCrank: number): Promise<void>;
}

export interface KernelOptions {
  store: KernelStore;
  platform: KernelPlatform;
  /**
   * Makes commits durable. Without it the kernel runs in memory. Results for callers
   * outside the kernel are released only once the crank that settled them is durable;
   * cranks that run while a write is in flight are grouped into the next write.
   */
  commitLog?: CommitLog;
  /** Called with the rows each store commit changed (one crank or a group of them). */
  onCommit?: (changes: RowChange[], lastCrank: number) => void;
  /** Called when the crank log has made every crank up to `crank` durable. */
  onDurable?: (crank: number) => void;
  /** Called after each crank, for inspection and metrics. */
  onCrank?: (record: CrankRecord) => void;
  /** Deliveries to a vat between two bringOutYourDead deliveries. */
  reapInterval?: number;
}

export class KernelError extends Error {
  override name = 'KernelError';
}

interface Control {
  run: () => Promise<void>;
  reject: (error: unknown) => void;
}

/** How many settlements of enqueueMessage results promiseStatus keeps (newest). */
const ENQUEUED_RESULTS_KEPT = 1000;

interface Waiter {
  resolve: (s: Settlement) => void;
  reject: (e: unknown) => void;
}

export class Kernel {
  readonly #store: KernelStore;
  readonly #state: KernelState;
  readonly #platform: KernelPlatform;
  readonly #options: KernelOptions;
  readonly #handles = new Map<VatId, VatHandle>();
  readonly #controls: Array<Control> = [];
  /** Vats that faulted between cranks, with the reason; terminated at the next step. */
  readonly #faulted = new Map<VatId, string>();
  /** Outside callers waiting on kernel promises. */
  readonly #waiters = new Map<KRef, Array<Waiter>>();
  /** Settlements made by the open crank. */
  #settledInCrank: Array<[KRef, Settlement]> = [];
  /**
   * What waits for committed changes to become durable: releasing settlements to their
   * waiters, acknowledging enqueues. Run, in order, once the write holding them is done.
   */
  #unreleased: Array<() => void> = [];
  /** Callers of enqueueMessage waiting for its acknowledgement, rejected if the kernel fails. */
  readonly #ackWaiters = new Set<(e: unknown) => void>();
  /**
   * Released settlements of enqueueMessage results, newest last: the kernel deletes a
   * promise as soon as nothing refers to it (usually as it settles), so promiseStatus keeps these.
   */
  readonly #enqueuedResults = new Map<KRef, Settlement>();
  #paused = false;
  #firstUnflushedCrank: number | undefined;
  #lastCommittedCrank = 0;
  #durableCrank = 0;
  /** The commit-log write in flight, if any. */
  #flushing: Promise<void> | undefined;
  #exitsInCrank: Array<[VatId, string]> = [];
  readonly #deliveriesSinceReap = new Map<VatId, number>();
  /** The open crank's delta, as onCrank reports it. */
  #crankDelta: { keys: number; bytes: number; record?: CrankDeltaRecord } = {
    keys: 0,
    bytes: 0,
  };
  /**
   * Whether cranks report their deltas with old values (one vatstore read per key, so
   * only while an inspector asks for it).
   */
  captureDeltas = false;
  #pumping = false;
  #idleWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  #broken: unknown;
  #shutdown = false;

  constructor(options: KernelOptions) {
    this.#options = options;
    this.#store = options.store;
    this.#state = new KernelState(options.store);
    this.#platform = options.platform;
    this.#lastCommittedCrank = this.#state.peekCounter('crank') - 1;
    this.#durableCrank = this.#lastCommittedCrank;
  }

  get state(): KernelState {
    return this.#state;
  }

  // ---- public API: everything runs on the serial lane, between cranks ----

  /**
   * Creates the cluster's vats, starts them, and sends `bootstrap(vats, services)` to the
   * bootstrap vat's root. Resolves, once the vats are launched, to the bootstrap result
   * (which settles when the kernel has run it).
   */
  async launchCluster(
    cluster: ResolvedCluster,
  ): Promise<{ result: Promise<Settlement> }> {
    return this.#control(async () => {
      this.#store.beginCrank();
      let kpid: KRef;
      const created: VatRecord[] = [];
      try {
        for (const [name, config] of Object.entries(cluster.vats)) {
          created.push(
            this.#createVat(name, config.bundle, config.parameters, config.globals),
          );
        }
        const bootstrapVat = created.find((v) => v.name === cluster.bootstrap);
        if (!bootstrapVat) {
          throw new KernelError(
            `bootstrap vat "${cluster.bootstrap}" is not in the cluster`,
          );
        }
        const roots = Object.fromEntries(
          created.map((v) => [v.name, kslot(v.rootKref, 'root')]),
        );
        kpid = this.#queueSend(bootstrapVat.rootKref, kser(['bootstrap', [roots, {}]]));
        this.#store.commitCrank();
      } catch (error) {
        this.#store.abortCrank();
        throw error;
      }
      const result = this.#waitFor(kpid);
      this.#afterCommitCrank(undefined);
      await this.#startWorkers(created);
      return { result };
    });
  }

  /**
   * Queues `method(...args)` to a kernel object or promise; resolves to its settlement.
   * `args` are JSON, with `{ "$kref": "ko3" }` for references (see capdataToJson).
   */
  async queueMessage(target: KRef, method: string, args: unknown[]): Promise<Settlement> {
    // Wrapped in an object: a control that returned the promise itself would adopt it
    // and hold the serial lane until the message settled.
    const { settled } = await this.#control(async () => {
      const kpid = this.#queueFromOutside(target, method, args);
      const settled = this.#waitFor(kpid);
      this.#afterCommitCrank(undefined);
      return { settled };
    });
    return settled;
  }

  /**
   * Like queueMessage, but does not wait for the message to run: resolves, with the
   * result promise's kpid, once the enqueue itself is durable (at once without a commit
   * log). The queued message holds the kpid until it is delivered; its settlement can
   * then be read with promiseStatus.
   */
  async enqueueMessage(
    target: KRef,
    method: string,
    args: unknown[],
  ): Promise<{ kpid: KRef }> {
    const { acked } = await this.#control(async () => {
      const kpid = this.#queueFromOutside(target, method, args);
      // Kept for promiseStatus once released, i.e. once its crank is durable.
      this.#addWaiter(kpid, {
        resolve: (settlement) => this.#keepEnqueuedResult(kpid, settlement),
        reject: () => undefined,
      });
      const acked = this.#whenDurable({ kpid });
      this.#afterCommitCrank(undefined);
      return { acked };
    });
    return acked;
  }

  /**
   * What the kernel knows of a promise, or undefined if it has no such promise (never
   * created, or collected). The result of an enqueueMessage reads as unresolved until
   * its settlement is durable, and stays readable after the kernel collects the promise
   * (the newest ENQUEUED_RESULTS_KEPT, in memory only).
   */
  /**
   * The whole database as an image, between cranks, once every committed crank is
   * durable (the kernel's state file is built from it).
   */
  async exportImage<T>(encode: (store: KernelStore) => Promise<T>): Promise<T> {
    return this.#control(async () => {
      while (this.#flushing !== undefined || this.#store.hasUncommitted) {
        if (this.#broken !== undefined) throw this.#broken;
        if (this.#flushing === undefined) this.#flush();
        await this.#flushing;
      }
      if (this.#broken !== undefined) throw this.#broken;
      return encode(this.#store);
    });
  }

  /**
   * Runs one read-only SQL statement against the kernel's database, between cranks (the
   * panel's SQL console; see KernelStore.inspect for what is refused).
   */
  async inspectStore(
    sql: string,
    maxRows: number,
  ): Promise<ReturnType<KernelStore['inspect']>> {
    return this.#control(async () => this.#store.inspect(sql, maxRows));
  }

  promiseStatus(kpid: KRef): PromiseStatus | undefined {
    const kept = this.#enqueuedResults.get(kpid);
    if (kept) {
      return { state: kept.rejected ? 'rejected' : 'fulfilled', data: kept.data };
    }
    // An outside caller still waits for it: any settlement is not durable yet (the
    // kernel may even have collected the promise already).
    if (this.#waiters.has(kpid)) return { state: 'unresolved' };
    const p = this.#state.getPromise(kpid);
    if (!p) return undefined;
    if (p.state === 'unresolved' || !p.data) return { state: 'unresolved' };
    return { state: p.state, data: p.data };
  }

  #keepEnqueuedResult(kpid: KRef, settlement: Settlement): void {
    this.#enqueuedResults.set(kpid, settlement);
    if (this.#enqueuedResults.size > ENQUEUED_RESULTS_KEPT) {
      const oldest = this.#enqueuedResults.keys().next();
      if (!oldest.done) this.#enqueuedResults.delete(oldest.value);
    }
  }

  /**
   * Checks and queues a message from outside the kernel in a committed step of its own;
   * returns its result promise, which the queued message holds. The caller runs
   * #afterCommitCrank.
   */
  #queueFromOutside(target: KRef, method: string, args: unknown[]): KRef {
    if (!this.#knows(target)) {
      throw new KernelError(
        `no kernel object or promise ${target} (never created, or already collected)`,
      );
    }
    let methargs: CapData;
    try {
      methargs = jsonToCapdata([method, args]);
    } catch (error) {
      throw new KernelError(`arguments to ${method} cannot be passed: ${String(error)}`);
    }
    const unknown = methargs.slots.filter((kref) => !this.#knows(kref));
    if (unknown.length > 0) {
      throw new KernelError(
        `arguments to ${method} refer to ${unknown.join(', ')}, which the kernel does not know (never created, or already collected)`,
      );
    }
    this.#store.beginCrank();
    try {
      const kpid = this.#queueSend(target, methargs);
      this.#store.commitCrank();
      return kpid;
    } catch (error) {
      this.#store.abortCrank();
      throw error;
    }
  }

  #knows(kref: KRef): boolean {
    if (isObjectKref(kref)) return this.#state.getObject(kref) !== undefined;
    if (isPromiseKref(kref)) return this.#state.getPromise(kref) !== undefined;
    return false;
  }

  /** The root object of the live vat named `name`. */
  rootOf(name: string): KRef {
    const vat = this.#state.getVatByName(name);
    if (!vat) throw new KernelError(`no vat named "${name}"`);
    if (vat.state !== 'running') {
      throw new KernelError(
        `vat "${name}" was terminated: ${vat.terminationReason ?? ''}`,
      );
    }
    return vat.rootKref;
  }

  /** Terminates a vat: rejects the promises it decides and breaks references to its objects. */
  async terminateVat(vatId: VatId, reason: string): Promise<void> {
    await this.#control(async () => {
      const vat = this.#state.getVat(vatId);
      if (!vat) throw new KernelError(`no vat ${vatId}`);
      if (vat.state !== 'running') return;
      await this.#terminateInCrank(vatId, reason);
    });
  }

  /**
   * Resolves when the kernel has nothing it could do: the run queue is empty (or held by
   * pauseRunQueue: held items do not count, so this does not wait for an unpause), no
   * control operation is pending, and every committed crank is durable.
   */
  whenIdle(): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken);
    return new Promise((resolve, reject) => {
      this.#idleWaiters.push({ resolve, reject });
      this.#pump();
      this.#checkIdle();
    });
  }

  /**
   * Starts a worker for every live vat of a recovered store and gives it its stored
   * state; liveslots rebuilds each root from baggage (no second bootstrap). Promises the
   * previous incarnations were deciding are rejected, and their objects that were not
   * durable are abandoned: nothing of a vat's heap survives its worker.
   */
  async resume(): Promise<void> {
    await this.#control(async () => {
      const vats = this.#state.listVats().filter((v) => v.state === 'running');
      const restarted = vats.filter((v) =>
        this.#beginIncarnation(v.vatId, 'the kernel restarted'),
      );
      await this.#startWorkers(vats.map((v) => this.#state.requireVat(v.vatId)));
      for (const vat of restarted) {
        if (!this.#isLive(vat.vatId)) continue;
        this.#store.beginCrank();
        await this.#runCrank({ kind: 'startVat', vatId: vat.vatId });
      }
    });
  }

  /**
   * Restarts a live vat between cranks: stops its worker and starts a new incarnation
   * from its stored state, as resume() does for every vat (promises the old incarnation
   * decided are rejected, its non-durable objects abandoned; baggage carries on). Rejects
   * if the vat is unknown, terminated, about to be terminated for a fault, or was
   * terminated because the new incarnation failed to start.
   */
  async restartVat(vatId: VatId): Promise<void> {
    await this.#control(async () => {
      const vat = this.#state.getVat(vatId);
      if (!vat) throw new KernelError(`no vat ${vatId}`);
      if (vat.state !== 'running') {
        throw new KernelError(
          `vat "${vat.name}" (${vatId}) was terminated: ${vat.terminationReason ?? ''}`,
        );
      }
      const fault = this.#faulted.get(vatId);
      if (fault !== undefined) {
        // Its worker failed between cranks; the loop terminates it next, as for any fault.
        throw new KernelError(
          `vat "${vat.name}" (${vatId}) faulted and is being terminated: ${fault}`,
        );
      }
      const old = this.#handles.get(vatId);
      this.#handles.delete(vatId);
      this.#deliveriesSinceReap.delete(vatId);
      await old?.close();
      const needsStart = this.#beginIncarnation(vatId, 'restarted by request');
      await this.#startWorkers([this.#state.requireVat(vatId)]);
      // Otherwise its first startVat is still queued and runs on the new worker.
      if (needsStart && this.#isLive(vatId)) {
        this.#store.beginCrank();
        await this.#runCrank({ kind: 'startVat', vatId });
      }
      const after = this.#state.requireVat(vatId);
      if (after.state !== 'running') {
        throw new KernelError(
          `vat "${after.name}" (${vatId}) was terminated while restarting: ${after.terminationReason ?? ''}`,
        );
      }
    });
  }

  status(): KernelStatus {
    return {
      crank: this.#lastCommittedCrank,
      durableCrank: this.#durableCrank,
      runQueueLength: this.#state.runQueueLength(),
      vats: this.#state.listVats().filter((v) => v.state === 'running').length,
      paused: this.#paused,
    };
  }

  /**
   * Holds the run queue: from the next step on, no run-queue item runs (a crank under way
   * finishes). Control operations still run, and so do terminations of vats that faulted.
   * In memory only: a new Kernel starts unpaused.
   */
  pauseRunQueue(): void {
    this.#paused = true;
  }

  unpauseRunQueue(): void {
    this.#paused = false;
    this.#pump();
  }

  /** Lets in-flight commits finish and stops every vat worker. */
  async shutdown(): Promise<void> {
    await this.whenIdle().catch(() => undefined);
    this.#shutdown = true;
    const handles = [...this.#handles.values()];
    this.#handles.clear();
    await Promise.all(handles.map((h) => h.close()));
  }

  // ---- the serial lane ----

  #control<T>(op: () => Promise<T>): Promise<T> {
    if (this.#shutdown)
      return Promise.reject(new KernelError('the kernel was shut down'));
    // A stopped kernel runs nothing more; saying so beats an answer that never comes.
    if (this.#broken !== undefined) {
      return Promise.reject(
        new KernelError(
          `the kernel stopped after an internal error: ${String(this.#broken)}`,
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      this.#controls.push({ run: () => op().then(resolve, reject), reject });
      this.#pump();
    });
  }

  /** Work the loop may do now: held run-queue items do not count. */
  #hasWork(): boolean {
    return this.#faulted.size > 0 || (!this.#paused && this.#state.runQueueLength() > 0);
  }

  #pump(): void {
    if (this.#pumping || this.#broken) return;
    this.#pumping = true;
    void this.#loop().then(
      () => {
        this.#pumping = false;
        // Whatever arrived after the loop's last look (its #pump saw it still pumping).
        if (!this.#shutdown && (this.#controls.length > 0 || this.#hasWork())) {
          this.#pump();
        }
        this.#checkIdle();
      },
      (error: unknown) => this.#fail(error),
    );
  }

  /** A kernel bug or a storage failure: stop rather than run on in an unknown state. */
  #fail(error: unknown): void {
    if (this.#broken !== undefined) return;
    this.#broken = error;
    this.#pumping = false;
    const idle = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of idle) w.reject(error);
    for (const list of this.#waiters.values()) for (const w of list) w.reject(error);
    this.#waiters.clear();
    for (const reject of this.#ackWaiters) reject(error);
    this.#ackWaiters.clear();
    for (const control of this.#controls.splice(0)) control.reject(error);
    console.error('cask kernel stopped:', error);
  }

  #checkIdle(): void {
    if (
      this.#idleWaiters.length === 0 ||
      this.#pumping ||
      this.#controls.length > 0 ||
      this.#flushing !== undefined ||
      this.#store.hasUncommitted ||
      this.#hasWork()
    ) {
      return;
    }
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w.resolve();
  }

  async #loop(): Promise<void> {
    for (;;) {
      if (this.#shutdown) return;
      const control = this.#controls.shift();
      if (control) {
        await control.run();
        continue;
      }
      const faulted = this.#faulted.entries().next();
      if (!faulted.done) {
        const [vatId, reason] = faulted.value;
        this.#faulted.delete(vatId);
        if (this.#state.getVat(vatId)?.state === 'running') {
          await this.#terminateInCrank(vatId, reason);
        }
        continue;
      }
      // While paused, only controls and faulted vats' terminations run.
      const ran = !this.#paused && (await this.#crank());
      // A control may have arrived while #crank awaited; only stop if nothing is waiting.
      if (!ran && this.#controls.length === 0 && this.#faulted.size === 0) return;
    }
  }

  // ---- cranks ----

  /** Runs the next run-queue item as one crank; false if the queue was empty. */
  async #crank(): Promise<boolean> {
    this.#store.beginCrank();
    const item = this.#state.dequeue();
    if (!item) {
      this.#store.abortCrank();
      return false;
    }
    await this.#runCrank(item);
    return true;
  }

  /**
   * Runs one item as one crank inside the savepoint the caller opened. On a vat's fault
   * the savepoint is rolled back (a dequeued item goes back on the queue as it was) and
   * the vat is terminated in a crank of its own.
   */
  async #runCrank(item: RunQueueItem): Promise<void> {
    const started = this.#platform.now();
    const crank = this.#state.nextCrankNumber();
    this.#takeDelta();
    let record: CrankOutcome;
    try {
      record = await this.#runItem(crank, item);
      this.#collectGarbage();
      this.#store.commitCrank();
    } catch (error) {
      this.#store.abortCrank();
      this.#settledInCrank = [];
      this.#exitsInCrank = [];
      if (!(error instanceof CrankFault)) throw error;
      // The crank is void; its number is not reused.
      await this.#terminateInCrank(error.vatId, error.message, crank);
      this.#options.onCrank?.({
        crank,
        kind: item.kind,
        vatId: error.vatId,
        method: null,
        outcome: 'fault',
        detail: error.message,
        durationMs: this.#platform.now() - started,
        // Rolled back: nothing of it reached the store.
        deltaKeys: 0,
        deltaBytes: 0,
      });
      return;
    }
    this.#afterCommitCrank(crank);
    this.#options.onCrank?.({
      ...record,
      ...this.#takeDelta(),
      durationMs: this.#platform.now() - started,
    });
    const exits = this.#exitsInCrank;
    this.#exitsInCrank = [];
    for (const [vatId, reason] of exits) await this.#terminateInCrank(vatId, reason);
  }

  async #runItem(crank: number, item: RunQueueItem): Promise<CrankOutcome> {
    const state = this.#state;
    const none = (vatId: VatId | null, detail?: string): CrankOutcome => ({
      crank,
      kind: item.kind,
      vatId,
      method: null,
      outcome: 'no-delivery',
      ...(detail === undefined ? {} : { detail }),
    });
    switch (item.kind) {
      case 'send':
        return this.#runSend(crank, item.target, item.message);
      case 'notify': {
        state.decref(item.kpid);
        const vref = state.krefToVref(item.vatId, item.kpid);
        const p = state.getPromise(item.kpid);
        if (!this.#isLive(item.vatId) || vref === undefined || !p?.data) {
          return none(item.vatId);
        }
        const data = capdataToVat(state, item.vatId, p.data);
        state.deleteClistEntry(item.vatId, item.kpid, true);
        await this.#deliver(crank, item.vatId, {
          kind: 'notify',
          resolutions: [{ vpid: vref, rejected: p.state === 'rejected', data }],
        });
        return { crank, kind: 'notify', vatId: item.vatId, method: null, outcome: 'ok' };
      }
      case 'startVat': {
        const vat = state.getVat(item.vatId);
        if (!vat || vat.state !== 'running') return none(item.vatId);
        await this.#deliver(crank, item.vatId, {
          kind: 'startVat',
          parameters: vat.parameters,
        });
        return {
          crank,
          kind: 'startVat',
          vatId: item.vatId,
          method: null,
          outcome: 'ok',
        };
      }
      case 'bringOutYourDead':
        if (!this.#isLive(item.vatId)) return none(item.vatId);
        await this.#deliver(crank, item.vatId, { kind: 'bringOutYourDead' });
        return { crank, kind: item.kind, vatId: item.vatId, method: null, outcome: 'ok' };
      case 'dropExports':
      case 'retireExports':
      case 'retireImports': {
        if (!this.#isLive(item.vatId)) return none(item.vatId);
        const vrefs = this.#gcVrefs(item.kind, item.vatId, item.krefs);
        if (vrefs.length === 0) return none(item.vatId);
        await this.#deliver(crank, item.vatId, { kind: item.kind, vrefs });
        return { crank, kind: item.kind, vatId: item.vatId, method: null, outcome: 'ok' };
      }
      default: {
        const never: never = item;
        throw new KernelError(`unknown run-queue item ${JSON.stringify(never)}`);
      }
    }
  }

  /** Routes a message: to its target's vat, onto an unresolved promise, or to a rejection. */
  async #runSend(crank: number, target: KRef, message: Message): Promise<CrankOutcome> {
    const state = this.#state;
    const method = methodOf(message.methargs);
    let to = target;
    for (;;) {
      if (isPromiseKref(to)) {
        const p = state.getPromise(to);
        if (!p) {
          this.#rejectMessage(
            target,
            message,
            kerror(`message to ${to}: no such promise`),
          );
          return { crank, kind: 'send', vatId: null, method, outcome: 'no-delivery' };
        }
        if (p.state === 'unresolved') {
          // Pipelining: the message waits on the promise, holding its references.
          state.queueOnPromise(to, message);
          return { crank, kind: 'send', vatId: null, method, outcome: 'no-delivery' };
        }
        const data = p.data as CapData;
        if (p.state === 'rejected') {
          this.#rejectMessage(target, message, data);
          return { crank, kind: 'send', vatId: null, method, outcome: 'no-delivery' };
        }
        const next = singleObjectKref(data);
        if (!next) {
          this.#rejectMessage(
            target,
            message,
            kerror(
              `cannot send ${method ?? 'a message'} to ${to}: it resolved to a non-object`,
            ),
          );
          return { crank, kind: 'send', vatId: null, method, outcome: 'no-delivery' };
        }
        to = next;
        continue;
      }
      const object = state.getObject(to);
      const owner = object?.owner ? state.getVat(object.owner) : undefined;
      if (!object || !owner || owner.state !== 'running') {
        const why = !object
          ? 'the object no longer exists'
          : owner
            ? `vat "${owner.name}" was terminated: ${owner.terminationReason ?? ''}`
            : 'its vat abandoned it';
        this.#rejectMessage(
          target,
          message,
          kerror(`cannot deliver ${method ?? 'message'} to ${to}: ${why}`),
        );
        return {
          crank,
          kind: 'send',
          vatId: owner?.vatId ?? null,
          method,
          outcome: 'no-delivery',
        };
      }
      const vatId = owner.vatId;
      const targetVref = state.krefToVref(vatId, to);
      if (targetVref === undefined) {
        throw new KernelError(`vat ${vatId} owns ${to} but has no c-list entry for it`);
      }
      const methargs = capdataToVat(state, vatId, message.methargs);
      let result: string | null = null;
      if (message.result) {
        result = krefToVatRef(state, vatId, message.result);
        state.setDecider(message.result, vatId);
      }
      // The vat's c-list now holds what the queued message held.
      state.decrefMessage(target, message);
      await this.#deliver(crank, vatId, {
        kind: 'message',
        target: targetVref,
        methargs,
        result,
      });
      return { crank, kind: 'send', vatId, method, outcome: 'ok' };
    }
  }

  #rejectMessage(target: KRef, message: Message, data: CapData): void {
    if (message.result) this.#resolve(message.result, true, data);
    this.#state.decrefMessage(target, message);
  }

  #gcVrefs(
    kind: 'dropExports' | 'retireExports' | 'retireImports',
    vatId: VatId,
    krefs: KRef[],
  ): string[] {
    const state = this.#state;
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

  /** Delivers to a vat and applies its syscalls and delta; throws CrankFault on any fault. */
  async #deliver(crank: number, vatId: VatId, delivery: Delivery): Promise<void> {
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
    const ctx: SyscallContext = {
      state: this.#state,
      resolve: (kpid, rejected, data) => this.#resolve(kpid, rejected, data),
      requestExit: (exiting, failure, info) => {
        const reason = failure
          ? `it exited with failure: ${info.body}`
          : `it exited: ${info.body}`;
        this.#exitsInCrank.push([exiting, reason]);
      },
    };
    for (const syscall of reply.syscalls) handleSyscall(ctx, vatId, syscall);
    this.#noteDelta(vatId, reply.delta);
    this.#state.applyDelta(vatId, reply.delta);
    this.#maybeReap(vatId, delivery.kind);
  }

  #noteDelta(vatId: VatId, delta: CrankDelta): void {
    let bytes = 0;
    for (const [key, value] of delta.sets) bytes += key.length + value.length;
    for (const key of delta.deletes) bytes += key.length;
    const noted = this.#crankDelta;
    noted.keys += delta.sets.length + delta.deletes.length;
    noted.bytes += bytes;
    if (!this.captureDeltas) return;
    const old = (key: string) => {
      const row = this.#store.get('vatstore', [vatId, key]);
      return row ? String(row[2]) : null;
    };
    noted.record ??= { vatId, sets: [], deletes: [] };
    for (const [key, value] of delta.sets) {
      noted.record.sets.push({ key, old: old(key), new: value });
    }
    for (const key of delta.deletes) noted.record.deletes.push({ key, old: old(key) });
  }

  /** What onCrank reports of the crank's delta; resets it for the next crank. */
  #takeDelta(): Pick<CrankRecord, 'deltaKeys' | 'deltaBytes' | 'delta'> {
    const { keys, bytes, record } = this.#crankDelta;
    this.#crankDelta = { keys: 0, bytes: 0 };
    return { deltaKeys: keys, deltaBytes: bytes, ...(record ? { delta: record } : {}) };
  }

  #maybeReap(vatId: VatId, kind: Delivery['kind']): void {
    if (kind === 'bringOutYourDead') {
      this.#deliveriesSinceReap.set(vatId, 0);
      return;
    }
    const n = (this.#deliveriesSinceReap.get(vatId) ?? 0) + 1;
    this.#deliveriesSinceReap.set(vatId, n);
    if (n === (this.#options.reapInterval ?? 200)) {
      this.#state.enqueue({ kind: 'bringOutYourDead', vatId });
    }
  }

  #resolve(kpid: KRef, rejected: boolean, data: CapData): void {
    const state = this.#state;
    const { subscribers, queued } = state.resolvePromise(kpid, rejected, data);
    for (const vatId of subscribers) {
      state.incref(kpid);
      state.enqueue({ kind: 'notify', vatId, kpid });
    }
    // Queued messages flow on, still aimed at the promise; routing follows its resolution.
    for (const message of queued) state.enqueue({ kind: 'send', target: kpid, message });
    if (this.#waiters.has(kpid)) this.#settledInCrank.push([kpid, { rejected, data }]);
  }

  #collectGarbage(): void {
    const { drop, retire } = this.#state.collectGarbage();
    for (const [vatId, krefs] of drop)
      this.#state.enqueue({ kind: 'dropExports', vatId, krefs });
    for (const [vatId, krefs] of retire) {
      this.#state.enqueue({ kind: 'retireExports', vatId, krefs });
    }
  }

  /**
   * Called after each committed crank (or control step, `crank` undefined). Its
   * settlements wait for durability; a write starts now unless one is in flight, in which
   * case this crank joins the next one (group commit).
   */
  #afterCommitCrank(crank: number | undefined): void {
    for (const [kpid, settlement] of this.#settledInCrank) {
      this.#unreleased.push(() => this.#release(kpid, settlement));
    }
    this.#settledInCrank = [];
    if (crank !== undefined) {
      this.#firstUnflushedCrank ??= crank;
      this.#lastCommittedCrank = crank;
    }
    if (this.#flushing === undefined) this.#flush();
  }

  /** Ends the store transaction and makes its changes durable, then releases results. */
  #flush(): void {
    const changes = this.#store.commit();
    const released = this.#unreleased;
    this.#unreleased = [];
    const last = this.#lastCommittedCrank;
    const first = this.#firstUnflushedCrank ?? last;
    this.#firstUnflushedCrank = undefined;
    if (changes.length > 0) this.#options.onCommit?.(changes, last);
    const log = this.#options.commitLog;
    if (!log || changes.length === 0) {
      this.#durableCrank = last;
      for (const release of released) release();
      return;
    }
    this.#flushing = log.append(changes, first, last).then(
      () => {
        this.#flushing = undefined;
        this.#durableCrank = last;
        this.#options.onDurable?.(last);
        for (const release of released) release();
        // Cranks that committed meanwhile form the next group. Inside an open crank,
        // that crank's own commit starts the write.
        if (!this.#store.inCrank && this.#store.hasUncommitted) this.#flush();
        this.#checkIdle();
      },
      (error: unknown) => {
        this.#flushing = undefined;
        this.#fail(error);
      },
    );
  }

  #release(kpid: KRef, settlement: Settlement): void {
    const waiters = this.#waiters.get(kpid) ?? [];
    this.#waiters.delete(kpid);
    for (const w of waiters) w.resolve(settlement);
  }

  #waitFor(kpid: KRef): Promise<Settlement> {
    return new Promise((resolve, reject) => this.#addWaiter(kpid, { resolve, reject }));
  }

  #addWaiter(kpid: KRef, waiter: Waiter): void {
    const list = this.#waiters.get(kpid);
    if (list) list.push(waiter);
    else this.#waiters.set(kpid, [waiter]);
  }

  /**
   * Resolves to `value` once every change committed so far is durable. Call after the
   * change's commitCrank and before #afterCommitCrank, which may start the write.
   */
  #whenDurable<T>(value: T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#ackWaiters.add(reject);
      this.#unreleased.push(() => {
        this.#ackWaiters.delete(reject);
        resolve(value);
      });
    });
  }

  // ---- vats ----

  #createVat(
    name: string,
    bundle: VatBundle,
    parameters: Record<string, unknown>,
    globals: string[],
  ): VatRecord {
    const bundleId = bundle.endoZipBase64Sha512;
    this.#state.putBundle(bundleId, JSON.stringify(bundle));
    const vat = this.#state.createVat({
      name,
      bundleId,
      parameters: kser(structuredClone(parameters)),
      globals: [...globals],
    });
    this.#state.enqueue({ kind: 'startVat', vatId: vat.vatId });
    return vat;
  }

  #queueSend(target: KRef, methargs: CapData): KRef {
    const kpid = this.#state.createPromise(null);
    const message = { methargs, result: kpid };
    this.#state.increfMessage(target, message);
    this.#state.enqueue({ kind: 'send', target, message });
    return kpid;
  }

  /** Starts a worker for a vat and sends it `initVat` with its stored state. */
  /**
   * Starts workers for these vats side by side (a worker's start is mostly loading code)
   * and sends each `initVat` with its stored state; then terminates, one by one, those
   * that failed to start.
   */
  async #startWorkers(vats: VatRecord[]): Promise<void> {
    const failures = await Promise.all(vats.map((vat) => this.#startWorker(vat)));
    for (const [i, reason] of failures.entries()) {
      const vat = vats[i];
      if (reason !== undefined && vat) await this.#terminateInCrank(vat.vatId, reason);
    }
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
      this.#pump();
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
    const neverStarted = this.#store.one(
      "SELECT 1 FROM run_queue WHERE kind = 'startVat' AND vat_id = ? LIMIT 1",
      [vatId],
    );
    // A crash before its first startVat: that is still queued and will run as it is.
    if (neverStarted) return false;
    this.#store.beginCrank();
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
    this.#collectGarbage();
    this.#store.commitCrank();
    this.#afterCommitCrank(undefined);
    return true;
  }

  #isLive(vatId: VatId): boolean {
    return this.#state.getVat(vatId)?.state === 'running';
  }

  /**
   * Terminates a vat in a crank of its own: it rejects the promises the vat decides,
   * breaks its objects, drops what it imported, deletes its vatstore, stops its worker.
   */
  async #terminateInCrank(
    vatId: VatId,
    reason: string,
    voidCrank?: number,
  ): Promise<void> {
    const state = this.#state;
    this.#store.beginCrank();
    if (voidCrank !== undefined && state.peekCounter('crank') <= voidCrank) {
      state.nextCrankNumber();
    }
    const vat = state.requireVat(vatId);
    const error = kerror(`vat "${vat.name}" (${vatId}) terminated: ${reason}`);
    vat.state = 'terminated';
    vat.terminationReason = reason;
    state.putVat(vat);
    for (const kpid of state.promisesDecidedBy(vatId)) this.#resolve(kpid, true, error);
    for (const [kref] of state.clistEntries(vatId)) {
      const object = isObjectKref(kref) ? state.getObject(kref) : undefined;
      if (object?.owner === vatId) {
        // The object keeps its (terminated) owner, so messages to it say why they fail.
        state.deleteClistEntry(vatId, kref, false);
      } else {
        state.deleteClistEntry(vatId, kref, true);
      }
    }
    // The vat record no longer holds its root.
    state.decref(vat.rootKref);
    for (const [kpid] of state.store.all(
      'SELECT kpid FROM promise_subscribers WHERE vat_id = ? ORDER BY kpid',
      [vatId],
    )) {
      state.removeSubscriber(kpid as string, vatId);
    }
    state.deleteVatstore(vatId);
    this.#collectGarbage();
    this.#store.commitCrank();
    this.#afterCommitCrank(voidCrank);
    const handle = this.#handles.get(vatId);
    this.#handles.delete(vatId);
    this.#deliveriesSinceReap.delete(vatId);
    await handle?.close();
  }
}

function methodOf(methargs: CapData): string | null {
  // Smallcaps methargs start with the method name: #["name",[…]]
  const match = /^#\["((?:[^"\\]|\\.)*)"/u.exec(methargs.body);
  return match ? (JSON.parse(`"${match[1] ?? ''}"`) as string) : null;
}

export function makeKernel(options: KernelOptions): Kernel {
  return new Kernel(options);
}
