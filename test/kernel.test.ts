/**
 * The kernel with real vats: real bundles, SES, liveslots, worker threads and sql.js.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { capdataToJson, type RowChange } from '../kernel/index.ts';
import {
  launchTestCluster,
  replyEdits,
  sampleVat,
  tamperNextReply,
  testVat,
  type TestCluster,
} from './kernel-harness.ts';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const threeVats = {
  alice: { source: sampleVat('introducer.js') },
  bob: { source: sampleVat('greeter.js'), parameters: { name: 'bob' } },
  carol: { source: sampleVat('visitor.js'), parameters: { name: 'carol' } },
};

const vatstoreOf = (c: TestCluster, name: string) =>
  c.store.all('SELECT key, value FROM vatstore WHERE vat_id = ? ORDER BY key', [
    c.vatId(name),
  ]);

describe('messages between vats', () => {
  it('runs the default cluster bootstrap across six vats', async () => {
    cluster = await launchTestCluster(
      {
        bootstrap: { source: sampleVat('bootstrap.js') },
        ...threeVats,
        counter: { source: sampleVat('counter.js') },
        ledger: { source: sampleVat('ledger.js') },
      },
      { bootstrap: 'bootstrap' },
    );
    expect(cluster.bootstrapResult.rejected).toBe(false);
    expect(capdataToJson(cluster.bootstrapResult.data)).toEqual({
      count: 2,
      introduced: 'Hello, carol, from bob (#1)',
      pipelined: 'Hi, dave, from bob (#1)',
      relayed: 'carol saw 42',
      caught: 'carol caught: no such thing',
      balances: { alice: '70', bob: '5' },
    });
  });

  it("sends and replies across three vats, handing bob's object to carol through alice", async () => {
    // Not reaped when idle: carol's import of bob's greeter is what this test looks at,
    // and a reap after the answer would collect it.
    cluster = await launchTestCluster(threeVats, { reapWhenIdle: false });
    const bob = cluster.kernel.rootOf('bob');
    const carol = cluster.kernel.rootOf('carol');
    const introduced = await cluster.call(
      'alice',
      'introduce',
      kref(bob),
      kref(carol),
      'Hey',
    );
    expect(introduced).toBe('Hey, carol, from bob (#1)');
    // carol now holds an import of an object that bob exports.
    const carolImports = cluster.kernel.state
      .clistEntries(cluster.vatId('carol'))
      .filter(([, vref]) => vref.startsWith('o-'));
    const bobExports = cluster.kernel.state
      .clistEntries(cluster.vatId('bob'))
      .filter(([, vref]) => vref.startsWith('o+') && vref !== 'o+0');
    const greeters = bobExports.map(([k]) => k);
    expect(greeters.length).toBeGreaterThan(0);
    expect(carolImports.some(([k]) => greeters.includes(k))).toBe(true);
  });

  it('queues sends to an unresolved promise and delivers them once it resolves', async () => {
    cluster = await launchTestCluster(threeVats);
    const bob = kref(cluster.kernel.rootOf('bob'));
    // alice sends greet() to the greeter bob has promised but not made yet.
    const greeting = cluster.send('alice', 'pipelineLater', bob, 'Yo', 'erin');
    await cluster.kernel.whenIdle();
    const queued = cluster.store.all(
      'SELECT kpid, methargs_body FROM promise_queue ORDER BY seq',
    );
    expect(queued).toHaveLength(1);
    expect(String(queued[0]?.[1])).toMatch(/^#\["greet"/u);
    expect(await cluster.call('bob', 'release')).toBe(1);
    const settled = await greeting;
    expect(capdataToJson(settled.data)).toBe('Yo, erin, from bob (#1)');
    expect(cluster.store.all('SELECT * FROM promise_queue')).toEqual([]);
  });

  it('settles a promise handed from one vat to another, fulfilled or rejected', async () => {
    cluster = await launchTestCluster(threeVats);
    const bob = kref(cluster.kernel.rootOf('bob'));
    const carol = kref(cluster.kernel.rootOf('carol'));
    expect(await cluster.call('alice', 'relay', bob, carol, 'cake')).toBe(
      'carol saw cake',
    );
    expect(await cluster.call('alice', 'relayRejection', bob, carol, 'no cake')).toBe(
      'carol caught: no cake',
    );
  });

  it('rejects the result of a method that throws, and the vat runs on', async () => {
    cluster = await launchTestCluster({ thrower: { source: testVat('thrower.js') } });
    const settlement = await cluster.send('thrower', 'boom', 'kaboom');
    expect(settlement.rejected).toBe(true);
    expect(capdataToJson(settlement.data)).toMatchObject({ $error: 'kaboom' });
    expect(await cluster.call('thrower', 'calls')).toBe(1);
    expect(cluster.kernel.state.getVatByName('thrower')?.state).toBe('running');
  });

  it('frees promises once nothing refers to them', async () => {
    cluster = await launchTestCluster(threeVats);
    const bob = kref(cluster.kernel.rootOf('bob'));
    for (let i = 0; i < 5; i += 1)
      await cluster.call('alice', 'pipeline', bob, 'Hi', `n${i}`);
    const promises = cluster.store.one('SELECT count(*) FROM promises')?.[0] as number;
    expect(promises).toBeLessThan(5);
  });
});

describe('garbage collection', () => {
  it('tells the exporter once every importer has dropped and retired an object', async () => {
    // Reaped when the kernel is idle, after any delivery (kernel/core/gc.test.ts has the
    // same by count alone).
    cluster = await launchTestCluster(threeVats, { reapIdleAfter: 1 });
    const bob = kref(cluster.kernel.rootOf('bob'));
    const carol = kref(cluster.kernel.rootOf('carol'));
    await cluster.call('alice', 'introduce', bob, carol, 'Hey');
    // Reaped once idle: alice and carol let go of the greeter, bob hears of it.
    await cluster.call('alice', 'introduce', bob, carol, 'Again');
    await cluster.kernel.whenIdle();
    const kinds = cluster.cranks.map((c) => c.kind);
    expect(kinds).toContain('bringOutYourDead');
    expect(kinds).toContain('dropExports');
    expect(kinds).toContain('retireExports');
    const bobId = cluster.vatId('bob');
    // Only bob's root stays exported; the greeters' kernel objects are gone.
    const bobExports = cluster.kernel.state
      .clistEntries(bobId)
      .filter(([, vref]) => vref.startsWith('o+'));
    expect(bobExports.map(([, vref]) => vref)).toEqual(['o+0']);
    const objects = cluster.store.all('SELECT kref FROM objects WHERE owner_vat = ?', [
      bobId,
    ]);
    expect(objects).toHaveLength(1);
  });
});

describe('vat faults', () => {
  it('a protocol violation voids the crank and suspends the vat with its state; the message waits; restartVat delivers it', async () => {
    const { tamper, arm } = tamperNextReply(replyEdits.bogusResolve);
    cluster = await launchTestCluster(
      {
        mallory: { source: testVat('mallory.js') },
        counter: { source: sampleVat('counter.js') },
      },
      { tamper },
    );
    const { kernel } = cluster;
    const malloryId = cluster.vatId('mallory');
    const before = vatstoreOf(cluster, 'mallory');
    const commitsBefore = cluster.commits.length;
    arm();
    const counter = kref(kernel.rootOf('counter'));
    let settled = false;
    const touched = cluster.send('mallory', 'touch', counter, 'm1').then((s) => {
      settled = true;
      return s;
    });
    await kernel.whenIdle();
    const vat = kernel.state.getVatByName('mallory');
    expect(vat?.state).toBe('suspended');
    expect(vat?.reason).toMatch(/p-99, which is not in its c-list/u);
    // Its stored state is all there, and the message waits for it.
    expect(vatstoreOf(cluster, 'mallory')).toEqual(before);
    expect(kernel.state.heldCount(malloryId)).toBe(1);
    expect(settled).toBe(false);
    // Nothing the faulty crank did was committed: not mallory's baggage write …
    const later = cluster.commits.slice(commitsBefore).flat();
    expect(
      later.some(
        (c: RowChange) =>
          c.table === 'vatstore' && c.row !== null && c.key[0] === malloryId,
      ),
    ).toBe(false);
    // … nor its send to the counter.
    expect(await cluster.call('counter', 'getCount')).toBe(0);
    expect(await cluster.call('counter', 'increment')).toBe(1);
    // A later message to it waits behind the first.
    const pinged = cluster.send('mallory', 'ping');
    await kernel.whenIdle();
    expect(kernel.state.heldCount(malloryId)).toBe(2);
    // Restarted from its store, it serves both, in order.
    await kernel.restartVat(malloryId);
    expect(capdataToJson((await touched).data)).toBe('m1');
    expect(capdataToJson((await pinged).data)).toBe('pong');
    expect(kernel.state.getVatByName('mallory')).toMatchObject({
      state: 'running',
      reason: null,
    });
    expect(await cluster.call('counter', 'getCount')).toBe(2);
  });

  it('a message that fails validation suspends the vat with a reason naming the field', async () => {
    const { tamper, arm } = tamperNextReply((m) => ({
      ...m,
      delta: { sets: [['key', 42]], deletes: [] },
    }));
    cluster = await launchTestCluster(
      {
        mallory: { source: testVat('mallory.js') },
        counter: { source: sampleVat('counter.js') },
      },
      { tamper },
    );
    arm();
    void cluster.send('mallory', 'ping');
    await cluster.kernel.whenIdle();
    const vat = cluster.kernel.state.getVatByName('mallory');
    expect(vat?.state).toBe('suspended');
    expect(vat?.reason).toMatch(/invalid message from vat at delta\.sets\.0\.1/u);
    expect(await cluster.call('counter', 'increment')).toBe(1);
  });

  it('a reply to the wrong crank suspends the vat', async () => {
    const { tamper, arm } = tamperNextReply(replyEdits.wrongCrank);
    cluster = await launchTestCluster(
      { mallory: { source: testVat('mallory.js') } },
      { tamper },
    );
    arm();
    void cluster.send('mallory', 'ping');
    await cluster.kernel.whenIdle();
    expect(cluster.kernel.state.getVatByName('mallory')?.reason).toMatch(
      /it replied to crank \d+ while crank \d+ was open/u,
    );
  });

  it('terminating a suspended vat rejects what waits for it, and keeps its vatstore unless asked', async () => {
    const { tamper, arm } = tamperNextReply(replyEdits.bogusResolve);
    cluster = await launchTestCluster(
      {
        mallory: { source: testVat('mallory.js') },
        counter: { source: sampleVat('counter.js') },
      },
      { tamper },
    );
    const { kernel } = cluster;
    const malloryId = cluster.vatId('mallory');
    arm();
    const pinged = cluster.send('mallory', 'ping');
    await kernel.whenIdle();
    const stored = vatstoreOf(cluster, 'mallory');
    expect(stored.length).toBeGreaterThan(0);
    await kernel.terminateVat(malloryId, 'not wanted');
    const settlement = await pinged;
    expect(settlement.rejected).toBe(true);
    expect(capdataToJson(settlement.data)).toMatchObject({
      $error: expect.stringMatching(/vat "mallory" was terminated: not wanted/u),
    });
    expect(kernel.state.requireVat(malloryId)).toMatchObject({
      state: 'terminated',
      reason: 'not wanted',
    });
    expect(vatstoreOf(cluster, 'mallory')).toEqual(stored);
    // Deleting its state takes a second, explicit request.
    await kernel.terminateVat(malloryId, 'not wanted', { deleteState: true });
    expect(vatstoreOf(cluster, 'mallory')).toEqual([]);
  });
});

describe('vatstores', () => {
  it('keeps durable kinds and collections written in one crank for later cranks', async () => {
    cluster = await launchTestCluster({ ledger: { source: sampleVat('ledger.js') } });
    await cluster.call('ledger', 'deposit', 'ann', 10);
    await cluster.call('ledger', 'deposit', 'ben', 3);
    expect(await cluster.call('ledger', 'withdraw', 'ann', 4)).toBe('6n');
    expect(await cluster.call('ledger', 'balances')).toEqual({ ann: '6n', ben: '3n' });
    // The accounts live in the kernel's vatstore rows, not only in the vat's memory.
    const rows = vatstoreOf(cluster, 'ledger').map(([k]) => String(k));
    expect(rows.some((k) => k.startsWith('vom.'))).toBe(true);
  });

  it('commits exactly the net change of a crank that sets, overwrites and deletes', async () => {
    cluster = await launchTestCluster({ ops: { source: testVat('store-ops.js') } });
    await cluster.call('ops', 'setUp');
    const before = new Map(
      vatstoreOf(cluster, 'ops').map(([k, v]) => [String(k), String(v)]),
    );
    const commitsBefore = cluster.commits.length;
    await cluster.call('ops', 'churn');
    const after = new Map(
      vatstoreOf(cluster, 'ops').map(([k, v]) => [String(k), String(v)]),
    );
    const expected = new Map<string, string | null>();
    for (const [k, v] of after) if (before.get(k) !== v) expected.set(k, v);
    for (const k of before.keys()) if (!after.has(k)) expected.set(k, null);
    const opsId = cluster.vatId('ops');
    const changed = new Map<string, string | null>();
    for (const c of cluster.commits.slice(commitsBefore).flat()) {
      if (c.table === 'vatstore' && c.key[0] === opsId) {
        changed.set(String(c.key[1]), c.row ? String(c.row[2]) : null);
      }
    }
    expect(changed).toEqual(expected);
    // The overwrite, the deletion of a pre-existing key, and nothing about 'temp' or 'same'.
    const keys = [...changed.keys()].join(' ');
    expect(keys).toMatch(/kept/u);
    expect(keys).toMatch(/doomed/u);
    expect(keys).not.toMatch(/temp|same/u);
    expect(await cluster.call('ops', 'read')).toEqual(['kept', 'same']);
  });
});

function kref(k: string) {
  // Arguments to queueMessage are plain data; a kref travels as a kslot stand-in.
  return { $kref: k };
}
