/**
 * Garbage collection between vats: the c-list and refcount rules over a real store, the
 * reap policy, and, with vats in this thread, drops and retires reaching the exporter.
 */
import initSqlJs from 'sql.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kser } from '../marshal/index.ts';
import { KernelState, type RunQueueItem, type VatRecord } from '../state/index.ts';
import { KernelStore } from '../store/index.ts';
import { makeInProcessLauncher } from '../../test/fixtures/in-process-vats.ts';
import {
  launchTestCluster,
  sampleVat,
  type TestCluster,
} from '../../test/kernel-harness.ts';
import { collectGarbage, gcVrefs, ReapPolicy } from './gc.ts';

const SQL = await initSqlJs();
let store: KernelStore;
let state: KernelState;

function change<T>(fn: () => T): T {
  store.beginCrank();
  const result = fn();
  store.commitCrank();
  store.takeChanges();
  return result;
}

const makeVat = (name: string): VatRecord =>
  change(() =>
    state.createVat({ name, bundleId: 'b', parameters: kser({}), globals: [] }),
  );

function drainQueue(): RunQueueItem[] {
  return change(() => {
    const items: RunQueueItem[] = [];
    for (let q = state.dequeue(); q; q = state.dequeue()) items.push(q.item);
    return items;
  });
}

/** bob exports an object that carol imports: [kref, bob's vref, carol's vref]. */
function exportToCarol(bob: VatRecord, carol: VatRecord) {
  return change(() => {
    const ko = state.createObject(bob.vatId);
    state.addClistEntry(bob.vatId, ko, 'o+5', false);
    state.addClistEntry(carol.vatId, ko, 'o-1', true);
    return ko;
  });
}

beforeEach(() => {
  store = KernelStore.open(SQL);
  store.checkState = process.env['CASK_CHECK_STATE'] === '1';
  state = new KernelState(store);
});

describe('collectGarbage', () => {
  it('asks the exporter to drop, then retire, an object its last importer let go of', () => {
    const bob = makeVat('bob');
    const carol = makeVat('carol');
    const ko = exportToCarol(bob, carol);
    drainQueue();
    // carol drops it: unreachable, still recognizable.
    change(() => {
      state.setReachableFlag(carol.vatId, ko, false);
      state.decrefReachable(ko);
      collectGarbage(state);
    });
    expect(drainQueue()).toEqual([
      { kind: 'dropExports', vatId: bob.vatId, krefs: [ko] },
    ]);
    // The dropExports item runs: bob is told.
    change(() => gcVrefs(state, 'dropExports', bob.vatId, [ko]));
    // carol retires it: nobody can recognise it any more.
    change(() => {
      state.deleteClistEntry(carol.vatId, ko, true);
      collectGarbage(state);
    });
    expect(drainQueue()).toEqual([
      { kind: 'retireExports', vatId: bob.vatId, krefs: [ko] },
    ]);
  });

  it('deletes a promise nobody refers to, and what only its resolution held', () => {
    const bob = makeVat('bob');
    const ko = change(() => state.createObject(bob.vatId));
    const kpid = change(() => {
      const p = state.createPromise(null);
      state.incref(p);
      return p;
    });
    change(() => state.resolvePromise(kpid, false, kser(null)));
    change(() => {
      state.decref(kpid);
      collectGarbage(state);
    });
    expect(state.getPromise(kpid)).toBeUndefined();
    // An object with no references and no exporter to tell is simply gone too.
    change(() => {
      state.setObjectOwner(ko, null);
      collectGarbage(state);
    });
    expect(state.getObject(ko)).toBeUndefined();
  });
});

describe('gcVrefs', () => {
  it('drops an export only while it is unreachable and not yet dropped', () => {
    const bob = makeVat('bob');
    const carol = makeVat('carol');
    const ko = exportToCarol(bob, carol);
    // Still reachable through carol: nothing to tell bob.
    expect(change(() => gcVrefs(state, 'dropExports', bob.vatId, [ko]))).toEqual([]);
    change(() => {
      state.setReachableFlag(carol.vatId, ko, false);
      state.decrefReachable(ko);
    });
    expect(change(() => gcVrefs(state, 'dropExports', bob.vatId, [ko]))).toEqual(['o+5']);
    expect(state.isReachableFlag(bob.vatId, ko)).toBe(false);
    // Told once only.
    expect(change(() => gcVrefs(state, 'dropExports', bob.vatId, [ko]))).toEqual([]);
  });

  it('retires an export only once nobody recognises it, deleting the object', () => {
    const bob = makeVat('bob');
    const carol = makeVat('carol');
    const ko = exportToCarol(bob, carol);
    expect(change(() => gcVrefs(state, 'retireExports', bob.vatId, [ko]))).toEqual([]);
    change(() => state.deleteClistEntry(carol.vatId, ko, true));
    expect(change(() => gcVrefs(state, 'retireExports', bob.vatId, [ko]))).toEqual([
      'o+5',
    ]);
    expect(state.getObject(ko)).toBeUndefined();
    expect(state.krefToVref(bob.vatId, ko)).toBeUndefined();
  });

  it("retires an importer's entry, releasing the reference it held", () => {
    const bob = makeVat('bob');
    const carol = makeVat('carol');
    const ko = exportToCarol(bob, carol);
    expect(state.getObject(ko)?.recognizable).toBe(1);
    expect(change(() => gcVrefs(state, 'retireImports', carol.vatId, [ko]))).toEqual([
      'o-1',
    ]);
    expect(state.getObject(ko)?.recognizable).toBe(0);
  });
});

describe('ReapPolicy', () => {
  it('asks each vat every N deliveries, counting afresh after a reap or a new worker', () => {
    const reap = new ReapPolicy(3);
    const due = (vatId: string) => reap.delivered(vatId, 'message');
    expect([due('v1'), due('v1'), due('v2'), due('v1')]).toEqual([
      false,
      false,
      false,
      true,
    ]);
    expect(reap.delivered('v1', 'bringOutYourDead')).toBe(false);
    expect([due('v1'), due('v1'), due('v1')]).toEqual([false, false, true]);
    due('v2');
    reap.forget('v2');
    expect([due('v2'), due('v2'), due('v2')]).toEqual([false, false, true]);
  });

  it('once idle, names every vat delivered to since its last reap, except those that never reap', () => {
    const reap = new ReapPolicy(100, { idleAfter: 1 });
    expect(reap.idleDue).toBe(false);
    reap.delivered('v10', 'message');
    reap.delivered('v2', 'notify');
    reap.delivered('v3', 'message', 'never');
    reap.delivered('v4', 'message');
    reap.delivered('v4', 'bringOutYourDead');
    expect(reap.idleDue).toBe(true);
    expect(reap.idle()).toEqual(['v2', 'v10']);
    reap.delivered('v2', 'bringOutYourDead');
    reap.forget('v10');
    expect(reap.idle()).toEqual([]);
    expect(reap.idleDue).toBe(false);
  });

  it('once idle, only vats with at least idleAfter deliveries since their last reap', () => {
    const reap = new ReapPolicy(100, { idleAfter: 3 });
    reap.delivered('v1', 'message');
    reap.delivered('v1', 'message');
    reap.delivered('v2', 'message');
    expect(reap.idleDue).toBe(false);
    expect(reap.idle()).toEqual([]);
    reap.delivered('v1', 'message');
    expect(reap.idleDue).toBe(true);
    expect(reap.idle()).toEqual(['v1']);
  });

  it('by count only when idle reaping is off', () => {
    const reap = new ReapPolicy(2, { whenIdle: false });
    expect([reap.delivered('v1', 'message'), reap.delivered('v1', 'message')]).toEqual([
      false,
      true,
    ]);
    expect(reap.idleDue).toBe(false);
    expect(reap.idle()).toEqual([]);
  });

  it('honours a vat its own interval, or never, and asks once until the reap runs', () => {
    const reap = new ReapPolicy(100);
    const due = (own: number | 'never') => reap.delivered('v1', 'message', own);
    expect([due(2), due(2), due(2), due(2)]).toEqual([false, true, false, false]);
    expect(reap.delivered('v1', 'bringOutYourDead', 2)).toBe(false);
    expect([due(2), due(2)]).toEqual([false, true]);
    expect(
      Array.from({ length: 5 }, () => reap.delivered('v2', 'message', 'never')),
    ).toEqual([false, false, false, false, false]);
  });
});

describe('with vats in this thread', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it("tells bob once alice and carol have let go of bob's greeter", async () => {
    cluster = await launchTestCluster(
      {
        alice: { source: sampleVat('introducer.js') },
        bob: { source: sampleVat('greeter.js'), parameters: { name: 'bob' } },
        carol: { source: sampleVat('visitor.js'), parameters: { name: 'carol' } },
      },
      // By count alone (test/kernel.test.ts has the same when idle, the default).
      { reapInterval: 1, reapWhenIdle: false, launcher: makeInProcessLauncher() },
    );
    const ref = (name: string) => ({ $kref: cluster?.kernel.rootOf(name) });
    await cluster.call('alice', 'introduce', ref('bob'), ref('carol'), 'Hey');
    await cluster.call('alice', 'introduce', ref('bob'), ref('carol'), 'Again');
    await cluster.kernel.whenIdle();
    const bobId = cluster.vatId('bob');
    const told = cluster.cranks.filter((c) => c.vatId === bobId).map((c) => c.kind);
    expect(told).toContain('dropExports');
    expect(told).toContain('retireExports');
    const exported = cluster.kernel.state
      .clistEntries(bobId)
      .filter(([, vref]) => vref.startsWith('o+'));
    expect(exported.map(([, vref]) => vref)).toEqual(['o+0']);
  });
});
