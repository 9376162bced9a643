/**
 * The kernel's control surface, with real vats: restarting a vat, holding the run queue,
 * fire-and-forget sends acknowledged once durable, and paged vatstore reads.
 */
import initSqlJs from 'sql.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir } from './fixtures/temp-dirs.ts';
import {
  capdataToJson,
  makeKernel,
  recoverStore,
  type CapData,
  type Kernel,
} from '../kernel/index.ts';
import { bundleVatSource } from './fixtures/bundle-cache.ts';
import { openFileStorage } from '../node/file-storage/index.ts';
import { makeNodeVatLauncher } from '../node/vat-worker/index.ts';
import {
  gateAppends,
  launchTestCluster,
  sampleVat,
  testVat,
  type TestCluster,
} from './kernel-harness.ts';

afterAll(removeTempDirs);

let cluster: TestCluster | undefined;
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
  await cleanup?.();
  cleanup = undefined;
});

const json = (data: CapData | undefined) => (data ? capdataToJson(data) : undefined);

describe('restartVat', () => {
  it('starts a new incarnation that keeps the counter it had in baggage', async () => {
    cluster = await launchTestCluster({ counter: { source: sampleVat('counter.js') } });
    const { kernel } = cluster;
    const vatId = cluster.vatId('counter');
    expect(await cluster.call('counter', 'increment')).toBe(1);
    expect(await cluster.call('counter', 'increment')).toBe(2);
    const before = kernel.state.requireVat(vatId).incarnation;
    const startsBefore = cluster.cranks.filter((c) => c.kind === 'startVat').length;
    await kernel.restartVat(vatId);
    expect(kernel.state.requireVat(vatId)).toMatchObject({
      state: 'running',
      incarnation: before + 1,
    });
    const starts = cluster.cranks.filter((c) => c.kind === 'startVat');
    expect(starts.length).toBe(startsBefore + 1);
    expect(starts.at(-1)).toMatchObject({ vatId, outcome: 'ok' });
    expect(await cluster.call('counter', 'increment')).toBe(3);
  });

  it('rejects the promises the old incarnation decided, and its heap is gone', async () => {
    cluster = await launchTestCluster({ bob: { source: sampleVat('greeter.js') } });
    const { kernel } = cluster;
    // bob decides this promise and keeps its resolver on the heap only.
    const pending = kernel.queueMessage(kernel.rootOf('bob'), 'makeGreeterLater', ['Yo']);
    await kernel.whenIdle();
    await kernel.restartVat(cluster.vatId('bob'));
    const settlement = await pending;
    expect(settlement.rejected).toBe(true);
    expect(json(settlement.data)).toMatchObject({
      $error: expect.stringMatching(
        /vat "bob" \(v\d+\) restarted \(restarted by request\)/u,
      ),
    });
    // The new incarnation has promised nothing.
    expect(await cluster.call('bob', 'release')).toBe(0);
  });

  it('refuses an unknown vat and changes nothing', async () => {
    cluster = await launchTestCluster({ counter: { source: sampleVat('counter.js') } });
    const { kernel } = cluster;
    const status = kernel.status();
    const vats = kernel.state.listVats();
    const commits = cluster.commits.length;
    await expect(kernel.restartVat('v99')).rejects.toThrow(/^no vat v99$/u);
    expect(kernel.status()).toEqual(status);
    expect(kernel.state.listVats()).toEqual(vats);
    expect(cluster.commits.length).toBe(commits);
  });

  it('refuses a terminated vat with its termination reason and changes nothing', async () => {
    cluster = await launchTestCluster({
      counter: { source: sampleVat('counter.js') },
      other: { source: sampleVat('counter.js') },
    });
    const { kernel } = cluster;
    const vatId = cluster.vatId('other');
    await kernel.terminateVat(vatId, 'not wanted');
    const status = kernel.status();
    const vats = kernel.state.listVats();
    const commits = cluster.commits.length;
    await expect(kernel.restartVat(vatId)).rejects.toThrow(
      /^vat "other" \(v\d+\) was terminated: not wanted$/u,
    );
    expect(kernel.status()).toEqual(status);
    expect(kernel.state.listVats()).toEqual(vats);
    expect(cluster.commits.length).toBe(commits);
  });
});

describe('pausing the run queue', () => {
  it('holds a queued message until unpaused, and whenIdle does not wait for it', async () => {
    cluster = await launchTestCluster({ counter: { source: sampleVat('counter.js') } });
    const { kernel } = cluster;
    expect(kernel.status().paused).toBe(false);
    kernel.pauseRunQueue();
    let settled = false;
    const result = kernel.queueMessage(kernel.rootOf('counter'), 'increment', []);
    void result.then(() => {
      settled = true;
    });
    // Paused, nothing is runnable: whenIdle resolves with the message still queued.
    await kernel.whenIdle();
    expect(kernel.status()).toMatchObject({ paused: true, runQueueLength: 1 });
    expect(settled).toBe(false);
    kernel.unpauseRunQueue();
    expect(json((await result).data)).toBe(1);
    await kernel.whenIdle();
    expect(kernel.status()).toMatchObject({ paused: false, runQueueLength: 0 });
  });
});

describe('enqueueMessage and promiseStatus', () => {
  it('acknowledges with result kpids that the queue keeps alive until they settle', async () => {
    cluster = await launchTestCluster({ counter: { source: sampleVat('counter.js') } });
    const { kernel } = cluster;
    const counter = kernel.rootOf('counter');
    // Held, so both acknowledgements come before either message runs.
    kernel.pauseRunQueue();
    const first = await kernel.enqueueMessage(counter, 'increment', [5]);
    const second = await kernel.enqueueMessage(counter, 'increment', []);
    expect(kernel.promiseStatus(first.kpid)).toEqual({ state: 'unresolved' });
    expect(kernel.status().runQueueLength).toBe(2);
    kernel.unpauseRunQueue();
    await kernel.whenIdle();
    // The second result lived through the first crank's garbage collection.
    expect(kernel.promiseStatus(first.kpid)?.state).toBe('fulfilled');
    expect(json(kernel.promiseStatus(first.kpid)?.data)).toBe(5);
    expect(kernel.promiseStatus(second.kpid)?.state).toBe('fulfilled');
    expect(json(kernel.promiseStatus(second.kpid)?.data)).toBe(6);
    // The kernel itself has collected them; promiseStatus kept the settlements.
    expect(kernel.state.getPromise(first.kpid)).toBeUndefined();
  });

  it('checks its arguments as queueMessage does, and promiseStatus of an unknown kpid is undefined', async () => {
    cluster = await launchTestCluster({ counter: { source: sampleVat('counter.js') } });
    const { kernel } = cluster;
    await expect(kernel.enqueueMessage('ko999', 'increment', [])).rejects.toThrow(
      /no kernel object or promise ko999/u,
    );
    await expect(
      kernel.enqueueMessage(kernel.rootOf('counter'), 'increment', [{ $kref: 'ko999' }]),
    ).rejects.toThrow(/refer to ko999, which the kernel does not know/u);
    expect(kernel.status().runQueueLength).toBe(0);
    expect(kernel.promiseStatus('kp999')).toBeUndefined();
  });

  describe('with a commit log', () => {
    async function openGated(onAppended: () => void) {
      const dir = await tempDir('cask-control-');
      const storage = await openFileStorage(dir);
      const gate = gateAppends(storage, onAppended);
      const { store, durability } = await recoverStore(await initSqlJs(), gate.storage);
      const crankWaiters: Array<() => void> = [];
      const kernel: Kernel = makeKernel({
        checkState: process.env['CASK_CHECK_STATE'] === '1',
        store,
        platform: { vats: makeNodeVatLauncher(), now: () => performance.now() },
        commitLog: durability,
        onCrank: () => {
          for (const w of crankWaiters.splice(0)) w();
        },
      });
      cleanup = async () => {
        gate.open();
        await kernel.shutdown();
        await durability.close();
        await storage.close();
        store.close();
      };
      const bundle = await bundleVatSource(sampleVat('counter.js'));
      const { result } = await kernel.launchCluster({
        bootstrap: 'counter',
        vats: { counter: { bundle, parameters: {}, globals: [] } },
      });
      await result;
      await kernel.whenIdle();
      const nextCrank = () => new Promise<void>((resolve) => crankWaiters.push(resolve));
      return { kernel, gate, nextCrank };
    }

    it('acknowledges only once the append holding the enqueue is durable', async () => {
      const events: string[] = [];
      const { kernel, gate, nextCrank } = await openGated(() => events.push('appended'));
      events.length = 0;
      gate.close();
      const ran = nextCrank();
      const ack = kernel
        .enqueueMessage(kernel.rootOf('counter'), 'increment', [])
        .then((acked) => {
          events.push('ack');
          return acked;
        });
      await gate.held();
      // The message even runs while its enqueue's write is held; the ack still waits.
      await ran;
      expect(events).toEqual([]);
      gate.open();
      const { kpid } = await ack;
      expect(events[0]).toBe('appended');
      expect(events.indexOf('ack')).toBeGreaterThan(0);
      await kernel.whenIdle();
      expect(json(kernel.promiseStatus(kpid)?.data)).toBe(1);
    });

    it('shows an enqueued result as unresolved until the crank that settled it is durable', async () => {
      let appended = 0;
      let afterFirst: (() => void) | undefined;
      const { kernel, gate, nextCrank } = await openGated(() => {
        appended += 1;
        afterFirst?.();
        afterFirst = undefined;
      });
      gate.close();
      const ran = nextCrank();
      const ack = kernel.enqueueMessage(kernel.rootOf('counter'), 'increment', []);
      await gate.held();
      await ran;
      // Hold the next write, the one holding the crank that settled the result.
      afterFirst = () => gate.close();
      const start = appended;
      gate.open();
      const { kpid } = await ack;
      await gate.held();
      expect(appended).toBe(start + 1);
      expect(kernel.promiseStatus(kpid)).toEqual({ state: 'unresolved' });
      gate.open();
      await kernel.whenIdle();
      expect(kernel.promiseStatus(kpid)?.state).toBe('fulfilled');
      expect(json(kernel.promiseStatus(kpid)?.data)).toBe(1);
    });
  });
});

describe('readVatstore', () => {
  const MARKS = 300;

  /** A tally vat with one durable-collection entry per mark, and its whole vatstore. */
  async function tallyWithMarks() {
    cluster = await launchTestCluster({ tally: { source: testVat('tally.js') } });
    const { kernel } = cluster;
    const tally = kernel.rootOf('tally');
    const adds = [];
    for (let i = 1; i <= MARKS; i += 1) adds.push(kernel.queueMessage(tally, 'add', [i]));
    await Promise.all(adds);
    await kernel.whenIdle();
    const vatId = cluster.vatId('tally');
    return { kernel, vatId, all: kernel.state.loadVatstore(vatId) };
  }

  it('pages through every entry in key order with an after cursor, limit and more flag', async () => {
    const { kernel, vatId, all } = await tallyWithMarks();
    expect(all.length).toBeGreaterThan(MARKS);
    const pages = [];
    let after: string | undefined;
    for (;;) {
      const page = kernel.state.readVatstore(vatId, {
        limit: 64,
        ...(after === undefined ? {} : { after }),
      });
      pages.push(page);
      if (!page.more) break;
      after = page.entries.at(-1)?.[0];
    }
    expect(pages.flatMap((p) => p.entries)).toEqual(all);
    expect(pages.slice(0, -1).every((p) => p.entries.length === 64 && p.more)).toBe(true);
    expect(pages.at(-1)?.entries.length).toBe(all.length - 64 * (pages.length - 1));
    // A limit that ends exactly at the last key: nothing more.
    const exact = kernel.state.readVatstore(vatId, { limit: all.length });
    expect(exact).toEqual({ entries: all, more: false });
  });

  it('keeps to a prefix, across pages, and stops where the prefix ends', async () => {
    const { kernel, vatId, all } = await tallyWithMarks();
    // The marks collection: the only collection with an entry per mark.
    const counts = new Map<string, number>();
    for (const [key] of all) {
      const collection = /^vc\.\d+\./u.exec(key)?.[0];
      if (collection) counts.set(collection, (counts.get(collection) ?? 0) + 1);
    }
    const prefix = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
    const expected = all.filter(([key]) => key.startsWith(prefix));
    expect(expected.length).toBeGreaterThanOrEqual(MARKS);
    const first = kernel.state.readVatstore(vatId, { prefix, limit: 100 });
    expect(first).toEqual({ entries: expected.slice(0, 100), more: true });
    const rest = kernel.state.readVatstore(vatId, {
      prefix,
      after: first.entries.at(-1)?.[0] ?? '',
      limit: expected.length,
    });
    expect(rest).toEqual({ entries: expected.slice(100), more: false });
    // A cursor before the prefix starts at the prefix.
    expect(kernel.state.readVatstore(vatId, { prefix, after: '', limit: 3 })).toEqual({
      entries: expected.slice(0, 3),
      more: true,
    });
    // Broader and empty prefixes.
    expect(kernel.state.readVatstore(vatId, { prefix: 'vc.', limit: 10_000 })).toEqual({
      entries: all.filter(([key]) => key.startsWith('vc.')),
      more: false,
    });
    expect(kernel.state.readVatstore(vatId, { prefix: 'nothing.', limit: 5 })).toEqual({
      entries: [],
      more: false,
    });
    expect(() => kernel.state.readVatstore(vatId, { limit: 0 })).toThrow(
      /limit must be a positive integer/u,
    );
  });
});
