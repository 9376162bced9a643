/**
 * The fault model (docs/faults.md): no fault deletes a vat's state. A lost host is
 * restarted from the store and the message delivered again, a bounded number of times;
 * a delivery past its deadline is stopped by the watchdog and its result rejected; a vat
 * that breaks the protocol or fails to start is suspended with its messages held.
 * Vats run in this thread where the test needs no real worker, in worker threads where
 * it does (a loop only a worker's termination can stop, a heap that runs out).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { capdataToJson, type Settlement } from '../kernel/index.ts';
import { makeNodeKernel, type NodeKernel } from '../node/host/index.ts';
import { makeNodeVatLauncher } from '../node/vat-worker/index.ts';
import { makeInProcessLauncher } from './fixtures/in-process-vats.ts';
import {
  launchTestCluster,
  resolveCluster,
  sampleVat,
  tamperNextReply,
  testVat,
  type TestCluster,
} from './kernel-harness.ts';

let cluster: TestCluster | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const json = (s: Settlement) => capdataToJson(s.data);
const errorOf = (s: Settlement) => (json(s) as { $error: string }).$error;

const vatstore = (c: TestCluster, name: string) =>
  c.store.all('SELECT key, value FROM vatstore WHERE vat_id = ? ORDER BY key', [
    c.vatId(name),
  ]);

describe('a lost host', () => {
  it('is restarted from its store and the message delivered once', async () => {
    const launcher = makeInProcessLauncher();
    cluster = await launchTestCluster(
      { counter: { source: sampleVat('counter.js') } },
      { launcher },
    );
    const { kernel } = cluster;
    const vatId = cluster.vatId('counter');
    expect(await cluster.call('counter', 'increment')).toBe(1);
    const incarnation = kernel.state.requireVat(vatId).incarnation;
    launcher.loseOnDeliveries(vatId, 1);
    expect(await cluster.call('counter', 'increment')).toBe(2);
    expect(kernel.state.requireVat(vatId)).toMatchObject({
      state: 'running',
      incarnation: incarnation + 1,
    });
    expect(launcher.launches(vatId)).toBe(2);
    const faults = cluster.cranks.filter((c) => c.outcome === 'fault');
    expect(faults).toHaveLength(1);
    expect(faults[0]?.detail).toMatch(
      /lost on purpose .*\(vat restarted, its message to be delivered again\)/u,
    );
    expect(await cluster.call('counter', 'getCount')).toBe(2);
  });

  it('lost again and again is suspended, its message held; restartVat delivers it', async () => {
    const launcher = makeInProcessLauncher();
    cluster = await launchTestCluster(
      {
        counter: { source: sampleVat('counter.js') },
        other: { source: sampleVat('counter.js') },
      },
      { launcher, maxHostRestarts: 2 },
    );
    const { kernel } = cluster;
    const vatId = cluster.vatId('counter');
    expect(await cluster.call('counter', 'increment')).toBe(1);
    const stored = vatstore(cluster, 'counter');
    launcher.loseOnDeliveries(vatId, 3);
    const pending = kernel.queueMessage(kernel.rootOf('counter'), 'increment', []);
    await kernel.whenIdle();
    const vat = kernel.state.requireVat(vatId);
    expect(vat.state).toBe('suspended');
    expect(vat.reason).toMatch(/its host was lost 3 times in a row; the last time: /u);
    expect(kernel.state.heldCount(vatId)).toBe(1);
    expect(vatstore(cluster, 'counter')).toEqual(stored);
    expect(kernel.status().suspended).toBe(1);
    // The other vat runs on.
    expect(await cluster.call('other', 'increment')).toBe(1);
    await kernel.restartVat(vatId);
    expect(json(await pending)).toBe(2);
  });

  it('between cranks is restarted at once; promises its old incarnation decided are rejected', async () => {
    const launcher = makeInProcessLauncher();
    cluster = await launchTestCluster(
      { bob: { source: sampleVat('greeter.js') } },
      { launcher },
    );
    const { kernel } = cluster;
    const vatId = cluster.vatId('bob');
    const later = kernel.queueMessage(kernel.rootOf('bob'), 'makeGreeterLater', ['Hi']);
    await kernel.whenIdle();
    launcher.loseHost(vatId, 'its worker crashed');
    const settlement = await later;
    expect(settlement.rejected).toBe(true);
    expect(errorOf(settlement)).toMatch(
      /vat "bob" \(v1\) restarted \(its host was lost: its worker stopped: its worker crashed\)/u,
    );
    await kernel.whenIdle();
    expect(kernel.state.requireVat(vatId).state).toBe('running');
    expect(await cluster.call('bob', 'release')).toBe(0);
  });

  it('out of memory in its worker: restarted, then suspended with its state kept', async () => {
    cluster = await launchTestCluster(
      {
        counter: { source: sampleVat('counter.js') },
        hog: { source: testVat('hog.js') },
      },
      {
        launcher: makeNodeVatLauncher({
          resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 },
        }),
        maxHostRestarts: 1,
      },
    );
    const { kernel } = cluster;
    const hogId = cluster.vatId('hog');
    const stored = vatstore(cluster, 'hog');
    void kernel.queueMessage(kernel.rootOf('hog'), 'hog', []);
    await kernel.whenIdle();
    const vat = kernel.state.requireVat(hogId);
    expect(vat.state).toBe('suspended');
    expect(vat.reason).toMatch(
      /host was lost 2 times in a row.*(memory|ERR_WORKER_OUT_OF_MEMORY)/u,
    );
    expect(vatstore(cluster, 'hog')).toEqual(stored);
    expect(await cluster.call('counter', 'increment')).toBe(1);
  }, 60_000);
});

// The deadline also bounds the restarted vat's startVat, which at a load of 8 or more
// took longer than 400 ms and suspended the vat: 1.5 s leaves room for that.
describe('the watchdog', () => {
  it('stops a delivery that never ends, rejects its result naming the vat, method and limit, and the vat serves its next message', async () => {
    cluster = await launchTestCluster(
      {
        looper: { source: testVat('looper.js'), deliveryTimeoutMs: 1500 },
        counter: { source: sampleVat('counter.js') },
      },
      { launcher: makeNodeVatLauncher() },
    );
    const { kernel } = cluster;
    const vatId = cluster.vatId('looper');
    expect(await cluster.call('looper', 'bump')).toBe(1);
    const spun = await cluster.send('looper', 'spin');
    expect(spun.rejected).toBe(true);
    expect(errorOf(spun)).toMatch(
      /^vat "looper" \(v1\) did not finish spin: its message spin did not finish within 1500 ms \(its delivery deadline\); the crank was rolled back and the vat restarted from its store$/u,
    );
    expect(kernel.state.requireVat(vatId).state).toBe('running');
    // Rolled back: spin's write never happened; the count goes on from 1.
    expect(await cluster.call('looper', 'bump')).toBe(2);
    expect(await cluster.call('counter', 'increment')).toBe(1);
  }, 30_000);

  it('a looping message queued durably does not brick the data directory', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cask-watchdog-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const open = () =>
      makeNodeKernel({
        dataDir,
        deliveryTimeoutMs: 1500,
        launcher: makeNodeVatLauncher(),
      });
    let host: NodeKernel = await open();
    const { result } = await host.kernel.launchCluster(
      await resolveCluster({ looper: { source: testVat('looper.js') } }, 'looper'),
    );
    await result;
    await host.kernel.whenIdle();
    // Queued durably, then the process goes away before it runs.
    host.kernel.pauseRunQueue();
    await host.kernel.enqueueMessage(host.kernel.rootOf('looper'), 'spin', []);
    await host.close();
    host = await open();
    cleanups.push(() => host.close());
    await host.kernel.resume();
    const bumped = await host.kernel.queueMessage(
      host.kernel.rootOf('looper'),
      'bump',
      [],
    );
    expect(json(bumped)).toBe(1);
    await host.kernel.whenIdle();
    expect(host.kernel.status()).toMatchObject({ runQueueLength: 0, suspended: 0 });
  }, 30_000);

  it('suspends a vat whose start never ends', async () => {
    cluster = await launchTestCluster(
      {
        counter: { source: sampleVat('counter.js') },
        stuck: {
          source: testVat('bad-start.js'),
          parameters: { spin: true },
          deliveryTimeoutMs: 300,
        },
      },
      { launcher: makeNodeVatLauncher() },
    );
    // bad-start.js spins in buildRootObject when told to.
    const vat = cluster.kernel.state.getVatByName('stuck');
    expect(vat?.state).toBe('suspended');
    expect(vat?.reason).toMatch(
      /it did not start: its startVat did not finish within 300 ms/u,
    );
    expect(await cluster.call('counter', 'increment')).toBe(1);
  }, 30_000);
});

describe('a vat that breaks the protocol or fails to start', () => {
  it('fails to start: suspended with the reason, not terminated; the others run', async () => {
    cluster = await launchTestCluster(
      {
        counter: { source: sampleVat('counter.js') },
        fine: { source: testVat('bad-start.js'), parameters: { fail: true } },
      },
      { launcher: makeInProcessLauncher() },
    );
    const vat = cluster.kernel.state.getVatByName('fine');
    expect(vat?.state).toBe('suspended');
    expect(vat?.reason).toMatch(/its startVat delivery failed: .*it was told to fail/u);
    expect(await cluster.call('counter', 'increment')).toBe(1);
  });

  it('posts a message when none was asked for: suspended between cranks', async () => {
    const launcher = makeInProcessLauncher();
    cluster = await launchTestCluster(
      { counter: { source: sampleVat('counter.js') } },
      { launcher },
    );
    const vatId = cluster.vatId('counter');
    launcher.postFromVat(vatId, {
      type: 'delivered',
      crank: 99,
      outcome: 'ok',
      syscalls: [],
      delta: { sets: [['forged', 'x']], deletes: [] },
    });
    await cluster.kernel.whenIdle();
    const vat = cluster.kernel.state.requireVat(vatId);
    expect(vat.state).toBe('suspended');
    expect(vat.reason).toMatch(/it replied to crank 99 when no delivery was open/u);
    expect(vatstore(cluster, 'counter').some(([k]) => k === 'forged')).toBe(false);
  });
});

describe('rules a lying vat broke (found by test/adversarial.test.ts)', () => {
  const withSyscall = (syscall: unknown) =>
    tamperNextReply((m) => ({ ...m, syscalls: [...(m.syscalls ?? []), syscall] }));

  it('retiring an export the kernel never dropped (its root) suspends it; the root stays', async () => {
    const { tamper, arm } = withSyscall({ kind: 'retireExports', vrefs: ['o+0'] });
    cluster = await launchTestCluster(
      { counter: { source: sampleVat('counter.js') } },
      { launcher: makeInProcessLauncher(), tamper },
    );
    const { kernel } = cluster;
    const root = kernel.rootOf('counter');
    arm();
    void kernel.queueMessage(root, 'increment', []);
    await kernel.whenIdle();
    const vat = kernel.state.requireVat(cluster.vatId('counter'));
    expect(vat.state).toBe('suspended');
    expect(vat.reason).toMatch(/it retired o\+0 \(ko\d+\), which is still reachable/u);
    expect(kernel.state.getObject(root)).toBeDefined();
    await kernel.restartVat(vat.vatId);
    expect(await cluster.call('counter', 'getCount')).toBe(1);
  });

  it('abandoning its root object suspends it', async () => {
    const { tamper, arm } = withSyscall({ kind: 'abandonExports', vrefs: ['o+0'] });
    cluster = await launchTestCluster(
      { counter: { source: sampleVat('counter.js') } },
      { launcher: makeInProcessLauncher(), tamper },
    );
    arm();
    void cluster.kernel.queueMessage(cluster.kernel.rootOf('counter'), 'increment', []);
    await cluster.kernel.whenIdle();
    expect(cluster.kernel.state.requireVat(cluster.vatId('counter')).reason).toMatch(
      /it abandoned its root object o\+0/u,
    );
  });
});

describe('capdata a vat sends on', () => {
  it.each([
    ['a body that is not smallcaps', { body: '#!A[N+w', slots: [] }, /does not decode/u],
    [
      'a slot index past its slots',
      { body: '#["poke",["$3"]]', slots: [] },
      /does not decode/u,
    ],
    [
      'a message that is not [method, args]',
      { body: '#{"a":1}', slots: [] },
      /not \[method, args\]/u,
    ],
  ])(
    '%s suspends the sender, and nothing reaches the receiver',
    async (_, methargs, reason) => {
      const { tamper, arm } = tamperNextReply((m) => ({
        ...m,
        syscalls: [
          ...(m.syscalls ?? []),
          { kind: 'send', target: 'o+0', methargs, result: null },
        ],
      }));
      cluster = await launchTestCluster(
        { counter: { source: sampleVat('counter.js') } },
        { launcher: makeInProcessLauncher(), tamper },
      );
      const { kernel } = cluster;
      arm();
      void kernel.queueMessage(kernel.rootOf('counter'), 'increment', []);
      await kernel.whenIdle();
      const vat = kernel.state.requireVat(cluster.vatId('counter'));
      expect(vat.state).toBe('suspended');
      expect(vat.reason).toMatch(reason);
      expect(kernel.state.heldCount(vat.vatId)).toBe(1);
      await kernel.restartVat(vat.vatId);
      expect(await cluster.call('counter', 'getCount')).toBe(1);
    },
  );
});

describe('callers and shutdown', () => {
  it('a caller waiting on a suspended vat can give up; the message stays and is delivered on restart', async () => {
    const launcher = makeInProcessLauncher();
    cluster = await launchTestCluster(
      { counter: { source: sampleVat('counter.js') } },
      { launcher, maxHostRestarts: 1 },
    );
    const { kernel } = cluster;
    const vatId = cluster.vatId('counter');
    launcher.loseOnDeliveries(vatId, 2);
    await expect(
      kernel.queueMessage(kernel.rootOf('counter'), 'increment', [5], { timeoutMs: 200 }),
    ).rejects.toThrow(
      /^no answer to increment within 200 ms; the message stays queued \(vat "counter" is suspended: its host was lost 2 times in a row/u,
    );
    await kernel.restartVat(vatId);
    await kernel.whenIdle();
    expect(await cluster.call('counter', 'getCount')).toBe(5);
  });

  it('shutting down runs no crank: what is queued stays queued', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cask-shutdown-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const cranks: unknown[] = [];
    let host = await makeNodeKernel({
      dataDir,
      launcher: makeInProcessLauncher(),
      onCrank: (c) => cranks.push(c),
    });
    const { result } = await host.kernel.launchCluster(
      await resolveCluster({ counter: { source: sampleVat('counter.js') } }, 'counter'),
    );
    await result;
    await host.kernel.whenIdle();
    host.kernel.pauseRunQueue();
    await host.kernel.enqueueMessage(host.kernel.rootOf('counter'), 'increment', []);
    const ran = cranks.length;
    host.kernel.unpauseRunQueue();
    await host.close();
    // unpause pumps; close must not let that crank run.
    expect(cranks.length).toBe(ran);
    host = await makeNodeKernel({ dataDir, launcher: makeInProcessLauncher() });
    cleanups.push(() => host.close());
    expect(host.kernel.status().runQueueLength).toBe(1);
  });
});
