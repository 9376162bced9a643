/**
 * setTimeout / setInterval for a vat that names them: armed in the kernel's timer queue,
 * their callbacks run only inside cranks of the vat's own (`vatTimers` items, delivered
 * as settle deliveries), never between cranks; a vat that does not name them has none.
 * Here with the real clock (Date.now, setTimeout) and vats in worker threads; the
 * timer-service tests drive the same path with a manual clock.
 */
import { afterEach, expect, it } from 'vitest';
import { capdataToJson, type CrankRecord, type Kernel } from '../kernel/index.ts';
import { bundleVatSource } from './fixtures/bundle-cache.ts';
import { makeNodeKernel } from '../node/host/index.ts';
import { testVat } from './kernel-harness.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function launch(globals: string[]) {
  const cranks: CrankRecord[] = [];
  const listeners: Array<(r: CrankRecord) => void> = [];
  // Vats in worker threads, as in production: their host timers are the worker's.
  const host = await makeNodeKernel({
    onCrank: (r) => {
      cranks.push(r);
      for (const l of listeners) l(r);
    },
  });
  cleanups.push(() => host.close());
  await (
    await host.kernel.launchCluster({
      bootstrap: 'timers',
      vats: {
        timers: {
          bundle: await bundleVatSource(testVat('powers-timers.js')),
          parameters: {},
          globals,
        },
      },
    })
  ).result;
  const nextCrank = (match: (r: CrankRecord) => boolean) =>
    new Promise<CrankRecord>((resolve) => {
      const l = (r: CrankRecord) => {
        if (match(r)) {
          listeners.splice(listeners.indexOf(l), 1);
          resolve(r);
        }
      };
      listeners.push(l);
    });
  return { ...host, cranks, nextCrank };
}

const call = async (kernel: Kernel, method: string, ...args: unknown[]) => {
  const s = await kernel.queueMessage(kernel.rootOf('timers'), method, args);
  expect(s.rejected, JSON.stringify(capdataToJson(s.data))).toBe(false);
  return capdataToJson(s.data);
};

const TIMERS = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'];

it('a vat that does not name them has no timers', async () => {
  const { kernel } = await launch([]);
  expect(await call(kernel, 'kinds')).toEqual(['undefined', 'undefined', 'undefined']);
});

it('fires callbacks with their arguments, in timer cranks of the vat, and honours clear', async () => {
  const { kernel, cranks, nextCrank } = await launch(TIMERS);
  expect(await call(kernel, 'kinds')).toEqual(['function', 'function', 'function']);
  expect(await call(kernel, 'later', 5)).toBe(42);
  expect(await call(kernel, 'ticks', 3)).toBe(3);
  const afterCancel = nextCrank((r) => r.kind === 'vatTimers');
  expect(await call(kernel, 'cancelled')).toBe(true);
  await afterCancel;
  await kernel.whenIdle();
  // The cleared timer never fired; the one armed after it did.
  expect(await call(kernel, 'fired')).toEqual(['later', 'after cancel']);
  const settles = cranks.filter((c) => c.kind === 'vatTimers');
  // One for `later`, three ticks (at least: ticks may share a settle), …
  expect(settles.length).toBeGreaterThanOrEqual(2);
  expect(await call(kernel, 'stringCallback')).toMatch(/must be a function/u);
});

it("a callback's vatstore writes belong to the timer crank it runs in", async () => {
  const { kernel, nextCrank } = await launch(TIMERS);
  const wrote = nextCrank((r) => r.kind === 'vatTimers' && r.deltaKeys > 0);
  expect(await call(kernel, 'stampLater', 'x')).toBe('armed');
  const crank = await wrote;
  expect(crank.outcome).toBe('ok');
  await kernel.whenIdle();
  expect(await call(kernel, 'stamp')).toBe('x');
});
