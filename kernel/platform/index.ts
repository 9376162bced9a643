/**
 * What a host (Node, the browser extension) gives the kernel. The kernel imports no host;
 * a host implements these few services and hands them to `makeKernel`.
 */
import type { KernelToVat, VatstorePages } from '../protocol/index.ts';

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
  /**
   * Serves the vat's synchronous vatstore reads for a paged `initVat`, until the channel
   * ends. Only hosts where a vat can block for the kernel's answer have it (the Node
   * worker, over shared memory); without it the kernel sends the whole vatstore.
   */
  servePages?(pages: VatstorePages): void;
}

export interface VatLauncher {
  /** Starts an empty vat worker for `vatId`; the kernel then sends it `initVat`. */
  launch(vatId: string): Promise<VatChannel>;
  /** Whether the channels it launches serve a paged vat's reads (`servePages`). */
  readonly servesPages?: boolean;
}

export interface KernelPlatform {
  vats: VatLauncher;
  /** Milliseconds, monotonic; used for crank durations. */
  now(): number;
  /**
   * Calls `fire` once after `ms` milliseconds unless cancelled; the kernel's deadlines
   * (the watchdog) use it. Defaults to the realm's setTimeout.
   */
  setTimer?(ms: number, fire: () => void): () => void;
  /**
   * The wall clock of the timer service (docs/timers.md). Defaults to `realClock`:
   * Date.now and setTimeout. Tests give a manual clock they advance.
   */
  clock?: KernelClock;
}

/** A wall clock, and a way to be woken when it reaches a time. */
export interface KernelClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Calls `fire` once, when `now()` has reached `at` (or a little later, or earlier if
   * the host must: the kernel checks the time again), unless cancelled first.
   */
  wakeAt(at: number, fire: () => void): () => void;
}

/** setTimeout takes at most 2^31-1 ms; a later time is reached by waking early. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Date.now and setTimeout: the clock hosts use unless they bring their own. */
export const realClock: KernelClock = {
  now: () => Date.now(),
  wakeAt(at, fire) {
    const ms = Math.min(Math.max(0, at - Date.now()), MAX_TIMEOUT_MS);
    const handle = setTimeout(fire, ms);
    return () => clearTimeout(handle);
  },
};

/** The platform's timer, or the realm's setTimeout. */
export function timerOf(
  platform: KernelPlatform,
): (ms: number, fire: () => void) => () => void {
  if (platform.setTimer)
    return (ms, fire) =>
      (platform.setTimer as NonNullable<KernelPlatform['setTimer']>)(ms, fire);
  return (ms, fire) => {
    const handle = setTimeout(fire, ms);
    return () => clearTimeout(handle);
  };
}
