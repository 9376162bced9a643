/**
 * The kernel's front: its public API, composing the parts that each own one job —
 *
 * - the serial lane (./lane.ts): controls and cranks in order, pause, whenIdle;
 * - the crank runner (./crank-runner.ts): the only opener and closer of cranks;
 * - the router (./router.ts): where a send goes;
 * - GC (./gc.ts): drops, retires, reaping;
 * - the vat warehouse (./vat-warehouse.ts): workers, incarnations, termination;
 * - outside callers (./outside-callers.ts): waiters and results;
 * - kernel services (./services.ts), the vat admin (./vat-admin.ts) and the timer
 *   service (./timer-service.ts), with its time order (./timer-queue.ts);
 * - the commit gate (kernel/durability): group commit and the output embargo.
 *
 * Nothing here touches the store directly.
 */
import type { KernelPlatform } from '../platform/index.ts';
import { realClock, timerOf } from '../platform/index.ts';
import type { CapData, VatBundle, VatLogLevel } from '../protocol/index.ts';
import {
  bundleIdOf,
  RESERVED_VAT_NAMES,
  type ResolvedCluster,
  type ResolvedVatConfig,
} from '../cluster/index.ts';
import { CommitGate, type CommitLog } from '../durability/index.ts';
import { jsonToCapdata, kser, kslot, kunser } from '../marshal/index.ts';
import {
  KernelState,
  isObjectKref,
  isPromiseKref,
  type KRef,
  type VatId,
  type VatRecord,
  type VatVersion,
} from '../state/index.ts';
import type { KernelStore, RowChange } from '../store/index.ts';
import { CrankRunner, type CrankRecord } from './crank-runner.ts';
import { KernelError } from './errors.ts';
import { SerialLane } from './lane.ts';
import { OutsideCallers, type Settlement } from './outside-callers.ts';
import { makeResolver } from './promises.ts';
import { ServiceRegistry, type KernelService } from './services.ts';
import { TimerQueue } from './timer-queue.ts';
import { DEFAULT_MAX_TIMERS_PER_VAT, TIMER, TimerService } from './timer-service.ts';
import { queueUpgrade, type UpgradeOutcome } from './upgrade.ts';
import { createVat, makeVatAdmin, VAT_ADMIN, vatParameters } from './vat-admin.ts';
import { VatWarehouse } from './vat-warehouse.ts';

export type { CrankDeltaRecord, CrankRecord } from './crank-runner.ts';
export type { Settlement } from './outside-callers.ts';
export { KernelError } from './errors.ts';
export type { KernelService, ServiceCall } from './services.ts';
export type { UpgradeOutcome } from './upgrade.ts';
export { VAT_ADMIN } from './vat-admin.ts';
export { TIMER, TIMER_CANCELLED } from './timer-service.ts';

/** What the kernel knows of a promise; `data` once it is settled. */
export interface PromiseStatus {
  state: 'unresolved' | 'fulfilled' | 'rejected';
  data?: CapData;
}

/** One line a vat logged, as the kernel hands it to its host. */
export interface VatLogEntry {
  vatId: VatId;
  /** The vat's name in its cluster. */
  vatName: string;
  level: VatLogLevel;
  tags: string[];
  text: string;
}

export interface KernelStatus {
  crank: number;
  durableCrank: number;
  runQueueLength: number;
  /** Running vats. */
  vats: number;
  /** Vats stopped after a fault, waiting for restartVat or terminateVat. */
  suspended: number;
  /** True while the run queue is held (pauseRunQueue). */
  paused: boolean;
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
  /**
   * Deliveries to a vat between two bringOutYourDead deliveries at most, for vats with no
   * interval of their own. Default 2,000 (ReapPolicy, docs/gc.md).
   */
  reapInterval?: number;
  /**
   * Whether vats are reaped when the run queue empties. Default true; without it vats are
   * reaped by count only.
   */
  reapWhenIdle?: boolean;
  /**
   * The deliveries since its last reap that make a vat worth reaping when the kernel is
   * idle. Default 100: a reap costs about as much as 100 ping-pong deliveries.
   */
  reapIdleAfter?: number;
  /**
   * The watchdog: how long one delivery (or initVat) may take, for vats whose config
   * sets no `deliveryTimeoutMs`. Default 30 s.
   */
  deliveryTimeoutMs?: number;
  /** Host losses in a row after which a vat is suspended rather than restarted. Default 3. */
  maxHostRestarts?: number;
  /**
   * A vat whose vatstore holds more keys than this starts paged where its host can serve
   * it (VatChannel.servePages: the Node host): initVat carries none of the store, and the
   * vat reads each key from the kernel the first time it needs it (docs/store.md "Paged
   * vatstores"). Default 5,000; Infinity always sends the whole vatstore.
   */
  pagedVatstoreAbove?: number;
  /**
   * At `resume`, start no worker: each vat's starts at its first delivery, in that crank
   * (a kernel of many vats then pays only for those that have work). Default true; false
   * starts every vat's worker at `resume`, side by side.
   */
  startVatsOnDemand?: boolean;
  /**
   * Told each line a vat logs (`vatPowers.logger`, `testLog`: level `test`), bounded
   * (kernel/protocol VAT_LOG_LIMITS). Not part of any crank: nothing is stored, and a
   * line may arrive while the crank that logged it is still running or is later rolled
   * back. Without it vat log lines are dropped.
   */
  onVatLog?: (entry: VatLogEntry) => void;
  /**
   * Told once if the kernel stops for good (a storage failure, a kernel bug); every
   * caller waiting is rejected with the same error. Defaults to console.error.
   */
  onStop?: (error: unknown) => void;
  /**
   * How many krefs one outside caller may hold pinned (see QueueOptions.caller); past it
   * the caller's oldest pins are released. Default 1,000.
   */
  maxPinsPerCaller?: number;
  /**
   * Kernel services this host offers, by name, besides the kernel's own (`vatAdmin`). A
   * cluster's `services` list hands them to its bootstrap vat.
   */
  services?: Record<string, KernelService>;
  /**
   * Pending timers one vat may have: timer-service wake-ups it asked for plus its armed
   * setTimeout/setInterval timers. Callers outside the kernel share one count. Default
   * 1,000.
   */
  maxTimersPerVat?: number;
  /**
   * A debug check: after every crank, compare the store's memory copy of the kernel's
   * tables with the tables themselves, and stop on the first difference. It reads every
   * row, so only for tests (hosts switch it on with CASK_CHECK_STATE=1).
   */
  checkState?: boolean;
}

const DEFAULT_MAX_PINS = 1000;
/** Deliveries between reaps of a vat that is never idle (ReapPolicy, docs/gc.md). */
const DEFAULT_REAP_INTERVAL = 2000;

/** A caller outside the kernel that holds what it is handed: "cli", "panel", … */
const CALLER_NAME = /^[A-Za-z0-9_.:-]{1,64}$/u;

export interface QueueOptions {
  /**
   * Give up waiting after this many ms: the promise rejects, the message stays queued
   * (a message to a suspended vat waits for the vat).
   */
  timeoutMs?: number;
  /**
   * The caller outside the kernel that sends this: every kref in the settlement it is
   * handed is pinned for it (kept reachable, stored with the kernel) until
   * releasePins(caller, …), so it can send to or pass on what it was given, even after
   * a restart. Without it nothing is pinned and returned objects may be collected at once.
   */
  caller?: string;
}

/** What a vat is upgraded to: exactly one of the bundle's ways, and its parameters. */
export interface UpgradeSpec {
  bundle?: VatBundle;
  /** A stored bundle's id (every bundle a vat ran is stored, so a vat can go back). */
  bundleId?: string;
  /** A stored bundle's name (Kernel.installBundle, a cluster's `bundles`). */
  bundleName?: string;
  /** The new version's parameters; without them, the vat's current ones. */
  parameters?: Record<string, unknown>;
}

export interface TerminateOptions {
  /** Also delete the vat's vatstore. Without it the vat's stored state is kept. */
  deleteState?: boolean;
}

export class Kernel {
  readonly #store: KernelStore;
  readonly #state: KernelState;
  readonly #callers = new OutsideCallers();
  readonly #maxPins: number;
  readonly #gate: CommitGate;
  readonly #warehouse: VatWarehouse;
  readonly #runner: CrankRunner;
  readonly #lane: SerialLane;
  readonly #setTimer: ReturnType<typeof timerOf>;
  readonly #services = new ServiceRegistry();
  readonly #timers: TimerQueue;
  readonly #timerService: TimerService;
  /** Where vats' log lines (and the kernel's lines about them) go, if anywhere. */
  readonly #onVatLog:
    ((vatId: VatId, line: Omit<VatLogEntry, 'vatId' | 'vatName'>) => void) | undefined;

  constructor(options: KernelOptions) {
    this.#setTimer = timerOf(options.platform);
    this.#onVatLog = options.onVatLog ? this.#logOf(options.onVatLog) : undefined;
    this.#store = options.store;
    if (options.checkState) options.store.checkState = true;
    const above = options.pagedVatstoreAbove;
    if (
      above !== undefined &&
      !(above === Infinity || (Number.isSafeInteger(above) && above >= 0))
    ) {
      throw new KernelError(
        `pagedVatstoreAbove must be a whole number of keys ≥ 0 or Infinity, not ${String(above)}`,
      );
    }
    const state = new KernelState(options.store);
    this.#state = state;
    this.#maxPins = options.maxPinsPerCaller ?? DEFAULT_MAX_PINS;
    const settle = makeResolver(state, this.#callers, this.#maxPins);
    const resolve: typeof settle = (kpid, rejected, data) => {
      settle(kpid, rejected, data);
      this.#timerService.noteSettled(state, kpid, rejected, data);
    };
    this.#timers = new TimerQueue({
      clock: options.platform.clock ?? realClock,
      readEarliestStored: () => state.earliestTimerDue(),
      onWake: () => this.#lane.pump(),
    });
    this.#timerService = new TimerService({
      queue: this.#timers,
      resolve,
      maxTimersPerVat: options.maxTimersPerVat ?? DEFAULT_MAX_TIMERS_PER_VAT,
      report: (vatId, text) =>
        this.#onVatLog?.(vatId ?? 'kernel', { level: 'error', tags: ['timer'], text }),
    });
    const lane = new SerialLane(
      {
        next: async (paused) =>
          (await this.#warehouse.handleNextFault()) ||
          (!this.#lane.stopping && this.#warehouse.queueSettles()) ||
          (!paused && !this.#lane.stopping && this.#fireDueTimers()) ||
          (!paused && !this.#lane.stopping && (await this.#runner.runNext())) ||
          (!paused && !this.#lane.stopping && (await this.#runner.reapIdle())),
        pending: (paused) =>
          this.#warehouse.hasFaulted ||
          this.#warehouse.hasSettleRequests ||
          (!paused &&
            (state.runQueueLength() > 0 ||
              this.#timers.hasDue() ||
              this.#runner.reap.idleDue)),
        settled: () => this.#gate.settled,
        failed: (error) => {
          this.#callers.failAll(error);
          this.#gate.fail(error);
        },
      },
      { onStop: options.onStop },
    );
    this.#lane = lane;
    this.#gate = new CommitGate(
      {
        store: options.store,
        ...(options.commitLog ? { log: options.commitLog } : {}),
        ...(options.onCommit ? { onCommit: options.onCommit } : {}),
        ...(options.onDurable ? { onDurable: options.onDurable } : {}),
        onSettled: () => lane.checkIdle(),
        onFail: (error) => lane.fail(error),
      },
      state.peekCounter('crank') - 1,
    );
    this.#warehouse = new VatWarehouse({
      state,
      platform: options.platform,
      resolve,
      deliveryTimeoutMs: options.deliveryTimeoutMs,
      maxHostRestarts: options.maxHostRestarts,
      pagedVatstoreAbove: options.pagedVatstoreAbove,
      startOnDemand: options.startVatsOnDemand ?? true,
      onFault: () => lane.pump(),
      onStopped: (vatId, incarnation) => {
        this.#runner.reap.forget(vatId);
        this.#timers.dropVat(vatId, incarnation);
      },
      onSettleRequest: () => lane.pump(),
      ...(this.#onVatLog ? { onLog: this.#onVatLog } : {}),
    });
    this.#runner = new CrankRunner({
      store: options.store,
      state,
      gate: this.#gate,
      callers: this.#callers,
      warehouse: this.#warehouse,
      resolve,
      now: () => options.platform.now(),
      onCrank: options.onCrank,
      reapInterval: options.reapInterval ?? DEFAULT_REAP_INTERVAL,
      reapWhenIdle: options.reapWhenIdle ?? true,
      reapIdleAfter: options.reapIdleAfter ?? 100,
      services: this.#services,
      onCrankOpen: () => this.#timers.openCrank(),
      heapTimers: {
        set: (vatId, id, ms) => {
          const refused = this.#timerService.refusal(state, vatId);
          if (refused) {
            // The vat cannot be answered from here: its callback never runs; say so.
            this.#onVatLog?.(vatId, {
              level: 'error',
              tags: ['timer'],
              text: `setTimeout/setInterval refused: ${refused}`,
            });
            return;
          }
          this.#timers.setHeap(vatId, state.requireVat(vatId).incarnation, id, ms);
        },
        clear: (vatId, id) =>
          this.#timers.clearHeap(vatId, state.requireVat(vatId).incarnation, id),
      },
    });
    this.#warehouse.useCranks(this.#runner);
    this.#services.register(
      VAT_ADMIN,
      makeVatAdmin({
        startWorkers: (vats) => this.#warehouse.startWorkers(vats),
        terminate: (vatId, reason) => this.#warehouse.terminate(vatId, reason),
        services: this.#services,
        isReservedName: (name) => RESERVED_VAT_NAMES.has(name),
        queueBootstrap: (root, roots, services) =>
          this.#runner.queueSend(root, kser(['bootstrap', [roots, services]])),
      }),
    );
    this.#services.register(TIMER, this.#timerService);
    for (const [name, service] of Object.entries(options.services ?? {})) {
      this.#services.register(name, service);
    }
  }

  get state(): KernelState {
    return this.#state;
  }

  /**
   * Whether cranks report their deltas with old values (one vatstore read per key, so
   * only while an inspector asks for it).
   */
  get captureDeltas(): boolean {
    return this.#runner.captureDeltas;
  }

  set captureDeltas(on: boolean) {
    this.#runner.captureDeltas = on;
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
    return this.#lane.control(async () => {
      const { created, kpid } = this.#runner.step(() => {
        const vats: VatRecord[] = [];
        for (const [name, config] of Object.entries(cluster.vats)) {
          vats.push(this.#createVat(name, config));
        }
        const bootstrapVat = vats.find((v) => v.name === cluster.bootstrap);
        if (!bootstrapVat) {
          throw new KernelError(
            `bootstrap vat "${cluster.bootstrap}" is not in the cluster`,
          );
        }
        const roots = Object.fromEntries(
          vats.map((v) => [v.name, kslot(v.rootKref, 'root')]),
        );
        const services = Object.fromEntries(
          Object.entries(
            this.#services.objectsFor(this.#state, cluster.services ?? []),
          ).map(([name, kref]) => [name, kslot(kref, name)]),
        );
        for (const [name, bundle] of Object.entries(cluster.bundles ?? {})) {
          this.#installBundle(bundle, name);
        }
        return {
          created: vats,
          kpid: this.#runner.queueSend(
            bootstrapVat.rootKref,
            kser(['bootstrap', [roots, services]]),
          ),
        };
      });
      const result = this.#callers.waitFor(kpid);
      await this.#warehouse.startWorkers(created);
      return { result };
    });
  }

  /**
   * Queues `method(...args)` to a kernel object or promise; resolves to its settlement.
   * `args` are JSON, with `{ "$kref": "ko3" }` for references (see capdataToJson).
   */
  async queueMessage(
    target: KRef,
    method: string,
    args: unknown[],
    options: QueueOptions = {},
  ): Promise<Settlement> {
    // Wrapped in an object: a control that returned the promise itself would adopt it
    // and hold the serial lane until the message settled.
    const caller = callerOf(options);
    const { settled } = await this.#lane.control(async () => {
      const kpid = this.#queueFromOutside(target, method, args);
      return { settled: this.#callers.waitFor(kpid, caller) };
    });
    const { timeoutMs } = options;
    if (timeoutMs === undefined) return settled;
    let cancel: (() => void) | undefined;
    const gaveUp = new Promise<never>((_, reject) => {
      cancel = this.#setTimer(timeoutMs, () =>
        reject(
          new KernelError(
            `no answer to ${method} within ${timeoutMs} ms; the message stays queued${this.#waitingFor(target)}`,
          ),
        ),
      );
    });
    try {
      return await Promise.race([settled, gaveUp]);
    } finally {
      cancel?.();
    }
  }

  /**
   * Checks a message from outside as queueMessage would (the target and every kref in
   * the arguments known, the arguments passable), without queueing it or running
   * anything; throws a KernelError naming what is wrong.
   */
  checkMessage(target: KRef, method: string, args: unknown[]): void {
    this.#checkFromOutside(target, method, args);
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
    options: Pick<QueueOptions, 'caller'> & { pinResult?: boolean } = {},
  ): Promise<{ kpid: KRef }> {
    const caller = callerOf(options);
    if (options.pinResult && caller === undefined) {
      throw new KernelError('pinResult needs a caller to hold the pin');
    }
    const { acked } = await this.#lane.control(async () => {
      // Pinned (in the step that queues it), the promise outlives its settlement and a
      // restart of the kernel (what keepResult keeps is in memory only): a caller that
      // lost its answer with a stopped worker reads it again with promiseStatus, then
      // releases the pin.
      const pinFor = options.pinResult ? caller : undefined;
      const kpid = this.#queueFromOutside(target, method, args, pinFor);
      // Kept for promiseStatus once released, i.e. once its crank is durable.
      this.#callers.keepResult(kpid, caller);
      return { acked: this.#gate.whenDurable({ kpid }) };
    });
    return acked;
  }

  /**
   * Lets go of krefs `caller` holds (all of them without `krefs`), in a committed step;
   * what nothing else refers to is then collected. Resolves to the krefs released.
   * Refuses, changing nothing, if `caller` does not hold one of `krefs`.
   */
  async releasePins(caller: string, krefs?: readonly KRef[]): Promise<KRef[]> {
    const name = callerOf({ caller }) as string;
    return this.#lane.control(async () => {
      const held = this.#state.pinsOf(name);
      const wanted = krefs === undefined ? held : [...new Set(krefs)];
      const notHeld = wanted.filter((kref) => !held.includes(kref));
      if (notHeld.length > 0) {
        throw new KernelError(
          `${name} holds no pin on ${notHeld.join(', ')} (it holds ${held.length ? held.join(', ') : 'none'})`,
        );
      }
      if (wanted.length === 0) return [];
      return this.#runner.step(() => {
        for (const kref of wanted) this.#state.unpin(name, kref);
        return wanted;
      });
    });
  }

  /**
   * Stores a bundle (under `name`, if given, replacing what that name meant) so vats can
   * be created from it at run time through the vat admin; resolves to its id.
   */
  async installBundle(bundle: VatBundle, name?: string): Promise<string> {
    if (name !== undefined && !/^[A-Za-z0-9_.:@/-]{1,256}$/u.test(name)) {
      throw new KernelError(`${JSON.stringify(name)} cannot name a bundle`);
    }
    return this.#lane.control(async () =>
      this.#runner.step(() => this.#installBundle(bundle, name)),
    );
  }

  /** The kernel services this kernel offers, by name. */
  serviceNames(): string[] {
    return this.#services.names();
  }

  /** The krefs `caller` holds pinned, oldest first. */
  pinsOf(caller: string): KRef[] {
    return this.#state.pinsOf(callerOf({ caller }) as string);
  }

  /**
   * The whole database as an image, between cranks, once every committed crank is
   * durable (the kernel's state file is built from it).
   */
  async exportImage<T>(encode: (store: KernelStore) => Promise<T>): Promise<T> {
    return this.#lane.control(async () => {
      await this.#gate.drain();
      return encode(this.#store);
    });
  }

  /**
   * Sets or removes a history label (docs/history.md) in a committed step. `decide` runs
   * first, between cranks once every commit is durable: it may refuse, or says what the
   * label `name` marks (null: remove it); the host checks the commit is retained.
   */
  async putHistoryLabel(
    name: string,
    decide: () => Promise<{ crank: number; seq: number } | null>,
  ): Promise<void> {
    await this.#lane.control(async () => {
      await this.#gate.drain();
      const label = await decide();
      this.#runner.step(() => this.#state.putHistoryLabel(name, label));
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
    return this.#lane.control(async () => this.#store.inspect(sql, maxRows));
  }

  /**
   * Runs `read` against the kernel's state between cranks (the panel's Objects view):
   * what it sees is committed and whole. It must only read.
   */
  async readState<T>(read: (state: KernelState) => T): Promise<T> {
    return this.#lane.control(async () => read(this.#state));
  }

  /**
   * What the kernel knows of a promise, or undefined if it has no such promise (never
   * created, or collected). The result of an enqueueMessage reads as unresolved until
   * its settlement is durable, and stays readable after the kernel collects the promise
   * (the newest thousand, in memory only).
   */
  promiseStatus(kpid: KRef): PromiseStatus | undefined {
    const kept = this.#callers.kept(kpid);
    if (kept) {
      return { state: kept.rejected ? 'rejected' : 'fulfilled', data: kept.data };
    }
    // An outside caller still waits for it: any settlement is not durable yet (the
    // kernel may even have collected the promise already).
    if (this.#callers.isWaitedOn(kpid)) return { state: 'unresolved' };
    const p = this.#state.getPromise(kpid);
    if (!p) return undefined;
    if (p.state === 'unresolved' || !p.data) return { state: 'unresolved' };
    return { state: p.state, data: p.data };
  }

  /**
   * The root object of the vat named `name`, running or suspended (messages to a
   * suspended vat wait for it).
   */
  rootOf(name: string): KRef {
    const vat = this.#state.getVatByName(name);
    if (!vat) throw new KernelError(`no vat named "${name}"`);
    if (vat.state === 'terminated') {
      throw new KernelError(`vat "${name}" was terminated: ${vat.reason ?? ''}`);
    }
    return vat.rootKref;
  }

  /**
   * Terminates a vat, running or suspended: rejects the promises it decides and the
   * messages held for it, and breaks references to its objects. Its vatstore is kept
   * unless `deleteState` (which also deletes what an already terminated vat kept).
   */
  async terminateVat(
    vatId: VatId,
    reason: string,
    options: TerminateOptions = {},
  ): Promise<void> {
    await this.#lane.control(async () => {
      if (!this.#state.getVat(vatId)) throw new KernelError(`no vat ${vatId}`);
      await this.#warehouse.terminate(vatId, reason, options);
    });
  }

  /**
   * Upgrades a running or suspended vat in place (docs/upgrade.md): queued like a
   * message, so what was queued before it reaches the old version; run as one crank, so
   * it is kept whole or rolled back whole. Resolves once it is durable, with the version
   * now running; rejects, the old version running on, with why it was rolled back.
   */
  async upgradeVat(vatId: VatId, spec: UpgradeSpec): Promise<UpgradeOutcome> {
    const ways = (['bundle', 'bundleId', 'bundleName'] as const).filter(
      (k) => spec[k] !== undefined,
    );
    if (ways.length !== 1) {
      throw new KernelError(
        `an upgrade names its new code by exactly one of bundle, bundleId or bundleName; got ${ways.length ? ways.join(' and ') : 'none'}`,
      );
    }
    const { settled } = await this.#lane.control(async () => {
      const kpid = this.#runner.step(() => {
        const state = this.#state;
        const vat = state.getVat(vatId);
        if (!vat) throw new KernelError(`no vat ${vatId}`);
        if (vat.state === 'terminated') {
          throw new KernelError(
            `vat "${vat.name}" (${vatId}) was terminated (${vat.reason ?? ''}); only a running or suspended vat can be upgraded`,
          );
        }
        let bundleId: string;
        if (spec.bundle) bundleId = this.#installBundle(spec.bundle);
        else if (spec.bundleName !== undefined) {
          const named = state.bundleIdNamed(spec.bundleName);
          if (!named)
            throw new KernelError(`no bundle named ${JSON.stringify(spec.bundleName)}`);
          bundleId = named;
        } else bundleId = spec.bundleId as string;
        if (!state.hasBundle(bundleId)) {
          throw new KernelError(`the kernel has no bundle ${bundleId}`);
        }
        const parameters =
          spec.parameters === undefined
            ? vat.parameters
            : vatParameters(vat.name, spec.parameters);
        const result = state.createPromise(null);
        queueUpgrade(state, { vatId, bundleId, parameters, result });
        return result;
      });
      return { settled: this.#callers.waitFor(kpid) };
    });
    const { rejected, data } = await settled;
    const value = kunser(data);
    if (rejected) {
      throw new KernelError(value instanceof Error ? value.message : String(value));
    }
    return value as UpgradeOutcome;
  }

  /** A vat's code versions, oldest first (the last is the one it runs). */
  vatVersions(vatId: VatId): VatVersion[] {
    if (!this.#state.getVat(vatId)) throw new KernelError(`no vat ${vatId}`);
    return this.#state.vatVersions(vatId);
  }

  whenIdle(): Promise<void> {
    return this.#lane.whenIdle();
  }

  /**
   * Starts a worker for every live vat of a recovered store and gives it its stored
   * state; liveslots rebuilds each root from baggage (no second bootstrap). Promises the
   * previous incarnations were deciding are rejected, and their objects that were not
   * durable are abandoned: nothing of a vat's heap survives its worker.
   */
  async resume(): Promise<void> {
    await this.#lane.control(() => this.#warehouse.resumeAll());
  }

  /**
   * Restarts a running or suspended vat between cranks: stops its worker and starts a
   * new incarnation from its last committed state, as resume() does for every vat
   * (promises the old incarnation decided are rejected, its non-durable objects
   * abandoned; baggage carries on). A suspended vat runs again, its held messages first.
   * Rejects if the vat is unknown or terminated, or if the new incarnation failed to
   * start (the vat is then suspended again, with the reason).
   */
  async restartVat(vatId: VatId): Promise<void> {
    await this.#lane.control(async () => {
      const vat = this.#state.getVat(vatId);
      if (!vat) throw new KernelError(`no vat ${vatId}`);
      if (vat.state === 'terminated') {
        throw new KernelError(
          `vat "${vat.name}" (${vatId}) was terminated: ${vat.reason ?? ''}`,
        );
      }
      await this.#warehouse.restart(vatId);
      const after = this.#state.requireVat(vatId);
      if (after.state !== 'running') {
        throw new KernelError(
          `vat "${after.name}" (${vatId}) did not restart; it is ${after.state}: ${after.reason ?? ''}`,
        );
      }
    });
  }

  status(): KernelStatus {
    return {
      crank: this.#gate.lastCommittedCrank,
      durableCrank: this.#gate.durableCrank,
      runQueueLength: this.#state.runQueueLength(),
      vats: this.#state.listVats().filter((v) => v.state === 'running').length,
      suspended: this.#state.listVats().filter((v) => v.state === 'suspended').length,
      paused: this.#lane.paused,
    };
  }

  /**
   * Holds the run queue: from the next step on, no run-queue item runs (a crank under way
   * finishes). Control operations still run, and so do terminations of vats that faulted.
   * In memory only: a new Kernel starts unpaused.
   */
  pauseRunQueue(): void {
    this.#lane.pause();
  }

  unpauseRunQueue(): void {
    this.#lane.unpause();
  }

  /**
   * Stops the kernel without running anything more: no control or crank starts after
   * this; a crank under way is rolled back as its worker stops (its item stays queued
   * for the next start); every committed crank is made durable; every worker stops.
   * Controls still waiting are rejected. Call whenIdle first to let queued work run.
   */
  async shutdown(): Promise<void> {
    this.#lane.stop();
    this.#timers.close();
    await this.#warehouse.stopAll();
    await this.#lane.stopped();
    await this.#gate.drain().catch(() => undefined);
  }

  /**
   * Checks and queues a message from outside the kernel in a committed step of its own;
   * returns its result promise, which the queued message holds.
   */
  #queueFromOutside(
    target: KRef,
    method: string,
    args: unknown[],
    pinFor?: string,
  ): KRef {
    const methargs = this.#checkFromOutside(target, method, args);
    return this.#runner.step(() => {
      const kpid = this.#runner.queueSend(target, methargs);
      if (pinFor !== undefined) this.#state.pin(pinFor, kpid, this.#maxPins);
      return kpid;
    });
  }

  #checkFromOutside(target: KRef, method: string, args: unknown[]): CapData {
    if (typeof method !== 'string' || method === '') {
      throw new KernelError('the method must be a non-empty string');
    }
    if (!Array.isArray(args)) throw new KernelError('the arguments must be an array');
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
    return methargs;
  }

  /**
   * Between two cranks: queues every timer that is due, in one committed step, and keeps
   * the host timer armed for the next. True if anything was queued.
   */
  #fireDueTimers(): boolean {
    const now = this.#timers.now();
    const earliest = this.#timers.earliest();
    const fired =
      earliest !== null &&
      earliest <= now &&
      this.#runner.step(() => this.#timerService.fireDue(this.#state, now));
    this.#timers.arm();
    return fired;
  }

  /** Why a message to `target` may wait, said to a caller that gave up on it. */
  #waitingFor(target: KRef): string {
    const object = isObjectKref(target) ? this.#state.getObject(target) : undefined;
    const owner = object?.owner ? this.#state.getVat(object.owner) : undefined;
    return owner?.state === 'suspended'
      ? ` (vat "${owner.name}" is suspended: ${owner.reason ?? ''})`
      : '';
  }

  #knows(kref: KRef): boolean {
    if (isObjectKref(kref)) return this.#state.getObject(kref) !== undefined;
    if (isPromiseKref(kref)) return this.#state.getPromise(kref) !== undefined;
    return false;
  }

  /** Names each vat's lines; a host's failing hook never reaches the vat or a crank. */
  #logOf(
    onVatLog: (entry: VatLogEntry) => void,
  ): (vatId: VatId, line: Omit<VatLogEntry, 'vatId' | 'vatName'>) => void {
    return (vatId, line) => {
      try {
        onVatLog({ vatId, vatName: this.#state.getVat(vatId)?.name ?? vatId, ...line });
      } catch {
        // A log line is worth less than the crank it came from.
      }
    };
  }

  #createVat(name: string, config: ResolvedVatConfig): VatRecord {
    return createVat(this.#state, {
      name,
      bundleId: this.#installBundle(config.bundle),
      parameters: config.parameters,
      globals: config.globals,
      network: config.network,
      deliveryTimeoutMs: config.deliveryTimeoutMs,
      reapInterval: config.reapInterval,
    });
  }

  #installBundle(bundle: VatBundle, name?: string): string {
    const bundleId = bundleIdOf(bundle);
    this.#state.putBundle(bundleId, JSON.stringify(bundle));
    if (name !== undefined) this.#state.nameBundle(name, bundleId);
    return bundleId;
  }
}

function callerOf({ caller }: { caller?: string | undefined }): string | undefined {
  if (caller === undefined) return undefined;
  if (typeof caller !== 'string' || !CALLER_NAME.test(caller)) {
    throw new KernelError(
      `a caller is named by 1 to 64 letters, digits, "_", ".", ":" or "-"; got ${JSON.stringify(caller)}`,
    );
  }
  return caller;
}

export function makeKernel(options: KernelOptions): Kernel {
  return new Kernel(options);
}
