/**
 * The timer service, a kernel service every host offers (docs/timers.md): durable
 * wake-ups that enter the run queue in time order. Times and durations are bigint
 * milliseconds (since the epoch, for times).
 *
 *   E(timer).getCurrentTimestamp()                 → the crank's time
 *   E(timer).wakeAt(time, handler?, cancelToken?)  → a promise fulfilled with `time`
 *   E(timer).setWakeup(time, handler, cancelToken?) → time
 *   E(timer).delay(ms, cancelToken?)               → a promise fulfilled with now + ms
 *   E(timer).repeatAfter(delay, interval, handler, cancelToken?)
 *   E(timer).cancel(cancelToken)                   → how many were cancelled
 *
 * A pending wake-up is a row of `timers` (kernel/state), holding a reference to each
 * kref it names until it fires for the last time or is cancelled. When it comes due the
 * kernel, between two cranks, queues its handler's `wake` (a send) or settles its
 * promise, in one committed step (fireDue).
 */
import { passStyleOf } from '@endo/pass-style';
import type { CapData } from '../protocol/index.ts';
import { krefOf, kser, kslot, kunser } from '../marshal/index.ts';
import type { KernelState, KRef, TimerRecord, VatId } from '../state/index.ts';
import { KernelError } from './errors.ts';
import type { Resolver } from './promises.ts';
import type { KernelService, ServiceCall } from './services.ts';
import type { TimerQueue } from './timer-queue.ts';

export const TIMER = 'timer';
export const DEFAULT_MAX_TIMERS_PER_VAT = 1000;
/** SwingSet's message for a cancelled wakeAt or delay. */
export const TIMER_CANCELLED = 'TimerCancelled';

export interface TimerServiceOptions {
  queue: TimerQueue;
  resolve: Resolver;
  /** Pending timers one vat may have (stored and heap); callers outside share one count. */
  maxTimersPerVat: number;
  /** Reports a handler's failed `wake`, as an error line of the handler's vat. */
  report(vatId: VatId | null, text: string): void;
}

type Method = (call: ServiceCall, ...args: unknown[]) => unknown;

export class TimerService implements KernelService {
  readonly #queue: TimerQueue;
  readonly #resolve: Resolver;
  readonly #max: number;
  readonly #report: TimerServiceOptions['report'];
  /**
   * The result promises of `wake` sends, in memory: a rejection is reported. (After a
   * kernel restart, wakes queued before it are no longer watched.)
   */
  readonly #watched = new Map<KRef, { timerId: number; handler: KRef }>();
  readonly #methods: Record<string, Method>;

  constructor(options: TimerServiceOptions) {
    this.#queue = options.queue;
    this.#resolve = options.resolve;
    this.#max = options.maxTimersPerVat;
    this.#report = options.report;
    this.#methods = {
      getCurrentTimestamp: () => BigInt(this.#queue.crankTime),
      wakeAt: (call, time, handler, token) =>
        this.#add(call, 'wakeAt', {
          due: timeArg(time, 'wakeAt', 'time'),
          handler: optionalObject(handler, 'wakeAt', 'handler'),
          token: optionalObject(token, 'wakeAt', 'cancelToken'),
          promise: true,
        }),
      setWakeup: (call, time, handler, token) => {
        const due = timeArg(time, 'setWakeup', 'time');
        this.#add(call, 'setWakeup', {
          due,
          handler: requiredObject(handler, 'setWakeup', 'handler'),
          token: optionalObject(token, 'setWakeup', 'cancelToken'),
          promise: false,
        });
        return BigInt(due);
      },
      delay: (call, ms, token) =>
        this.#add(call, 'delay', {
          due: this.#queue.crankTime + durationArg(ms, 'delay', 'delay'),
          handler: null,
          token: optionalObject(token, 'delay', 'cancelToken'),
          promise: true,
        }),
      repeatAfter: (call, delay, interval, handler, token) => {
        const first = durationArg(delay, 'repeatAfter', 'delay');
        const every = durationArg(interval, 'repeatAfter', 'interval');
        if (every < 1) {
          throw new KernelError('timer repeatAfter: interval must be at least 1n ms');
        }
        this.#add(call, 'repeatAfter', {
          due: this.#queue.crankTime + first,
          interval: every,
          handler: requiredObject(handler, 'repeatAfter', 'handler'),
          token: optionalObject(token, 'repeatAfter', 'cancelToken'),
          promise: false,
        });
        return undefined;
      },
      cancel: (call, token) =>
        this.#cancel(call, requiredObject(token, 'cancel', 'cancelToken')),
    };
  }

  invoke(call: ServiceCall, facet: string, method: string, args: unknown[]): unknown {
    const fn =
      facet === '' && Object.hasOwn(this.#methods, method)
        ? this.#methods[method]
        : undefined;
    if (!fn) {
      throw new KernelError(
        `the timer service has no method "${method}" (it has ${Object.keys(this.#methods).join(', ')})`,
      );
    }
    return fn(call, ...args);
  }

  /** How many timers `owner` has pending (stored and heap). */
  pendingOf(state: KernelState, owner: VatId | null): number {
    return state.timerCount(owner) + (owner === null ? 0 : this.#queue.heapCount(owner));
  }

  /** Whether `owner` may arm one more timer; a message naming the cap if not. */
  refusal(state: KernelState, owner: VatId | null): string | undefined {
    if (this.pendingOf(state, owner) < this.#max) return undefined;
    const who =
      owner === null
        ? 'callers outside the kernel have'
        : `vat "${state.getVat(owner)?.name ?? owner}" (${owner}) has`;
    return `${who} ${this.#max} pending timers, the most allowed (maxTimersPerVat); cancel one first`;
  }

  #add(
    call: ServiceCall,
    method: string,
    spec: {
      due: number;
      interval?: number;
      handler: KRef | null;
      token: KRef | null;
      promise: boolean;
    },
  ): unknown {
    const { state } = call;
    const refused = this.refusal(state, call.sender);
    if (refused) throw new KernelError(`timer ${method}: ${refused}`);
    const resultKpid = spec.promise ? state.createPromise(null) : null;
    state.addTimer({
      owner: call.sender,
      due: spec.due,
      interval: spec.interval ?? null,
      handler: spec.handler,
      resultKpid,
      cancelToken: spec.token,
    });
    call.afterCommit(() => this.#queue.storedAdded(spec.due));
    return resultKpid === null ? undefined : kslot(resultKpid);
  }

  #cancel(call: ServiceCall, token: KRef): number {
    const { state } = call;
    const timers = state.timersWithToken(token);
    for (const t of timers) {
      state.deleteTimer(t.timerId);
      if (
        t.resultKpid !== null &&
        state.getPromise(t.resultKpid)?.state === 'unresolved'
      ) {
        this.#resolve(t.resultKpid, true, kser(Error(TIMER_CANCELLED)));
      }
    }
    if (timers.length > 0) call.afterCommit(() => this.#queue.storedChanged());
    return timers.length;
  }

  /**
   * Inside a committed step: queues every wake-up due at `now` at the tail of the run
   * queue, stored ones and heap timers in one (due, then stored before heap, then the
   * order they were made in) order, and reschedules repeaters. False if none was due.
   */
  fireDue(state: KernelState, now: number): boolean {
    const stored = state.dueTimers(now);
    const heap = this.#queue.takeDueHeap(now);
    if (stored.length === 0 && heap.length === 0) return false;
    const events = [
      ...stored.map((t) => ({ due: t.due, order: 0, stored: t, heap: undefined })),
      ...heap.map((h) => ({ due: h.due, order: 1, stored: undefined, heap: h })),
    ].sort((a, b) => a.due - b.due || a.order - b.order);
    for (let i = 0; i < events.length; i += 1) {
      const event = events[i] as (typeof events)[number];
      if (event.stored) {
        this.#fire(state, event.stored, now);
        continue;
      }
      // Heap timers of one worker that follow each other share one settle delivery.
      const first = event.heap as NonNullable<typeof event.heap>;
      const ids = [first.id];
      for (let next = events[i + 1]; next?.heap; next = events[i + 1]) {
        if (
          next.heap.vatId !== first.vatId ||
          next.heap.incarnation !== first.incarnation
        ) {
          break;
        }
        ids.push(next.heap.id);
        i += 1;
      }
      state.enqueue({
        kind: 'vatTimers',
        vatId: first.vatId,
        incarnation: first.incarnation,
        timers: ids,
      });
    }
    if (stored.length > 0) this.#queue.storedChanged();
    return true;
  }

  #fire(state: KernelState, t: TimerRecord, now: number): void {
    let time = t.due;
    let missed = 0;
    if (t.interval !== null) {
      // Periods that went by while the kernel was stopped or busy fire once, counted.
      missed = Math.floor((now - t.due) / t.interval);
      time = t.due + missed * t.interval;
    }
    let ended = t.interval === null;
    if (t.handler !== null) {
      const gone = handlerGone(state, t.handler);
      if (gone === undefined) {
        const args: unknown[] = [BigInt(time)];
        if (t.interval !== null) args.push({ missed });
        this.#sendWake(state, t, kser(['wake', args]));
      } else if (t.interval !== null) {
        // Nothing could ever answer it again: a repeater would wake it for ever.
        this.#report(t.owner, `timer ${t.timerId}: repeater ended, ${gone}`);
        ended = true;
      }
    }
    if (t.resultKpid !== null && state.getPromise(t.resultKpid)?.state === 'unresolved') {
      this.#resolve(t.resultKpid, false, kser(BigInt(time)));
    }
    if (ended) state.deleteTimer(t.timerId);
    else state.rescheduleTimer(t.timerId, time + (t.interval as number));
  }

  #sendWake(state: KernelState, t: TimerRecord, methargs: CapData): void {
    const handler = t.handler as KRef;
    const result = state.createPromise(null);
    const message = { methargs, result };
    state.increfMessage(handler, message);
    state.enqueue({ kind: 'send', target: handler, message });
    this.#watched.set(result, { timerId: t.timerId, handler });
  }

  /** Every promise the kernel settles passes here: a wake's rejection is reported. */
  noteSettled(state: KernelState, kpid: KRef, rejected: boolean, data: CapData): void {
    const watched = this.#watched.get(kpid);
    if (!watched) return;
    this.#watched.delete(kpid);
    if (!rejected) return;
    const owner = state.getObject(watched.handler)?.owner ?? null;
    this.#report(
      owner,
      `timer ${watched.timerId}: its handler's wake failed: ${describe(data)}`,
    );
  }
}

/** Why a handler can never be woken (its vat terminated, its object abandoned), if so. */
function handlerGone(state: KernelState, handler: KRef): string | undefined {
  const object = state.getObject(handler);
  if (!object || object.owner === null) {
    return `its handler ${handler} was abandoned by its vat`;
  }
  const vat = state.getVat(object.owner);
  if (vat?.state === 'terminated') {
    return `the vat of its handler, "${vat.name}" (${vat.vatId}), was terminated`;
  }
  return undefined;
}

/** The message of a rejection, as far as it can be read. */
function describe(data: CapData): string {
  try {
    const reason = kunser(data) as unknown;
    return reason instanceof Error ? reason.message : JSON.stringify(reason);
  } catch {
    return data.body;
  }
}

const MAX_MS = BigInt(Number.MAX_SAFE_INTEGER);

/** A bigint or non-negative safe integer of ms; undefined if `value` is neither. */
function msOf(value: unknown): number | undefined {
  if (typeof value === 'bigint') {
    return value >= 0n && value <= MAX_MS ? Number(value) : undefined;
  }
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  }
  return undefined;
}

/** `value`, or its `field` when it is a SwingSet record `{ [field], timerBrand? }`. */
function unwrap(value: unknown, field: 'absValue' | 'relValue'): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (passStyleOf(value) !== 'copyRecord') return value;
  const keys = Object.keys(value);
  if (!keys.includes(field) || keys.some((k) => k !== field && k !== 'timerBrand')) {
    return value;
  }
  return (value as Record<string, unknown>)[field];
}

function shown(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) {
    try {
      return passStyleOf(value) === 'copyRecord'
        ? `a record with ${Object.keys(value).join(', ') || 'no fields'}`
        : `a ${passStyleOf(value)}`;
    } catch {
      return 'an object';
    }
  }
  return String(value);
}

function timeArg(value: unknown, method: string, name: string): number {
  const ms = msOf(unwrap(value, 'absValue'));
  if (ms === undefined) {
    throw new KernelError(
      `timer ${method}: ${name} must be milliseconds since the epoch, as a bigint (or a non-negative safe integer, or { absValue }); got ${shown(value)}`,
    );
  }
  return ms;
}

function durationArg(value: unknown, method: string, name: string): number {
  const ms = msOf(unwrap(value, 'relValue'));
  if (ms === undefined) {
    throw new KernelError(
      `timer ${method}: ${name} must be a duration in milliseconds, as a bigint (or a non-negative safe integer, or { relValue }); got ${shown(value)}`,
    );
  }
  return ms;
}

function requiredObject(value: unknown, method: string, name: string): KRef {
  let kref: string | undefined;
  try {
    kref = passStyleOf(value) === 'remotable' ? krefOf(value) : undefined;
  } catch {
    kref = undefined;
  }
  if (kref === undefined || !kref.startsWith('ko')) {
    throw new KernelError(
      `timer ${method}: ${name} must be an object (a Far or durable object)${name === 'handler' ? ' with a wake method' : ''}; got ${shown(value)}`,
    );
  }
  return kref;
}

function optionalObject(value: unknown, method: string, name: string): KRef | null {
  return value === undefined || value === null
    ? null
    : requiredObject(value, method, name);
}
