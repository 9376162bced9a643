/**
 * The control surface's wire format, shared by the worker (extension/surface) and the
 * pages (extension/surface-client): constants and types only, so a page that imports
 * it pulls in none of the kernel.
 */
import type {
  CrankDeltaRecord,
  CrankRecord,
  DurabilityStats,
  HistorySpace,
  ListedCommit,
  KernelStatus,
  LoggedCrank,
  RecoveryReport,
  ResultState,
  VatLogEntry,
} from '../../kernel/index.ts';

export type { ResultState };

/** `type` of a request: `chrome.runtime.sendMessage({ type: REQUEST, method, params })`. */
export const REQUEST = 'cask:request';

export type SurfaceAnswer =
  { ok: true; result: unknown } | { ok: false; error: { name: string; message: string } };

/** The name of the runtime port a page connects to for live events. */
export const EVENTS_PORT = 'cask:events';
/** Cranks the worker keeps in its history. */
export const HISTORY = 500;

export interface CrankInfo {
  crank: number;
  kind: string;
  vatId: string | null;
  method: string | null;
  outcome: CrankRecord['outcome'];
  detail?: string;
  durationMs: number;
  /** When it ended, ms since the epoch. */
  at: number;
  deltaKeys: number;
  deltaBytes: number;
  /** The database's size after it. */
  storeBytes: number;
  /** A send's target and result kpid; a notify's kpid (as target). */
  target?: string;
  result?: string;
  /** The result's state when the crank committed, and a rejection's reason (JSON). */
  resultState?: ResultState;
  rejection?: string;
}

/** One row of the `cranks` request: a crank the log notes, its vat named. */
export interface LoggedCrankRow extends LoggedCrank {
  vatName?: string;
}

/** The `cranks` request's answer. */
export interface CrankPage {
  /** Newest first. */
  cranks: LoggedCrankRow[];
  /** Older matching cranks remain: ask again with `before` the last one's crank. */
  more: boolean;
  /** Cranks matching the filters, in all the retained log notes. */
  total: number;
  /** The oldest crank the retained log notes, if any. */
  oldest?: number;
}

/** What a crank row shows as its outcome: a delivered message says what its result became. */
export const CRANK_OUTCOMES = [
  'ok',
  'fulfilled',
  'rejected',
  'pending',
  'fault',
  'no-delivery',
] as const;
export type ShownOutcome = (typeof CRANK_OUTCOMES)[number];

/**
 * The outcome shown for a crank: a fault or no delivery as such (a message the kernel
 * refused is rejected), a delivered message by its result's state (pending while
 * unresolved), anything else ok. Shared by the `cranks` filter and the panel.
 */
export function shownOutcome(crank: {
  outcome: string;
  result?: string;
  resultState?: ResultState;
}): ShownOutcome {
  if (crank.outcome === 'fault') return 'fault';
  if (crank.resultState === 'rejected') return 'rejected';
  if (crank.outcome === 'no-delivery') return 'no-delivery';
  if (crank.resultState === 'fulfilled') return 'fulfilled';
  if (crank.resultState === 'unresolved') return 'pending';
  return 'ok';
}

/** A line a vat logged (vatPowers.logger, testLog as level `test`), and when. */
export interface VatLogInfo extends VatLogEntry {
  at: number;
}

/** Vat log lines the worker keeps, and sends a panel when it connects. */
export const LOG_HISTORY = 500;

/** The most a worker waits before it sends the cranks that committed meanwhile. */
export const CRANK_EVENT_INTERVAL_MS = 100;

export type KernelEvent =
  /**
   * The cranks committed since the last such event, oldest first: one message per
   * CRANK_EVENT_INTERVAL_MS at most, since each runtime-port message costs the worker
   * about 0.4 ms (a message per crank took a sixth of a busy worker's time).
   */
  | { type: 'cranks'; cranks: CrankInfo[] }
  | { type: 'status'; status: unknown }
  | { type: 'vatLog'; line: VatLogInfo };

/** What the surface asks of the worker's crank history. */
export interface CrankHistory {
  recentCranks(limit: number): CrankInfo[];
  crankDelta(crank: number): CrankDeltaRecord | undefined;
}

/** The `status` request's result, and a status event's. */
export interface StatusReport extends KernelStatus {
  /** The database's size in bytes. */
  storeBytes: number;
  durability: DurabilityStats;
  /** The newest checkpoint this boot wrote: its log seq, and when it started. */
  lastCheckpoint: { seq: number; at: number } | null;
  recovery: RecoveryReport;
  boot: { id: string; at: number; firstRun: boolean };
  /** What became of the default cluster launched on the profile's first run. */
  defaultCluster: DefaultClusterReport | null;
}

export interface DefaultClusterReport {
  state: 'launching' | 'fulfilled' | 'rejected';
  /** The bootstrap result (JSON, references as `{ "$kref": … }`), once settled. */
  result?: unknown;
}

/** One vat in the `listVats` request's result. */
export interface VatReport {
  vatId: string;
  name: string;
  state: 'running' | 'suspended' | 'terminated';
  incarnation: number;
  /** The code version it runs: 1 until it is upgraded (`vatVersions`). */
  version: number;
  rootKref: string;
  /** Why it is suspended or terminated. */
  reason?: string;
  /** Messages waiting for it while it is suspended. */
  held: number;
  vatstore: { keys: number; bytes: number };
}

/** A bundle the extension ships (dist/bundles, listed by the build): `listBundles`. */
export interface ShippedBundle {
  /** The vat file it was built from, without `.js`: also its `bundleName`. */
  name: string;
  /** How a cluster config or an upgrade names it: "bundles/<name>.bundle.json". */
  bundleSpec: string;
  bundleId: string;
}

/** One of a vat's code versions: `vatVersions`. */
export interface VatVersionReport {
  version: number;
  /** The incarnation it started with. */
  incarnation: number;
  bundleId: string;
  /** The parameters it got (JSON, references as `{ "$kref": … }`). */
  parameters: unknown;
  /** The crank that upgraded the vat to it; null for the version it was created with. */
  crank: number | null;
  /** A shipped bundle with its bundleId, if there is one. */
  shippedAs?: string;
}

/** The `vatVersions` request's result. */
export interface VatVersionsReport {
  vatId: string;
  name: string;
  state: VatReport['state'];
  /** The version running (the last one). */
  current: number;
  /** Oldest first. */
  versions: VatVersionReport[];
}

/** The `upgradeVat` request's result: the kernel's outcome. */
export interface UpgradeReport {
  vatId: string;
  version: number;
  incarnationNumber: number;
  bundleId: string;
}

/** The `history` request's result: one page of retained commits, newest first. */
export interface HistoryPage {
  commits: ListedCommit[];
  /** Older commits remain: ask again with `before` the last one's seq. */
  more: boolean;
  /** Retained commits in all. */
  total: number;
  space: HistorySpace;
}

// The Objects view's requests: objects, promises, runQueue.
export type * from './objects.ts';
