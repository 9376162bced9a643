/**
 * Kernel services and dynamic vats: a cluster's `services` reach bootstrap; a vat holding
 * the vat admin creates vats and subclusters at run time, ends them, and what it created
 * is as durable as a launched vat.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  capdataToJson,
  type KernelService,
  type Kernel,
  type ResolvedCluster,
} from '../kernel/index.ts';
import { makeNodeKernel } from '../node/host/index.ts';
import { bundleVatSource } from './fixtures/bundle-cache.ts';
import { auditKernelTables } from './fixtures/audit.ts';
import { makeInProcessLauncher } from './fixtures/in-process-vats.ts';
import { sampleVat, testVat } from './kernel-harness.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function cluster(services: string[] = ['vatAdmin']): Promise<ResolvedCluster> {
  return {
    bootstrap: 'user',
    services,
    vats: {
      user: {
        bundle: await bundleVatSource(testVat('vat-admin-user.js')),
        parameters: {},
        globals: [],
      },
    },
    bundles: {
      counter: await bundleVatSource(sampleVat('counter.js')),
      broken: await bundleVatSource(testVat('bad-start.js')),
    },
  };
}

async function open(
  options: { dataDir?: string; services?: Record<string, KernelService> } = {},
) {
  const host = await makeNodeKernel({ launcher: makeInProcessLauncher(), ...options });
  cleanups.push(() => host.close());
  return host;
}

async function call(kernel: Kernel, method: string, ...args: unknown[]) {
  const s = await kernel.queueMessage(kernel.rootOf('user'), method, args);
  await kernel.whenIdle();
  const value = capdataToJson(s.data);
  if (s.rejected) throw new Error(`rejected: ${JSON.stringify(value)}`);
  return value;
}

describe('the vat admin', () => {
  it('creates a vat at run time that answers, reports its status, and can be ended', async () => {
    const { kernel, store } = await open();
    const { result } = await kernel.launchCluster(await cluster());
    expect(capdataToJson((await result).data)).toBe('ready');
    await call(kernel, 'make', 'c1', 5);
    const c1 = kernel.state.getVatByName('c1');
    expect(c1?.state).toBe('running');
    expect(await call(kernel, 'bump', 'c1')).toBe(6);
    expect(await call(kernel, 'status', 'c1')).toMatchObject({
      name: 'c1',
      state: 'running',
      incarnation: 0,
    });
    await call(kernel, 'end', 'c1', 'no longer needed');
    const ended = kernel.state.getVatByName('c1');
    expect(ended?.state).toBe('terminated');
    expect(ended?.reason).toMatch(/no longer needed/u);
    // Ended, not erased: its vatstore is kept, as for every termination.
    expect(
      store.all('SELECT count(*) FROM vatstore WHERE vat_id = ?', [
        ended?.vatId ?? '',
      ])[0]?.[0],
    ).toBeGreaterThan(0);
    expect(auditKernelTables(store)).toEqual([]);
  });

  it('refuses bad requests with errors naming what was wrong, creating nothing', async () => {
    const { kernel } = await open();
    await (
      await kernel.launchCluster(await cluster())
    ).result;
    const vats = kernel.state.listVats().length;
    expect(await call(kernel, 'makeBad', 'bundle')).toMatch(/no bundle named "nope"/u);
    expect(await call(kernel, 'makeBad', 'name')).toMatch(
      /a vat named "user" already exists/u,
    );
    expect(await call(kernel, 'makeBad', 'options')).toMatch(/createVat options/u);
    expect(kernel.state.listVats()).toHaveLength(vats);
  });

  it('upgrades a vat it created through its admin node, or says why it could not', async () => {
    const { kernel, store } = await open();
    await (
      await kernel.launchCluster(await cluster())
    ).result;
    await call(kernel, 'make', 'c1', 5);
    expect(await call(kernel, 'bump', 'c1')).toBe(6);
    const before = kernel.state.getVatByName('c1');
    const upgraded = await call(kernel, 'upgrade', 'c1', 'counter', { start: 99 });
    expect(upgraded).toMatchObject({
      vatId: before?.vatId,
      version: 2,
      incarnationNumber: (before?.incarnation ?? 0) + 1,
    });
    // Baggage kept: the count goes on from 6, not from the new start.
    expect(await call(kernel, 'bump', 'c1')).toBe(7);
    expect(await call(kernel, 'upgrade', 'c1', 'broken', { fail: true })).toMatch(
      /^refused: upgrade of vat "c1" \(v\d+\) rolled back: its new version did not start: .*it was told to fail.*; its previous version runs on$/u,
    );
    expect(await call(kernel, 'bump', 'c1')).toBe(8);
    expect(await call(kernel, 'upgrade', 'c1', 'nope')).toMatch(
      /^refused: upgrade bundle: the kernel has no bundle/u,
    );
    expect(kernel.vatVersions(before?.vatId ?? '')).toHaveLength(2);
    expect(auditKernelTables(store)).toEqual([]);
  });

  it('creates a subcluster and runs its bootstrap', async () => {
    const { kernel } = await open();
    await (
      await kernel.launchCluster(await cluster())
    ).result;
    expect(await call(kernel, 'subcluster')).toEqual([10, 21]);
    expect(kernel.state.getVatByName('sub1')?.state).toBe('running');
  });

  it('a vat it created is as durable as a launched one', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cask-vat-admin-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const first = await open({ dataDir });
    await (
      await first.kernel.launchCluster(await cluster())
    ).result;
    await call(first.kernel, 'make', 'c1', 1);
    expect(await call(first.kernel, 'bump', 'c1')).toBe(2);
    await first.close();

    const second = await open({ dataDir });
    await second.kernel.resume();
    expect(second.kernel.state.getVatByName('c1')?.state).toBe('running');
    expect(await call(second.kernel, 'bump', 'c1')).toBe(3);
    // The vat admin presence the user vat kept in baggage still reaches the service.
    await call(second.kernel, 'make', 'c2', 100);
    expect(await call(second.kernel, 'bump', 'c2')).toBe(101);
  });
});

describe('kernel services', () => {
  it('an unknown service in a cluster is refused at launch, naming what is offered', async () => {
    const { kernel } = await open();
    await expect(
      kernel.launchCluster(await cluster(['vatAdmin', 'clock'])),
    ).rejects.toThrow(
      /unknown kernel service "clock": this host offers timer, vatAdmin/u,
    );
    expect(kernel.state.listVats()).toEqual([]);
  });

  it('a host service answers within the crank; a throw rejects only that message', async () => {
    const calls: unknown[] = [];
    const echo: KernelService = {
      invoke(_call, _facet, method, args) {
        calls.push([method, ...args]);
        if (method === 'fail') throw Error('asked to fail');
        return { method, args };
      },
    };
    const { kernel } = await open({ services: { echo } });
    expect(kernel.serviceNames()).toEqual(['echo', 'timer', 'vatAdmin']);
    await (
      await kernel.launchCluster(await cluster(['echo']))
    ).result;
    // The user vat's bootstrap stored services.vatAdmin: undefined here; use the echo
    // service through its kref directly.
    const echoKref = kernel.state.serviceObject('echo', '');
    const ok = await kernel.queueMessage(echoKref, 'ping', [1, 'two']);
    expect(capdataToJson(ok.data)).toEqual({ method: 'ping', args: [1, 'two'] });
    const failed = await kernel.queueMessage(echoKref, 'fail', []);
    expect(failed.rejected).toBe(true);
    expect(capdataToJson(failed.data)).toMatchObject({ $error: 'asked to fail' });
    expect(calls).toEqual([['ping', 1, 'two'], ['fail']]);
  });
});
