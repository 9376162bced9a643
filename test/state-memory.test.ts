/**
 * The store keeps the kernel's tables in memory and writes each crank's changes to
 * sql.js once, at commit (kernel/store, docs/store.md). These tests hold it to that: a
 * ping-pong delivery costs a few statements, the memory copy stays equal to the tables
 * (the CASK_CHECK_STATE check), and the check does catch a memory copy that went astray.
 */
import { resolve } from 'node:path';
import initSqlJs, { type SqlJsStatic } from 'sql.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KernelState, KernelStore } from '../kernel/index.ts';
import { bundleVatSource } from './fixtures/bundle-cache.ts';
import { makeNodeKernel } from '../node/host/index.ts';
import { makeInProcessLauncher } from './fixtures/in-process-vats.ts';
import { vatRow } from './fixtures/store-rows.ts';

let SQL: SqlJsStatic;
beforeAll(async () => {
  SQL = await initSqlJs();
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function pingPong(options: { checkState: boolean }) {
  let deliveries = 0;
  const host = await makeNodeKernel({
    launcher: makeInProcessLauncher(),
    checkState: options.checkState,
    onCrank: (r) => {
      if (r.outcome === 'ok' && r.kind !== 'bringOutYourDead') deliveries += 1;
    },
  });
  cleanups.push(() => host.close());
  const { kernel } = host;
  const vat = async (file: string) => ({
    bundle: await bundleVatSource(resolve(import.meta.dirname, '../bench/vats', file)),
    parameters: { writeBytes: 0 },
    globals: [],
  });
  await (
    await kernel.launchCluster({
      bootstrap: 'pinger',
      vats: { pinger: await vat('pinger.js'), ponger: await vat('ponger.js') },
    })
  ).result;
  await kernel.whenIdle();
  const ponger = { $kref: kernel.rootOf('ponger') };
  const run = async (rounds: number) => {
    const before = { statements: host.store.statements, deliveries };
    const s = await kernel.queueMessage(kernel.rootOf('pinger'), 'run', [ponger, rounds]);
    expect(s.rejected).toBe(false);
    await kernel.whenIdle();
    return {
      statements: host.store.statements - before.statements,
      deliveries: deliveries - before.deliveries,
    };
  };
  return { host, run };
}

describe('kernel state in memory', () => {
  it('a ping-pong delivery runs less than one SQL statement: its rows are written behind', async () => {
    const { host, run } = await pingPong({ checkState: false });
    await run(20); // warm-up: the first rounds create the c-list entries
    const { statements, deliveries } = await run(100);
    expect(deliveries).toBeGreaterThanOrEqual(200);
    // Before the memory copy: about 36 per delivery (docs/store.md); with it, 12.5 at
    // each commit; written behind, the rows of a delivery are mostly gone before they
    // are written (a run-queue item, a promise, its c-list entries).
    expect(statements / deliveries).toBeLessThan(1);
    // And what is left is in the tables once they are read.
    host.store.checkMemory();
  });

  it('with the check on, the memory copy equals the tables after every crank of a ping-pong', async () => {
    const { host, run } = await pingPong({ checkState: true });
    expect(host.store.checkState).toBe(true);
    const { deliveries } = await run(30);
    expect(deliveries).toBeGreaterThanOrEqual(60);
  });
});

describe('the state check', () => {
  const crank = (store: KernelStore, write: () => void) => {
    store.beginCrank();
    write();
    store.commitCrank();
  };

  it('names a row whose value sql.js stored differently from the memory copy', () => {
    const store = KernelStore.open(SQL);
    crank(store, () => store.put('counters', ['crank', 3]));
    store.checkMemory();
    // A text value in an INTEGER column: SQLite converts it, the memory copy keeps text.
    crank(store, () => store.put('counters', ['object', '7']));
    expect(() => store.checkMemory()).toThrow(
      'state check: table counters: row ["object"] is ["object","7"] in memory but ["object",7] in the table',
    );
  });

  it('names a row sql.js dropped that the memory copy still has', () => {
    const store = KernelStore.open(SQL);
    store.checkState = true;
    crank(store, () => store.put('clist', ['v1', 'ko1', 'o+1', 1]));
    // The same vref for another kref: INSERT OR REPLACE drops the first row (a unique
    // index), the memory copy keeps both; the check at commit stops it.
    expect(() => crank(store, () => store.put('clist', ['v1', 'ko2', 'o+1', 1]))).toThrow(
      'state check: table clist: row ["v1","ko1"] is in memory but not in the table',
    );
  });

  it('holds after an aborted crank and after a query inside a crank wrote part of its buffer', () => {
    const store = KernelStore.open(SQL);
    store.checkState = true;
    crank(store, () => {
      store.put('run_queue', [5, 'startVat', 'v1', null, null, null, null, null, null]);
      store.put('vats', vatRow({ name: 'a' }));
    });
    store.beginCrank();
    store.put('run_queue', [3, 'startVat', 'v2', null, null, null, null, null, null]);
    store.delete('run_queue', [5]);
    expect(store.one('SELECT count(*) FROM run_queue')).toEqual([1]);
    store.put('vats', vatRow({ name: 'b' }));
    expect(store.first('run_queue')?.[0]).toBe(3);
    expect(store.lookup('vats', 'byName', ['b'])).toHaveLength(1);
    store.abortCrank();
    expect(store.first('run_queue')?.[0]).toBe(5);
    expect(store.lookup('vats', 'byName', ['b'])).toEqual([]);
    expect(store.lookup('vats', 'byName', ['a'])).toHaveLength(1);
    expect(store.all('SELECT seq FROM run_queue')).toEqual([[5]]);
  });
});

describe('timers', () => {
  it('are counted, found by token and by due time from memory: no query writes the rows waiting to be written', () => {
    const store = KernelStore.open(SQL);
    store.checkState = true;
    const state = new KernelState(store);
    store.beginCrank();
    const token = state.createObject('v1');
    const dues = [30, 10, 20, 10];
    const ids = dues.map((due, i) =>
      state.addTimer({
        owner: i === 3 ? null : 'v1',
        due,
        interval: null,
        handler: null,
        resultKpid: null,
        cancelToken: i % 2 === 0 ? token : null,
      }),
    );
    store.commitCrank();
    const statements = store.statements;
    expect(state.timerCount('v1')).toBe(3);
    expect(state.timerCount(null)).toBe(1);
    expect(state.timersWithToken(token).map((t) => t.timerId)).toEqual([ids[0], ids[2]]);
    expect(state.dueTimers(20).map((t) => t.timerId)).toEqual([ids[1], ids[3], ids[2]]);
    expect(state.earliestTimerDue()).toBe(10);
    expect(state.timersPage({ limit: 2 })).toMatchObject({
      timers: [{ timerId: ids[1] }, { timerId: ids[3] }],
      more: true,
      total: 4,
    });
    expect(store.statements).toBe(statements);

    store.beginCrank();
    state.deleteTimer(ids[1] as number);
    state.rescheduleTimer(ids[3] as number, 40);
    store.commitCrank();
    expect(state.earliestTimerDue()).toBe(20);
    expect(state.timerCount(null)).toBe(1);
    expect(state.dueTimers(35).map((t) => t.due)).toEqual([20, 30]);
    // What memory answered is what the table holds.
    store.checkMemory();
    expect(store.all('SELECT timer_id FROM timers ORDER BY due, timer_id')).toEqual(
      [ids[2], ids[0], ids[3]].map((id) => [id]),
    );
    store.close();
  });
});

describe('the vatstore initVat carries', () => {
  it('is every key of the vat, in key order, as one JSON text', () => {
    const store = KernelStore.open(SQL);
    const state = new KernelState(store);
    store.beginCrank();
    for (const key of ['b', 'a', 'c.2', 'c.10', 'é']) {
      store.put('vatstore', ['v1', key, `${key}!`]);
    }
    store.put('vatstore', ['v2', 'a', 'other vat']);
    store.commitCrank();
    const pairs = JSON.parse(state.loadVatstoreJson('v1')) as Array<[string, string]>;
    expect(pairs).toEqual(state.loadVatstore('v1'));
    expect(pairs.map(([k]) => k)).toEqual(['a', 'b', 'c.10', 'c.2', 'é']);
    expect(state.loadVatstoreJson('v9')).toBe('[]');
    store.close();
  });
});
