/**
 * A vat's own reap interval (SwingSet's creationOptions.reapInterval / neverReap, carried
 * by the cluster config): how many deliveries it gets between bringOutYourDeads, kept
 * with the vat across restarts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { CrankRecord, ResolvedCluster } from '../kernel/index.ts';
import { bundleVatSource } from './fixtures/bundle-cache.ts';
import { makeNodeKernel } from '../node/host/index.ts';
import { makeInProcessLauncher } from './fixtures/in-process-vats.ts';
import { sampleVat } from './kernel-harness.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('each vat is reaped at its own interval, or never, and keeps it across a restart', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'cask-reap-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const counter = await bundleVatSource(sampleVat('counter.js'));
  const vat = (reapInterval?: number | 'never') => ({
    bundle: counter,
    parameters: {},
    globals: [],
    ...(reapInterval === undefined ? {} : { reapInterval }),
  });
  const cluster: ResolvedCluster = {
    bootstrap: 'often',
    vats: { often: vat(2), never: vat('never'), usual: vat() },
  };
  const open = async () => {
    const cranks: CrankRecord[] = [];
    const host = await makeNodeKernel({
      dataDir,
      launcher: makeInProcessLauncher(),
      reapInterval: 1000,
      // By count alone here; the next test has reaping when idle.
      reapWhenIdle: false,
      onCrank: (r) => cranks.push(r),
    });
    return { ...host, cranks };
  };
  const reaps = (cranks: CrankRecord[], vatId: string) =>
    cranks.filter((c) => c.kind === 'bringOutYourDead' && c.vatId === vatId).length;

  const first = await open();
  await (
    await first.kernel.launchCluster(cluster)
  ).result;
  const ids = Object.fromEntries(
    ['often', 'never', 'usual'].map((n) => [
      n,
      first.kernel.state.getVatByName(n)?.vatId,
    ]),
  ) as Record<string, string>;
  for (let i = 0; i < 6; i += 1) {
    for (const name of ['often', 'never', 'usual']) {
      await first.kernel.queueMessage(first.kernel.rootOf(name), 'increment', []);
    }
  }
  await first.kernel.whenIdle();
  // startVat, bootstrap (often only) and six increments.
  expect(reaps(first.cranks, ids.often as string)).toBe(4);
  expect(reaps(first.cranks, ids.never as string)).toBe(0);
  expect(reaps(first.cranks, ids.usual as string)).toBe(0);
  await first.close();

  const second = await open();
  cleanups.push(() => second.close());
  expect(second.kernel.state.getVatByName('often')?.reapInterval).toBe(2);
  expect(second.kernel.state.getVatByName('never')?.reapInterval).toBe('never');
  expect(second.kernel.state.getVatByName('usual')?.reapInterval).toBeNull();
});

it('by default a vat is reaped once the kernel goes idle after 100 deliveries or more, not during a burst of work, and a neverReap vat not at all', async () => {
  const counter = await bundleVatSource(sampleVat('counter.js'));
  const cranks: CrankRecord[] = [];
  const host = await makeNodeKernel({
    launcher: makeInProcessLauncher(),
    onCrank: (r) => cranks.push(r),
  });
  cleanups.push(() => host.close());
  const { kernel } = host;
  const vat = { bundle: counter, parameters: {}, globals: [] };
  await (
    await kernel.launchCluster({
      bootstrap: 'busy',
      vats: { busy: vat, light: vat, quiet: { ...vat, reapInterval: 'never' } },
    })
  ).result;
  await kernel.whenIdle();
  const ids = (name: string) => kernel.state.getVatByName(name)?.vatId;
  const burst = async () => {
    cranks.length = 0;
    const sent = [];
    for (let i = 0; i < 120; i += 1) {
      sent.push(kernel.queueMessage(kernel.rootOf('busy'), 'increment', []));
      sent.push(kernel.queueMessage(kernel.rootOf('quiet'), 'increment', []));
      if (i < 5) sent.push(kernel.queueMessage(kernel.rootOf('light'), 'increment', []));
    }
    await Promise.all(sent);
    await kernel.whenIdle();
    return (name: string) =>
      cranks.filter((c) => c.vatId === ids(name)).map((c) => c.kind);
  };
  const sends = (n: number) => new Array<string>(n).fill('send');
  for (let round = 0; round < 2; round += 1) {
    const kinds = await burst();
    // Deliveries back to back, then one reap of the vat that did enough to be worth it.
    expect(kinds('busy')).toEqual([...sends(120), 'bringOutYourDead']);
    expect(kinds('light')).toEqual(sends(5));
    expect(kinds('quiet')).toEqual(sends(120));
  }
});
