/**
 * The control surface's wire format, shared by the worker (extension/surface) and the
 * pages (extension/surface-client): constants and types only, so a page that imports
 * it pulls in none of the kernel.
 */
import type { CrankDeltaRecord, CrankRecord } from '../../kernel/index.ts';

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
}

export type KernelEvent =
  { type: 'crank'; crank: CrankInfo } | { type: 'status'; status: unknown };

/** What the surface asks of the worker's crank history. */
export interface CrankHistory {
  recentCranks(limit: number): CrankInfo[];
  crankDelta(crank: number): CrankDeltaRecord | undefined;
}
