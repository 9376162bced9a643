/**
 * The commit gate over a real store, with a crank log whose writes the test completes by
 * hand: group commit, the output embargo, whenDurable and a failed write; then, with
 * vats in this thread, that a result never reaches its caller before its crank is
 * durable.
 */
import initSqlJs from 'sql.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KernelStore, type RowChange } from '../store/index.ts';
import { makeKernel, type Kernel } from '../core/index.ts';
import { capdataToJson } from '../marshal/index.ts';
import { makeInProcessLauncher } from '../../test/fixtures/in-process-vats.ts';
import { resolveCluster, sampleVat } from '../../test/kernel-harness.ts';
import { CommitGate, type CommitLog } from './commit-gate.ts';

const SQL = await initSqlJs();

interface Write {
  changes: RowChange[];
  firstCrank: number;
  lastCrank: number;
  done: () => void;
  fail: (error: Error) => void;
}

/**
 * A crank log whose appends wait until the test completes (or fails) them; with
 * `passing` set, appends complete at once.
 */
function manualLog(): CommitLog & {
  writes: Write[];
  passing: boolean;
  /** Resolves at the next append that waits. */
  nextWrite(): Promise<void>;
} {
  const writes: Write[] = [];
  let waiters: Array<() => void> = [];
  return {
    writes,
    passing: false,
    nextWrite: () => new Promise<void>((resolve) => waiters.push(resolve)),
    append(changes, firstCrank, lastCrank) {
      if (this.passing) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        writes.push({ changes, firstCrank, lastCrank, done: resolve, fail: reject });
        const woken = waiters;
        waiters = [];
        for (const wake of woken) wake();
      });
    },
  };
}

let store: KernelStore;
let log: ReturnType<typeof manualLog>;
let gate: CommitGate;
let failures: unknown[];

/** Commits one crank numbered `crank` that sets counter `name`, with its releases. */
function commitCrank(crank: number, releases: Array<() => void> = []) {
  store.beginCrank();
  store.put('counters', [`c${crank}`, crank]);
  store.commitCrank();
  gate.committed(crank, releases);
}

/** Lets promise callbacks that are already due run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

beforeEach(() => {
  store = KernelStore.open(SQL);
  log = manualLog();
  failures = [];
  gate = new CommitGate(
    {
      store,
      log,
      onSettled: () => undefined,
      onFail: (error) => failures.push(error),
    },
    0,
  );
});

describe('CommitGate', () => {
  it('releases what a crank let out only once its write is durable', async () => {
    const released: number[] = [];
    commitCrank(1, [() => released.push(1)]);
    expect(log.writes).toHaveLength(1);
    expect(gate.durableCrank).toBe(0);
    await settle();
    expect(released).toEqual([]);
    log.writes[0]?.done();
    await settle();
    expect(released).toEqual([1]);
    expect(gate.durableCrank).toBe(1);
    expect(gate.settled).toBe(true);
  });

  it('groups cranks that commit during a write into the next write, in order', async () => {
    const released: number[] = [];
    commitCrank(1, [() => released.push(1)]);
    commitCrank(2, [() => released.push(2)]);
    commitCrank(3, [() => released.push(3)]);
    expect(log.writes).toHaveLength(1);
    expect(gate.settled).toBe(false);
    log.writes[0]?.done();
    await settle();
    expect(released).toEqual([1]);
    // Cranks 2 and 3 became one record.
    expect(log.writes).toHaveLength(2);
    expect(log.writes[1]).toMatchObject({ firstCrank: 2, lastCrank: 3 });
    expect(log.writes[1]?.changes.map((c) => c.key[0]).sort()).toEqual(['c2', 'c3']);
    log.writes[1]?.done();
    await settle();
    expect(released).toEqual([1, 2, 3]);
    expect(gate.lastCommittedCrank).toBe(3);
    expect(gate.durableCrank).toBe(3);
  });

  it('resolves whenDurable at once when all is durable, else after the write that holds it', async () => {
    await expect(gate.whenDurable('now')).resolves.toBe('now');
    commitCrank(1);
    let acked = false;
    void gate.whenDurable('one').then(() => {
      acked = true;
    });
    await settle();
    expect(acked).toBe(false);
    commitCrank(2); // joins the next write
    let ackedTwo = false;
    void gate.whenDurable('two').then(() => {
      ackedTwo = true;
    });
    log.writes[0]?.done();
    await settle();
    expect([acked, ackedTwo]).toEqual([true, false]);
    log.writes[1]?.done();
    await settle();
    expect(ackedTwo).toBe(true);
  });

  it('after a failed write releases nothing more, rejects acknowledgements and says so once', async () => {
    const released: number[] = [];
    commitCrank(1, [() => released.push(1)]);
    const ack = gate.whenDurable('one');
    commitCrank(2, [() => released.push(2)]);
    const failure = new Error('ENOSPC: no space left on device');
    log.writes[0]?.fail(failure);
    gate.fail(failure); // as the kernel does when it hears of it
    await expect(ack).rejects.toBe(failure);
    await settle();
    expect(released).toEqual([]);
    expect(failures).toEqual([failure]);
    expect(log.writes).toHaveLength(1);
    await expect(gate.drain()).rejects.toBe(failure);
    await expect(gate.whenDurable('later')).rejects.toBe(failure);
  });

  it('drains: resolves once every committed crank is durable', async () => {
    commitCrank(1);
    commitCrank(2);
    let drained = false;
    const draining = gate.drain().then(() => {
      drained = true;
    });
    log.writes[0]?.done();
    await settle();
    expect(drained).toBe(false);
    log.writes[1]?.done();
    await draining;
    expect(gate.settled).toBe(true);
  });

  it('without a log, is durable at once', () => {
    const memoryGate = new CommitGate(
      { store, onSettled: () => undefined, onFail: () => undefined },
      0,
    );
    const released: number[] = [];
    store.beginCrank();
    store.put('counters', ['c', 1]);
    store.commitCrank();
    memoryGate.committed(1, [() => released.push(1)]);
    expect(released).toEqual([1]);
    expect(memoryGate.durableCrank).toBe(1);
  });
});

describe('the embargo in a kernel, with vats in this thread', () => {
  let kernel: Kernel | undefined;
  afterEach(async () => {
    await kernel?.shutdown();
    kernel = undefined;
  });

  it('holds a result until the crank that settled it is durable', async () => {
    kernel = makeKernel({
      checkState: process.env['CASK_CHECK_STATE'] === '1',
      store,
      platform: { vats: makeInProcessLauncher(), now: () => performance.now() },
      commitLog: log,
    });
    log.passing = true;
    const { result } = await kernel.launchCluster(
      await resolveCluster({ counter: { source: sampleVat('counter.js') } }, 'counter'),
    );
    await result;
    await kernel.whenIdle();
    log.passing = false;
    let answered = false;
    const held = log.nextWrite();
    const increment = kernel
      .queueMessage(kernel.rootOf('counter'), 'increment', [])
      .then((s) => {
        answered = true;
        return s;
      });
    // The queueing step's write, then the crank's.
    await held;
    const crankWritten = log.nextWrite();
    log.passing = true;
    log.writes.shift()?.done();
    log.passing = false;
    await crankWritten;
    expect(kernel.status().crank).toBeGreaterThan(kernel.status().durableCrank);
    await settle();
    expect(answered).toBe(false);
    log.passing = true;
    log.writes.shift()?.done();
    expect(capdataToJson((await increment).data)).toBe(1);
  });
});
