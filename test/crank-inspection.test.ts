/**
 * What the kernel shows an inspector, with real vats: each crank's vatstore delta (its
 * size always, each key's old and new value while captureDeltas is on), the whole
 * database as an image exported between cranks once everything is durable, and
 * read-only SQL against the live store. And the other half of a state transfer: a
 * checked image installed into a data directory, which recovery then opens.
 */
import initSqlJs, { type SqlJsStatic } from 'sql.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir } from './fixtures/temp-dirs.ts';
import {
  KernelStore,
  StoreError,
  checkStateFile,
  exportStateFile,
  makeKernel,
  installStateImage,
  recoverStore,
  type CrankRecord,
  type Durability,
  type Kernel,
} from '../kernel/index.ts';
import { bundleVatSource } from './fixtures/bundle-cache.ts';
import { openFileStorage } from '../node/file-storage/index.ts';
import { makeNodeVatLauncher } from '../node/vat-worker/index.ts';
import {
  launchTestCluster,
  replyEdits,
  sampleVat,
  tamperNextReply,
  testVat,
  type TestCluster,
} from './kernel-harness.ts';

afterAll(removeTempDirs);

let SQL: SqlJsStatic;
beforeAll(async () => {
  SQL = await initSqlJs();
});

let cluster: TestCluster | undefined;
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
  await cleanup?.();
  cleanup = undefined;
});

/** The capdata a vat stores for a plain number in baggage. */
const numberCapdata = (n: number) => JSON.stringify({ body: `#${n}`, slots: [] });

/** The vatstore key holding a value, found by its value (there must be exactly one). */
function keyHolding(c: TestCluster, vatName: string, value: string): string {
  const keys = c.kernel.state
    .loadVatstore(c.vatId(vatName))
    .filter(([, v]) => v === value)
    .map(([k]) => k);
  expect(keys).toHaveLength(1);
  return keys[0] as string;
}

/** The record of the last crank that delivered `method`. */
function lastCrankOf(c: TestCluster, method: string): CrankRecord {
  const record = c.cranks.filter((r) => r.method === method).at(-1);
  if (!record) throw new Error(`no crank delivered ${method}`);
  return record;
}

describe('crank records', () => {
  it('count the vatstore keys and bytes of a crank’s delta', async () => {
    cluster = await launchTestCluster({ counter: { source: sampleVat('counter.js') } });
    expect(await cluster.call('counter', 'increment')).toBe(1);
    const record = lastCrankOf(cluster, 'increment');
    expect(record).toMatchObject({ kind: 'send', outcome: 'ok' });
    expect(record.deltaKeys).toBeGreaterThanOrEqual(1);
    // At least the count's key and its new capdata.
    const countKey = keyHolding(cluster, 'counter', numberCapdata(1));
    expect(record.deltaBytes).toBeGreaterThanOrEqual(
      countKey.length + numberCapdata(1).length,
    );
  });

  it('carry no delta while captureDeltas is off, and still count its keys', async () => {
    cluster = await launchTestCluster({ counter: { source: sampleVat('counter.js') } });
    expect(cluster.kernel.captureDeltas).toBe(false);
    await cluster.call('counter', 'increment');
    const record = lastCrankOf(cluster, 'increment');
    expect(record).not.toHaveProperty('delta');
    expect(record.deltaKeys).toBeGreaterThanOrEqual(1);
    expect(record.deltaBytes).toBeGreaterThan(0);
  });

  it('with captureDeltas, give the count key’s previous and next capdata', async () => {
    cluster = await launchTestCluster({ counter: { source: sampleVat('counter.js') } });
    cluster.kernel.captureDeltas = true;
    expect(await cluster.call('counter', 'increment')).toBe(1);
    const countKey = keyHolding(cluster, 'counter', numberCapdata(1));
    expect(await cluster.call('counter', 'increment')).toBe(2);
    const { delta } = lastCrankOf(cluster, 'increment');
    expect(delta?.vatId).toBe(cluster.vatId('counter'));
    expect(delta?.sets.filter((s) => s.key === countKey)).toEqual([
      { key: countKey, old: numberCapdata(1), new: numberCapdata(2) },
    ]);
  });

  it('with captureDeltas, agree with deltaKeys and deltaBytes', async () => {
    cluster = await launchTestCluster({ counter: { source: sampleVat('counter.js') } });
    cluster.kernel.captureDeltas = true;
    await cluster.call('counter', 'increment');
    const { delta, deltaKeys, deltaBytes } = lastCrankOf(cluster, 'increment');
    if (!delta) throw new Error('no delta');
    expect(deltaKeys).toBe(delta.sets.length + delta.deletes.length);
    expect(deltaBytes).toBe(
      delta.sets.reduce((n, s) => n + s.key.length + s.new.length, 0) +
        delta.deletes.reduce((n, d) => n + d.key.length, 0),
    );
  });

  it('with captureDeltas, give old = null for a key the crank created', async () => {
    cluster = await launchTestCluster({ ops: { source: testVat('store-ops.js') } });
    cluster.kernel.captureDeltas = true;
    await cluster.call('ops', 'setUp');
    const { delta } = lastCrankOf(cluster, 'setUp');
    const kept = keyHolding(
      cluster,
      'ops',
      JSON.stringify({ body: '#"old"', slots: [] }),
    );
    expect(delta?.sets.find((s) => s.key === kept)).toEqual({
      key: kept,
      old: null,
      new: JSON.stringify({ body: '#"old"', slots: [] }),
    });
  });

  it('with captureDeltas, give each deleted key’s value before the crank', async () => {
    cluster = await launchTestCluster({ ops: { source: testVat('store-ops.js') } });
    await cluster.call('ops', 'setUp');
    const doomedValue = JSON.stringify({ body: '#"x"', slots: [] });
    const doomed = keyHolding(cluster, 'ops', doomedValue);
    const kept = keyHolding(
      cluster,
      'ops',
      JSON.stringify({ body: '#"old"', slots: [] }),
    );
    cluster.kernel.captureDeltas = true;
    await cluster.call('ops', 'churn');
    const { delta } = lastCrankOf(cluster, 'churn');
    expect(delta?.deletes).toContainEqual({ key: doomed, old: doomedValue });
    expect(delta?.sets).toContainEqual({
      key: kept,
      old: JSON.stringify({ body: '#"old"', slots: [] }),
      new: JSON.stringify({ body: '#"newer"', slots: [] }),
    });
  });

  it('stop carrying a delta once captureDeltas is turned off again', async () => {
    cluster = await launchTestCluster({ counter: { source: sampleVat('counter.js') } });
    cluster.kernel.captureDeltas = true;
    await cluster.call('counter', 'increment');
    expect(lastCrankOf(cluster, 'increment').delta).toBeDefined();
    cluster.kernel.captureDeltas = false;
    await cluster.call('counter', 'increment');
    expect(lastCrankOf(cluster, 'increment')).not.toHaveProperty('delta');
  });

  it('report deltaKeys 0 and no delta for a faulted crank', async () => {
    const { tamper, arm } = tamperNextReply(replyEdits.bogusResolve);
    cluster = await launchTestCluster(
      {
        mallory: { source: testVat('mallory.js') },
        counter: { source: sampleVat('counter.js') },
      },
      { tamper },
    );
    cluster.kernel.captureDeltas = true;
    const malloryId = cluster.vatId('mallory');
    arm();
    const counter = { $kref: cluster.kernel.rootOf('counter') };
    // The vat is suspended and the message waits for it.
    void cluster.send('mallory', 'touch', counter, 'm1');
    await cluster.kernel.whenIdle();
    const faulted = cluster.cranks.filter((r) => r.outcome === 'fault');
    expect(faulted).toHaveLength(1);
    expect(faulted[0]).toMatchObject({ vatId: malloryId, deltaKeys: 0, deltaBytes: 0 });
    expect(faulted[0]).not.toHaveProperty('delta');
  });

  it('after a faulted crank, report only the next crank’s own delta', async () => {
    const { tamper, arm } = tamperNextReply(replyEdits.wrongCrank);
    cluster = await launchTestCluster(
      {
        mallory: { source: testVat('mallory.js') },
        counter: { source: sampleVat('counter.js') },
      },
      { tamper },
    );
    cluster.kernel.captureDeltas = true;
    arm();
    const counter = { $kref: cluster.kernel.rootOf('counter') };
    void cluster.send('mallory', 'touch', counter, 'm1');
    await cluster.kernel.whenIdle();
    expect(cluster.cranks.some((r) => r.outcome === 'fault')).toBe(true);
    await cluster.call('counter', 'increment');
    const { delta } = lastCrankOf(cluster, 'increment');
    expect(delta?.vatId).toBe(cluster.vatId('counter'));
    expect(delta?.sets.some((s) => s.key.includes('mark-m1'))).toBe(false);
  });
});

describe('kernel.inspectStore', () => {
  it('runs a read-only query against the live store', async () => {
    cluster = await launchTestCluster({
      counter: { source: sampleVat('counter.js') },
      other: { source: sampleVat('counter.js') },
    });
    expect(
      await cluster.kernel.inspectStore('SELECT name FROM vats ORDER BY name', 10),
    ).toEqual({ columns: ['name'], rows: [['counter'], ['other']], truncated: false });
  });

  it('refuses a write, and the kernel runs on and commits its next crank', async () => {
    cluster = await launchTestCluster({ counter: { source: sampleVat('counter.js') } });
    const { kernel } = cluster;
    await expect(
      kernel.inspectStore('WITH x AS (SELECT 1) DELETE FROM vatstore', 10),
    ).rejects.toThrow(StoreError);
    expect(await cluster.call('counter', 'increment')).toBe(1);
    expect(kernel.state.loadVatstore(cluster.vatId('counter')).length).toBeGreaterThan(0);
  });
});

describe('kernel.exportImage', () => {
  /** A durable kernel (files in a temporary directory) running counter and greeter. */
  async function durableKernel(onCrank: (record: CrankRecord) => void) {
    const dir = await tempDir('cask-inspection-');
    const storage = await openFileStorage(dir);
    const { store, durability } = await recoverStore(SQL, storage);
    const kernel: Kernel = makeKernel({
      checkState: process.env['CASK_CHECK_STATE'] === '1',
      store,
      platform: { vats: makeNodeVatLauncher(), now: () => performance.now() },
      commitLog: durability,
      onCrank,
    });
    cleanup = async () => {
      await kernel.shutdown();
      await durability.close();
      store.close();
    };
    const [counter, greeter] = await Promise.all([
      bundleVatSource(sampleVat('counter.js')),
      bundleVatSource(sampleVat('greeter.js')),
    ]);
    const { result } = await kernel.launchCluster({
      bootstrap: 'counter',
      vats: {
        counter: { bundle: counter, parameters: {}, globals: [] },
        greeter: { bundle: greeter, parameters: {}, globals: [] },
      },
    });
    await result;
    await kernel.whenIdle();
    return { kernel, store, durability };
  }

  it('exports between cranks, with every commit durable, while messages are queued', async () => {
    const INCREMENTS = 12;
    const EXPORT_AFTER = 5;
    let increments = 0;
    let onFifth: (() => void) | undefined;
    const { kernel, store } = await durableKernel((record) => {
      if (record.method !== 'increment') return;
      increments += 1;
      if (increments === EXPORT_AFTER) onFifth?.();
    });
    const seen: {
      status?: ReturnType<Kernel['status']>;
      uncommitted?: boolean;
    } = {};
    const exported = new Promise<Uint8Array>((resolve, reject) => {
      onFifth = () => {
        // Asked for from inside the 5th increment's crank record: the write of that
        // crank is in flight, and seven increments are still queued.
        kernel
          .exportImage(async (s) => {
            seen.status = kernel.status();
            seen.uncommitted = s.hasPendingChanges;
            return exportStateFile(s, 0);
          })
          .then(resolve, reject);
      };
    });
    const counter = kernel.rootOf('counter');
    const results = [];
    for (let i = 0; i < INCREMENTS; i += 1) {
      results.push(kernel.queueMessage(counter, 'increment', []));
    }
    const file = await exported;
    await Promise.all(results);
    await kernel.whenIdle();

    // Between cranks, with nothing of the store left to make durable.
    expect(seen.uncommitted).toBe(false);
    expect(seen.status?.durableCrank).toBe(seen.status?.crank);
    expect(seen.status?.runQueueLength).toBe(INCREMENTS - EXPORT_AFTER);

    const checked = checkStateFile(SQL, file);
    expect(checked.vats).toBe(2);
    expect(checked.vats).toBe(kernel.state.listVats().length);
    expect(checked.crank).toBe(seen.status?.crank);
    // The image holds the count as of the 5th increment, and the kernel ran on after it.
    const counterId = kernel.state.getVatByName('counter')?.vatId ?? '';
    const image = KernelStore.open(SQL, checked.image);
    const countKey = image
      .all('SELECT key FROM vatstore WHERE vat_id = ? AND value = ?', [
        counterId,
        numberCapdata(EXPORT_AFTER),
      ])
      .map((r) => r[0]);
    expect(countKey).toHaveLength(1);
    image.close();
    expect(increments).toBe(INCREMENTS);
    expect(store.get('vatstore', [counterId, countKey[0] as string])?.[2]).toBe(
      numberCapdata(INCREMENTS),
    );
  });

  it('rejects with the encoder’s error, and the kernel runs on', async () => {
    cluster = await launchTestCluster({ counter: { source: sampleVat('counter.js') } });
    const { kernel } = cluster;
    await expect(
      kernel.exportImage(() => Promise.reject(new Error('disk full'))),
    ).rejects.toThrow('disk full');
    expect(await cluster.call('counter', 'increment')).toBe(1);
  });

  it('works without a commit log, and the kernel runs on after the export', async () => {
    cluster = await launchTestCluster({ counter: { source: sampleVat('counter.js') } });
    const { kernel } = cluster;
    await cluster.call('counter', 'increment');
    const file = await kernel.exportImage((s) => exportStateFile(s, 0));
    expect(checkStateFile(SQL, file)).toMatchObject({
      vats: 1,
      crank: kernel.status().crank,
    });
    // The export reopened the database under the kernel; its next cranks still commit.
    expect(await cluster.call('counter', 'increment')).toBe(2);
    expect(await cluster.call('counter', 'getCount')).toBe(2);
  });
});

describe('installStateImage over files in a data directory', () => {
  const vatRow = (vatId: string, name: string) => [
    vatId,
    name,
    'b1',
    '{}',
    '[]',
    1,
    'running',
    `ko-${vatId}`,
    1,
    null,
    null,
    null,
  ];

  /** Commits one crank of `entries` in v1's vatstore and appends it to the log. */
  function write(
    store: KernelStore,
    durability: Durability,
    crank: number,
    entries: Record<string, string>,
  ): Promise<void> {
    store.beginCrank();
    for (const [key, value] of Object.entries(entries)) {
      store.put('vatstore', ['v1', key, value]);
    }
    store.put('counters', ['crank', crank + 1]);
    store.commitCrank();
    return durability.append(store.takeChanges(), crank, crank);
  }

  // Checkpoints every few records; none at close, so the log after the last one stays.
  const options = {
    checkpointMinBytes: 2_000,
    checkpointRatio: 0,
    closeCheckpointMinBytes: Number.POSITIVE_INFINITY,
  };

  /**
   * A data directory holding a kernel's state: a checkpoint and log segments after it.
   * Returns the last log seq it holds; the storage is closed.
   */
  async function kernelDirectory(dir: string): Promise<number> {
    const storage = await openFileStorage(dir);
    const { store, durability } = await recoverStore(SQL, storage, options);
    store.beginCrank();
    store.put('vats', vatRow('v1', 'old-vat'));
    store.commitCrank();
    await durability.append(store.takeChanges(), 0, 0);
    for (let crank = 1; crank <= 30; crank += 1) {
      await write(store, durability, crank, { [`old-${crank}`]: 'y'.repeat(100) });
    }
    await durability.settled();
    const { lastSeq, checkpointSeq, logRecordsSinceCheckpoint } = durability.stats();
    // A checkpoint, and log records after it.
    expect(checkpointSeq).toBeGreaterThan(0);
    expect(logRecordsSinceCheckpoint).toBeGreaterThan(0);
    await durability.close();
    store.close();
    const check = await openFileStorage(dir);
    const checkpoints = await check.listCheckpoints();
    const segments = await check.listLogSegments();
    await check.close();
    expect(checkpoints.length).toBeGreaterThan(0);
    expect(segments.length).toBeGreaterThan(0);
    return lastSeq;
  }

  /** The state file of another kernel: two vats of its own and crank 77. */
  async function otherImage(): Promise<Uint8Array> {
    const other = KernelStore.open(SQL);
    other.beginCrank();
    other.put('vats', vatRow('v1', 'imported-a'));
    other.put('vats', vatRow('v2', 'imported-b'));
    other.put('vatstore', ['v1', 'origin', 'imported-a,imported-b']);
    other.put('counters', ['crank', 78]);
    other.commitCrank();
    other.takeChanges();
    const file = await exportStateFile(other, 5);
    other.close();
    return checkStateFile(SQL, file).image;
  }

  const names = (store: KernelStore) =>
    store.all('SELECT name FROM vats ORDER BY name').map((r) => r[0]);

  it('leaves exactly one checkpoint, at the given seq, and no log segments', async () => {
    const dir = await tempDir('cask-state-file-');
    const lastSeq = await kernelDirectory(dir);
    const storage = await openFileStorage(dir);
    await installStateImage(storage, await otherImage(), lastSeq + 1);
    expect(await storage.listCheckpoints()).toEqual([lastSeq + 1]);
    expect(await storage.listLogSegments()).toEqual([]);
    await storage.close();
  });

  it('is what recovery opens afterwards: the imported state, nothing of the old one', async () => {
    const dir = await tempDir('cask-state-file-');
    const lastSeq = await kernelDirectory(dir);
    const storage = await openFileStorage(dir);
    await installStateImage(storage, await otherImage(), lastSeq + 1);
    await storage.close();

    const reopened = await openFileStorage(dir);
    const { store, durability, report } = await recoverStore(SQL, reopened, options);
    expect(report).toMatchObject({
      checkpointSeq: lastSeq + 1,
      skippedCheckpoints: [],
      recordsReplayed: 0,
      lastSeq: lastSeq + 1,
    });
    expect(names(store)).toEqual(['imported-a', 'imported-b']);
    expect(store.get('counters', ['crank'])).toEqual(['crank', 78]);
    expect(store.all("SELECT key FROM vatstore WHERE key LIKE 'old-%'")).toEqual([]);
    await durability.close();
    store.close();
  });

  it('lets a new Durability append after it, and the appends survive another recovery', async () => {
    const dir = await tempDir('cask-state-file-');
    const lastSeq = await kernelDirectory(dir);
    const storage = await openFileStorage(dir);
    await installStateImage(storage, await otherImage(), lastSeq + 1);
    await storage.close();

    const first = await recoverStore(SQL, await openFileStorage(dir), options);
    await write(first.store, first.durability, 78, { after: 'import' });
    await write(first.store, first.durability, 79, { again: 'later' });
    expect(first.durability.stats().lastSeq).toBe(lastSeq + 3);
    await first.durability.close();
    first.store.close();

    const second = await recoverStore(SQL, await openFileStorage(dir), options);
    expect(second.report).toMatchObject({
      checkpointSeq: lastSeq + 1,
      recordsReplayed: 2,
      lastSeq: lastSeq + 3,
      lastCrank: 79,
    });
    expect(names(second.store)).toEqual(['imported-a', 'imported-b']);
    expect(
      second.store.all(
        "SELECT key, value FROM vatstore WHERE vat_id = 'v1' ORDER BY key",
      ),
    ).toEqual([
      ['after', 'import'],
      ['again', 'later'],
      ['origin', 'imported-a,imported-b'],
    ]);
    expect(second.store.get('counters', ['crank'])).toEqual(['crank', 80]);
    await second.durability.close();
    second.store.close();
  });
});
