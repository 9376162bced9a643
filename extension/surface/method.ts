/**
 * What one surface request is: its name, the struct its params must match, and the
 * handler, which gets only the hooks it needs. Adding a request is one new file in
 * ./requests and one line in ./requests/index.ts.
 */
import { defaulted, integer, size, type Struct } from '@metamask/superstruct';
import type {
  ClusterConfig,
  Durability,
  HistoryReader,
  Kernel,
  RecoveryReport,
  ResolvedCluster,
  RestoreOutcome,
  VatBundle,
  VatCode,
} from '../../kernel/index.ts';
import type {
  CrankHistory,
  DefaultClusterReport,
  ShippedBundle,
} from '../surface-protocol/index.ts';

export type { DefaultClusterReport };

/** The booted kernel as requests see it. */
export interface SurfaceHost {
  kernel: Kernel;
  durability: Durability;
  recovery: RecoveryReport;
  isNew: boolean;
  bootedAt: number;
  bootId: string;
  lastCheckpoint: { seq: number; at: number } | null;
  storeBytes(): number;
}

export interface SurfaceHooks {
  /** The booted kernel of this service worker (waits for the boot). */
  host(): Promise<SurfaceHost>;
  /** Turns a validated cluster config into bundles the kernel can launch. */
  resolveCluster(config: ClusterConfig): Promise<ResolvedCluster>;
  /** What became of the default cluster launched on the profile's first run. */
  defaultCluster(): Promise<DefaultClusterReport | undefined>;
  /**
   * The bundle a vat's code names (inline, or shipped with the extension), as a cluster
   * config's would be read; refusals begin with `prefix` and the code's field.
   */
  readBundle(code: VatCode, prefix: string): Promise<VatBundle>;
  /** The bundles the extension ships. */
  shippedBundles(): Promise<ShippedBundle[]>;
  /** The recent cranks and their deltas. */
  inspector(): CrankHistory;
  /** Stops the kernel and boots it again from storage; resolves to the new boot. */
  restartKernel(): Promise<SurfaceHost>;
  /** The booted kernel's history (docs/history.md). */
  history: SurfaceHistory;
}

/** What the history requests need of the host. */
export interface SurfaceHistory {
  /** Runs `read` between cranks, once everything committed is durable. */
  read<T>(read: (reader: HistoryReader) => Promise<T>): Promise<T>;
  label(
    crank: number,
    name: string,
  ): Promise<{ crank: number; seq: number; name: string }>;
  unlabel(name: string): Promise<{ crank: number; seq: number; name: string }>;
  /**
   * Brings the whole kernel back to the state after `crank`, as a new commit, and boots
   * it again from there (vats relaunched); refused, nothing changed, for a crank not
   * retained.
   */
  restore(crank: number): Promise<RestoreOutcome & { bootId: string }>;
}

export interface SurfaceMethod<P, R> {
  name: string;
  params: Struct<P>;
  handler(hooks: SurfaceHooks, params: P): Promise<R>;
}

/** A refusal the caller caused (bad params, unknown vat): reported as it is. */
export class SurfaceError extends Error {
  override name = 'SurfaceError';
}

export function defineMethod<P, R>(method: SurfaceMethod<P, R>): SurfaceMethod<P, R> {
  return method;
}

/** The most entries any page of a request carries. */
export const MAX_PAGE = 1000;

/** A page's `limit` param: 1 to MAX_PAGE (at most `max`, if smaller), `preset` when absent. */
export function pageLimit(preset: number, max = MAX_PAGE): Struct<number, null> {
  return defaulted(size(integer(), 1, max), preset);
}
