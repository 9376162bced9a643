/**
 * Promises the kernel settles: batches of resolutions that name each other, cycles built
 * across cranks and vats, a promise resolved to data holding itself. Real vats under
 * liveslots, in this thread (fixtures/in-process-vats.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeInProcessLauncher } from './fixtures/in-process-vats.ts';
import { launchTestCluster, testVat, type TestCluster } from './kernel-harness.ts';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const twoVats = () =>
  launchTestCluster(
    {
      alice: { source: testVat('promise-cycles.js') },
      bob: { source: testVat('promise-cycles.js') },
    },
    { launcher: makeInProcessLauncher() },
  );

/** Settles within a bound: a kernel that spins fails here instead of hanging. */
async function idleWithin(c: TestCluster, ms = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    c.kernel.whenIdle(),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`kernel not idle after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe('promises resolved to each other', () => {
  it('in one batch: the resolving vat runs on and a peer follows the cycle', async () => {
    cluster = await twoVats();
    const before = cluster.cranks.length;
    expect(
      await cluster.call('bob', 'peer', { $kref: cluster.kernel.rootOf('alice') }),
    ).toEqual(['a', 'b', 'a', 'b', 'a']);
    await idleWithin(cluster);
    expect(cluster.kernel.state.getVatByName('alice')?.state).toBe('running');
    // A handful of cranks, not a ping-pong of subscribe and notify.
    expect(cluster.cranks.length - before).toBeLessThan(20);
  });

  it('built across cranks and vats: settles, and the kernel goes idle', async () => {
    cluster = await twoVats();
    const before = cluster.cranks.length;
    expect(
      await cluster.call('bob', 'crossCycle', { $kref: cluster.kernel.rootOf('alice') }),
    ).toEqual(['a', 'b', 'a', 'b', 'a']);
    await idleWithin(cluster);
    expect(cluster.cranks.length - before).toBeLessThan(40);
  });

  it('resolved to a record holding itself: the deciding vat runs on', async () => {
    cluster = await twoVats();
    expect(
      await cluster.call('bob', 'selfishPeer', { $kref: cluster.kernel.rootOf('alice') }),
    ).toEqual(['self', 'self', true]);
    expect(cluster.kernel.state.getVatByName('alice')?.state).toBe('running');
  });
});
