/**
 * Krefs handed to a caller outside the kernel stay reachable until that caller lets go:
 * pinned in the crank that settled them, stored with the kernel, bounded per caller.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  capdataToJson,
  type Kernel,
  type KRef,
  type Settlement,
} from '../kernel/index.ts';
import { makeNodeKernel } from '../node/host/index.ts';
import { makeInProcessLauncher } from './fixtures/in-process-vats.ts';
import { auditKernelTables } from './fixtures/audit.ts';
import { resolveCluster, testVat } from './kernel-harness.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function open(options: { dataDir?: string; maxPinsPerCaller?: number } = {}) {
  const host = await makeNodeKernel({ launcher: makeInProcessLauncher(), ...options });
  cleanups.push(() => host.close());
  return host;
}

async function launched(options: { dataDir?: string; maxPinsPerCaller?: number } = {}) {
  const host = await open(options);
  const { result } = await host.kernel.launchCluster(
    await resolveCluster({ maker: { source: testVat('maker.js') } }, 'maker'),
  );
  await result;
  await host.kernel.whenIdle();
  return host;
}

const krefOf = (s: Settlement): KRef => {
  const value = capdataToJson(s.data) as { $kref?: string };
  if (s.rejected || typeof value.$kref !== 'string') {
    throw new Error(`not a kref: ${JSON.stringify(value)}`);
  }
  return value.$kref;
};

async function call(kernel: Kernel, target: KRef, method: string, ...args: unknown[]) {
  const s = await kernel.queueMessage(target, method, args, { caller: 'test' });
  await kernel.whenIdle();
  return { rejected: s.rejected, value: capdataToJson(s.data) };
}

describe('pins', () => {
  it('without a caller, an object handed out is collected at once (the old behaviour)', async () => {
    const { kernel } = await launched();
    const thing = krefOf(
      await kernel.queueMessage(kernel.rootOf('maker'), 'makeHeapThing', ['x']),
    );
    await kernel.whenIdle();
    expect(kernel.state.getObject(thing)).toBeUndefined();
    expect(() => kernel.checkMessage(thing, 'increment', [])).toThrow(
      /no kernel object/u,
    );
  });

  it('keeps what a caller was handed callable, and passable, until it lets go', async () => {
    const { kernel, store } = await launched();
    const maker = kernel.rootOf('maker');
    const made = await kernel.queueMessage(maker, 'makeHeapThing', ['x'], {
      caller: 'test',
    });
    const thing = krefOf(made);
    await kernel.whenIdle();
    expect(kernel.pinsOf('test')).toEqual([thing]);
    expect((await call(kernel, thing, 'increment')).value).toBe(1);
    expect((await call(kernel, thing, 'increment')).value).toBe(2);
    expect((await call(kernel, maker, 'nameOf', { $kref: thing })).value).toBe('x');
    expect(auditKernelTables(store)).toEqual([]);

    await expect(kernel.releasePins('test', ['ko999'])).rejects.toThrow(
      /test holds no pin on ko999/u,
    );
    expect(kernel.pinsOf('test')).toEqual([thing]);
    expect(await kernel.releasePins('test', [thing])).toEqual([thing]);
    await kernel.whenIdle();
    // Nothing else held it: dropped, then retired by its vat.
    expect(kernel.state.getObject(thing)).toBeUndefined();
    expect(kernel.pinsOf('test')).toEqual([]);
    expect(auditKernelTables(store)).toEqual([]);
  });

  it('bounds the pins of one caller: past the bound the oldest are released', async () => {
    const { kernel } = await launched({ maxPinsPerCaller: 3 });
    const things: KRef[] = [];
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      const s = await kernel.queueMessage(kernel.rootOf('maker'), 'makeThing', [name], {
        caller: 'test',
      });
      things.push(krefOf(s));
    }
    await kernel.whenIdle();
    expect(kernel.pinsOf('test')).toEqual(things.slice(2));
    expect(await kernel.releasePins('test')).toEqual(things.slice(2));
  });

  it('survive a restart of the kernel from its data directory', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cask-pins-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const first = await launched({ dataDir });
    const thing = krefOf(
      await first.kernel.queueMessage(first.kernel.rootOf('maker'), 'makeThing', ['d'], {
        caller: 'cli',
      }),
    );
    expect((await call(first.kernel, thing, 'increment')).value).toBe(1);
    await first.close();

    const second = await open({ dataDir });
    await second.kernel.resume();
    expect(second.kernel.pinsOf('cli')).toEqual([thing]);
    expect((await call(second.kernel, thing, 'increment')).value).toBe(2);
    expect(auditKernelTables(second.store)).toEqual([]);
  });

  it('refuses a caller name that is not one', async () => {
    const { kernel } = await launched();
    await expect(
      kernel.queueMessage(kernel.rootOf('maker'), 'makeThing', ['x'], { caller: 'a b' }),
    ).rejects.toThrow(/a caller is named by/u);
  });
});
