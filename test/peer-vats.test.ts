/**
 * Vats written the way ocap-kernel's and SwingSet's users write them, run unchanged: each
 * gives the result the peer would give. Real vats under liveslots, in this thread.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { capdataToJson, type ResolvedCluster } from '../kernel/index.ts';
import { bundleVatSource } from './fixtures/bundle-cache.ts';
import { makeNodeKernel } from '../node/host/index.ts';
import { makeInProcessLauncher } from './fixtures/in-process-vats.ts';
import { testVat } from './kernel-harness.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cask-peer-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function open(dir: string) {
  const host = await makeNodeKernel({ dataDir: dir, launcher: makeInProcessLauncher() });
  cleanups.push(() => host.close());
  return host;
}

const vat = async (file: string, parameters: Record<string, unknown> = {}) => ({
  bundle: await bundleVatSource(testVat(file)),
  parameters,
  globals: [],
});

describe("ocap-kernel's style", () => {
  it('exo roots, an async generator across vats, promise cycles, a service, persistence', async () => {
    const dir = await dataDir();
    const first = await open(dir);
    const cluster: ResolvedCluster = {
      bootstrap: 'alice',
      services: ['vatAdmin'],
      vats: {
        alice: await vat('peer-ocap-alice.js', { name: 'Alice' }),
        bob: await vat('peer-ocap-bob.js'),
      },
      bundles: { bob: await bundleVatSource(testVat('peer-ocap-bob.js')) },
    };
    const { result } = await first.kernel.launchCluster(cluster);
    const settled = await result;
    expect(settled.rejected).toBe(false);
    expect(capdataToJson(settled.data)).toEqual({
      streamed: [0, 1, 2],
      cycle: ['a', 'b', 'a'],
      carol: "hello alice, from bob's bundle",
    });
    await first.kernel.whenIdle();
    await first.close();

    const second = await open(dir);
    await second.kernel.resume();
    const runs = await second.kernel.queueMessage(
      second.kernel.rootOf('alice'),
      'runs',
      [],
    );
    // Kept in baggage across the restart; bootstrap ran once.
    expect(capdataToJson(runs.data)).toBe(1);
    expect(second.kernel.state.getVatByName('carol')?.state).toBe('running');
  });
});

describe("SwingSet's style", () => {
  it('E() pipelining and durable exo classes from @agoric/vat-data, across a restart', async () => {
    const dir = await dataDir();
    const first = await open(dir);
    const { result } = await first.kernel.launchCluster({
      bootstrap: 'bootstrap',
      vats: {
        bootstrap: await vat('peer-swingset-bootstrap.js'),
        ledger: await vat('peer-swingset-ledger.js'),
      },
    });
    expect(capdataToJson((await result).data)).toEqual([1, 2]);
    await first.kernel.whenIdle();
    await first.close();

    const second = await open(dir);
    await second.kernel.resume();
    const bumped = await second.kernel.queueMessage(
      second.kernel.rootOf('bootstrap'),
      'bump',
      [],
    );
    expect(capdataToJson(bumped.data)).toBe(3);
    // E.sendOnly reaches the presence (it was dropped by liveslots 0.11 with
    // eventual-send 1.5 before the supervisor's HandledPromise for vats).
    const root = second.kernel.rootOf('bootstrap');
    expect(capdataToJson((await second.kernel.queueMessage(root, 'poke', [])).data)).toBe(
      'sent',
    );
    await second.kernel.whenIdle();
    expect(capdataToJson((await second.kernel.queueMessage(root, 'bump', [])).data)).toBe(
      5,
    );
  });
});
