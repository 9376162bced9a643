/**
 * The serial lane: everything the kernel does happens here, one thing at a time. Control
 * operations (launch a cluster, queue a message from outside, restart a vat…) run
 * between cranks, before any further crank; the run queue can be held while controls
 * still run. The lane also knows when the kernel is idle, and stops for good on a kernel
 * bug or a storage failure, telling everyone who waits.
 */
import { KernelError } from './errors.ts';

export interface LaneWork {
  /**
   * Does the next piece of non-control work (a crank, a vat fault); false if there was
   * nothing to do. `paused`: the run queue is held.
   */
  next(paused: boolean): Promise<boolean>;
  /** True if `next` would find something to do. */
  pending(paused: boolean): boolean;
  /** True when nothing committed waits for storage. */
  settled(): boolean;
  /** The lane stopped for good; everyone outside waiting must hear why. */
  failed(error: unknown): void;
}

export interface LaneOptions {
  /** Told once, when the lane stops for good. Defaults to console.error. */
  onStop?: ((error: unknown) => void) | undefined;
}

interface Control {
  run: () => Promise<void>;
  reject: (error: unknown) => void;
}

export class SerialLane {
  readonly #work: LaneWork;
  readonly #onStop: (error: unknown) => void;
  readonly #controls: Control[] = [];
  #idleWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  #pumping = false;
  /** The loop's run, while it runs. */
  #running: Promise<void> = Promise.resolve();
  #paused = false;
  #broken: unknown;
  #shutdown = false;

  constructor(work: LaneWork, options: LaneOptions = {}) {
    this.#work = work;
    this.#onStop =
      options.onStop ?? ((error) => console.error('cask kernel stopped:', error));
  }

  get paused(): boolean {
    return this.#paused;
  }

  get broken(): unknown {
    return this.#broken;
  }

  /** True once stop() was called: work under way must not start anything new. */
  get stopping(): boolean {
    return this.#shutdown;
  }

  /** Runs `op` on the lane, between cranks. */
  control<T>(op: () => Promise<T>): Promise<T> {
    if (this.#shutdown) {
      return Promise.reject(new KernelError('the kernel was shut down'));
    }
    // A stopped kernel runs nothing more; saying so beats an answer that never comes.
    if (this.#broken !== undefined) {
      return Promise.reject(
        new KernelError(
          `the kernel stopped after an internal error: ${String(this.#broken)}`,
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      this.#controls.push({ run: () => op().then(resolve, reject), reject });
      this.pump();
    });
  }

  pause(): void {
    this.#paused = true;
  }

  unpause(): void {
    this.#paused = false;
    this.pump();
  }

  /**
   * Resolves when the kernel has nothing it could do: no control pending, no work (held
   * run-queue items do not count), and every committed crank durable.
   */
  whenIdle(): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken);
    if (this.#shutdown)
      return Promise.reject(new KernelError('the kernel was shut down'));
    return new Promise((resolve, reject) => {
      this.#idleWaiters.push({ resolve, reject });
      this.pump();
      this.checkIdle();
    });
  }

  /**
   * From now on the lane takes no more work: controls still waiting are rejected, and no
   * crank starts (one under way finishes; see `stopped`).
   */
  stop(): void {
    this.#shutdown = true;
    const error = new KernelError('the kernel was shut down');
    for (const control of this.#controls.splice(0)) control.reject(error);
    const idle = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of idle) w.reject(error);
  }

  /** Resolves once the loop has finished what it was doing when the lane stopped. */
  async stopped(): Promise<void> {
    await this.#running;
  }

  /** Starts the loop unless it runs (or the lane is stopped). */
  pump(): void {
    if (this.#pumping || this.#broken !== undefined || this.#shutdown) return;
    this.#pumping = true;
    this.#running = this.#loop().then(
      () => {
        this.#pumping = false;
        // Whatever arrived after the loop's last look (its pump saw it still pumping).
        if (
          !this.#shutdown &&
          (this.#controls.length > 0 || this.#work.pending(this.#paused))
        ) {
          this.pump();
        }
        this.checkIdle();
      },
      (error: unknown) => this.fail(error),
    );
  }

  /** A kernel bug or a storage failure: stop rather than run on in an unknown state. */
  fail(error: unknown): void {
    if (this.#broken !== undefined) return;
    this.#broken = error;
    this.#pumping = false;
    const idle = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of idle) w.reject(error);
    for (const control of this.#controls.splice(0)) control.reject(error);
    this.#work.failed(error);
    this.#onStop(error);
  }

  checkIdle(): void {
    if (
      this.#idleWaiters.length === 0 ||
      this.#pumping ||
      this.#controls.length > 0 ||
      !this.#work.settled() ||
      this.#work.pending(this.#paused)
    ) {
      return;
    }
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w.resolve();
  }

  async #loop(): Promise<void> {
    for (;;) {
      if (this.#shutdown) return;
      const control = this.#controls.shift();
      if (control) {
        await control.run();
        continue;
      }
      const ran = await this.#work.next(this.#paused);
      // A control may have arrived while the work awaited; only stop if nothing waits.
      if (!ran && this.#controls.length === 0 && !this.#work.pending(this.#paused)) {
        return;
      }
    }
  }
}
