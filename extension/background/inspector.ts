/**
 * What the panel watches: the recent cranks (with their deltas) and a live event stream.
 * Owns the crank history of this boot and the connected panels' ports.
 *
 * Every crank's delta is captured with old values (one indexed vatstore read per key it
 * touches), so a panel opened later can still show what recent cranks changed. Values
 * kept in the history are cut at 4 KiB.
 */
import type { Runtime } from 'webextension-polyfill';
import type { CrankDeltaRecord, CrankRecord, VatLogEntry } from '../../kernel/index.ts';
import {
  CRANK_EVENT_INTERVAL_MS,
  HISTORY,
  LOG_HISTORY,
  type CrankHistory,
  type CrankInfo,
  type KernelEvent,
  type VatLogInfo,
} from '../surface-protocol/index.ts';

const MAX_VALUE = 4096;
/** Status events are sent at most this often, however fast cranks run. */
const STATUS_INTERVAL_MS = 250;

const cut = (value: string | null): string | null =>
  value !== null && value.length > MAX_VALUE
    ? `${value.slice(0, MAX_VALUE)}… (${value.length} characters in all)`
    : value;

export class Inspector implements CrankHistory {
  readonly #cranks: CrankInfo[] = [];
  readonly #deltas = new Map<number, CrankDeltaRecord>();
  readonly #ports = new Set<Runtime.Port>();
  /** The newest vat log lines (at most LOG_HISTORY), oldest first. */
  readonly #logs: VatLogInfo[] = [];
  readonly #status: () => Promise<unknown>;
  #statusTimer: ReturnType<typeof setTimeout> | undefined;
  /** Cranks not yet sent to the panels, and the timer that sends them. */
  #unsent: CrankInfo[] = [];
  #crankTimer: ReturnType<typeof setTimeout> | undefined;

  /** @param status - the kernel status as the surface reports it */
  constructor(status: () => Promise<unknown>) {
    this.#status = status;
  }

  /** kernel onCrank hook. */
  recordCrank(record: CrankRecord, storeBytes: number): void {
    const { delta, ...rest } = record;
    const info: CrankInfo = { ...rest, at: Date.now(), storeBytes };
    this.#cranks.push(info);
    if (delta) {
      this.#deltas.set(record.crank, {
        vatId: delta.vatId,
        sets: delta.sets.map((s) => ({
          key: s.key,
          old: cut(s.old),
          new: cut(s.new) ?? '',
        })),
        deletes: delta.deletes.map((d) => ({ key: d.key, old: cut(d.old) })),
      });
    }
    while (this.#cranks.length > HISTORY) {
      const dropped = this.#cranks.shift();
      if (dropped) this.#deltas.delete(dropped.crank);
    }
    if (this.#ports.size > 0) {
      this.#unsent.push(info);
      this.#crankTimer ??= setTimeout(() => this.#sendCranks(), CRANK_EVENT_INTERVAL_MS);
    }
    this.statusChanged();
  }

  #sendCranks(): void {
    clearTimeout(this.#crankTimer);
    this.#crankTimer = undefined;
    const cranks = this.#unsent;
    this.#unsent = [];
    if (cranks.length > 0) this.#broadcast({ type: 'cranks', cranks });
  }

  /** kernel onVatLog hook: kept, and sent to the panels. */
  recordVatLog(entry: VatLogEntry): void {
    // A line comes after the cranks before it.
    this.#sendCranks();
    const line: VatLogInfo = { ...entry, at: Date.now() };
    this.#logs.push(line);
    if (this.#logs.length > LOG_HISTORY) this.#logs.shift();
    this.#broadcast({ type: 'vatLog', line });
  }

  recentVatLogs(limit: number): VatLogInfo[] {
    return this.#logs.slice(-limit);
  }

  recentCranks(limit: number): CrankInfo[] {
    return this.#cranks.slice(-limit);
  }

  crankDelta(crank: number): CrankDeltaRecord | undefined {
    return this.#deltas.get(crank);
  }

  /** Something in the status changed: tell the panels, at most every 250 ms. */
  statusChanged(): void {
    if (this.#ports.size === 0 || this.#statusTimer !== undefined) return;
    this.#statusTimer = setTimeout(() => {
      this.#statusTimer = undefined;
      this.#status().then(
        (status) => this.#broadcast({ type: 'status', status }),
        () => undefined,
      );
    }, STATUS_INTERVAL_MS);
  }

  /** A panel connected (runtime.connect with name EVENTS_PORT). */
  attach(port: Runtime.Port): void {
    this.#ports.add(port);
    port.onDisconnect.addListener(() => this.#ports.delete(port));
    // The page's keep-alive pings: receiving them is what keeps the worker up.
    port.onMessage.addListener(() => undefined);
    this.#status().then(
      (status) => port.postMessage({ type: 'status', status } satisfies KernelEvent),
      () => undefined,
    );
    // A panel opened later still sees what vats logged lately.
    for (const line of this.#logs) {
      port.postMessage({ type: 'vatLog', line } satisfies KernelEvent);
    }
  }

  /** Forgets the history (the kernel's state was replaced). */
  reset(): void {
    this.#unsent = [];
    this.#cranks.length = 0;
    this.#deltas.clear();
    this.#logs.length = 0;
  }

  #broadcast(event: KernelEvent): void {
    for (const port of this.#ports) {
      try {
        port.postMessage(event);
      } catch {
        this.#ports.delete(port);
      }
    }
  }
}
