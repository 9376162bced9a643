/**
 * History in the Node host (docs/history.md): the retained commits, restore to one of
 * them (and back), labels that outlive retention, a fork that leaves the original alone,
 * a vat's vatstore at a commit and a key's changes, and refusals that change nothing.
 * Real sql.js, real files, real vats.
 */
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { capdataToJson, type DurabilityOptions } from '../kernel/index.ts';
import { makeNodeKernel, readNodeStore, type NodeKernel } from '../node/host/index.ts';
import { dirDigest, dumpStore, type Dump } from './fixtures/history.ts';
import { removeTempDirs, tempDir } from './fixtures/temp-dirs.ts';
import { resolveCluster, sampleVat, testVat } from './kernel-harness.ts';

afterAll(removeTempDirs);

/** A checkpoint every few commits, so history spans several of them. */
const OFTEN: DurabilityOptions = {
  checkpointMinBytes: 2 * 1024,
  checkpointRatio: 0.01,
  closeCheckpointMinBytes: 1024,
  retention: { keepCheckpoints: 1000 },
};

async function open(dataDir: string, durability: DurabilityOptions = OFTEN) {
  const host = await makeNodeKernel({ dataDir, durability });
  const call = async (method: string, ...args: unknown[]) => {
    const s = await host.kernel.queueMessage(host.kernel.rootOf('counter'), method, args);
    return capdataToJson(s.data);
  };
  return Object.assign(host, { call });
}

type Opened = NodeKernel & { call: (m: string, ...a: unknown[]) => Promise<unknown> };

/** A counter kernel, incremented `n` times; the state after each increment. */
async function counterKernel(
  n: number,
  durability: DurabilityOptions = OFTEN,
): Promise<{
  host: Opened;
  dataDir: string;
  after: Array<{ crank: number; dump: Dump }>;
}> {
  const dataDir = await tempDir('cask-history-');
  const host = await open(dataDir, durability);
  const { result } = await host.kernel.launchCluster(
    await resolveCluster({ counter: { source: sampleVat('counter.js') } }, 'counter'),
  );
  await result;
  await host.kernel.whenIdle();
  const after: Array<{ crank: number; dump: Dump }> = [];
  for (let i = 1; i <= n; i += 1) {
    await host.call('increment');
    await host.kernel.whenIdle();
    after.push({ crank: host.kernel.status().crank, dump: dumpStore(host.store) });
  }
  return { host, dataDir, after };
}

const restoredDump = (dump: Dump) => {
  const { counters: _c, history_labels: _l, ...rest } = dump;
  return rest;
};

describe('history', { timeout: 120_000 }, () => {
  it('lists retained commits with crank range, time, vats, delta size and labels', async () => {
    const { host, after } = await counterKernel(5);
    const before = Date.now();
    const target = after[2]?.crank as number;
    await host.label(target, 'three');
    const { commits, space } = await host.history();
    const listed = commits.find((c) => c.lastCrank === target);
    expect(listed?.labels).toEqual(['three']);
    expect(listed?.vats.map((v) => v.name)).toContain('counter');
    expect(listed?.changes).toBeGreaterThan(0);
    expect(listed?.bytes).toBeGreaterThan(0);
    expect(listed?.time).toBeLessThanOrEqual(before);
    // Oldest first, a record boundary each.
    const cranks = commits.map((c) => c.lastCrank);
    expect([...cranks].sort((a, b) => a - b)).toEqual(cranks);
    expect(space.liveBytes).toBeGreaterThan(0);
    await host.close();
  });

  it('restores the whole kernel to the state live after a commit, and its vats answer', async () => {
    const { host, after } = await counterKernel(30);
    const target = after[9] as { crank: number; dump: Dump };
    const newest = host.kernel.status().crank;
    const outcome = await host.restore(target.crank, { relaunch: true });
    expect(outcome.restoreCrank).toBe(newest + 1);
    // Every table as it was after that commit (counters move on, labels are of now).
    expect(dumpStore(host.store, { restored: true })).toEqual(
      restoredDump(
        Object.fromEntries(
          Object.entries(target.dump).map(([t, rows]) => [
            t,
            // Relaunched vats are new incarnations.
            t === 'vats'
              ? rows.map((r) => r.map((v, i) => (i === 5 ? Number(v) + 1 : v)))
              : rows,
          ]),
        ),
      ),
    );
    // Crank numbers never go back.
    expect(host.kernel.status().crank).toBeGreaterThan(newest);
    expect(await host.call('increment')).toBe(11);
    await host.close();
  });

  it('undoes a restore by restoring to the commit before it', async () => {
    const { host, after } = await counterKernel(20);
    const last = after.at(-1) as { crank: number; dump: Dump };
    const outcome = await host.restore(after[4]?.crank as number);
    expect(outcome.undoCrank).toBe(last.crank);
    expect(await host.call('getCount')).toBe(5);
    await host.kernel.whenIdle();
    const { commits } = await host.history();
    const restore = commits.find((c) => c.restore);
    expect(restore?.restore?.crank).toBe(after[4]?.crank);
    await host.restore(last.crank);
    expect(dumpStore(host.store, { restored: true })).toEqual(restoredDump(last.dump));
    expect(await host.call('getCount')).toBe(20);
    await host.close();
  });

  it('runs two restores asked at once one after the other, each answered truly', async () => {
    const { host, after } = await counterKernel(3);
    const [one, two] = [after[0], after[1]] as [
      { crank: number; dump: Dump },
      { crank: number; dump: Dump },
    ];
    const [first, second] = await Promise.all([
      host.restore(one.crank, { relaunch: true }),
      host.restore(two.crank, { relaunch: true }),
    ]);
    expect(first.crank).toBe(one.crank);
    expect(second.crank).toBe(two.crank);
    // The second began from the state the first left.
    expect(second.undoCrank).toBeGreaterThanOrEqual(first.restoreCrank);
    expect(await host.call('getCount')).toBe(2);
    await host.close();
  });

  it('survives a restart after a restore: recovery opens the restored state', async () => {
    const { host, dataDir, after } = await counterKernel(12);
    await host.restore(after[2]?.crank as number);
    await host.close();
    const again = await open(dataDir);
    await again.kernel.resume();
    expect(await again.call('getCount')).toBe(3);
    await again.close();
  });

  it('keeps a labelled commit whatever the policy, and drops unlabelled old ones', async () => {
    // Enough commits before the label that a checkpoint falls between the first and the
    // labelled one, whatever a record's size (records also note their cranks).
    const { host, after } = await counterKernel(8, {
      ...OFTEN,
      retention: { keepCheckpoints: 2 },
    });
    const labelled = after.at(-1) as { crank: number; dump: Dump };
    await host.label(labelled.crank, 'keep-me');
    for (let i = 0; i < 30; i += 1) await host.call('increment');
    await host.kernel.whenIdle();
    await host.durability?.settled();
    expect(host.durability?.stats().checkpoints).toBeGreaterThan(2);
    const { commits } = await host.history();
    expect(commits.find((c) => c.lastCrank === labelled.crank)?.labels).toEqual([
      'keep-me',
    ]);
    // Older commits, not labelled, are gone.
    const dropped = after[0] as { crank: number };
    expect(commits.some((c) => c.lastCrank === dropped.crank)).toBe(false);
    await expect(host.restore(dropped.crank)).rejects.toThrow(
      /is not in the retained history \(retained: cranks \d+–\d+/u,
    );
    await host.restore(labelled.crank);
    expect(dumpStore(host.store, { restored: true })).toEqual(
      restoredDump(labelled.dump),
    );
    await host.close();
  });

  it('keeps every commit younger than keepFor, also after a restart, and lets older ones go', async () => {
    let now = 1_000_000;
    const aged: DurabilityOptions = {
      ...OFTEN,
      retention: { keepCheckpoints: 1, keepFor: 60_000 },
      clock: () => now,
    };
    const { host, dataDir } = await counterKernel(1, aged);
    const checkpointsAfter = async (h: Opened, n: number) => {
      for (let i = 0; i < n; i += 1) await h.call('increment');
      await h.kernel.whenIdle();
      await h.durability?.settled();
      return h.durability?.stats().checkpoints ?? 0;
    };
    // All of it younger than a minute: every checkpoint stays, though keepCheckpoints is 1.
    expect(await checkpointsAfter(host, 20)).toBeGreaterThan(3);
    const { commits } = await host.history();
    const oldest = commits[0] as { lastCrank: number };
    await host.close();
    // A restart learns the earlier checkpoints' times from the log.
    now += 30_000;
    let again = await open(dataDir, aged);
    expect(await checkpointsAfter(again, 10)).toBeGreaterThan(4);
    expect((await again.history()).commits[0]?.lastCrank).toBe(oldest.lastCrank);
    await again.close();
    // Two minutes on, the commits of the first runs are older than a minute and go; the
    // newest old checkpoint stays as the base of the younger commits.
    now += 120_000;
    again = await open(dataDir, aged);
    const youngFrom = again.kernel.status().crank;
    expect(await checkpointsAfter(again, 10)).toBeLessThanOrEqual(3);
    const left = (await again.history()).commits;
    expect(left[0]?.lastCrank).toBeGreaterThan(oldest.lastCrank);
    expect(left[0]?.lastCrank).toBeLessThanOrEqual(youngFrom);
    await again.restore(youngFrom);
    await again.close();
  });

  it('keeps history within 4× the live store under the default policy', async () => {
    const dataDir = await tempDir('cask-history-space-');
    let checkpoints = 0;
    const host = await makeNodeKernel({
      dataDir,
      durability: { checkpointMinBytes: 1024, onCheckpoint: () => (checkpoints += 1) },
    });
    const { result } = await host.kernel.launchCluster(
      await resolveCluster({ filler: { source: testVat('filler.js') } }, 'filler'),
    );
    await result.catch(() => undefined);
    const filler = host.kernel.rootOf('filler');
    let most = 0;
    for (let i = 0; checkpoints < 6; i += 1) {
      await host.kernel.queueMessage(filler, 'fill', [`k${i % 20}`, 20_000, `${i}`]);
      if (i % 5 === 4) {
        await host.kernel.whenIdle();
        await host.durability?.settled();
        const space = await (host.storage as NonNullable<typeof host.storage>).sizes();
        most = Math.max(
          most,
          (space.logBytes + space.checkpointBytes) / space.newestCheckpointBytes,
        );
      }
    }
    expect(host.durability?.stats().checkpoints).toBe(2);
    console.info(`history space, default policy: ${most.toFixed(2)}× the live store`);
    expect(most).toBeGreaterThan(2);
    // 2 checkpoints + 2 intervals of log, each interval at most one record (≈20 KB here,
    // 5% of the live store) past its checkpoint's size.
    expect(most).toBeLessThanOrEqual(4.1);
    await host.close();
    expect((await readdir(join(dataDir, 'checkpoints'))).length).toBe(2);
  });

  it('forks a commit into a new directory that runs, leaving every byte of the original', async () => {
    const { host, dataDir, after } = await counterKernel(8);
    await host.close();
    const digest = await dirDigest(dataDir);
    const forkDir = join(await tempDir('cask-fork-'), 'fork');
    const reader = await readNodeStore(dataDir);
    await reader.close();
    const { readNodeHistory } = await import('../node/host/index.ts');
    await readNodeHistory(dataDir, (r) => r.fork(after[3]?.crank as number, forkDir));
    expect(await dirDigest(dataDir)).toEqual(digest);
    const forked = await open(forkDir);
    expect(forked.isNew).toBe(false);
    expect(dumpStore(forked.store, { restored: true })).toEqual(
      restoredDump(after[3]?.dump as Dump),
    );
    await forked.kernel.resume();
    expect(await forked.call('increment')).toBe(5);
    await forked.close();
    expect(await dirDigest(dataDir)).toEqual(digest);
  });

  it('shows a vatstore at a commit, paged, and the commits that changed a key', async () => {
    const { host, after } = await counterKernel(6);
    const vatId = host.kernel.state.getVatByName('counter')?.vatId as string;
    const now = host.kernel.state.readVatstore(vatId, { limit: 1000 }).entries;
    const countKey = now.find(([k]) => k.endsWith('count'))?.[0] as string;
    expect(countKey).toBeDefined();
    const at = await host.vatstoreAt(after[1]?.crank as number, 'counter', {
      limit: 1000,
    });
    expect(at.entries.find(([k]) => k === countKey)?.[1]).toMatch(/2/u);
    const page = await host.vatstoreAt(after[1]?.crank as number, 'counter', {
      limit: 1,
    });
    expect(page.entries).toHaveLength(1);
    expect(page.more).toBe(true);
    const next = await host.vatstoreAt(after[1]?.crank as number, 'counter', {
      limit: 1000,
      after: page.entries[0]?.[0] as string,
    });
    expect([...page.entries, ...next.entries]).toEqual(at.entries);
    const changes = await host.keyHistory('counter', countKey);
    expect(changes.map((c) => c.lastCrank)).toEqual(
      expect.arrayContaining(after.map((a) => a.crank)),
    );
    expect(changes.at(-1)?.value).toMatch(/6/u);
    await host.close();
  });

  it('refuses bad input with one clear error, changing nothing', async () => {
    const { host, dataDir, after } = await counterKernel(4);
    await host.label(after[0]?.crank as number, 'first');
    await host.kernel.whenIdle();
    await host.durability?.settled();
    const digest = await dirDigest(dataDir);
    const newest = host.kernel.status().crank;
    await expect(host.restore(newest + 50)).rejects.toThrow(
      `crank ${newest + 50} is not committed yet (the newest commit is crank ${newest})`,
    );
    await expect(host.restore(-1)).rejects.toThrow('-1 is not a crank number');
    await expect(host.label(after[1]?.crank as number, 'first')).rejects.toThrow(
      `the label first already marks crank ${after[0]?.crank}`,
    );
    await expect(host.label(after[1]?.crank as number, 'no spaces')).rejects.toThrow(
      /cannot be a label/u,
    );
    const full = await tempDir('cask-full-');
    await writeFile(join(full, 'note'), 'mine');
    await expect(host.fork(after[1]?.crank as number, full)).rejects.toThrow(
      /cannot fork to .*: it is not empty/u,
    );
    await mkdir(join(full, 'sub'));
    await expect(
      host.vatstoreAt(after[1]?.crank as number, 'nobody', { limit: 5 }),
    ).rejects.toThrow(`no vat "nobody" at crank ${after[1]?.crank}`);
    expect(await dirDigest(dataDir)).toEqual(digest);
    expect(await host.call('getCount')).toBe(4);
    await host.close();
  });
});
