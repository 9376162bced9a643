/**
 * The crank runner: the only code that opens, commits and rolls back cranks.
 *
 * A crank is one run-queue item, run inside one store savepoint: routed, translated
 * through the vat's c-list, delivered, its syscalls and vatstore delta applied, garbage
 * collected, committed — or, if the vat faulted, rolled back whole (a dequeued item goes
 * back on the queue as it was) and handed to the vat warehouse, which restarts or
 * suspends the vat. An item for a suspended vat is held for it. A *step* is a committed
 * change that is not a delivery (queueing a message from outside, creating vats, a new
 * incarnation, a suspension). Crank numbers and crank records are kept here.
 */
import type { CommitGate, CrankNote } from '../durability/index.ts';
import type { CapData, CrankDelta, Delivery, DeliveryReply } from '../protocol/index.ts';
import type { KernelStore } from '../store/index.ts';
import { capdataToJson, kerror } from '../marshal/index.ts';
import type { KernelState, KRef, Message, RunQueueItem, VatId } from '../state/index.ts';
import { KernelError } from './errors.ts';
import { collectGarbage, gcVrefs, ReapPolicy } from './gc.ts';
import type { OutsideCallers } from './outside-callers.ts';
import { resolutionsFor, type Resolver } from './promises.ts';
import { methodOf, routeSend, type Route } from './router.ts';
import type { ServiceRegistry } from './services.ts';
import { handleSyscall, type SyscallContext } from './syscalls.ts';
import { CrankFault, capdataToVat, krefToVatRef } from './translate.ts';
import { rejectUpgrade, runUpgrade, UpgradeFailed } from './upgrade.ts';
import type { Cranks, VatWarehouse } from './vat-warehouse.ts';

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
  /** A send's target and result kpid; a notify's kpid (as target). */
  target?: KRef;
  result?: KRef;
  /** The result's state once the crank committed (a later crank may settle it). */
  resultState?: 'unresolved' | 'fulfilled' | 'rejected';
  /** What it was rejected with, as JSON (cut at 500 characters). */
  rejection?: string;
}

function rejectionText(data: CapData): string {
  let text: string;
  try {
    text = JSON.stringify(capdataToJson(data)) ?? data.body;
  } catch {
    text = data.body;
  }
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

/** The krefs a run-queue item names, for the crank's record. */
function refsOf(item: RunQueueItem): Pick<CrankRecord, 'target' | 'result'> {
  if (item.kind === 'send') {
    return {
      target: item.target,
      ...(item.message.result ? { result: item.message.result } : {}),
    };
  }
  if (item.kind === 'notify') return { target: item.kpid };
  if (item.kind === 'upgradeVat' && item.result) return { result: item.result };
  return {};
}

/** What the log notes of a crank (its record without the delta). */
function noteOf(record: CrankRecord): CrankNote {
  const { delta: _delta, ...note } = record;
  return note;
}

/** A crank's vatstore delta as an inspector shows it: each key's value before and after. */
export interface CrankDeltaRecord {
  vatId: VatId;
  sets: Array<{ key: string; old: string | null; new: string }>;
  deletes: Array<{ key: string; old: string | null }>;
}

/** What running a run-queue item tells of it; the runner adds timing and the delta. */
type CrankOutcome = Omit<
  CrankRecord,
  | 'durationMs'
  | 'deltaKeys'
  | 'deltaBytes'
  | 'delta'
  | 'target'
  | 'result'
  | 'resultState'
  | 'rejection'
> &
  Partial<Pick<CrankRecord, 'target' | 'result' | 'resultState' | 'rejection'>>;

export interface CrankRunnerOptions {
  store: KernelStore;
  state: KernelState;
  gate: CommitGate;
  callers: OutsideCallers;
  warehouse: VatWarehouse;
  resolve: Resolver;
  now: () => number;
  onCrank?: ((record: CrankRecord) => void) | undefined;
  /** Deliveries to a vat between two bringOutYourDead deliveries, at most. */
  reapInterval: number;
  /** Whether vats are reaped when the run queue empties (ReapPolicy). */
  reapWhenIdle: boolean;
  /** Deliveries since its last reap that make a vat worth reaping when idle. */
  reapIdleAfter: number;
  services: ServiceRegistry;
  /** Told when a crank or step opens (the timer queue takes the crank's time). */
  onCrankOpen?: (() => void) | undefined;
  /** Where vats' setTimer / clearTimer syscalls go (the timer queue). */
  heapTimers: SyscallContext['heapTimers'];
}

export class CrankRunner implements Cranks {
  readonly #store: KernelStore;
  readonly #state: KernelState;
  readonly #gate: CommitGate;
  readonly #callers: OutsideCallers;
  readonly #warehouse: VatWarehouse;
  readonly #resolve: Resolver;
  readonly #options: CrankRunnerOptions;
  readonly reap: ReapPolicy;
  /** Vats that asked to exit during the open crank; terminated once it commits. */
  #exits: Array<[VatId, string]> = [];
  /** What kernel services asked to do once the open crank commits (start a new vat, …). */
  #afterCommit: Array<() => Promise<void> | void> = [];
  /** The open crank's delta, as onCrank reports it. */
  #delta: { keys: number; bytes: number; record?: CrankDeltaRecord } = {
    keys: 0,
    bytes: 0,
  };
  /**
   * Whether cranks report their deltas with old values (one vatstore read per key, so
   * only while an inspector asks for it).
   */
  captureDeltas = false;

  constructor(options: CrankRunnerOptions) {
    this.#options = options;
    this.#store = options.store;
    this.#state = options.state;
    this.#gate = options.gate;
    this.#callers = options.callers;
    this.#warehouse = options.warehouse;
    this.#resolve = options.resolve;
    this.reap = new ReapPolicy(options.reapInterval, {
      whenIdle: options.reapWhenIdle,
      idleAfter: options.reapIdleAfter,
    });
  }

  /**
   * Runs `change` as one committed step. With `voidCrank`, the step follows that
   * rolled-back crank, whose number is then not reused.
   */
  step<T>(change: () => T, voidCrank?: number): T {
    this.#store.beginCrank();
    this.#options.onCrankOpen?.();
    let result: T;
    try {
      if (voidCrank !== undefined && this.#state.peekCounter('crank') <= voidCrank) {
        this.#state.nextCrankNumber();
      }
      result = change();
      collectGarbage(this.#state);
      this.#store.commitCrank();
    } catch (error) {
      this.#store.abortCrank();
      this.#callers.dropSettled();
      throw error;
    }
    this.#gate.committed(voidCrank, this.#callers.takeReleases());
    return result;
  }

  /** Runs the next run-queue item as one crank; false if the queue was empty. */
  async runNext(): Promise<boolean> {
    this.#store.beginCrank();
    const queued = this.#state.dequeue();
    if (!queued) {
      this.#store.abortCrank();
      return false;
    }
    await this.#runCrank(queued.item, queued.seq);
    return true;
  }

  /**
   * The run queue is empty: reaps the next vat that did enough since its last reap, as a
   * crank of its own (not queued: a crash loses nothing but a GC); false if there is none.
   */
  async reapIdle(): Promise<boolean> {
    for (const vatId of this.reap.idle()) {
      const vat = this.#state.getVat(vatId);
      if (vat?.state !== 'running' || vat.reapInterval === 'never') {
        this.reap.forget(vatId);
        continue;
      }
      await this.run({ kind: 'bringOutYourDead', vatId });
      // A fault or a reply that could not be applied: the count must not ask again.
      this.reap.forget(vatId);
      return true;
    }
    return false;
  }

  /** Runs an item that is not on the run queue (a restarted vat's startVat). */
  async run(item: RunQueueItem): Promise<void> {
    this.#store.beginCrank();
    await this.#runCrank(item, undefined);
  }

  /**
   * Queues a message in the open step and returns its result promise, which the queued
   * message holds.
   */
  queueSend(target: KRef, methargs: CapData): KRef {
    const kpid = this.#state.createPromise(null);
    const message = { methargs, result: kpid };
    this.#state.increfMessage(target, message);
    this.#state.enqueue({ kind: 'send', target, message });
    return kpid;
  }

  /**
   * Runs one item as one crank inside the savepoint the caller opened; `seq` is its place
   * in the run queue, if it came from there. On a vat's fault the savepoint is rolled
   * back and the vat warehouse decides what becomes of the vat and of the item.
   */
  async #runCrank(item: RunQueueItem, seq: number | undefined): Promise<void> {
    const started = this.#options.now();
    this.#options.onCrankOpen?.();
    const crank = this.#state.nextCrankNumber();
    this.#takeDelta();
    let record: CrankOutcome;
    try {
      record = await this.#runItem(crank, item, seq);
      // Read before garbage collection, which may drop a settled result promise.
      const refs = refsOf(item);
      const promise = refs.result ? this.#state.getPromise(refs.result) : undefined;
      record = {
        ...record,
        ...refs,
        ...(promise ? { resultState: promise.state } : {}),
        ...(promise?.state === 'rejected' && promise.data
          ? { rejection: rejectionText(promise.data) }
          : {}),
      };
      collectGarbage(this.#state);
      this.#store.commitCrank();
    } catch (error) {
      this.#store.abortCrank();
      this.#callers.dropSettled();
      this.#exits = [];
      this.#afterCommit = [];
      if (error instanceof UpgradeFailed && item.kind === 'upgradeVat') {
        await this.#upgradeFailed(crank, item, seq, error, started);
        return;
      }
      if (!(error instanceof CrankFault)) throw error;
      await this.#faulted(crank, item, seq, error, started);
      return;
    }
    const done: CrankRecord = {
      ...record,
      ...this.#takeDelta(),
      durationMs: this.#options.now() - started,
    };
    this.#gate.note(noteOf(done));
    this.#gate.committed(crank, this.#callers.takeReleases());
    this.#options.onCrank?.(done);
    const exits = this.#exits;
    this.#exits = [];
    for (const [vatId, reason] of exits) await this.#warehouse.terminate(vatId, reason);
    const after = this.#afterCommit;
    this.#afterCommit = [];
    for (const fn of after) await fn();
  }

  /** The crank was rolled back because its vat faulted: what follows, in steps of its own. */
  async #faulted(
    crank: number,
    item: RunQueueItem,
    seq: number | undefined,
    fault: CrankFault,
    started: number,
  ): Promise<void> {
    const { vatId } = fault;
    const method = item.kind === 'send' ? methodOf(item.message.methargs) : null;
    // The crank is void; its number is not reused. A delivery that passed its deadline
    // is not tried again (it would only pass it again): its result is rejected.
    const consumed =
      fault.kind === 'deadline' && item.kind !== 'startVat' && seq !== undefined;
    this.step(() => {
      if (consumed) this.#consume(seq, item, vatId, method, fault.message);
    }, crank);
    const recovery = await this.#warehouse.recover(vatId, fault, item.kind);
    const vat = this.#state.getVat(vatId);
    const what =
      vat?.state === 'suspended'
        ? `vat suspended${recovery === 'hold' ? ', its message held' : ''}`
        : recovery === 'retry'
          ? 'vat restarted, its message to be delivered again'
          : 'vat restarted';
    const record: CrankRecord = {
      crank,
      kind: item.kind,
      vatId,
      method,
      outcome: 'fault',
      detail: `${fault.message} (${consumed ? 'result rejected, ' : ''}${what})`,
      durationMs: this.#options.now() - started,
      // Rolled back: nothing of it reached the store.
      deltaKeys: 0,
      deltaBytes: 0,
      ...refsOf(item),
    };
    // Its steps are committed already: the note rides the next record.
    this.#gate.note(noteOf(record));
    this.#options.onCrank?.(record);
  }

  /**
   * An upgrade was rolled back: the new worker goes, the old one is the vat's again (or,
   * if it was the old one that faulted, it is recovered as after any fault), and the
   * upgrade's result says why, in a step of its own.
   */
  async #upgradeFailed(
    crank: number,
    item: Extract<RunQueueItem, { kind: 'upgradeVat' }>,
    seq: number | undefined,
    failure: UpgradeFailed,
    started: number,
  ): Promise<void> {
    await this.#warehouse.finishUpgrade(item.vatId, false);
    // Shutting down: the rolled-back upgrade stays queued for the next start, as it was.
    if (this.#warehouse.closing) return;
    this.step(() => {
      if (seq !== undefined) this.#state.removeQueued(seq);
      rejectUpgrade(this.#state, this.#resolve, item, failure);
    }, crank);
    if (failure.oldFault) {
      await this.#warehouse.recover(item.vatId, failure.oldFault, item.kind);
    }
    const record: CrankRecord = {
      crank,
      kind: item.kind,
      vatId: item.vatId,
      method: null,
      outcome: 'fault',
      detail: `upgrade rolled back: ${failure.message}`,
      durationMs: this.#options.now() - started,
      deltaKeys: 0,
      deltaBytes: 0,
      ...refsOf(item),
    };
    this.#gate.note(noteOf(record));
    this.#options.onCrank?.(record);
  }

  /** Takes an item off the queue for good, rejecting its result: the watchdog stopped it. */
  #consume(
    seq: number,
    item: RunQueueItem,
    vatId: VatId,
    method: string | null,
    why: string,
  ): void {
    const state = this.#state;
    state.removeQueued(seq);
    if (item.kind === 'send') {
      const vat = state.getVat(vatId);
      this.#rejectMessage(
        item.target,
        item.message,
        kerror(
          `vat "${vat?.name ?? vatId}" (${vatId}) did not finish ${method ?? 'a message'}: ${why} (its delivery deadline); the crank was rolled back and the vat restarted from its store`,
        ),
      );
    } else if (item.kind === 'notify') {
      state.decref(item.kpid);
    }
  }

  async #runItem(
    crank: number,
    item: RunQueueItem,
    seq: number | undefined,
  ): Promise<CrankOutcome> {
    const state = this.#state;
    const outcome = (
      vatId: VatId | null,
      result: 'ok' | 'no-delivery',
      method: string | null = null,
    ): CrankOutcome => ({ crank, kind: item.kind, vatId, method, outcome: result });
    const held = (vatId: VatId, method: string | null = null): CrankOutcome => {
      if (seq === undefined) {
        throw new KernelError(`kernel bug: ${item.kind} for suspended vat ${vatId}`);
      }
      state.hold(vatId, { seq, item });
      return {
        ...outcome(vatId, 'no-delivery', method),
        detail: `held: vat ${vatId} is suspended`,
      };
    };
    // An upgrade is for a suspended vat too: new code may be what it needs to run again.
    if (
      item.kind !== 'send' &&
      item.kind !== 'upgradeVat' &&
      state.getVat(item.vatId)?.state === 'suspended'
    ) {
      return held(item.vatId);
    }
    switch (item.kind) {
      case 'send': {
        const method = methodOf(item.message.methargs);
        const route = routeSend(state, item.target, method);
        if (route.to === 'hold') return held(route.vatId, method);
        return this.#runSend(crank, item.target, item.message, method, route);
      }
      case 'notify': {
        state.decref(item.kpid);
        const vref = state.krefToVref(item.vatId, item.kpid);
        const p = state.getPromise(item.kpid);
        if (!this.#isLive(item.vatId) || vref === undefined || !p?.data) {
          return outcome(item.vatId, 'no-delivery');
        }
        await this.#deliver(crank, item.vatId, {
          kind: 'notify',
          resolutions: resolutionsFor(state, item.vatId, item.kpid),
        });
        return outcome(item.vatId, 'ok');
      }
      case 'startVat': {
        const vat = state.getVat(item.vatId);
        if (!vat || vat.state !== 'running') return outcome(item.vatId, 'no-delivery');
        await this.#deliver(crank, item.vatId, {
          kind: 'startVat',
          parameters: vat.parameters,
        });
        return outcome(item.vatId, 'ok');
      }
      case 'bringOutYourDead':
        if (!this.#isLive(item.vatId)) return outcome(item.vatId, 'no-delivery');
        await this.#deliver(crank, item.vatId, { kind: 'bringOutYourDead' });
        return outcome(item.vatId, 'ok');
      case 'settle':
        // Whatever its host finished for it is settled inside this crank. A settle
        // asked for by an earlier incarnation finds nothing to settle: harmless.
        if (!this.#isLive(item.vatId)) return outcome(item.vatId, 'no-delivery');
        await this.#deliver(crank, item.vatId, { kind: 'settle' });
        return outcome(item.vatId, 'ok');
      case 'upgradeVat': {
        const { upgraded, detail } = await runUpgrade(
          {
            crank,
            state,
            resolve: this.#resolve,
            warehouse: this.#warehouse,
            deliver: (vatId, delivery) => this.#deliver(crank, vatId, delivery),
          },
          item,
        );
        if (upgraded) {
          this.#afterCommit.push(() => this.#warehouse.finishUpgrade(item.vatId, true));
        }
        return { ...outcome(item.vatId, upgraded ? 'ok' : 'no-delivery'), detail };
      }
      case 'vatTimers': {
        // Heap timers end with the incarnation that armed them.
        const vat = state.getVat(item.vatId);
        if (vat?.state !== 'running' || vat.incarnation !== item.incarnation) {
          return outcome(item.vatId, 'no-delivery');
        }
        await this.#deliver(crank, item.vatId, { kind: 'settle', timers: item.timers });
        return outcome(item.vatId, 'ok');
      }
      case 'dropExports':
      case 'retireExports':
      case 'retireImports': {
        if (!this.#isLive(item.vatId)) return outcome(item.vatId, 'no-delivery');
        const vrefs = gcVrefs(state, item.kind, item.vatId, item.krefs);
        if (vrefs.length === 0) return outcome(item.vatId, 'no-delivery');
        await this.#deliver(crank, item.vatId, { kind: item.kind, vrefs });
        return outcome(item.vatId, 'ok');
      }
      default: {
        const never: never = item;
        throw new KernelError(`unknown run-queue item ${JSON.stringify(never)}`);
      }
    }
  }

  async #runSend(
    crank: number,
    target: KRef,
    message: Message,
    method: string | null,
    route: Exclude<Route, { to: 'hold' }>,
  ): Promise<CrankOutcome> {
    const state = this.#state;
    switch (route.to) {
      case 'promise':
        // Pipelining: the message waits on the promise, holding its references.
        state.queueOnPromise(route.kpid, message);
        return { crank, kind: 'send', vatId: null, method, outcome: 'no-delivery' };
      case 'reject':
        this.#rejectMessage(target, message, route.data);
        return {
          crank,
          kind: 'send',
          vatId: route.vatId,
          method,
          outcome: 'no-delivery',
        };
      case 'service': {
        const answer = this.#options.services.answer(
          state,
          route.service,
          route.facet,
          message.methargs,
          message.sender ?? null,
          message.result,
          (fn) => this.#afterCommit.push(fn),
        );
        const rejected = !answer.taken && answer.rejected;
        if (message.result && !answer.taken) {
          this.#resolve(message.result, answer.rejected, answer.data);
        }
        state.decrefMessage(target, message);
        return {
          crank,
          kind: 'send',
          vatId: null,
          method,
          outcome: 'ok',
          detail: `kernel service ${route.service}${route.facet ? `:${route.facet}` : ''}${rejected ? ' (rejected)' : ''}`,
        };
      }
      case 'vat': {
        const { vatId } = route;
        const targetVref = state.krefToVref(vatId, route.target);
        if (targetVref === undefined) {
          throw new KernelError(
            `vat ${vatId} owns ${route.target} but has no c-list entry for it`,
          );
        }
        const methargs = capdataToVat(state, vatId, message.methargs);
        let result: string | null = null;
        if (message.result) {
          result = krefToVatRef(state, vatId, message.result);
          state.setDecider(message.result, vatId);
        }
        // The vat's c-list now holds what the queued message held.
        state.decrefMessage(target, message);
        await this.#deliver(
          crank,
          vatId,
          { kind: 'message', target: targetVref, methargs, result },
          `message ${method ?? ''}`.trimEnd(),
        );
        return { crank, kind: 'send', vatId, method, outcome: 'ok' };
      }
    }
  }

  #rejectMessage(target: KRef, message: Message, data: CapData): void {
    if (message.result) this.#resolve(message.result, true, data);
    this.#state.decrefMessage(target, message);
  }

  /** Delivers to a vat and applies its syscalls and delta; throws CrankFault on any fault. */
  async #deliver(
    crank: number,
    vatId: VatId,
    delivery: Delivery,
    what: string = delivery.kind,
  ): Promise<void> {
    // A vat resumed without a worker starts now; one that ran before gets its startVat
    // first, in this crank (liveslots rebuilds its root from baggage).
    if (this.#warehouse.isDormant(vatId) && (await this.#warehouse.wake(vatId))) {
      if (delivery.kind !== 'startVat') {
        const { parameters } = this.#state.requireVat(vatId);
        await this.#deliver(crank, vatId, { kind: 'startVat', parameters });
      }
    }
    const reply = await this.#warehouse.deliver(crank, vatId, delivery, what);
    try {
      this.#apply(vatId, delivery, reply);
    } catch (error) {
      if (error instanceof CrankFault) throw error;
      // Whatever the vat sent made the kernel's bookkeeping fail: the crank is void and
      // the fault is the vat's, not a reason to stop the kernel.
      throw new CrankFault(
        vatId,
        `the kernel could not apply its reply: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  #apply(vatId: VatId, delivery: Delivery, reply: DeliveryReply): void {
    const ctx: SyscallContext = {
      state: this.#state,
      resolve: this.#resolve,
      requestExit: (exiting, failure, info) => {
        const reason = failure
          ? `it exited with failure: ${describeCapdata(info)}`
          : `it exited: ${describeCapdata(info)}`;
        this.#exits.push([exiting, reason]);
      },
      heapTimers: this.#options.heapTimers,
    };
    for (const syscall of reply.syscalls) handleSyscall(ctx, vatId, syscall);
    this.#noteDelta(vatId, reply.delta);
    this.#state.applyDelta(vatId, reply.delta);
    const own = this.#state.getVat(vatId)?.reapInterval ?? null;
    if (this.reap.delivered(vatId, delivery.kind, own)) {
      this.#state.enqueue({ kind: 'bringOutYourDead', vatId });
    }
  }

  #noteDelta(vatId: VatId, delta: CrankDelta): void {
    let bytes = 0;
    for (const [key, value] of delta.sets) bytes += key.length + value.length;
    for (const key of delta.deletes) bytes += key.length;
    const noted = this.#delta;
    noted.keys += delta.sets.length + delta.deletes.length;
    noted.bytes += bytes;
    if (!this.captureDeltas) return;
    const old = (key: string) => this.#state.vatstoreGet(vatId, key) ?? null;
    noted.record ??= { vatId, sets: [], deletes: [] };
    for (const [key, value] of delta.sets) {
      noted.record.sets.push({ key, old: old(key), new: value });
    }
    for (const key of delta.deletes) noted.record.deletes.push({ key, old: old(key) });
  }

  /** What onCrank reports of the crank's delta; resets it for the next crank. */
  #takeDelta(): Pick<CrankRecord, 'deltaKeys' | 'deltaBytes' | 'delta'> {
    const { keys, bytes, record } = this.#delta;
    this.#delta = { keys: 0, bytes: 0 };
    return { deltaKeys: keys, deltaBytes: bytes, ...(record ? { delta: record } : {}) };
  }

  #isLive(vatId: VatId): boolean {
    return this.#state.getVat(vatId)?.state === 'running';
  }
}

/** What a vat exited with, as JSON (`{ "$kref": … }` for references), for its reason. */
function describeCapdata(data: CapData): string {
  try {
    return JSON.stringify(capdataToJson(data)) ?? data.body;
  } catch {
    return data.body;
  }
}
