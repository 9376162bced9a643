/**
 * Vat upgrade in the Node host, with real workers, real liveslots and real sql.js: the
 * new code gets the old baggage and must redefine every durable kind; any failure rolls
 * the whole upgrade back and the old version runs on, heap and all; promises the old
 * version decided are rejected with SwingSet's upgrade disconnection.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  bundleIdOf,
  capdataToJson,
  KernelError,
  type Kernel,
  type KernelStore,
  type VatBundle,
} from '../kernel/index.ts';
import { bundleVatSource } from './fixtures/bundle-cache.ts';
import { makeNodeKernel } from '../node/host/index.ts';
import { auditKernelTables } from './fixtures/audit.ts';
import { makeInProcessLauncher } from './fixtures/in-process-vats.ts';
import { makeManualClock } from './fixtures/manual-clock.ts';
import { removeTempDirs, tempDir } from './fixtures/temp-dirs.ts';
import {
  launchTestCluster,
  sampleVat,
  testVat,
  type TestCluster,
} from './kernel-harness.ts';

const upgradeVat = (file: string) => testVat(`upgrade/${file}`);
const bundles = new Map<string, VatBundle>();
async function bundle(file: string): Promise<VatBundle> {
  let b = bundles.get(file);
  if (!b) {
    b = await bundleVatSource(file);
    bundles.set(file, b);
  }
  return b;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(removeTempDirs);

async function subject(deliveryTimeoutMs?: number): Promise<TestCluster> {
  const cluster = await launchTestCluster({
    subject: {
      source: upgradeVat('v1.js'),
      parameters: { colour: 'red' },
      ...(deliveryTimeoutMs ? { deliveryTimeoutMs } : {}),
    },
  });
  cleanups.push(() => cluster.close());
  return cluster;
}

/** Everything stored, table by table, to show that a rolled-back upgrade changed none of it. */
function tables(store: KernelStore): unknown {
  const names = store
    .all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .map((r) => String(r[0]));
  return Object.fromEntries(
    names.map((n) => [
      n,
      // The request itself (its result promise, its place in the queue) is kept.
      store
        .all(`SELECT * FROM ${n}`)
        .filter(
          (r) =>
            n !== 'counters' || !['crank', 'promise', 'runQueue'].includes(String(r[0])),
        ),
    ]),
  );
}

/** Calls the subject's root as a caller that holds what it is handed (pins). */
async function held(c: TestCluster, method: string, ...args: unknown[]) {
  const s = await c.kernel.queueMessage(c.kernel.rootOf('subject'), method, args, {
    caller: 'test',
  });
  expect(s.rejected).toBe(false);
  return capdataToJson(s.data);
}

async function upgrade(kernel: Kernel, vatId: string, file: string, parameters?: object) {
  return kernel.upgradeVat(vatId, {
    bundle: await bundle(upgradeVat(file)),
    ...(parameters ? { parameters: parameters as Record<string, unknown> } : {}),
  });
}

describe('vat upgrade', () => {
  it('keeps baggage and durable exports, abandons the rest, and rejects what the old version decided', async () => {
    const c = await subject();
    const vatId = c.vatId('subject');
    const thing = await held(c, 'addThing', 'a');
    await c.call('subject', 'bump');
    await c.call('subject', 'bump');
    const heap = await held(c, 'heapObject');
    const virtual = await held(c, 'virtualObject');
    const never = c.kernel.queueMessage(c.kernel.rootOf('subject'), 'never', []);
    await c.kernel.whenIdle();
    const before = c.kernel.state.requireVat(vatId).incarnation;

    const outcome = await upgrade(c.kernel, vatId, 'v2.js', { colour: 'blue' });
    expect(outcome).toMatchObject({ vatId, version: 2, incarnationNumber: before + 1 });

    const rejected = await never;
    expect(rejected.rejected).toBe(true);
    expect(capdataToJson(rejected.data)).toEqual({
      name: 'vatUpgraded',
      upgradeMessage: 'vat "subject" upgraded from version 1 to 2',
      incarnationNumber: before + 1,
    });
    expect(await c.call('subject', 'version')).toBe(2);
    expect(await c.call('subject', 'parameters')).toEqual({ colour: 'blue' });
    expect(await c.call('subject', 'count')).toBe(2);
    expect(await c.call('subject', 'bump')).toBe(12);
    // The durable Thing is the same kernel object, now with version 2's behaviour.
    expect(await c.call('subject', 'thing', 'a')).toEqual(thing);
    const { $kref } = thing as { $kref: string };
    expect(await c.call($kref, 'shout')).toBe('A');
    expect(await c.call($kref, 'version')).toBe(2);
    // Heap-only and virtual objects died with version 1.
    for (const gone of [heap, virtual] as Array<{ $kref: string }>) {
      const s = await c.send(gone.$kref, 'hello');
      expect(s.rejected).toBe(true);
    }
    const versions = c.kernel.vatVersions(vatId);
    expect(versions.map((v) => [v.version, v.incarnation])).toEqual([
      [1, 0],
      [2, before + 1],
    ]);
    expect(versions[1]?.crank).toBeTypeOf('number');
    expect(auditKernelTables(c.store)).toEqual([]);
    expect(c.cranks.at(-1)?.kind).not.toBe('upgradeVat');
    expect(c.cranks.find((r) => r.kind === 'upgradeVat')).toMatchObject({
      outcome: 'ok',
      detail: 'upgraded from version 1 to 2',
    });
  });

  it.each([
    ['forgets-kind.js', /did not start: .*Thing/u],
    ['throws.js', /did not start: .*version 2 is broken/u],
  ])(
    'rolls back whole when the new version (%s) fails to start, and the old one runs on',
    async (file, why) => {
      const c = await subject();
      const vatId = c.vatId('subject');
      await c.call('subject', 'addThing', 'a');
      await c.call('subject', 'bump');
      const heap = (await held(c, 'heapObject')) as { $kref: string };
      const never = c.kernel.queueMessage(c.kernel.rootOf('subject'), 'never', []);
      await c.kernel.whenIdle();
      const before = tables(c.store);

      const failed = upgrade(c.kernel, vatId, file);
      await expect(failed).rejects.toThrow(KernelError);
      await expect(failed).rejects.toThrow(
        new RegExp(
          `^upgrade of vat "subject" \\(${vatId}\\) rolled back: its new version ${why.source}.*; its previous version runs on$`,
          'u',
        ),
      );
      // Nothing of it is stored but the new bundle and the crank that said why.
      const after = tables(c.store) as Record<string, unknown[]>;
      const was = before as Record<string, unknown[]>;
      for (const table of Object.keys(was)) {
        if (table === 'bundles') continue;
        expect([table, after[table]]).toEqual([table, was[table]]);
      }
      // The old version's heap is alive: its heap object answers, its promise is pending.
      expect(await c.call(heap.$kref, 'hello')).toBe('heap');
      expect(await c.call('subject', 'version')).toBe(1);
      expect(await c.call('subject', 'bump')).toBe(2);
      let settled = false;
      void never.then(() => {
        settled = true;
      });
      await c.kernel.whenIdle();
      expect(settled).toBe(false);
      expect(c.kernel.vatVersions(vatId)).toHaveLength(1);
      expect(c.cranks.find((r) => r.kind === 'upgradeVat')).toMatchObject({
        outcome: 'fault',
      });
      expect(auditKernelTables(c.store)).toEqual([]);
    },
  );

  it('rolls back when the new version passes the watchdog', async () => {
    const c = await subject(1500);
    const vatId = c.vatId('subject');
    await c.call('subject', 'bump');
    await expect(upgrade(c.kernel, vatId, 'loops.js')).rejects.toThrow(
      /rolled back: its new version did not start: .*did not finish within 1500 ms/u,
    );
    expect(await c.call('subject', 'version')).toBe(1);
    expect(await c.call('subject', 'count')).toBe(1);
  });

  it('delivers what was queued before it to the old version and after it to the new one', async () => {
    const c = await subject();
    const vatId = c.vatId('subject');
    const root = c.kernel.rootOf('subject');
    c.kernel.pauseRunQueue();
    const first = c.kernel.queueMessage(root, 'bump', []);
    await c.kernel.enqueueMessage(root, 'version', []);
    const upgraded = upgrade(c.kernel, vatId, 'v2.js');
    // Let the upgrade reach the queue before the next message.
    await c.kernel.enqueueMessage(root, 'count', []);
    const second = c.kernel.queueMessage(root, 'bump', []);
    await c.kernel.enqueueMessage(root, 'count', []);
    c.kernel.unpauseRunQueue();
    const [a, u, b] = await Promise.all([first, upgraded, second]);
    expect(capdataToJson(a.data)).toBe(1);
    expect(u.version).toBe(2);
    expect(capdataToJson(b.data)).toBe(11);
  });

  it('goes back to an earlier version by its bundle id, and every version is kept', async () => {
    const c = await subject();
    const vatId = c.vatId('subject');
    await c.call('subject', 'addThing', 'a');
    await upgrade(c.kernel, vatId, 'v2.js');
    const [first] = c.kernel.vatVersions(vatId);
    const back = await c.kernel.upgradeVat(vatId, { bundleId: first?.bundleId ?? '' });
    expect(back.version).toBe(3);
    expect(await c.call('subject', 'version')).toBe(1);
    expect(await c.call('subject', 'labels')).toEqual(['a']);
    expect(c.kernel.vatVersions(vatId).map((v) => v.bundleId)).toEqual([
      first?.bundleId,
      bundleIdOf(await bundle(upgradeVat('v2.js'))),
      first?.bundleId,
    ]);
  });

  it('refuses bad requests with the reason and stores nothing', async () => {
    const c = await subject();
    const vatId = c.vatId('subject');
    const before = tables(c.store);
    const v2 = await bundle(upgradeVat('v2.js'));
    await expect(c.kernel.upgradeVat('v99', { bundle: v2 })).rejects.toThrow(
      /^no vat v99$/u,
    );
    await expect(c.kernel.upgradeVat(vatId, {})).rejects.toThrow(
      /exactly one of bundle, bundleId or bundleName; got none/u,
    );
    await expect(
      c.kernel.upgradeVat(vatId, { bundle: v2, bundleName: 'x' }),
    ).rejects.toThrow(/got bundle and bundleName/u);
    await expect(c.kernel.upgradeVat(vatId, { bundleName: 'nope' })).rejects.toThrow(
      /no bundle named "nope"/u,
    );
    await expect(c.kernel.upgradeVat(vatId, { bundleId: 'b0' })).rejects.toThrow(
      /the kernel has no bundle b0/u,
    );
    await expect(
      c.kernel.upgradeVat(vatId, { bundle: v2, parameters: { f: () => 1 } }),
    ).rejects.toThrow(/parameters of vat "subject" cannot be passed/u);
    expect(tables(c.store)).toEqual(before);
    await c.kernel.terminateVat(vatId, 'done');
    await expect(c.kernel.upgradeVat(vatId, { bundle: v2 })).rejects.toThrow(
      /was terminated \(done\); only a running or suspended vat can be upgraded/u,
    );
  });

  it('brings a suspended vat back with new code, its held messages delivered to it', async () => {
    const c = await launchTestCluster(
      {
        subject: { source: upgradeVat('v1.js') },
        broken: { source: testVat('bad-start.js'), parameters: { fail: true } },
      },
      { bootstrap: 'subject' },
    );
    cleanups.push(() => c.close());
    const vatId = c.vatId('broken');
    expect(c.kernel.state.requireVat(vatId).state).toBe('suspended');
    const held = c.kernel.queueMessage(c.kernel.rootOf('broken'), 'version', []);
    await c.kernel.whenIdle();
    // Its failed startVat and the message.
    expect(c.kernel.state.heldCount(vatId)).toBe(2);
    await upgrade(c.kernel, vatId, 'v1.js');
    expect(capdataToJson((await held).data)).toBe(1);
    expect(c.kernel.state.requireVat(vatId).state).toBe('running');
  });

  it('upgrades the ledger sample from v1 to v2, keeping its balances', async () => {
    const c = await launchTestCluster({ ledger: { source: sampleVat('ledger.js') } });
    cleanups.push(() => c.close());
    await c.call('ledger', 'deposit', 'ann', 10);
    await c.call('ledger', 'deposit', 'ben', 3);
    await c.kernel.upgradeVat(c.vatId('ledger'), {
      bundle: await bundle(sampleVat('ledger-v2.js')),
    });
    expect(await c.call('ledger', 'version')).toBe(2);
    expect(await c.call('ledger', 'balances')).toEqual({ ann: '10n', ben: '3n' });
    expect(await c.call('ledger', 'transfer', 'ann', 'ben', 4)).toEqual({
      ann: '6n',
      ben: '7n',
    });
  });
});

/** Launches version 1 of the subject as the only vat of a kernel with a data directory. */
async function launchSubject(
  kernel: Kernel,
  config: { deliveryTimeoutMs?: number } = {},
) {
  await kernel.launchCluster({
    bootstrap: 'subject',
    vats: {
      subject: {
        bundle: await bundle(upgradeVat('v1.js')),
        parameters: {},
        globals: [],
        ...config,
      },
    },
  });
}

describe('vat upgrade and restarts', () => {
  it('an upgrade under way when the kernel stops is rolled back and runs again after resume', async () => {
    const dataDir = await tempDir('cask-upgrade-');
    let spinning: () => void = () => undefined;
    const spins = new Promise<void>((resolve) => {
      spinning = resolve;
    });
    const first = await makeNodeKernel({
      dataDir,
      onVatLog: (entry) => {
        if (entry.text === 'version 2 spins') spinning();
      },
    });
    await launchSubject(first.kernel, { deliveryTimeoutMs: 3000 });
    await first.kernel.whenIdle();
    const vatId = first.kernel.state.getVatByName('subject')?.vatId ?? '';
    const root = first.kernel.rootOf('subject');
    await first.kernel.queueMessage(root, 'bump', []);
    void upgrade(first.kernel, vatId, 'loops.js').catch(() => undefined);
    await spins;
    await first.close();

    const second = await makeNodeKernel({ dataDir });
    cleanups.push(() => second.close());
    second.kernel.pauseRunQueue();
    await second.kernel.resume();
    expect(second.kernel.vatVersions(vatId)).toHaveLength(1);
    expect(
      second.store.all("SELECT kind FROM run_queue WHERE kind = 'upgradeVat'"),
    ).toHaveLength(1);
    second.kernel.unpauseRunQueue();
    await second.kernel.whenIdle();
    // It ran again, spun again, and the watchdog rolled it back: version 1 runs on.
    expect(second.kernel.vatVersions(vatId)).toHaveLength(1);
    const count = await second.kernel.queueMessage(root, 'count', []);
    expect(capdataToJson(count.data)).toBe(1);
  });

  it('runs the new version after a kernel restart, and a queued upgrade survives a crash', async () => {
    const dataDir = await tempDir('cask-upgrade-');
    const v2 = await bundle(upgradeVat('v2.js'));
    const first = await makeNodeKernel({ dataDir });
    await launchSubject(first.kernel);
    await first.kernel.whenIdle();
    const vatId = first.kernel.state.getVatByName('subject')?.vatId ?? '';
    const root = first.kernel.rootOf('subject');
    await first.kernel.queueMessage(root, 'bump', []);
    await first.kernel.upgradeVat(vatId, { bundle: v2 });
    await first.close();

    const second = await makeNodeKernel({ dataDir });
    await second.kernel.resume();
    const call = async (kernel: Kernel, method: string) =>
      capdataToJson((await kernel.queueMessage(root, method, [])).data);
    expect(await call(second.kernel, 'version')).toBe(2);
    expect(await call(second.kernel, 'bump')).toBe(11);
    // An upgrade queued (durably) but not yet run when the kernel stops runs after resume.
    second.kernel.pauseRunQueue();
    // (Its caller's wait ends with the kernel; the upgrade stays queued.)
    void second.kernel
      .upgradeVat(vatId, {
        bundleId: second.kernel.vatVersions(vatId)[0]?.bundleId ?? '',
      })
      .catch(() => undefined);
    await second.kernel.enqueueMessage(root, 'count', []);
    expect(second.kernel.status().runQueueLength).toBe(2);
    await second.close();

    const third = await makeNodeKernel({ dataDir });
    cleanups.push(() => third.close());
    await third.kernel.resume();
    await third.kernel.whenIdle();
    expect(await call(third.kernel, 'version')).toBe(1);
    expect(await call(third.kernel, 'count')).toBe(11);
    expect(third.kernel.vatVersions(vatId)).toHaveLength(3);
  });
});

describe('vat upgrade and heap timers', () => {
  it("the old version's setTimeouts run on after a rollback and end with it after an upgrade", async () => {
    const clock = makeManualClock();
    const host = await makeNodeKernel({ launcher: makeInProcessLauncher(), clock });
    cleanups.push(() => host.close());
    const { kernel } = host;
    await (
      await kernel.launchCluster({
        bootstrap: 'ticker',
        vats: {
          ticker: {
            bundle: await bundle(upgradeVat('ticker-v1.js')),
            parameters: {},
            globals: ['setTimeout'],
          },
        },
      })
    ).result;
    const vatId = kernel.state.getVatByName('ticker')?.vatId ?? '';
    const root = kernel.rootOf('ticker');
    const call = async (method: string, ...args: unknown[]) =>
      capdataToJson((await kernel.queueMessage(root, method, args)).data);
    const tick = async (ms: number) => {
      clock.advance(ms);
      await kernel.whenIdle();
    };

    await call('arm', 'a', 100);
    await expect(upgrade(kernel, vatId, 'ticker-broken.js')).rejects.toThrow(
      /rolled back: .*the ticker is broken/u,
    );
    await tick(100);
    expect(await call('journal')).toEqual(['v1:a']);

    await call('arm', 'b', 100);
    await upgrade(kernel, vatId, 'ticker-v2.js');
    await tick(100);
    expect(await call('journal')).toEqual(['v1:a', 'v2:started']);
    await call('arm', 'c', 50);
    await tick(50);
    expect(await call('journal')).toEqual(['v1:a', 'v2:started', 'v2:c']);
  });
});
