/**
 * What one daemon request is: its name, the structs of its params and its result, a
 * deadline for the client's wait, and the handler, which gets only hooks. The same
 * handlers answer a request in the daemon (its kernel stays up) and in a CLI process
 * that opened the data directory itself (no daemon runs): only the hooks differ.
 * Adding a request is one new file here and one line in ./index.ts.
 */
import type { Struct } from '@metamask/superstruct';
import type { CutTail, KernelState, RecoveryReport } from '../../../kernel/index.ts';
import type { HistoryReader, NodeKernel } from '../../host/index.ts';

/** What `inspect` reads: the kernel's state, between cranks, and its storage's. */
export interface InspectionSource {
  state: KernelState;
  log: { records: number; bytes: number; lastSeq: number };
  checkpoint: { seq: number; bytes: number };
  /** A torn write recovery found and has not cut (a read-only open leaves it). */
  tornTail?: NonNullable<RecoveryReport['tornTail']>;
  skippedCheckpoints: RecoveryReport['skippedCheckpoints'];
  cutTails: CutTail[];
  leftovers: Array<{ path: string; what: string }>;
}

/** What the daemon says of itself. */
export interface DaemonSelf {
  pid: number;
  socket: string;
  startedAt: number;
  /** Begins the daemon's stop; resolves once everything acknowledged is durable. */
  stop(): Promise<{ crank: number; durableCrank: number; runQueueLength: number }>;
}

export interface RequestHooks {
  /** The data directory, as the user named it. */
  dataDir: string;
  /** True in the daemon: vats' heaps outlive this request. */
  keepsHeap: boolean;
  /** The kernel (opened, not yet resumed in a CLI process). */
  host(): Promise<NodeKernel>;
  /** Starts every vat (once; the daemon did at start). */
  resume(): Promise<void>;
  /** Runs `read` over what inspect shows, changing nothing. */
  inspect<R>(read: (source: InspectionSource) => Promise<R>): Promise<R>;
  /** Runs `read` over the kernel's history (docs/history.md), changing nothing. */
  readHistory<R>(read: (reader: HistoryReader) => Promise<R>): Promise<R>;
  /** The daemon itself; undefined in a CLI process. */
  daemon?: DaemonSelf;
}

export interface DaemonMethod<P, R> {
  name: string;
  params: Struct<P>;
  result: Struct<R>;
  /** How long a client waits for the answer. */
  deadlineMs(params: P): number;
  /**
   * Reads through `hooks.inspect` only: a CLI process with no daemon answers it from the
   * directory opened read-only, with no kernel (no vat starts, no byte changes).
   */
  readsOnly?: boolean;
  handler(hooks: RequestHooks, params: P): Promise<R>;
}

export function defineMethod<P, R>(method: DaemonMethod<P, R>): DaemonMethod<P, R> {
  return method;
}

/** A client's wait for anything quick. */
export const SHORT_DEADLINE_MS = 10_000;
/** A wait on vats (restart, terminate, a launch): starts and stops, each with its own deadline. */
export const LONG_DEADLINE_MS = 300_000;
