/**
 * What the panel's views share: the kernel's shapes as the surface answers them, one
 * live feed (status and recent cranks, from the event stream) and small hooks for
 * requests. Views talk to the kernel only through extension/surface-client.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  HISTORY,
  askKernel,
  subscribeKernelEvents,
  type CrankInfo,
  type KernelEvent,
  type StatusReport,
  type VatLogInfo,
  type VatReport,
} from '../surface-client/index.ts';
import {
  shownOutcome,
  type CrankPage,
  type ResultState,
  type ShownOutcome,
} from '../surface-protocol/index.ts';

export type { CrankInfo, VatLogInfo };

/** The most vat log lines kept in memory. */
export const MAX_VAT_LOGS = 500;

/** The `status` request's result (and a `status` event's). */
export type KernelStatus = StatusReport;
/** One row of `listVats`. */
export type VatInfo = VatReport;

/** The most cranks kept in memory (what `recentCranks` keeps too). */
export const MAX_CRANKS = HISTORY;

/** "Name: message" for an error, as the surface names its refusals. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    return error.name && error.name !== 'Error'
      ? `${error.name}: ${error.message}`
      : error.message;
  }
  return String(error);
}

export type Connection = 'connecting' | 'live' | 'disconnected';

export interface FeedState {
  status: KernelStatus | null;
  statusError: string | null;
  /** Oldest first, at most MAX_CRANKS. */
  cranks: readonly CrankInfo[];
  cranksError: string | null;
  connection: Connection;
  connectionError: string | null;
  /** When the next reconnection attempt runs (epoch ms), while disconnected. */
  reconnectAt: number | null;
  /** What vats logged, oldest first, at most MAX_VAT_LOGS (the worker sends its recent ones on connect). */
  vatLogs: readonly VatLogInfo[];
}

/**
 * The kernel as the panel sees it live: the status and the recent cranks, loaded once
 * and then kept current from the event stream. If the stream drops (Chrome stops the
 * service worker), it reconnects, sooner if the connection had lasted, and reloads.
 */
export class KernelFeed {
  state: FeedState = {
    status: null,
    statusError: null,
    cranks: [],
    cranksError: null,
    connection: 'connecting',
    connectionError: null,
    reconnectAt: null,
    vatLogs: [],
  };

  readonly #listeners = new Set<() => void>();
  readonly #crankListeners = new Set<(crank: CrankInfo) => void>();
  #close: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #generation = 0;
  #retryMs = 1000;
  #notify: ReturnType<typeof setTimeout> | null = null;

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called for every live crank event (not for the ones loaded). */
  onCrank(listener: (crank: CrankInfo) => void): () => void {
    this.#crankListeners.add(listener);
    return () => this.#crankListeners.delete(listener);
  }

  /** Merges a partial status (e.g. setPaused's answer) into the one shown. */
  patchStatus(patch: Partial<KernelStatus>): void {
    if (this.state.status) this.#set({ status: { ...this.state.status, ...patch } });
  }

  /** (Re)opens the stream and reloads; `reset` forgets the cranks seen so far. */
  connect({ reset = false } = {}): void {
    this.#stop();
    // The worker sends its recent log lines again with the new stream.
    this.#set({ vatLogs: [] });
    if (reset) this.#set({ status: null, cranks: [] });
    const generation = ++this.#generation;
    const current = () => generation === this.#generation;
    const openedAt = Date.now();
    let statusEvent = false;
    // Crank events that arrive before recentCranks answers wait for it.
    let pending: CrankInfo[] | null = [];
    this.#set({ connection: 'connecting', connectionError: null, reconnectAt: null });

    const onEvent = (event: KernelEvent) => {
      if (!current()) return;
      if (this.state.connection !== 'live') this.#set({ connection: 'live' });
      if (event.type === 'status') {
        statusEvent = true;
        this.#set({ status: event.status as KernelStatus, statusError: null });
      } else if (event.type === 'vatLog') {
        this.#set({ vatLogs: [...this.state.vatLogs, event.line].slice(-MAX_VAT_LOGS) });
      } else {
        if (pending) pending.push(...event.cranks);
        else {
          let cranks = this.state.cranks;
          for (const crank of event.cranks) cranks = appendCrank(cranks, crank);
          this.#set({ cranks });
        }
        for (const crank of event.cranks) {
          for (const listener of this.#crankListeners) listener(crank);
        }
      }
    };
    const onDisconnect = () => {
      if (!current()) return;
      this.#close = null;
      // A connection that lasted was cut by an idle stop: come back soon. One that
      // dropped at once would drop again: back off.
      this.#retryMs = Date.now() - openedAt > 10_000 ? 1000 : this.#retryMs;
      this.#scheduleReconnect('the event stream closed');
    };
    try {
      this.#close = subscribeKernelEvents(onEvent, onDisconnect);
    } catch (error) {
      this.#scheduleReconnect(errorText(error));
      return;
    }

    askKernel<KernelStatus>('status').then(
      (status) => {
        if (!current()) return;
        this.#retryMs = 1000;
        this.#set({
          connection: 'live',
          ...(statusEvent ? {} : { status }),
          statusError: null,
        });
      },
      (error: unknown) => {
        if (current()) this.#set({ statusError: errorText(error) });
      },
    );
    askKernel<{ cranks: CrankInfo[] }>('recentCranks', { limit: MAX_CRANKS }).then(
      ({ cranks }) => {
        if (!current()) return;
        // The worker keeps the cranks of its own boot only: the ones this page saw
        // before it (and before the first the worker still has) stay.
        const first = cranks[0]?.crank ?? Infinity;
        let merged: readonly CrankInfo[] = [
          ...this.state.cranks.filter((c) => c.crank < first),
          ...cranks,
        ].slice(-MAX_CRANKS);
        for (const crank of pending ?? []) merged = appendCrank(merged, crank);
        pending = null;
        this.#set({ cranks: merged, cranksError: null });
      },
      (error: unknown) => {
        if (!current()) return;
        let merged = this.state.cranks;
        for (const crank of pending ?? []) merged = appendCrank(merged, crank);
        pending = null;
        this.#set({ cranks: merged, cranksError: errorText(error) });
      },
    );
  }

  dispose(): void {
    this.#generation += 1;
    this.#stop();
    if (this.#notify !== null) clearTimeout(this.#notify);
    this.#notify = null;
  }

  #scheduleReconnect(reason: string): void {
    const delay = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, 30_000);
    this.#set({
      connection: 'disconnected',
      connectionError: reason,
      reconnectAt: Date.now() + delay,
    });
    this.#timer = setTimeout(() => this.connect(), delay);
  }

  #stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const close = this.#close;
    this.#close = null;
    close?.();
  }

  #set(patch: Partial<FeedState>): void {
    this.state = { ...this.state, ...patch };
    // One render for a burst of events, however fast cranks run.
    this.#notify ??= setTimeout(() => {
      this.#notify = null;
      for (const listener of this.#listeners) listener();
    }, 30);
  }
}

/**
 * Appends a crank, keeping order by crank number: a number already seen (a crank the
 * kernel ran again after a restart) replaces that crank and everything after it.
 */
function appendCrank(cranks: readonly CrankInfo[], crank: CrankInfo): CrankInfo[] {
  const last = cranks[cranks.length - 1];
  const kept =
    last === undefined || last.crank < crank.crank
      ? cranks
      : cranks.filter((c) => c.crank < crank.crank);
  return [...kept.slice(-(MAX_CRANKS - 1)), crank];
}

/** The feed's state, re-rendering on every change. */
export function useFeed(feed: KernelFeed): FeedState {
  const [state, setState] = useState(feed.state);
  useEffect(() => {
    setState(feed.state);
    return feed.subscribe(() => setState(feed.state));
  }, [feed]);
  return state;
}

export interface Action<T> {
  busy: boolean;
  error: string | null;
  result: T | null;
  /**
   * Runs `work`; its error (never thrown) lands in `error`. By default a run asked for
   * while one is under way is ignored; with `latest`, it starts and only the latest
   * run's outcome is kept (for loads that follow inputs).
   */
  run: (work: () => Promise<T>) => Promise<void>;
  setError: (error: string | null) => void;
  reset: () => void;
}

/** One request (or a few) at a time, with its busy state, error and result. */
export function useAction<T>({ latest = false } = {}): Action<T> {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<T | null>(null);
  const runs = useRef({ running: 0, seq: 0, mounted: true });
  useEffect(() => {
    const r = runs.current;
    r.mounted = true;
    return () => {
      r.mounted = false;
    };
  }, []);
  const run = useCallback(
    async (work: () => Promise<T>) => {
      const r = runs.current;
      if (r.running > 0 && !latest) return;
      const seq = ++r.seq;
      const current = () => r.mounted && seq === r.seq;
      r.running += 1;
      setBusy(true);
      setError(null);
      try {
        const value = await work();
        if (current()) setResult(value);
      } catch (err) {
        if (current()) {
          setResult(null);
          setError(errorText(err));
        }
      } finally {
        r.running -= 1;
        if (r.mounted && r.running === 0) setBusy(false);
      }
    },
    [latest],
  );
  const reset = useCallback(() => {
    setError(null);
    setResult(null);
  }, []);
  return { busy, error, result, run, setError, reset };
}

/**
 * Coalesces calls: the first schedules `callback` in `ms`, and calls until it runs join
 * it. Unlike a debounce it still runs under a steady stream of calls (cranks).
 */
export function useCoalesced(callback: () => void, ms: number): () => void {
  const latest = useRef(callback);
  latest.current = callback;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
    },
    [],
  );
  return useCallback(() => {
    if (timer.current !== null) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      latest.current();
    }, ms);
  }, [ms]);
}

/**
 * The vats (listVats), loaded on mount; `refresh` reloads them (a refresh asked for
 * while one is under way runs once more after it, so the list is never left stale).
 */
export function useVats(): {
  vats: VatInfo[] | null;
  error: string | null;
  busy: boolean;
  refresh: () => Promise<void>;
} {
  const [vats, setVats] = useState<VatInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const flags = useRef({ running: false, again: false, mounted: true });
  const refresh = useCallback(async () => {
    const f = flags.current;
    if (f.running) {
      f.again = true;
      return;
    }
    f.running = true;
    setBusy(true);
    try {
      do {
        f.again = false;
        try {
          const list = await askKernel<VatInfo[]>('listVats');
          if (f.mounted) {
            setVats(list);
            setError(null);
          }
        } catch (err) {
          if (f.mounted) setError(errorText(err));
        }
      } while (f.again && f.mounted);
    } finally {
      f.running = false;
      if (f.mounted) setBusy(false);
    }
  }, []);
  useEffect(() => {
    const f = flags.current;
    f.mounted = true;
    void refresh();
    return () => {
      f.mounted = false;
    };
  }, [refresh]);
  return { vats, error, busy, refresh };
}

// --- The crank log (Cranks, Metrics) ---

/** A crank as the Cranks view and Metrics show it: from the log, or live from the stream. */
export interface PanelCrank {
  crank: number;
  kind: string;
  vatId: string | null;
  vatName?: string;
  method: string | null;
  outcome: CrankInfo['outcome'];
  detail?: string;
  durationMs: number;
  /** When it was written (from the log) or ended (live), ms since the epoch. */
  at?: number;
  deltaKeys: number;
  deltaBytes: number;
  /** The database's size after it (live cranks only). */
  storeBytes?: number;
  target?: string;
  result?: string;
  resultState?: ResultState;
  rejection?: string;
  settledIn?: number;
  resultValue?: unknown;
  group?: { firstCrank: number; lastCrank: number };
}

export interface CrankFilters {
  /** A vat id. */
  vat?: string;
  kind?: string;
  /** A part of the method's name (any case). */
  method?: string;
  outcome?: ShownOutcome;
}

/** Whether a live crank passes the filters, as the `cranks` request would judge it. */
export function crankMatches(crank: PanelCrank, filters: CrankFilters): boolean {
  const part = filters.method?.toLowerCase();
  return (
    (filters.vat === undefined || crank.vatId === filters.vat) &&
    (filters.kind === undefined || crank.kind === filters.kind) &&
    (part === undefined || (crank.method ?? '').toLowerCase().includes(part)) &&
    (filters.outcome === undefined || shownOutcome(crank) === filters.outcome)
  );
}

/**
 * Newest first, one row a crank: an incoming row replaces the one it joins (the log's
 * word over the stream's: a result settled since), keeping only a live size.
 */
function mergeCranks(
  rows: readonly PanelCrank[],
  incoming: readonly PanelCrank[],
): PanelCrank[] {
  const byCrank = new Map(rows.map((r) => [r.crank, r]));
  for (const row of incoming) {
    const had = byCrank.get(row.crank);
    byCrank.set(
      row.crank,
      had?.storeBytes !== undefined && row.storeBytes === undefined
        ? { ...row, storeBytes: had.storeBytes }
        : row,
    );
  }
  return [...byCrank.values()].sort((a, b) => b.crank - a.crank);
}

export interface CrankLog {
  /** Newest first. */
  cranks: readonly PanelCrank[];
  /** Older matching cranks remain in the log. */
  more: boolean;
  /** Matching cranks the retained log notes in all. */
  total: number | null;
  busy: boolean;
  error: string | null;
  loadOlder: () => void;
}

/**
 * The cranks the durable log notes (the `cranks` request, `pageSize` a page, newest
 * first), joined by the feed's live cranks as they commit, one row a crank. Reloads its
 * first page when the filters change and when the event stream comes back (the service
 * worker was stopped or the browser restarted: the log still has what ran).
 */
const NO_CRANKS: readonly PanelCrank[] = [];

export function useCrankLog(
  state: FeedState,
  filters: CrankFilters,
  pageSize = 200,
): CrankLog {
  const key = JSON.stringify(filters);
  // The rows with the filters they were read for: in the render between a filter change
  // and the effect that reloads, the old filter's rows must not show under the new one.
  const [page, setPage] = useState<{ key: string; rows: readonly PanelCrank[] }>({
    key,
    rows: [],
  });
  const logged = page.key === key ? page.rows : NO_CRANKS;
  const [more, setMore] = useState(false);
  const [total, setTotal] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const oldest = useRef<number | undefined>(undefined);

  const load = useCallback(
    async (before: number | undefined) => {
      const mine = generation.current;
      setBusy(true);
      try {
        const read = await askKernel<CrankPage>('cranks', {
          ...(JSON.parse(key) as CrankFilters),
          limit: pageSize,
          ...(before === undefined ? {} : { before }),
        });
        if (mine !== generation.current) return;
        const first = oldest.current === undefined;
        setPage((shown) => {
          const merged = mergeCranks(shown.key === key ? shown.rows : [], read.cranks);
          oldest.current = merged.at(-1)?.crank;
          return { key, rows: merged };
        });
        // A reload of the first page leaves "more" as the older pages said.
        if (before !== undefined || first) setMore(read.more);
        setTotal(read.total);
        setError(null);
      } catch (err) {
        if (mine === generation.current) setError(errorText(err));
      } finally {
        if (mine === generation.current) setBusy(false);
      }
    },
    [key, pageSize],
  );

  // New filters: start again from the newest.
  useEffect(() => {
    generation.current += 1;
    oldest.current = undefined;
    setPage({ key, rows: [] });
    setMore(false);
    setTotal(null);
    void load(undefined);
  }, [load, key]);

  // The stream is back (a stopped worker, a restarted browser): the log has what ran.
  const wasLive = useRef(state.connection === 'live');
  useEffect(() => {
    const live = state.connection === 'live';
    if (live && !wasLive.current) void load(undefined);
    wasLive.current = live;
  }, [state.connection, load]);

  const cranks = useMemo(() => {
    const f = JSON.parse(key) as CrankFilters;
    const newest = logged[0]?.crank ?? 0;
    // Live cranks newer than the log's page, and the ones it holds (for storeBytes).
    const live = state.cranks.filter(
      (c) =>
        crankMatches(c, f) &&
        (c.crank > newest || logged.some((l) => l.crank === c.crank)),
    );
    return live.length === 0 ? logged : mergeCranks(live, logged);
  }, [logged, state.cranks, key]);
  const unlogged =
    cranks.length > 0
      ? cranks.filter((c) => c.crank > (logged[0]?.crank ?? 0)).length
      : 0;

  const loadOlder = useCallback(() => {
    void load(oldest.current);
  }, [load]);
  return {
    cranks,
    more,
    total: total === null ? null : total + unlogged,
    busy,
    error,
    loadOlder,
  };
}
