/**
 * The panel's sends, kept at panel level (not in the Send view, which a tab switch
 * unmounts) and in sessionStorage (a reload of the panel keeps them too).
 *
 * A send is queued (`send` with `wait: 'queued'` and `pinResult`): the kernel answers
 * with the result's kpid once the message is durably on the run queue, and keeps that
 * promise pinned for the surface's caller, so its settlement outlives a service-worker
 * stop. The store then looks the kpid up (`promiseStatus`) whenever the kernel moved
 * (a crank, a status event, a reconnection) until it is settled, and releases the pin.
 */
import { useEffect, useState } from 'preact/hooks';
import { askKernel } from '../surface-client/index.ts';
import { errorText, type KernelFeed } from './kernel.ts';

export type SendTarget = { vat: string } | { kref: string };

export interface SendEntry {
  id: number;
  target: SendTarget;
  method: string;
  /** The args as typed (JSON text). */
  args: string;
  sentAt: number;
  /**
   * sending: the request is under way; queued: on the run queue, not settled;
   * fulfilled / rejected: settled; failed: the kernel refused it (or never got it);
   * lost: the kernel no longer knows its result promise.
   */
  state: 'sending' | 'queued' | 'fulfilled' | 'rejected' | 'failed' | 'lost';
  /** The target's kref, once the kernel answered. */
  kref?: string;
  kpid?: string;
  value?: unknown;
  error?: string;
}

/** What the Send form holds, kept across tab switches. */
export interface SendDraft {
  kind: 'vat' | 'kref';
  vat: string;
  kref: string;
  method: string;
  args: string;
}

const STORAGE = 'cask:panel:sends';
const DRAFT = 'cask:panel:send-draft';
/** Sends kept in the history (the newest). */
export const MAX_SENDS = 50;

function load<T>(key: string, fallback: T): T {
  try {
    const text = sessionStorage.getItem(key);
    return text === null ? fallback : (JSON.parse(text) as T);
  } catch {
    return fallback;
  }
}

function save(key: string, value: unknown): void {
  try {
    sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or off: the sends stay in memory for this page.
  }
}

export const targetLabel = (target: SendTarget): string =>
  'vat' in target ? `${target.vat} (root)` : target.kref;

export class SendStore {
  #entries: SendEntry[];
  #draft: SendDraft;
  #nextId: number;
  readonly #listeners = new Set<() => void>();
  /** Method names learnt per kref (`__getMethodNames__`), for this page. */
  readonly #methods = new Map<string, string[] | 'asking'>();
  #checking = false;
  #again = false;

  constructor() {
    // A send cut off mid-request by a reload never got its kpid: it cannot be found.
    this.#entries = load<SendEntry[]>(STORAGE, []).map((e) =>
      e.state === 'sending'
        ? {
            ...e,
            state: 'failed',
            error: 'the panel was reloaded before the kernel answered',
          }
        : e,
    );
    this.#draft = load<SendDraft>(DRAFT, {
      kind: 'vat',
      vat: '',
      kref: '',
      method: '',
      args: '[]',
    });
    this.#nextId = Math.max(0, ...this.#entries.map((e) => e.id)) + 1;
  }

  get entries(): readonly SendEntry[] {
    return this.#entries;
  }

  get draft(): SendDraft {
    return this.#draft;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  setDraft(patch: Partial<SendDraft>): void {
    this.#draft = { ...this.#draft, ...patch };
    save(DRAFT, this.#draft);
    this.#notify();
  }

  /** Looks the queued sends up again whenever the kernel moved or came back. */
  attach(feed: KernelFeed): () => void {
    let last = feed.state;
    const offCrank = feed.onCrank(() => this.check());
    const offState = feed.subscribe(() => {
      const now = feed.state;
      const back = now.connection === 'live' && last.connection !== 'live';
      // Only what can settle a send: a crank made durable, the queue resumed, a new
      // boot. (Every request is followed by a status event: this one's too.)
      const moved =
        now.status?.durableCrank !== last.status?.durableCrank ||
        now.status?.paused !== last.status?.paused ||
        now.status?.boot.id !== last.status?.boot.id;
      if (back || moved) this.check();
      last = now;
    });
    this.check();
    return () => {
      offCrank();
      offState();
    };
  }

  /** Queues `method(...args)` to `target`; resolves once the kernel has it queued. */
  async send(target: SendTarget, method: string, args: string, parsed: unknown[]) {
    const entry: SendEntry = {
      id: this.#nextId++,
      target,
      method,
      args,
      sentAt: Date.now(),
      state: 'sending',
    };
    this.#put(entry);
    try {
      const { target: kref, kpid } = await askKernel<{ target: string; kpid: string }>(
        'send',
        { target, method, args: parsed, wait: 'queued', pinResult: true },
      );
      this.#update(entry.id, { state: 'queued', kref, kpid });
      this.check();
    } catch (error) {
      this.#update(entry.id, { state: 'failed', error: errorText(error) });
    }
  }

  /** Forgets the settled and failed sends (queued ones stay). */
  clear(): void {
    this.#entries = this.#entries.filter(
      (e) => e.state === 'queued' || e.state === 'sending',
    );
    this.#persist();
  }

  /** Asks every queued send's result promise; one round at a time. */
  check(): void {
    if (this.#checking) {
      this.#again = true;
      return;
    }
    const queued = this.#entries.filter((e) => e.state === 'queued' && e.kpid);
    if (queued.length === 0) return;
    this.#checking = true;
    void (async () => {
      try {
        do {
          this.#again = false;
          for (const entry of this.#entries.filter((e) => e.state === 'queued')) {
            await this.#lookUp(entry);
          }
        } while (this.#again);
      } finally {
        this.#checking = false;
      }
    })();
  }

  async #lookUp(entry: SendEntry): Promise<void> {
    const kpid = entry.kpid as string;
    let status: { state: string; value?: unknown };
    try {
      status = await askKernel('promiseStatus', { kpid });
    } catch {
      // The worker is away: the next reconnection asks again.
      return;
    }
    if (status.state === 'unresolved') return;
    if (status.state === 'fulfilled' || status.state === 'rejected') {
      this.#update(entry.id, {
        state: status.state,
        value: status.value,
      });
      // The answer is here: the promise need not be kept any more.
      askKernel('releasePins', { krefs: [kpid] }).catch(() => undefined);
      return;
    }
    this.#update(entry.id, {
      state: 'lost',
      error: `the kernel no longer knows ${kpid}: its answer was not kept`,
    });
  }

  /**
   * The target's method names, learnt once per kref by sending it `__getMethodNames__`
   * (which every Far object and exo answers without running vat code of its own);
   * read with methodsOf. Never asked while the run queue is paused (it would wait).
   */
  learnMethods(kref: string, paused: boolean): void {
    if (!/^ko\d+$/u.test(kref) || this.#methods.has(kref) || paused) return;
    this.#methods.set(kref, 'asking');
    askKernel<{ result: { status: string; value: unknown } }>('send', {
      target: { kref },
      method: '__getMethodNames__',
      timeoutMs: 5000,
    }).then(
      ({ result }) => {
        const names = Array.isArray(result.value)
          ? result.value.filter(
              (n): n is string => typeof n === 'string' && !n.startsWith('__'),
            )
          : [];
        this.#methods.set(kref, result.status === 'fulfilled' ? names : []);
        this.#notify();
      },
      () => this.#methods.delete(kref),
    );
  }

  /** The method names learnt for `kref`, if any. */
  methodsOf(kref: string): readonly string[] {
    const known = this.#methods.get(kref);
    return Array.isArray(known) ? known : [];
  }

  #put(entry: SendEntry): void {
    this.#entries = [entry, ...this.#entries].slice(0, MAX_SENDS);
    this.#persist();
  }

  #update(id: number, patch: Partial<SendEntry>): void {
    this.#entries = this.#entries.map((e) => (e.id === id ? { ...e, ...patch } : e));
    this.#persist();
  }

  #persist(): void {
    save(STORAGE, this.#entries);
    this.#notify();
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}

/** The panel's one store of sends. */
export const sends = new SendStore();

/** Re-renders on every change of the sends or the draft. */
export function useSends(): SendStore {
  const [, setTick] = useState(0);
  useEffect(() => sends.subscribe(() => setTick((t) => t + 1)), []);
  return sends;
}
