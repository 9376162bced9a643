/**
 * The control surface's `timers` request (the Objects view's Timers): the timer
 * service's pending wake-ups in the order they come due, with who asked, a repeater's
 * period, the handler, the promise and the cancel token — checked against the kernel's
 * `timers` table; gone once cancelled. A Node kernel with a real vat in a worker and a
 * manual clock, so nothing comes due while the test looks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { capdataToJson } from '../kernel/index.ts';
import { handleSurfaceRequest } from '../extension/surface/index.ts';
import type { TimersPage } from '../extension/surface-protocol/index.ts';
import { bundleVatSource } from './fixtures/bundle-cache.ts';
import { makeNodeKernel, type NodeKernel } from '../node/host/index.ts';
import { makeManualClock } from './fixtures/manual-clock.ts';
import { surfaceHooks } from './fixtures/surface-hooks.ts';
import { testVat } from './kernel-harness.ts';

const T0 = Date.UTC(2026, 0, 1);
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function timerKernel(): Promise<NodeKernel> {
  const host = await makeNodeKernel({ clock: makeManualClock(T0) });
  cleanups.push(() => host.close());
  const { result } = await host.kernel.launchCluster({
    bootstrap: 'user',
    vats: {
      user: {
        bundle: await bundleVatSource(testVat('timer-user.js')),
        parameters: {},
        globals: [],
      },
    },
    services: ['timer'],
  });
  await result;
  await host.kernel.whenIdle();
  return host;
}

async function call(host: NodeKernel, method: string, ...args: unknown[]) {
  const s = await host.kernel.queueMessage(host.kernel.rootOf('user'), method, args);
  expect(s.rejected, JSON.stringify(capdataToJson(s.data))).toBe(false);
  await host.kernel.whenIdle();
}

async function timers(host: NodeKernel, params: Record<string, unknown> = {}) {
  const answer = await handleSurfaceRequest(
    { type: 'cask:request', method: 'timers', params },
    surfaceHooks({
      host: async () =>
        ({ kernel: host.kernel }) as unknown as Awaited<
          ReturnType<Parameters<typeof surfaceHooks>[0]['host']>
        >,
    }),
  );
  if (!answer.ok) throw new Error(answer.error.message);
  return answer.result as TimersPage;
}

describe('the timers request', { timeout: 60_000 }, () => {
  it('lists pending wake-ups in the order they come due, as the timers table holds them', async () => {
    const host = await timerKernel();
    expect(await timers(host)).toEqual({ timers: [], more: false, total: 0 });
    await call(host, 'wakeAt', 'late', `${T0 + 60_000}n`, 'tok');
    await call(host, 'repeat', 'tick', '1000n', '500n');
    await call(host, 'wakePromise', 'soon', `${T0 + 10}n`);
    const page = await timers(host);
    const userVat = host.kernel.state.getVatByName('user')?.vatId;
    expect(page.total).toBe(3);
    expect(page.timers.map((t) => t.due)).toEqual([T0 + 10, T0 + 1000, T0 + 60_000]);
    expect(page.timers.every((t) => t.owner === userVat)).toBe(true);
    expect(page.timers.map((t) => t.interval)).toEqual([null, 500, null]);
    const [soon, tick, late] = page.timers;
    expect(soon?.handler).toBeNull();
    expect(soon?.resultKpid).toMatch(/^kp\d+$/u);
    expect(tick?.handler).toMatch(/^ko\d+$/u);
    expect(late?.cancelToken).toMatch(/^ko\d+$/u);
    // The same rows the kernel keeps.
    const rows = host.store.all(
      'SELECT timer_id, due FROM timers ORDER BY due, timer_id',
    );
    expect(page.timers.map((t) => [t.timerId, t.due])).toEqual(rows);
    // A page, and what it says of the rest.
    expect(await timers(host, { limit: 2 })).toMatchObject({ more: true, total: 3 });
    await call(host, 'cancel', 'tok');
    expect((await timers(host)).timers.map((t) => t.due)).toEqual([T0 + 10, T0 + 1000]);
  });

  it('refuses a limit out of range, naming it', async () => {
    const host = await timerKernel();
    await expect(timers(host, { limit: 5000 })).rejects.toThrow(
      /timers refused: params\.limit/u,
    );
  });
});
