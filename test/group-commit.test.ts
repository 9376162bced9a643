/**
 * Group commit and the output embargo, made deterministic by holding the storage's
 * appends at a gate (real files underneath): while a write is in flight cranks keep
 * running, the next write carries all of them as one record, and no result is released
 * before the record holding its crank is durable.
 */
import { rm } from 'node:fs/promises';
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir } from './fixtures/temp-dirs.ts';
import {
  capdataToJson,
  makeKernel,
  recoverStore,
  type DurableStorage,
  type RowChange,
} from '../kernel/index.ts';
import { bundleVatSource } from './fixtures/bundle-cache.ts';
import { openFileStorage } from '../node/file-storage/index.ts';
import { makeNodeVatLauncher } from '../node/vat-worker/index.ts';
import { sampleVat, testVat } from './kernel-harness.ts';

afterAll(removeTempDirs);

/** Holds every append until `open()`; the rest passes straight through. */
function gated(storage: DurableStorage) {
  let waiting: Array<() => void> = [];
  let isOpen = true;
  const appends: number[] = [];
  const wrapped: DurableStorage = {
    ...storage,
    async appendLog(bytes) {
      appends.push(bytes.length);
      if (!isOpen) await new Promise<void>((resolve) => waiting.push(resolve));
      return storage.appendLog(bytes);
    },
  };
  return {
    storage: wrapped,
    appends,
    close() {
      isOpen = false;
    },
    open() {
      isOpen = true;
      const held = waiting;
      waiting = [];
      for (const release of held) release();
    },
  };
}

describe('group commit', () => {
  it('runs cranks while a write is in flight and commits them as one record, releasing results only after it', async () => {
    const dir = await tempDir('cask-group-');
    const gate = gated(await openFileStorage(dir));
    const { store, durability } = await recoverStore(await initSqlJs(), gate.storage);
    const commits: Array<{ changes: RowChange[]; lastCrank: number }> = [];
    let cranks = 0;
    let crankWaiter: { n: number; resolve: () => void } | undefined;
    const kernel = makeKernel({
      checkState: process.env['CASK_CHECK_STATE'] === '1',
      store,
      platform: { vats: makeNodeVatLauncher(), now: () => performance.now() },
      commitLog: durability,
      onCommit: (changes, lastCrank) => commits.push({ changes, lastCrank }),
      onCrank: () => {
        cranks += 1;
        if (crankWaiter && cranks >= crankWaiter.n) crankWaiter.resolve();
      },
    });
    const cranksReach = (n: number) =>
      new Promise<void>((resolve) => {
        if (cranks >= n) resolve();
        else crankWaiter = { n, resolve };
      });
    const bundle = await bundleVatSource(sampleVat('counter.js'));
    const { result } = await kernel.launchCluster({
      bootstrap: 'counter',
      vats: { counter: { bundle, parameters: {}, globals: [] } },
    });
    await result;
    await kernel.whenIdle();
    const counter = kernel.rootOf('counter');

    gate.close();
    const before = commits.length;
    const released: number[] = [];
    const results = [1, 2, 3, 4, 5, 6].map((i) =>
      kernel.queueMessage(counter, 'increment', []).then((s) => {
        released.push(i);
        return capdataToJson(s.data);
      }),
    );
    const start = cranks;
    // All six increments run while the first write is held at the gate …
    await cranksReach(start + 6);
    expect(released).toEqual([]);
    // … so only that first write has started; everything since waits in one transaction.
    expect(commits.length - before).toBe(1);
    expect(store.hasPendingChanges).toBe(true);
    gate.open();
    expect(await Promise.all(results)).toEqual([1, 2, 3, 4, 5, 6]);
    await kernel.whenIdle();
    // The six cranks became durable in at most two more records, not six.
    const after = commits.slice(before);
    expect(after.length).toBeLessThanOrEqual(3);
    expect(after.at(-1)?.lastCrank).toBe(start + 6);
    await kernel.shutdown();
    await durability.close();
  });
});

describe('the commit gate and an open crank', () => {
  it('makes a crank durable that committed while a write was in flight, while the next crank still waits on its vat', async () => {
    const dir = await tempDir('cask-group-');
    const gate = gated(await openFileStorage(dir));
    const { store, durability } = await recoverStore(await initSqlJs(), gate.storage);
    const kernel = makeKernel({
      checkState: process.env['CASK_CHECK_STATE'] === '1',
      store,
      platform: { vats: makeNodeVatLauncher(), now: () => performance.now() },
      commitLog: durability,
    });
    const { result } = await kernel.launchCluster({
      bootstrap: 'counter',
      vats: {
        counter: {
          bundle: await bundleVatSource(sampleVat('counter.js')),
          parameters: {},
          globals: [],
        },
        looper: {
          bundle: await bundleVatSource(testVat('looper.js')),
          parameters: {},
          globals: [],
          deliveryTimeoutMs: 4_000,
        },
      },
    });
    await result;
    await kernel.whenIdle();
    gate.close();
    const increment = kernel.queueMessage(kernel.rootOf('counter'), 'increment', []);
    const spin = kernel.queueMessage(kernel.rootOf('looper'), 'spin', []);
    // Wait until the increment's crank has committed and the spin's crank is open.
    while (!(store.inCrank && kernel.status().crank > kernel.status().durableCrank)) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    gate.open();
    const answered = await increment;
    // Answered — so durable — while the spin's crank is still open, waiting on its vat.
    expect(store.inCrank).toBe(true);
    expect(capdataToJson(answered.data)).toBe(1);
    expect((await spin).rejected).toBe(true);
    await kernel.whenIdle();
    await kernel.shutdown();
    await durability.close();
    await rm(dir, { recursive: true, force: true });
  }, 30_000);
});
