/**
 * What the Objects view reads (requests `objects`, `promises`, `runQueue`): a vat's
 * c-list with each kref's counts and holders, the kernel's promises, and the run queue
 * in order. Values are JSON, references as `{ "$kref": … }`.
 */

/** One c-list entry of the `objects` request: what the vat exports or imports. */
export interface ClistEntryReport {
  kref: string;
  /** The vat's name for it: `o+N`/`p+N` it made (exports), `o-N`/`p-N` it was given. */
  vref: string;
  kind: 'object' | 'promise';
  direction: 'export' | 'import';
  /** The c-list's reachable flag: the vat can still use it (not only recognize it). */
  reachableFlag: boolean;
  /** An object's owner vat, or a promise's decider (null: the kernel, or settled). */
  owner: string | null;
  /** An object's reachable and recognizable counts (absent for promises). */
  reachable?: number;
  recognizable?: number;
  /** An object's importers (vats other than the owner with it in their c-list). */
  importers?: string[];
  /** A promise's state and refcount (absent for objects). */
  state?: 'unresolved' | 'fulfilled' | 'rejected';
  refcount?: number;
  /** Outside callers (the surface's "surface", …) that pinned it. */
  pinnedBy: string[];
}

export interface ObjectsPage {
  vatId: string;
  name: string;
  entries: ClistEntryReport[];
  /** Entries follow: ask again with `after` the last one's kref. */
  more: boolean;
}

/** A message as it waits: method, args, result promise, and the vat that sent it. */
export interface MessageReport {
  method: string | null;
  args: unknown;
  result: string | null;
  sender?: string;
}

/** One promise of the `promises` request. */
export interface PromiseReport {
  kpid: string;
  state: 'unresolved' | 'fulfilled' | 'rejected';
  /** The vat that decides it while unresolved (null: the kernel, or settled). */
  decider: string | null;
  refcount: number;
  /** Vats to notify when it settles. */
  subscribers: string[];
  /** Messages sent to it, waiting for it to settle: the first few, and how many. */
  queued: MessageReport[];
  queuedCount: number;
  /** The resolution, decoded, once settled. */
  value?: unknown;
}

export interface PromisesPage {
  promises: PromiseReport[];
  /** Promises follow: ask again with `after` the last one's kpid. */
  more: boolean;
}

/** One run-queue item (or one held for a suspended vat) of the `runQueue` request. */
export interface QueueItemReport {
  seq: number;
  kind: string;
  /** A send's target kref; the vat a notify, startVat, gc or upgrade item goes to. */
  target?: string;
  vatId?: string;
  /** A send's target's vat: the object's owner or the promise's decider, if any. */
  owner?: string | null;
  /** A send's message. */
  message?: MessageReport;
  /** A notify's promise, a gc item's krefs. */
  kpid?: string;
  krefs?: string[];
}

export interface RunQueuePage {
  /** In the order they will run. */
  items: QueueItemReport[];
  /** Items follow: ask again with `after` the last one's seq. */
  more: boolean;
  /** Items on the run queue in all. */
  length: number;
  paused: boolean;
  /** Items set aside for suspended vats (they run again, in place, on restart). */
  held: Array<QueueItemReport & { heldFor: string }>;
  heldMore: boolean;
}

/** A pending wake-up of the kernel's timer service (a row of `timers`). */
export interface TimerReport {
  timerId: number;
  /** The vat that asked, or null for a caller outside the kernel. */
  owner: string | null;
  /** When it comes due, ms since the epoch. */
  due: number;
  /** A repeater's period in ms; null for one wake-up. */
  interval: number | null;
  /** The object woken (`wake(time)`), if any. */
  handler: string | null;
  /** The promise it settles, if any. */
  resultKpid: string | null;
  cancelToken: string | null;
}

export interface TimersPage {
  /** In the order they come due. */
  timers: TimerReport[];
  more: boolean;
  /** Pending wake-ups in all. */
  total: number;
}
