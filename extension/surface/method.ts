/**
 * What one surface request is: its name, the struct its params must match, and the
 * handler, which gets only the hooks it needs. Adding a request is one new file in
 * ./requests and one line in ./requests/index.ts.
 */
import type { Struct } from '@metamask/superstruct';
import type { Inspector } from '../background/inspector.ts';
import type { KernelHost } from '../background/kernel-host.ts';
import type { ClusterConfig, ResolvedCluster } from '../../kernel/index.ts';

export interface DefaultClusterReport {
  state: 'launching' | 'fulfilled' | 'rejected';
  /** The bootstrap result (JSON, references as `{ "$kref": … }`), once settled. */
  result?: unknown;
}

export interface SurfaceHooks {
  /** The booted kernel of this service worker (waits for the boot). */
  host(): Promise<KernelHost>;
  /** Turns a validated cluster config into bundles the kernel can launch. */
  resolveCluster(config: ClusterConfig): Promise<ResolvedCluster>;
  /** What became of the default cluster launched on the profile's first run. */
  defaultCluster(): Promise<DefaultClusterReport | undefined>;
  /** The recent cranks and their deltas. */
  inspector(): Inspector;
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
