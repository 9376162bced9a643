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
import { bundleVatSource } from '../node/bundles/index.ts';
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
