/**
 * The commit gate: what stands between a committed crank and the world outside.
 *
 * - Group commit: committed cranks are written to the crank log as one record; cranks
 *   that commit while a write is in flight join the next one, so the run queue never
 *   waits for storage.
 * - Output embargo: whatever a crank lets out of the kernel (a result for a caller
 *   outside, an acknowledgement) is held here and released only once the write holding
 *   that crank is durable.
 * - A failed write is final: nothing after it is released, and the kernel is told.
 */
import type { KernelStore, RowChange } from '../store/index.ts';
import type { CrankNote } from './format.ts';

/** Where committed changes go to become durable (Durability, in this room). */
export interface CommitLog {
  /**
   * Resolves once the changes are durable; appends become durable in order.
   * `betweenCranks`: no crank is open, so the log may export the database now (a
   * checkpoint) and the image holds exactly the changes appended so far.
   */
  append(
    changes: RowChange[],
    firstCrank: number,
    lastCrank: number,
    options?: { betweenCranks?: boolean; cranks?: CrankNote[] },
  ): Promise<void>;
}

export interface CommitGateOptions {
  store: KernelStore;
  /** Without it, commits are "durable" at once (a kernel in memory). */
  log?: CommitLog;
  /** Called with the rows each store commit changed (one crank or a group of them). */
  onCommit?: (changes: RowChange[], lastCrank: number) => void;
  /** Called when every crank up to `crank` is durable. */
  onDurable?: (crank: number) => void;
  /** Called after each write, when the gate may have become settled. */
  onSettled: () => void;
  /** Called once, when a write failed. */
  onFail: (error: unknown) => void;
}

export class CommitGate {
  readonly #options: CommitGateOptions;
  readonly #store: KernelStore;
  /** Releases waiting for changes not yet being written, run once the next write is durable. */
  #unreleased: Array<() => void> = [];
  /** Releases waiting for the write in flight. */
  #inFlightReleases: Array<() => void> = [];
  /** Rejecters of whenDurable promises, called if the gate fails. */
  readonly #ackRejects = new Set<(e: unknown) => void>();
  #firstUnflushedCrank: number | undefined;
  #lastCommittedCrank: number;
  #durableCrank: number;
  /** The write in flight, if any. */
  #flushing: Promise<void> | undefined;
  #failure: unknown;
  /** Notes of committed cranks, written with the next record. */
  #notes: CrankNote[] = [];

  constructor(options: CommitGateOptions, lastCrank: number) {
    this.#options = options;
    this.#store = options.store;
    this.#lastCommittedCrank = lastCrank;
    this.#durableCrank = lastCrank;
  }

  get lastCommittedCrank(): number {
    return this.#lastCommittedCrank;
  }

  get durableCrank(): number {
    return this.#durableCrank;
  }

  /** True when nothing committed waits to be written and no write is in flight. */
  get settled(): boolean {
    return this.#flushing === undefined && !this.#store.hasPendingChanges;
  }

  /**
   * A step was committed (a crank, or a control step with `crank` undefined): its
   * releases wait until it is durable. A write starts now unless one is in flight, in
   * which case this step joins the next write.
   */
  committed(crank: number | undefined, releases: Array<() => void>): void {
    this.#unreleased.push(...releases);
    if (crank !== undefined) {
      this.#firstUnflushedCrank ??= crank;
      this.#lastCommittedCrank = crank;
    }
    if (this.#flushing === undefined) this.#flush();
  }

  /**
   * Notes a crank for the log's next record (what inspectors read back); a crank's note
   * goes in before it is committed, to be written with it.
   */
  note(note: CrankNote): void {
    this.#notes.push(note);
  }

  /** Resolves to `value` once every change committed so far is durable. */
  whenDurable<T>(value: T): Promise<T> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise<T>((resolve, reject) => {
      const release = () => {
        this.#ackRejects.delete(reject);
        resolve(value);
      };
      if (this.#store.hasPendingChanges) this.#unreleased.push(release);
      else if (this.#flushing !== undefined) this.#inFlightReleases.push(release);
      else {
        resolve(value);
        return;
      }
      this.#ackRejects.add(reject);
    });
  }

  /** Resolves once every committed change is durable; rejects if a write failed. */
  async drain(): Promise<void> {
    while (this.#flushing !== undefined || this.#store.hasPendingChanges) {
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#flushing === undefined) this.#flush();
      await this.#flushing;
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** The kernel stopped: acknowledgements still waiting are rejected. */
  fail(error: unknown): void {
    for (const reject of this.#ackRejects) reject(error);
    this.#ackRejects.clear();
  }

  /** Writes what the committed cranks changed, then releases what waited for it. */
  #flush(): void {
    const changes = this.#store.takeChanges();
    const released = this.#unreleased;
    this.#unreleased = [];
    const last = this.#lastCommittedCrank;
    const first = this.#firstUnflushedCrank ?? last;
    this.#firstUnflushedCrank = undefined;
    if (changes.length > 0) this.#options.onCommit?.(changes, last);
    const { log } = this.#options;
    // Notes wait for a record to ride with (a kernel in memory keeps none).
    const cranks = this.#notes;
    this.#notes = !log ? [] : changes.length === 0 ? cranks : [];
    if (!log || changes.length === 0) {
      this.#durableCrank = last;
      for (const release of released) release();
      return;
    }
    this.#inFlightReleases = released;
    const betweenCranks = !this.#store.inCrank;
    this.#flushing = log
      .append(changes, first, last, {
        betweenCranks,
        ...(cranks.length > 0 ? { cranks } : {}),
      })
      .then(
        () => {
          this.#flushing = undefined;
          this.#inFlightReleases = [];
          this.#durableCrank = last;
          this.#options.onDurable?.(last);
          for (const release of released) release();
          // Cranks that committed meanwhile form the next group, written now even while
          // a crank is open (waiting on a vat): what committed never waits on what runs.
          if (this.#store.hasPendingChanges) this.#flush();
          this.#options.onSettled();
        },
        (error: unknown) => {
          this.#flushing = undefined;
          this.#failure = error;
          this.#options.onFail(error);
        },
      );
  }
}
