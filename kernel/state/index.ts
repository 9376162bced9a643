/**
 * The kernel's state, as typed records over the store's tables: vats, c-lists, kernel
 * objects and promises with their reference counts, the run queue and vatstores.
 *
 * This room owns the consistency of those rows (a c-list entry always counts in its
 * kref's refcount, a resolved promise has data, …). It does no I/O beyond the store and
 * knows nothing of vats' processes; the kernel room decides *when* things happen.
 */
import { ORDER_SENSITIVE_KEY, type CapData, type CrankDelta } from '../protocol/index.ts';
import {
  QUEUE_ITEM_COLUMNS,
  TABLES,
  type KernelStore,
  type Row,
} from '../store/index.ts';

export type VatId = string;
export type KRef = string;
export type VRef = string;

/**
 * `suspended`: stopped after a fault, with its vatstore, c-list and queued messages kept;
 * it runs again when restarted. `terminated`: ended by a person (or by the vat itself).
 */
export type VatLifecycle = 'running' | 'suspended' | 'terminated';

export interface VatNetwork {
  allowedHosts: string[];
}

export interface VatRecord {
  vatId: VatId;
  name: string;
  bundleId: string;
  parameters: CapData;
  globals: string[];
  /** The hosts an endowed `fetch` may reach (vat config `network`), or null. */
  network: VatNetwork | null;
  incarnation: number;
  state: VatLifecycle;
  rootKref: KRef;
  nextImport: number;
  /** Why it is suspended or terminated; null while it runs. */
  reason: string | null;
  /** Its own delivery deadline (the watchdog), or null for the kernel's default. */
  deliveryTimeoutMs: number | null;
  /** Deliveries between its bringOutYourDeads, 'never', or null for the kernel's default. */
  reapInterval: number | 'never' | null;
}

export interface ObjectRecord {
  kref: KRef;
  owner: VatId | null;
  reachable: number;
  recognizable: number;
}

export type PromiseState = 'unresolved' | 'fulfilled' | 'rejected';

export interface PromiseRecord {
  kpid: KRef;
  state: PromiseState;
  decider: VatId | null;
  refcount: number;
  data: CapData | null;
}

export interface Message {
  methargs: CapData;
  result: KRef | null;
  /**
   * The vat whose syscall sent it, if a vat did (kernel services count what each vat
   * asked of them); absent for messages from outside and from the kernel.
   */
  sender?: VatId;
}

/** One version of a vat's code: what it has run since `incarnation`. */
export interface VatVersion {
  version: number;
  incarnation: number;
  bundleId: string;
  parameters: CapData;
  /** The crank that upgraded the vat to it; null for the version it was created with. */
  crank: number | null;
}

/** One page of a vatstore, in key order; `more` if keys follow the last one. */
export interface VatstorePage {
  entries: Array<[string, string]>;
  more: boolean;
}

export type GcKind = 'dropExports' | 'retireExports' | 'retireImports';

export type RunQueueItem =
  | { kind: 'send'; target: KRef; message: Message }
  | { kind: 'notify'; vatId: VatId; kpid: KRef }
  | { kind: 'startVat'; vatId: VatId }
  | { kind: GcKind; vatId: VatId; krefs: KRef[] }
  | { kind: 'bringOutYourDead'; vatId: VatId }
  /** A vat asked for its host's completions (an endowed fetch…) to be delivered. */
  | { kind: 'settle'; vatId: VatId }
  /**
   * Replace a vat's code, keeping its durable state (docs/upgrade.md). The item holds
   * `result`, settled with the outcome.
   */
  | {
      kind: 'upgradeVat';
      vatId: VatId;
      bundleId: string;
      parameters: CapData;
      result: KRef | null;
    }
  /**
   * Heap timers (setTimeout) of one incarnation of a vat came due: its callbacks run in
   * a settle delivery. Stale (nothing is delivered) once that incarnation has ended.
   */
  | { kind: 'vatTimers'; vatId: VatId; incarnation: number; timers: number[] };

/** A pending wake-up of the timer service (docs/timers.md), a row of `timers`. */
export interface TimerRecord {
  timerId: number;
  /** The vat that asked (it counts against its cap), or null from outside. */
  owner: VatId | null;
  /** Milliseconds since the epoch. */
  due: number;
  /** A repeater's period in ms, or null for one wake-up. */
  interval: number | null;
  handler: KRef | null;
  resultKpid: KRef | null;
  cancelToken: KRef | null;
}

/** A run-queue item with its place in the queue. */
export interface QueuedItem {
  seq: number;
  item: RunQueueItem;
}

export const isPromiseKref = (kref: KRef): boolean => kref.startsWith('kp');
export const isObjectKref = (kref: KRef): boolean => kref.startsWith('ko');

export class StateError extends Error {
  override name = 'StateError';
}

const str = (v: unknown): string => v as string;
const num = (v: unknown): number => v as number;
const strOrNull = (v: unknown): string | null => (v === null ? null : (v as string));

export class KernelState {
  readonly #store: KernelStore;
  /** Krefs whose counts dropped during this crank; `collectGarbage` looks at them. */
  readonly #maybeFree = new Set<KRef>();
  /** Parsed vat records by the row they were parsed from. */
  readonly #vats = new WeakMap<Row, VatRecord>();

  constructor(store: KernelStore) {
    this.#store = store;
  }

  get store(): KernelStore {
    return this.#store;
  }

  // ---- counters ----

  /** Returns the counter's current value and stores value + 1. */
  #next(name: string): number {
    const row = this.#store.get('counters', [name]);
    const value = row ? num(row[1]) : 1;
    this.#store.put('counters', [name, value + 1]);
    return value;
  }

  peekCounter(name: string): number {
    const row = this.#store.get('counters', [name]);
    return row ? num(row[1]) : 1;
  }

  /** Takes the next crank number. */
  nextCrankNumber(): number {
    return this.#next('crank');
  }

  // ---- bundles ----

  putBundle(bundleId: string, bundleJson: string): void {
    if (!this.#store.get('bundles', [bundleId])) {
      this.#store.put('bundles', [bundleId, bundleJson]);
    }
  }

  getBundle(bundleId: string): string {
    const row = this.#store.get('bundles', [bundleId]);
    if (!row) throw new StateError(`no bundle ${bundleId}`);
    return str(row[1]);
  }

  /** Names a stored bundle, so vats can be created from it by name (vat admin). */
  nameBundle(name: string, bundleId: string): void {
    this.getBundle(bundleId);
    this.#store.put('bundle_names', [name, bundleId]);
  }

  bundleIdNamed(name: string): string | undefined {
    const row = this.#store.get('bundle_names', [name]);
    return row ? str(row[1]) : undefined;
  }

  hasBundle(bundleId: string): boolean {
    return this.#store.get('bundles', [bundleId]) !== undefined;
  }

  // ---- kernel services ----

  /**
   * The kernel object standing for `facet` of kernel service `service` ('' is the service
   * itself), made on first use. It has no owning vat; the service table holds it alive.
   */
  serviceObject(service: string, facet: string): KRef {
    const [row] = this.#store.lookup('service_objects', 'byFacet', [service, facet]);
    if (row) return str(row[0]);
    const kref = `ko${this.#next('object')}`;
    this.#putObject({ kref, owner: null, reachable: 0, recognizable: 0 });
    this.incref(kref);
    this.#store.put('service_objects', [kref, service, facet]);
    return kref;
  }

  /** The service and facet `kref` stands for, if it is a service object. */
  serviceOf(kref: KRef): { service: string; facet: string } | undefined {
    const row = this.#store.get('service_objects', [kref]);
    return row ? { service: str(row[1]), facet: str(row[2]) } : undefined;
  }

  // ---- vats ----

  createVat(spec: {
    name: string;
    bundleId: string;
    parameters: CapData;
    globals: string[];
    network?: VatNetwork | undefined;
    deliveryTimeoutMs?: number | undefined;
    reapInterval?: number | 'never' | undefined;
  }): VatRecord {
    if (this.getVatByName(spec.name)) {
      throw new StateError(`a vat named "${spec.name}" already exists`);
    }
    // A database whose vatstores are all empty needs no scan for order-sensitive keys.
    if (
      this.orderSensitiveKeysUnscanned &&
      !this.#store.one('SELECT 1 FROM vatstore LIMIT 1')
    ) {
      this.#store.put('counters', [ORDER_SCANNED, 1]);
    }
    const vatId = `v${this.#next('vat')}`;
    const rootKref = this.createObject(vatId);
    const vat: VatRecord = {
      vatId,
      name: spec.name,
      bundleId: spec.bundleId,
      parameters: spec.parameters,
      globals: spec.globals,
      network: spec.network ?? null,
      incarnation: 0,
      state: 'running',
      rootKref,
      nextImport: 1,
      reason: null,
      deliveryTimeoutMs: spec.deliveryTimeoutMs ?? null,
      reapInterval: spec.reapInterval ?? null,
    };
    this.putVat(vat);
    this.addVatVersion(vat, null);
    this.#store.put('clist', [vatId, rootKref, 'o+0', 1]);
    // The vat record holds its root: a root object lives as long as its vat.
    this.incref(rootKref);
    return vat;
  }

  /**
   * Records the code a vat runs from its current incarnation on (its bundle and
   * parameters), as the next of its versions; `crank` is the upgrade's, null at creation.
   */
  addVatVersion(vat: VatRecord, crank: number | null): VatVersion {
    const last = this.#store.one(
      'SELECT max(version) FROM vat_versions WHERE vat_id = ?',
      [vat.vatId],
    )?.[0];
    const version: VatVersion = {
      version: typeof last === 'number' ? last + 1 : 1,
      incarnation: vat.incarnation,
      bundleId: vat.bundleId,
      parameters: vat.parameters,
      crank,
    };
    this.#store.put('vat_versions', [
      vat.vatId,
      version.version,
      version.incarnation,
      version.bundleId,
      JSON.stringify(version.parameters),
      crank,
    ]);
    return version;
  }

  /** A vat's code versions, oldest first. */
  vatVersions(vatId: VatId): VatVersion[] {
    return this.#store
      .all(
        'SELECT version, incarnation, bundle_id, parameters, crank FROM vat_versions WHERE vat_id = ? ORDER BY version',
        [vatId],
      )
      .map((r) => ({
        version: num(r[0]),
        incarnation: num(r[1]),
        bundleId: str(r[2]),
        parameters: JSON.parse(str(r[3])) as CapData,
        crank: r[4] === null ? null : num(r[4]),
      }));
  }

  putVat(vat: VatRecord): void {
    this.#store.put('vats', [
      vat.vatId,
      vat.name,
      vat.bundleId,
      JSON.stringify(vat.parameters),
      globalsColumn(vat),
      vat.incarnation,
      vat.state,
      vat.rootKref,
      vat.nextImport,
      vat.reason,
      vat.deliveryTimeoutMs,
      vat.reapInterval === 'never' ? 0 : vat.reapInterval,
    ]);
  }

  getVat(vatId: VatId): VatRecord | undefined {
    const row = this.#store.get('vats', [vatId]);
    return row && this.#vatFromRow(row);
  }

  /**
   * A vat's record, parsed once per version of its row (the kernel reads it several times
   * a crank; a write makes a new row). A copy, since callers edit it before `putVat`.
   */
  #vatFromRow(row: Row): VatRecord {
    let vat = this.#vats.get(row);
    if (!vat) {
      vat = vatFromRow(row);
      this.#vats.set(row, vat);
    }
    return { ...vat };
  }

  requireVat(vatId: VatId): VatRecord {
    const vat = this.getVat(vatId);
    if (!vat) throw new StateError(`no vat ${vatId}`);
    return vat;
  }

  getVatByName(name: string): VatRecord | undefined {
    const [row] = this.#store.lookup('vats', 'byName', [name]);
    return row && this.#vatFromRow(row);
  }

  /** Every vat, live and terminated, in creation order. */
  listVats(): VatRecord[] {
    return this.#store
      .all(`SELECT ${VAT_COLUMNS} FROM vats ORDER BY CAST(substr(vat_id, 2) AS INTEGER)`)
      .map(vatFromRow);
  }

  // ---- kernel objects ----

  createObject(owner: VatId): KRef {
    const kref = `ko${this.#next('object')}`;
    this.#store.put('objects', [kref, owner, 0, 0]);
    return kref;
  }

  getObject(kref: KRef): ObjectRecord | undefined {
    const row = this.#store.get('objects', [kref]);
    if (!row) return undefined;
    return {
      kref,
      owner: strOrNull(row[1]),
      reachable: num(row[2]),
      recognizable: num(row[3]),
    };
  }

  #putObject(o: ObjectRecord): void {
    this.#store.put('objects', [o.kref, o.owner, o.reachable, o.recognizable]);
  }

  setObjectOwner(kref: KRef, owner: VatId | null): void {
    const o = this.getObject(kref);
    if (!o) return;
    o.owner = owner;
    this.#putObject(o);
    this.#maybeFree.add(kref);
  }

  deleteObject(kref: KRef): void {
    this.#store.delete('objects', [kref]);
  }

  // ---- kernel promises ----

  createPromise(decider: VatId | null): KRef {
    const kpid = `kp${this.#next('promise')}`;
    this.#store.put('promises', [kpid, 'unresolved', decider, 0, null, null]);
    // Unreferenced until something holds it; collect it if nothing ever does.
    this.#maybeFree.add(kpid);
    return kpid;
  }

  getPromise(kpid: KRef): PromiseRecord | undefined {
    const row = this.#store.get('promises', [kpid]);
    if (!row) return undefined;
    return {
      kpid,
      state: str(row[1]) as PromiseState,
      decider: strOrNull(row[2]),
      refcount: num(row[3]),
      data:
        row[4] === null
          ? null
          : { body: str(row[4]), slots: JSON.parse(str(row[5])) as string[] },
    };
  }

  requirePromise(kpid: KRef): PromiseRecord {
    const p = this.getPromise(kpid);
    if (!p) throw new StateError(`no promise ${kpid}`);
    return p;
  }

  #putPromise(p: PromiseRecord): void {
    this.#store.put('promises', [
      p.kpid,
      p.state,
      p.decider,
      p.refcount,
      p.data ? p.data.body : null,
      p.data ? JSON.stringify(p.data.slots) : null,
    ]);
  }

  setDecider(kpid: KRef, decider: VatId | null): void {
    const p = this.requirePromise(kpid);
    p.decider = decider;
    this.#putPromise(p);
  }

  /**
   * Records a promise's resolution and returns who must hear of it: the subscribers (now
   * removed) and the messages that were queued on it (now removed, refs still held).
   */
  resolvePromise(
    kpid: KRef,
    rejected: boolean,
    data: CapData,
  ): { subscribers: VatId[]; queued: Message[] } {
    const p = this.requirePromise(kpid);
    if (p.state !== 'unresolved') {
      throw new StateError(`promise ${kpid} is already ${p.state}`);
    }
    this.increfSlots(data.slots);
    p.state = rejected ? 'rejected' : 'fulfilled';
    p.decider = null;
    p.data = data;
    this.#putPromise(p);
    const subscribers = this.#subscribers(kpid);
    for (const vatId of subscribers)
      this.#store.delete('promise_subscribers', [kpid, vatId]);
    const queued = this.#queuedOn(kpid).map((r) => {
      this.#store.delete('promise_queue', [kpid, r[1] as number]);
      return messageFromColumns(r[2], r[3], r[4], r[5]);
    });
    return { subscribers, queued };
  }

  /** The vats subscribed to `kpid`, in vat_id order. */
  #subscribers(kpid: KRef): VatId[] {
    return this.#store
      .lookup('promise_subscribers', 'byKpid', [kpid])
      .map((r) => str(r[1]))
      .sort(compareText);
  }

  /** The promise_queue rows of messages waiting on `kpid`, in seq order. */
  #queuedOn(kpid: KRef): Row[] {
    return this.#store
      .lookup('promise_queue', 'byKpid', [kpid])
      .sort((a, b) => num(a[1]) - num(b[1]));
  }

  addSubscriber(kpid: KRef, vatId: VatId): void {
    this.#store.put('promise_subscribers', [kpid, vatId]);
  }

  removeSubscriber(kpid: KRef, vatId: VatId): void {
    this.#store.delete('promise_subscribers', [kpid, vatId]);
  }

  /** The promises a vat subscribed to and has not yet heard of, in kpid order. */
  subscriptionsOf(vatId: VatId): KRef[] {
    return this.#store
      .all('SELECT kpid FROM promise_subscribers WHERE vat_id = ? ORDER BY kpid', [vatId])
      .map((r) => str(r[0]));
  }

  /** Parks a message on an unresolved promise; the message's refs move with it. */
  queueOnPromise(kpid: KRef, message: Message): void {
    const seq = this.#next('promiseQueue');
    this.#store.put('promise_queue', [
      kpid,
      seq,
      message.methargs.body,
      JSON.stringify(message.methargs.slots),
      message.result,
      message.sender ?? null,
    ]);
  }

  /** Unresolved promises this vat decides, in kpid order. */
  promisesDecidedBy(vatId: VatId): KRef[] {
    return this.#store
      .all(
        "SELECT kpid FROM promises WHERE decider_vat = ? AND state = 'unresolved' ORDER BY CAST(substr(kpid, 3) AS INTEGER)",
        [vatId],
      )
      .map((r) => str(r[0]));
  }

  // ---- reference counts ----

  /** Counts one strong reference: a queued message, resolution data, an importer's c-list entry. */
  incref(kref: KRef): void {
    if (isPromiseKref(kref)) {
      const p = this.requirePromise(kref);
      p.refcount += 1;
      this.#putPromise(p);
    } else {
      const o = this.getObject(kref);
      if (!o) throw new StateError(`no object ${kref}`);
      o.reachable += 1;
      o.recognizable += 1;
      this.#putObject(o);
    }
  }

  decref(kref: KRef, { reachable = true } = {}): void {
    if (isPromiseKref(kref)) {
      const p = this.getPromise(kref);
      if (!p) return;
      p.refcount -= 1;
      if (p.refcount < 0) throw new StateError(`refcount of ${kref} went negative`);
      this.#putPromise(p);
      if (p.refcount === 0) this.#maybeFree.add(kref);
    } else {
      const o = this.getObject(kref);
      if (!o) return;
      if (reachable) o.reachable -= 1;
      o.recognizable -= 1;
      if (o.reachable < 0 || o.recognizable < 0) {
        throw new StateError(`refcount of ${kref} went negative`);
      }
      this.#putObject(o);
      if (o.reachable === 0) this.#maybeFree.add(kref);
    }
  }

  /** Turns one reachable reference into a merely recognizable one (a dropped import). */
  decrefReachable(kref: KRef): void {
    const o = this.getObject(kref);
    if (!o) return;
    o.reachable -= 1;
    if (o.reachable < 0) throw new StateError(`reachable count of ${kref} went negative`);
    this.#putObject(o);
    if (o.reachable === 0) this.#maybeFree.add(kref);
  }

  increfReachable(kref: KRef): void {
    const o = this.getObject(kref);
    if (!o) return;
    o.reachable += 1;
    this.#putObject(o);
  }

  increfSlots(slots: readonly KRef[]): void {
    for (const kref of slots) this.incref(kref);
  }

  decrefSlots(slots: readonly KRef[]): void {
    for (const kref of slots) this.decref(kref);
  }

  increfMessage(target: KRef | null, message: Message): void {
    if (target) this.incref(target);
    this.increfSlots(message.methargs.slots);
    if (message.result) this.incref(message.result);
  }

  decrefMessage(target: KRef | null, message: Message): void {
    if (target) this.decref(target);
    this.decrefSlots(message.methargs.slots);
    if (message.result) this.decref(message.result);
  }

  /**
   * Deletes promises nobody references and returns the objects whose exporters must be
   * told (reachable count 0: drop; recognizable count 0: retire). Call once per crank,
   * after all its changes.
   */
  collectGarbage(): { drop: Map<VatId, KRef[]>; retire: Map<VatId, KRef[]> } {
    const drop = new Map<VatId, KRef[]>();
    const retire = new Map<VatId, KRef[]>();
    // Freeing a promise releases its resolution's slots, which may free more.
    while (this.#maybeFree.size > 0) {
      const krefs = [...this.#maybeFree].sort(compareKrefs);
      this.#maybeFree.clear();
      for (const kref of krefs) {
        if (isPromiseKref(kref)) {
          const p = this.getPromise(kref);
          if (!p || p.refcount > 0) continue;
          this.#deletePromise(p);
        } else {
          const o = this.getObject(kref);
          if (!o) continue;
          if (o.owner === null || this.getVat(o.owner)?.state !== 'running') {
            if (o.recognizable === 0) this.deleteObject(kref);
            continue;
          }
          if (o.reachable === 0 && this.isExportReachable(o.owner, kref)) {
            push(drop, o.owner, kref);
          }
          if (o.recognizable === 0) {
            push(retire, o.owner, kref);
          }
        }
      }
    }
    return { drop, retire };
  }

  #deletePromise(p: PromiseRecord): void {
    this.#store.delete('promises', [p.kpid]);
    for (const vatId of this.#subscribers(p.kpid)) {
      this.#store.delete('promise_subscribers', [p.kpid, vatId]);
    }
    for (const r of this.#queuedOn(p.kpid)) {
      this.#store.delete('promise_queue', [p.kpid, r[1] as number]);
      this.decrefMessage(null, messageFromColumns(r[2], r[3], r[4], r[5]));
    }
    if (p.data) this.decrefSlots(p.data.slots);
  }

  // ---- pins: krefs held by callers outside the kernel ----

  /**
   * Keeps `kref` reachable for `caller` until released. A caller holds at most
   * `maxPins`; past that its oldest pins are released. Returns the krefs released so.
   */
  pin(caller: string, kref: KRef, maxPins: number): KRef[] {
    if (this.#store.get('pins', [caller, kref])) return [];
    this.incref(kref);
    this.#store.put('pins', [caller, kref, this.#next('pin')]);
    const excess = this.#store.all(
      'SELECT kref FROM pins WHERE caller = ? ORDER BY seq LIMIT max(0, (SELECT count(*) FROM pins WHERE caller = ?) - ?)',
      [caller, caller, maxPins],
    );
    const evicted = excess.map((r) => str(r[0]));
    for (const old of evicted) this.unpin(caller, old);
    return evicted;
  }

  /** Releases one pin; false if `caller` did not hold `kref`. */
  unpin(caller: string, kref: KRef): boolean {
    if (!this.#store.get('pins', [caller, kref])) return false;
    this.#store.delete('pins', [caller, kref]);
    this.decref(kref);
    return true;
  }

  isPinned(caller: string, kref: KRef): boolean {
    return this.#store.get('pins', [caller, kref]) !== undefined;
  }

  /** A caller's pins, oldest first. */
  pinsOf(caller: string): KRef[] {
    return this.#store
      .all('SELECT kref FROM pins WHERE caller = ? ORDER BY seq', [caller])
      .map((r) => str(r[0]));
  }

  /** Every caller holding a pin on `kref`. */
  pinnersOf(kref: KRef): string[] {
    return this.#store
      .all('SELECT caller FROM pins WHERE kref = ? ORDER BY caller', [kref])
      .map((r) => str(r[0]));
  }

  // ---- c-lists ----

  krefToVref(vatId: VatId, kref: KRef): VRef | undefined {
    const row = this.#store.get('clist', [vatId, kref]);
    return row ? str(row[2]) : undefined;
  }

  vrefToKref(vatId: VatId, vref: VRef): KRef | undefined {
    const [row] = this.#store.lookup('clist', 'byVref', [vatId, vref]);
    return row ? str(row[1]) : undefined;
  }

  /** Adds a c-list entry; an importer's entry (or any promise entry) holds a reference. */
  addClistEntry(vatId: VatId, kref: KRef, vref: VRef, counted: boolean): void {
    this.#store.put('clist', [vatId, kref, vref, 1]);
    if (counted) this.incref(kref);
  }

  isReachableFlag(vatId: VatId, kref: KRef): boolean {
    const row = this.#store.get('clist', [vatId, kref]);
    return row ? row[3] === 1 : false;
  }

  setReachableFlag(vatId: VatId, kref: KRef, reachable: boolean): void {
    const row = this.#store.get('clist', [vatId, kref]);
    if (!row) throw new StateError(`vat ${vatId} has no c-list entry for ${kref}`);
    this.#store.put('clist', [vatId, kref, row[2] as string, reachable ? 1 : 0]);
  }

  /** True if the owner of `kref` has not been told it was dropped. */
  isExportReachable(owner: VatId, kref: KRef): boolean {
    return this.isReachableFlag(owner, kref);
  }

  /** Deletes a c-list entry, releasing the reference it held (if it held one). */
  deleteClistEntry(vatId: VatId, kref: KRef, counted: boolean): void {
    const row = this.#store.get('clist', [vatId, kref]);
    if (!row) return;
    this.#store.delete('clist', [vatId, kref]);
    if (counted) this.decref(kref, { reachable: row[3] === 1 });
  }

  /** All c-list entries of a vat as [kref, vref, reachable], in kref order. */
  clistEntries(vatId: VatId): Array<[KRef, VRef, boolean]> {
    return this.#store
      .all('SELECT kref, vref, reachable FROM clist WHERE vat_id = ? ORDER BY kref', [
        vatId,
      ])
      .map((r) => [str(r[0]), str(r[1]), r[2] === 1]);
  }

  /** Vats other than the owner that hold `kref` in their c-list, in vat order. */
  importersOf(kref: KRef): VatId[] {
    const object = this.getObject(kref);
    if (!object) return [];
    return this.#store
      .lookup('clist', 'byKref', [kref])
      .map((r) => str(r[0]))
      .filter((vatId) => vatId !== object.owner)
      .sort(compareText);
  }

  /** Allocates the next import vref (`o-N` / `p-N`) for a vat. */
  allocateImportVref(vatId: VatId, kref: KRef): VRef {
    const vat = this.requireVat(vatId);
    const n = vat.nextImport;
    vat.nextImport = n + 1;
    this.putVat(vat);
    return `${isPromiseKref(kref) ? 'p' : 'o'}-${n}`;
  }

  // ---- the timer service's pending wake-ups ----

  /** Stores a wake-up, holding a reference to each kref it names; returns its id. */
  addTimer(timer: Omit<TimerRecord, 'timerId'>): number {
    const timerId = this.#next('timer');
    for (const kref of timerKrefs(timer)) this.incref(kref);
    this.#putTimer({ timerId, ...timer });
    return timerId;
  }

  #putTimer(t: TimerRecord): void {
    this.#store.put('timers', [
      t.timerId,
      t.owner,
      t.due,
      t.interval,
      t.handler,
      t.resultKpid,
      t.cancelToken,
    ]);
  }

  /** Moves a repeater to its next due time. */
  rescheduleTimer(timerId: number, due: number): void {
    const row = this.#store.get('timers', [timerId]);
    if (!row) throw new StateError(`no timer ${timerId}`);
    this.#putTimer({ ...timerFromRow(row), due });
  }

  /** Deletes a wake-up and drops the references it held. */
  deleteTimer(timerId: number): void {
    const row = this.#store.get('timers', [timerId]);
    if (!row) return;
    this.#store.delete('timers', [timerId]);
    for (const kref of timerKrefs(timerFromRow(row))) this.decref(kref);
  }

  // The timers are read from the store's memory copy, never in SQL: a query would first
  // write the rows waiting to be written (docs/store.md), and a vat that arms a timer in
  // every crank would make every crank write them. There are at most maxTimersPerVat a
  // vat, so a scan for the due ones costs less than the query did.

  /** Wake-ups due at or before `now`, in (due, timer_id) order. */
  dueTimers(now: number): TimerRecord[] {
    const due: TimerRecord[] = [];
    for (const row of this.#store.rows('timers')) {
      if (num(row[2]) <= now) due.push(timerFromRow(row));
    }
    return due.sort(byDue);
  }

  /** The earliest due time of any pending wake-up, or null if there is none. */
  earliestTimerDue(): number | null {
    let earliest: number | null = null;
    for (const row of this.#store.rows('timers')) {
      const due = num(row[2]);
      if (earliest === null || due < earliest) earliest = due;
    }
    return earliest;
  }

  /** Wake-ups `cancelToken` cancels, in timer_id order. */
  timersWithToken(cancelToken: KRef): TimerRecord[] {
    return this.#store
      .lookup('timers', 'byToken', [cancelToken])
      .map(timerFromRow)
      .sort((a, b) => a.timerId - b.timerId);
  }

  /** Pending wake-ups `owner` asked for (null: callers outside the kernel). */
  timerCount(owner: VatId | null): number {
    return this.#store.lookup('timers', 'byOwner', [owner]).length;
  }

  // ---- run queue, and the messages held for suspended vats ----

  enqueue(item: RunQueueItem): void {
    const seq = this.#next('runQueue');
    this.#store.put('run_queue', [seq, ...itemColumns(item)]);
  }

  /** Removes and returns the oldest run-queue item (with its seq), if any. */
  dequeue(): QueuedItem | undefined {
    const row = this.#store.first('run_queue');
    if (!row) return undefined;
    const seq = num(row[0]);
    this.#store.delete('run_queue', [seq]);
    return { seq, item: itemFromColumns(row.slice(1), `run queue item ${seq}`) };
  }

  /** Removes the run-queue item `seq`, if it is there. */
  removeQueued(seq: number): void {
    this.#store.delete('run_queue', [seq]);
  }

  runQueueLength(): number {
    return this.#store.count('run_queue');
  }

  /** True if the vat's first startVat is still on the run queue (it never started). */
  hasQueuedStartVat(vatId: VatId): boolean {
    for (const row of this.#store.rows('run_queue')) {
      if (row[1] === 'startVat' && row[2] === vatId) return true;
    }
    return false;
  }

  /** Sets a dequeued item aside for a suspended vat, keeping its place (its seq). */
  hold(vatId: VatId, { seq, item }: QueuedItem): void {
    this.#store.put('held_queue', [seq, vatId, ...itemColumns(item)]);
  }

  /**
   * Puts every item held for the vat back on the run queue with its own seq: they were
   * at the head when they were held, so they go back ahead of everything queued since.
   */
  releaseHeld(vatId: VatId, { dropStartVat = false } = {}): number {
    const held = this.heldFor(vatId);
    for (const { seq, item } of held) {
      this.#store.delete('held_queue', [seq]);
      // An upgrade starts the vat itself: a startVat its failed start left held is done.
      if (dropStartVat && item.kind === 'startVat') continue;
      this.#store.put('run_queue', [seq, ...itemColumns(item)]);
    }
    return held.length;
  }

  /** Removes and returns every item held for the vat, oldest first. */
  takeHeld(vatId: VatId): QueuedItem[] {
    const held = this.heldFor(vatId);
    for (const { seq } of held) this.#store.delete('held_queue', [seq]);
    return held;
  }

  /** The items held for a suspended vat, oldest first. */
  heldFor(vatId: VatId): QueuedItem[] {
    return this.#store
      .all(
        `SELECT seq, ${ITEM_COLUMNS} FROM held_queue WHERE held_for = ? ORDER BY seq`,
        [vatId],
      )
      .map((row) => {
        const seq = num(row[0]);
        return { seq, item: itemFromColumns(row.slice(1), `held item ${seq}`) };
      });
  }

  heldCount(vatId: VatId): number {
    return num(
      this.#store.one('SELECT count(*) FROM held_queue WHERE held_for = ?', [
        vatId,
      ])?.[0] ?? 0,
    );
  }

  // ---- vatstores ----

  /** A vat's whole vatstore, ordered by key, as initVat carries it. */
  /**
   * A vat's whole vatstore as the JSON text of its [key, value] pairs in key order, built
   * by SQLite: what `initVat` carries. One string crosses to a worker for a fraction of
   * what 100k pairs cost to build here and to clone.
   */
  loadVatstoreJson(vatId: VatId): string {
    // Ordered in the subquery, which walks the primary key: an ORDER BY inside the
    // aggregate sorts the rows again in a temporary b-tree (3× the time at 10k keys).
    // The supervisor sorts what arrives out of order, so the order is a saving only.
    const row = this.#store.one(
      'SELECT json_group_array(json_array(key, value)) FROM (SELECT key, value FROM vatstore WHERE vat_id = ? ORDER BY key)',
      [vatId],
    );
    return str(row?.[0] ?? '[]');
  }

  loadVatstore(vatId: VatId): Array<[string, string]> {
    return this.#store
      .all('SELECT key, value FROM vatstore WHERE vat_id = ? ORDER BY key', [vatId])
      .map((r) => [str(r[0]), str(r[1])]);
  }

  applyDelta(vatId: VatId, delta: CrankDelta): void {
    let sensitive = false;
    for (const [key, value] of delta.sets) {
      this.#store.put('vatstore', [vatId, key, value]);
      if (ORDER_SENSITIVE_KEY.test(key)) sensitive = true;
    }
    for (const key of delta.deletes) this.#store.delete('vatstore', [vatId, key]);
    if (sensitive && !this.#store.get('counters', [orderSensitiveCounter(vatId)])) {
      this.#store.put('counters', [orderSensitiveCounter(vatId), 1]);
    }
  }

  /**
   * Whether the vat's vatstore may be paged (docs/store.md "Paged vatstores"): the
   * kernel has looked at its keys (`scanOrderSensitiveKeys`, once per database) and no
   * key it has stored since holds a character JavaScript and SQLite order apart. Sticky:
   * deleting such a key does not make the vatstore pageable again.
   */
  vatstorePageable(vatId: VatId): boolean {
    return (
      this.#store.get('counters', [ORDER_SCANNED]) !== undefined &&
      this.#store.get('counters', [orderSensitiveCounter(vatId)]) === undefined
    );
  }

  /** True until `scanOrderSensitiveKeys` has run on this database. */
  get orderSensitiveKeysUnscanned(): boolean {
    return this.#store.get('counters', [ORDER_SCANNED]) === undefined;
  }

  /**
   * Marks every vat that stores a key with a character of U+E000–U+FFFF, in one pass
   * over the vatstores (a database from before paging; `applyDelta` keeps it after).
   */
  scanOrderSensitiveKeys(): void {
    const rows = this.#store.all(
      `SELECT DISTINCT vat_id FROM vatstore WHERE key GLOB '*[' || char(57344) || '-' || char(65535) || ']*'`,
    );
    for (const [vatId] of rows)
      this.#store.put('counters', [orderSensitiveCounter(str(vatId)), 1]);
    this.#store.put('counters', [ORDER_SCANNED, 1]);
  }

  /** Whether the vat's vatstore holds more than `count` keys (a seek, not a count). */
  vatstoreHasMoreThan(vatId: VatId, count: number): boolean {
    return (
      this.#store.one('SELECT 1 FROM vatstore WHERE vat_id = ? LIMIT 1 OFFSET ?', [
        vatId,
        count,
      ]) !== undefined
    );
  }

  /**
   * The first entries after `priorKey` in key order, at most `limit` and about `maxBytes`
   * (always one if there is one); with `leavePrefix`, only keys not starting with
   * `priorKey`. `end`: nothing follows. A paged vat's reads (VatstorePages.next).
   */
  vatstoreAfter(
    vatId: VatId,
    priorKey: string,
    { leavePrefix = false, limit = 32, maxBytes = 16_384 } = {},
  ): { entries: Array<[string, string]>; end: boolean } {
    let from: string | undefined = priorKey;
    let op = '>';
    if (leavePrefix) {
      from = keyAfterPrefix(priorKey);
      op = '>=';
      if (from === undefined) return { entries: [], end: true };
    }
    const rows = this.#store.all(
      `SELECT key, value FROM vatstore WHERE vat_id = ? AND key ${op} ? ORDER BY key LIMIT ?`,
      [vatId, from, limit + 1],
    );
    const entries: Array<[string, string]> = [];
    let bytes = 0;
    for (const row of rows.slice(0, limit)) {
      const entry: [string, string] = [str(row[0]), str(row[1])];
      bytes += entry[0].length + entry[1].length;
      if (entries.length > 0 && bytes > maxBytes) return { entries, end: false };
      entries.push(entry);
    }
    return { entries, end: rows.length <= limit };
  }

  /** One vatstore value, or undefined if the key is not set. */
  vatstoreGet(vatId: VatId, key: string): string | undefined {
    const row = this.#store.get('vatstore', [vatId, key]);
    return row ? str(row[2]) : undefined;
  }

  deleteVatstore(vatId: VatId): void {
    this.#store.delete('counters', [orderSensitiveCounter(vatId)]);
    for (const r of this.#store.all(
      'SELECT key FROM vatstore WHERE vat_id = ? ORDER BY key',
      [vatId],
    )) {
      this.#store.delete('vatstore', [vatId, str(r[0])]);
    }
  }

  /**
   * Up to `limit` entries of a vat's vatstore whose keys start with `prefix` and come
   * after `after` (the last key of the previous page), in key order. Each page is one
   * range seek on the (vat_id, key) primary key, so its cost does not grow with the store.
   */
  readVatstore(
    vatId: VatId,
    options: { prefix?: string; after?: string; limit: number },
  ): VatstorePage {
    const { prefix = '', after, limit } = options;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new StateError(
        `readVatstore: limit must be a positive integer, not ${limit}`,
      );
    }
    // One lower bound, so SQLite seeks to it rather than filtering from the other.
    const startAfter = after !== undefined && compareUtf8(after, prefix) >= 0;
    const upper = prefix === '' ? undefined : keyAfterPrefix(prefix);
    const params: Row = [vatId, startAfter ? (after as string) : prefix];
    if (upper !== undefined) params.push(upper);
    params.push(limit + 1);
    // Only these fixed fragments vary; every value is bound.
    const rows = this.#store.all(
      `SELECT key, value FROM vatstore WHERE vat_id = ? AND key ${startAfter ? '>' : '>='} ?${
        upper === undefined ? '' : ' AND key < ?'
      } ORDER BY key LIMIT ?`,
      params,
    );
    const more = rows.length > limit;
    return {
      entries: rows.slice(0, limit).map((r) => [str(r[0]), str(r[1])]),
      more,
    };
  }

  /** The labels of history's commits (docs/history.md), by name. */
  historyLabels(): Array<{ name: string; crank: number; seq: number }> {
    return this.#store
      .all('SELECT name, crank, seq FROM history_labels ORDER BY name')
      .map((r) => ({ name: str(r[0]), crank: num(r[1]), seq: num(r[2]) }));
  }

  /** Names a commit (or, with null, removes the name). */
  putHistoryLabel(name: string, label: { crank: number; seq: number } | null): void {
    if (label) this.#store.put('history_labels', [name, label.crank, label.seq]);
    else this.#store.delete('history_labels', [name]);
  }

  vatstoreStats(vatId: VatId): { keys: number; bytes: number } {
    const row = this.#store.one(
      'SELECT count(*), coalesce(sum(length(key) + length(value)), 0) FROM vatstore WHERE vat_id = ?',
      [vatId],
    );
    return { keys: num(row?.[0] ?? 0), bytes: num(row?.[1] ?? 0) };
  }

  // ---- pages for people (the panel's Objects view): read-only, bounded ----

  /**
   * One page of a vat's c-list, in kref order (kind, then number: ko2 before ko10),
   * entries after `after` (exclusive); `more` if entries follow.
   */
  clistPage(
    vatId: VatId,
    { after, limit }: { after?: KRef; limit: number },
  ): { entries: Array<{ kref: KRef; vref: VRef; reachable: boolean }>; more: boolean } {
    const [kind, n] = krefCursor(after);
    const rows = this.#store.all(
      `SELECT kref, vref, reachable FROM clist WHERE vat_id = ? AND ${KREF_AFTER} ORDER BY ${KREF_ORDER} LIMIT ?`,
      [vatId, kind, kind, n, limit + 1],
    );
    return {
      entries: rows
        .slice(0, limit)
        .map((r) => ({ kref: str(r[0]), vref: str(r[1]), reachable: r[2] === 1 })),
      more: rows.length > limit,
    };
  }

  /** One page of the kernel's promises in kpid order, after `after`, of one state if asked. */
  promisesPage({
    after,
    limit,
    state,
  }: {
    after?: KRef;
    limit: number;
    state?: PromiseState;
  }): { promises: PromiseRecord[]; more: boolean } {
    const [, n] = krefCursor(after);
    const rows = this.#store.all(
      `SELECT kpid FROM promises WHERE CAST(substr(kpid, 3) AS INTEGER) > ? AND (? IS NULL OR state = ?) ORDER BY CAST(substr(kpid, 3) AS INTEGER) LIMIT ?`,
      [n, state ?? null, state ?? null, limit + 1],
    );
    return {
      promises: rows.slice(0, limit).map((r) => this.requirePromise(str(r[0]))),
      more: rows.length > limit,
    };
  }

  /** The vats subscribed to `kpid` (told when it settles), in vat_id order. */
  subscribersOf(kpid: KRef): VatId[] {
    return this.#subscribers(kpid);
  }

  /** The messages waiting on unresolved `kpid`, oldest first, at most `limit`. */
  queuedOn(kpid: KRef, limit: number): { messages: Message[]; count: number } {
    const rows = this.#queuedOn(kpid);
    return {
      messages: rows
        .slice(0, limit)
        .map((r) => messageFromColumns(r[2], r[3], r[4], r[5])),
      count: rows.length,
    };
  }

  /** One page of the run queue in the order it runs (seq), after seq `after`. */
  runQueuePage({ after = 0, limit }: { after?: number; limit: number }): {
    items: QueuedItem[];
    more: boolean;
  } {
    const rows = this.#store.all(
      `SELECT seq, ${ITEM_COLUMNS} FROM run_queue WHERE seq > ? ORDER BY seq LIMIT ?`,
      [after, limit + 1],
    );
    return {
      items: rows.slice(0, limit).map((row) => {
        const seq = num(row[0]);
        return { seq, item: itemFromColumns(row.slice(1), `run queue item ${seq}`) };
      }),
      more: rows.length > limit,
    };
  }

  /** Pending wake-ups of the timer service in the order they come due, at most `limit`. */
  timersPage({ limit }: { limit: number }): {
    timers: TimerRecord[];
    more: boolean;
    total: number;
  } {
    const all = [...this.#store.rows('timers')].map(timerFromRow).sort(byDue);
    return { timers: all.slice(0, limit), more: all.length > limit, total: all.length };
  }

  /** The items held for suspended vats, in seq order, at most `limit`. */
  heldPage({ limit }: { limit: number }): {
    items: Array<QueuedItem & { vatId: VatId }>;
    more: boolean;
  } {
    const rows = this.#store.all(
      `SELECT seq, held_for, ${ITEM_COLUMNS} FROM held_queue ORDER BY seq LIMIT ?`,
      [limit + 1],
    );
    return {
      items: rows.slice(0, limit).map((row) => {
        const seq = num(row[0]);
        return {
          seq,
          vatId: str(row[1]),
          item: itemFromColumns(row.slice(2), `held item ${seq}`),
        };
      }),
      more: rows.length > limit,
    };
  }
}

/** Krefs in kind-then-number order, and the condition "after the cursor" for it. */
const KREF_ORDER = 'substr(kref, 1, 2), CAST(substr(kref, 3) AS INTEGER)';
const KREF_AFTER =
  '(substr(kref, 1, 2) > ? OR (substr(kref, 1, 2) = ? AND CAST(substr(kref, 3) AS INTEGER) > ?))';

/** A page cursor as [kind, number]: before every kref when there is none. */
function krefCursor(after: KRef | undefined): [string, number] {
  if (after === undefined) return ['', -1];
  return [after.slice(0, 2), Number(after.slice(2))];
}

/**
 * The `globals` column: the list of names, as it always was; with a `network`, an object
 * holding both (read either way, so no migration).
 */
function globalsColumn({ globals, network }: VatRecord): string {
  return JSON.stringify(network === null ? globals : { globals, network });
}

function globalsFromColumn(text: string): Pick<VatRecord, 'globals' | 'network'> {
  const parsed = JSON.parse(text) as
    string[] | { globals: string[]; network: VatNetwork };
  return Array.isArray(parsed)
    ? { globals: parsed, network: null }
    : { globals: parsed.globals, network: parsed.network };
}

const VAT_COLUMNS = TABLES.vats.columns.join(', ');

function timerFromRow(row: Row): TimerRecord {
  const krefOrNull = (v: unknown) => (v === null ? null : str(v));
  return {
    timerId: num(row[0]),
    owner: krefOrNull(row[1]),
    due: num(row[2]),
    interval: row[3] === null ? null : num(row[3]),
    handler: krefOrNull(row[4]),
    resultKpid: krefOrNull(row[5]),
    cancelToken: krefOrNull(row[6]),
  };
}

/** (due, timer_id) order: the order wake-ups fire in. */
function byDue(a: TimerRecord, b: TimerRecord): number {
  return a.due - b.due || a.timerId - b.timerId;
}

/** The krefs a wake-up holds a reference to. */
function timerKrefs(t: Omit<TimerRecord, 'timerId'>): KRef[] {
  return [t.handler, t.resultKpid, t.cancelToken].filter((k): k is KRef => k !== null);
}

function vatFromRow(row: Row): VatRecord {
  return {
    vatId: str(row[0]),
    name: str(row[1]),
    bundleId: str(row[2]),
    parameters: JSON.parse(str(row[3])) as CapData,
    ...globalsFromColumn(str(row[4])),
    incarnation: num(row[5]),
    state: str(row[6]) as VatLifecycle,
    rootKref: str(row[7]),
    nextImport: num(row[8]),
    reason: strOrNull(row[9]),
    deliveryTimeoutMs: row[10] === null ? null : num(row[10]),
    reapInterval:
      row[11] === null || row[11] === undefined
        ? null
        : num(row[11]) === 0
          ? 'never'
          : num(row[11]),
  };
}

const ITEM_COLUMNS = QUEUE_ITEM_COLUMNS.join(', ');

function itemColumns(item: RunQueueItem): Row {
  switch (item.kind) {
    case 'send':
      return [
        'send',
        null,
        item.target,
        item.message.methargs.body,
        JSON.stringify(item.message.methargs.slots),
        item.message.result,
        null,
        item.message.sender ?? null,
      ];
    case 'notify':
      return ['notify', item.vatId, item.kpid, null, null, null, null, null];
    case 'upgradeVat':
      return [
        'upgradeVat',
        item.vatId,
        item.bundleId,
        item.parameters.body,
        JSON.stringify(item.parameters.slots),
        item.result,
        null,
        null,
      ];
    case 'startVat':
    case 'bringOutYourDead':
    case 'settle':
      return [item.kind, item.vatId, null, null, null, null, null, null];
    case 'vatTimers':
      return [
        item.kind,
        item.vatId,
        String(item.incarnation),
        null,
        null,
        null,
        JSON.stringify(item.timers),
        null,
      ];
    default:
      return [
        item.kind,
        item.vatId,
        null,
        null,
        null,
        null,
        JSON.stringify(item.krefs),
        null,
      ];
  }
}

function itemFromColumns(row: Row, what: string): RunQueueItem {
  const kind = str(row[0]);
  switch (kind) {
    case 'send':
      return {
        kind,
        target: str(row[2]),
        message: messageFromColumns(row[3], row[4], row[5], row[7]),
      };
    case 'notify':
      return { kind, vatId: str(row[1]), kpid: str(row[2]) };
    case 'upgradeVat':
      return {
        kind,
        vatId: str(row[1]),
        bundleId: str(row[2]),
        parameters: { body: str(row[3]), slots: JSON.parse(str(row[4])) as string[] },
        result: strOrNull(row[5]),
      };
    case 'startVat':
    case 'bringOutYourDead':
    case 'settle':
      return { kind, vatId: str(row[1]) };
    case 'vatTimers':
      return {
        kind,
        vatId: str(row[1]),
        incarnation: Number(str(row[2])),
        timers: JSON.parse(str(row[6])) as number[],
      };
    case 'dropExports':
    case 'retireExports':
    case 'retireImports':
      return { kind, vatId: str(row[1]), krefs: JSON.parse(str(row[6])) as KRef[] };
    default:
      throw new StateError(`${what} has unknown kind ${kind}`);
  }
}

function messageFromColumns(
  body: unknown,
  slots: unknown,
  result: unknown,
  sender: unknown,
): Message {
  const message: Message = {
    methargs: { body: str(body), slots: JSON.parse(str(slots)) as string[] },
    result: strOrNull(result),
  };
  if (typeof sender === 'string') message.sender = sender;
  return message;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Compares strings as SQLite's BINARY collation does (UTF-8 bytes, i.e. code points),
 * which differs from JavaScript's UTF-16 order above U+FFFF.
 */
function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const ca = a.codePointAt(i) ?? 0;
    const cb = b.codePointAt(i) ?? 0;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i += 1;
  }
  return a.length - b.length;
}

/** The counter that marks the scan for order-sensitive keys done (scanOrderSensitiveKeys). */
const ORDER_SCANNED = 'vatstoreOrderScanned';
/** The counter that marks a vat as storing an order-sensitive key. */
const orderSensitiveCounter = (vatId: VatId): string => `vatstoreOrderSensitive.${vatId}`;

/**
 * The least string above every string that starts with `prefix` (its last code point
 * incremented, carrying past U+10FFFF), or undefined if there is none.
 */
function keyAfterPrefix(prefix: string): string | undefined {
  const points = [...prefix].map((c) => c.codePointAt(0) ?? 0);
  while (points.length > 0) {
    const last = (points.pop() as number) + 1;
    if (last <= 0x10ffff) {
      // Surrogate code points are not characters; the next one is U+E000.
      points.push(last >= 0xd800 && last <= 0xdfff ? 0xe000 : last);
      return String.fromCodePoint(...points);
    }
  }
  return undefined;
}

/** Orders text as SQLite's BINARY collation does, for the ASCII ids the kernel makes. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders krefs by kind then number (ko2 before ko10), for deterministic processing. */
export function compareKrefs(a: KRef, b: KRef): number {
  const ka = a.slice(0, 2);
  const kb = b.slice(0, 2);
  if (ka !== kb) return ka < kb ? -1 : 1;
  return Number(a.slice(2)) - Number(b.slice(2));
}
