/**
 * What a host (Node, the browser extension) gives the kernel. The kernel imports no host;
 * a host implements these few services and hands them to `makeKernel`.
 */
import type { KernelToVat } from '../protocol/index.ts';

/** A live, bidirectional message channel to one vat incarnation. */
export interface VatChannel {
  /** Posts one message to the vat. Never throws for a dead vat; `onExit` reports that. */
  send(message: KernelToVat): void;
  /** Registers the single handler for every message the vat posts (not yet validated). */
  onMessage(handler: (message: unknown) => void): void;
  /** Registers the single handler called once if the vat dies on its own (crash, exit). */
  onExit(handler: (reason: string) => void): void;
  /** Stops the vat and frees its resources. Idempotent. */
  close(): Promise<void>;
}

export interface VatLauncher {
  /** Starts an empty vat worker for `vatId`; the kernel then sends it `initVat`. */
  launch(vatId: string): Promise<VatChannel>;
}

export interface KernelPlatform {
  vats: VatLauncher;
  /** Milliseconds, monotonic; used for crank durations. */
  now(): number;
}
