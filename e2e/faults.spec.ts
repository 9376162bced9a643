/**
 * Faults of the browser host (docs/faults.md): a vat's renderer crashing, the offscreen
 * document closing, IndexedDB refusing writes, the service worker stopping mid-write, a
 * delivery that never ends. Each ends with every acknowledged value still there and the
 * kernel answering.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { CDPSession } from '@playwright/test';
import { Cask, copyDist, testBundle } from './harness.ts';
import {
  expect,
  increment,
  test,
  type Settled,
  type Status,
  type VatReport,
} from './fixtures.ts';

/** Launches a one-vat cluster of e2e/vats/<bundle>.js; the vat's id. */
async function launchVat(
  cask: Cask,
  name: string,
  bundle: string,
  options: Record<string, unknown> = {},
): Promise<string> {
  const { vats } = await cask.ask<{ vats: Record<string, string> }>('launchCluster', {
    config: {
      bootstrap: name,
      vats: { [name]: { bundle: testBundle(bundle), ...options } },
    },
  });
  await cask.ask('whenIdle');
  return vats[name] as string;
}

/** `method(...args)` on vat `vat`'s root; its value, which must be fulfilled. */
async function call(cask: Cask, vat: string, method: string, ...args: unknown[]) {
  const { result } = await cask.ask<Settled>('send', { target: { vat }, method, args });
  if (result.status !== 'fulfilled') {
    throw new Error(`${vat}.${method}: ${JSON.stringify(result.value)}`);
  }
  return result.value;
}

async function incarnations(cask: Cask): Promise<Record<string, number>> {
  const vats = await cask.ask<VatReport[]>('listVats');
  return Object.fromEntries(vats.map((v) => [v.name, v.incarnation]));
}

/** Every vat's whole vatstore, by name. */
async function vatstores(cask: Cask): Promise<Record<string, unknown>> {
  const stores: Record<string, unknown> = {};
  for (const vat of await cask.ask<VatReport[]>('listVats')) {
    stores[vat.name] = await cask.ask('readVatstore', { vatId: vat.vatId, limit: 1000 });
  }
  return stores;
}

/** Resolves once every vat named in `before` is running in a later incarnation. */
async function everyVatRestarted(
  cask: Cask,
  before: Record<string, number>,
  timeout: number,
): Promise<void> {
  await expect
    .poll(
      async () => {
        const vats = await cask.ask<VatReport[]>('listVats');
        return vats.every(
          (v) => v.state === 'running' && v.incarnation > (before[v.name] ?? Infinity),
        );
      },
      { timeout },
    )
    .toBe(true);
}

test.describe('a vat iframe whose renderer crashed', () => {
  test('while idle: it is noticed within seconds, and every vat (they share that renderer) is restarted from its store and answers', async ({
    cask,
  }) => {
    const count = await increment(cask);
    const before = await incarnations(cask);
    const stores = await vatstores(cask);
    const counter = (await cask.ask<VatReport[]>('listVats')).find(
      (v) => v.name === 'counter',
    )?.vatId as string;
    await cask.crashVatPage(counter);
    // Nothing was asked of any vat: only the vat host's heartbeat can notice.
    await everyVatRestarted(cask, before, 30_000);
    expect(await vatstores(cask)).toEqual(stores);
    expect(await increment(cask)).toBe(count + 1);
  });

  test('in the middle of a delivery: the crank is rolled back and the message delivered again, once', async ({
    cask,
  }) => {
    const looper = await launchVat(cask, 'looper', 'looper');
    expect(await call(cask, 'looper', 'increment')).toBe(1);
    const worker = await cask.vatTarget(looper, 'worker');
    let kpid: string;
    try {
      await worker.call('Debugger.enable');
      const paused = worker.waitFor('Debugger.paused');
      ({ kpid } = await cask.ask<{ kpid: string }>('send', {
        target: { vat: 'looper' },
        method: 'incrementAtBreakpoint',
        wait: 'queued',
      }));
      // The vat has counted 2 in its memory; the kernel has committed nothing of it.
      await paused;
      expect(await cask.ask('promiseStatus', { kpid })).toEqual({
        kpid,
        state: 'unresolved',
      });
      await cask.crashVatPage(looper);
    } finally {
      await worker.detach();
    }
    // Delivered again to the new incarnation (no debugger there): counted once. Every
    // vat of that renderer is restarted first, one worker compile each: 10-15 s here
    // under a second browser (issue 13 is to make that faster), so the bound is 30 s.
    await expect
      .poll(() => cask.ask('promiseStatus', { kpid }), { timeout: 30_000 })
      .toEqual({ kpid, state: 'fulfilled', value: 2 });
    expect(await call(cask, 'looper', 'increment')).toBe(3);
    expect((await incarnations(cask)).looper).toBe(1);
  });
});

test.describe('the offscreen document closed', () => {
  test('while idle: every vat is restarted from its store in a new document, and answers', async ({
    cask,
  }) => {
    const count = await increment(cask);
    const before = await incarnations(cask);
    const stores = await vatstores(cask);
    await cask.closeOffscreenDocument();
    await everyVatRestarted(cask, before, 30_000);
    expect(await cask.worker.evaluate(() => chrome.offscreen.hasDocument())).toBe(true);
    expect(await vatstores(cask)).toEqual(stores);
    expect(await increment(cask)).toBe(count + 1);
  });

  test('during a vat launch: the launch fails as a lost host, and is tried again in a new document', async ({
    cask,
  }) => {
    const count = await increment(cask);
    const before = await incarnations(cask);
    const vats = await cask.ask<VatReport[]>('listVats');
    const idOf = (name: string) => vats.find((v) => v.name === name)?.vatId as string;
    // The vat renderer is held in the debugger (through another vat's iframe, which
    // stays), so no new vat iframe can load there: a launch stays asked, unanswered.
    const held = await cask.vatTarget(idOf('bob'), 'iframe');
    let restarted: Promise<unknown>;
    try {
      await held.call('Debugger.enable');
      const paused = held.waitFor('Debugger.paused');
      await held.call('Debugger.pause');
      // The pause takes the next script to run there (which answers only once resumed).
      held.post('Runtime.evaluate', { expression: '0' });
      await paused;
      restarted = cask.ask('restartVat', { vatId: idOf('counter') });
      // Its new incarnation is recorded just before its launch is asked.
      await expect
        .poll(async () => (await incarnations(cask)).counter)
        .toBe((before.counter ?? 0) + 1);
      await cask.closeOffscreenDocument();
    } finally {
      await held.detach();
    }
    await restarted;
    await everyVatRestarted(cask, before, 30_000);
    expect(await increment(cask)).toBe(count + 1);
  });
});

test('IndexedDB refusing writes (another connection upgrades the database): the kernel stops and says why; restartKernel, as the next start would, resumes at the last durable crank', async ({
  cask,
}) => {
  const count = await increment(cask);
  await cask.ask('whenIdle');
  // The kernel's connection closes so as not to block the upgrade (which this aborts:
  // the database stays as it was); every later write of the kernel fails.
  const upgrade = await cask.page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const request = indexedDB.open('cask-kernel', 1000);
        request.onupgradeneeded = () => request.transaction?.abort();
        request.onerror = () => resolve(request.error?.name ?? 'error');
        request.onsuccess = () => {
          request.result.close();
          resolve('upgraded');
        };
        request.onblocked = () => resolve('blocked');
      }),
  );
  expect(upgrade).toBe('AbortError');
  const why =
    /IndexedDB database "cask-kernel": \w+.* failed: the database was closed: another connection asked to upgrade it to version 1000/u;
  // Refused, not left waiting: the increment's crank could not be written.
  const refused = await cask.request('send', {
    target: { vat: 'counter' },
    method: 'increment',
  });
  expect(refused.ok).toBe(false);
  expect(refused.error?.message).toMatch(why);
  expect((await cask.request('whenIdle')).error?.message).toMatch(why);
  const status = await cask.ask<Status>('status');
  expect(status.durability.failure).toMatch(why);
  expect(status.durableCrank).toBeLessThan(status.crank);

  const restarted = await cask.ask<{ bootId: string }>('restartKernel');
  expect(restarted.bootId).not.toBe(status.boot.id);
  // The refused increment was never acknowledged, and is not there.
  expect(await increment(cask)).toBe(count + 1);
  expect((await cask.ask<Status>('status')).durability.failure).toBeUndefined();
});

test('IndexedDB over its quota: the kernel stops and says so; after a restart with the quota lifted every acknowledged value is there', async () => {
  // Chromium's IndexedDB ignores a DevTools quota override for an origin with
  // unlimitedStorage, which Cask's manifest asks for, and reads the quota only when the
  // origin's database backing store opens: so the extension runs here without
  // unlimitedStorage, and is loaded only once the override is in place.
  const dist = copyDist((manifest) => {
    manifest.permissions = (manifest.permissions as string[]).filter(
      (p) => p !== 'unlimitedStorage',
    );
  });
  let cdp: CDPSession | undefined;
  let origin = '';
  const cask = await Cask.launch({
    dist,
    async beforeLoad(context, extensionOrigin) {
      origin = extensionOrigin;
      const page = context.pages()[0] ?? (await context.newPage());
      cdp = await context.newCDPSession(page);
      await cdp.send('Storage.overrideQuotaForOrigin', {
        origin,
        quotaSize: 8 * 1024 * 1024,
      });
    },
  });
  try {
    await cask.ask('whenIdle');
    await launchVat(cask, 'keeper', 'keeper');
    const count = await increment(cask);
    const kept = new Map<string, string>();
    // Filled until a write does not fit; each put answered before that is acknowledged.
    let refusal: string | undefined;
    for (let i = 0; i < 400 && refusal === undefined; i += 1) {
      // Random, so that Chromium cannot compress it away.
      const value = randomBytes(16_384).toString('base64');
      const answer = await cask.request<Settled>('send', {
        target: { vat: 'keeper' },
        method: 'put',
        args: [`key${i}`, value],
      });
      if (answer.ok) kept.set(`key${i}`, value);
      else refusal = answer.error?.message;
    }
    const quota = /failed: the browser's storage quota is exhausted.*QuotaExceededError/u;
    expect(refusal).toMatch(quota);
    expect(kept.size).toBeGreaterThan(0);
    const status = await cask.ask<Status>('status');
    expect(status.durability.failure).toMatch(quota);
    // Reading still answers; running does not.
    expect((await cask.request('listVats')).ok).toBe(true);
    expect((await cask.request('whenIdle')).error?.message).toMatch(quota);

    await cdp?.send('Storage.overrideQuotaForOrigin', { origin });
    await cask.stopServiceWorker();
    for (const [key, value] of kept) {
      expect(await call(cask, 'keeper', 'get', key)).toBe(value);
    }
    expect(await increment(cask)).toBe(count + 1);
    expect((await cask.ask<Status>('status')).durability.failure).toBeUndefined();
  } finally {
    await cask.dispose();
    rmSync(dist, { recursive: true, force: true });
  }
});

test('the service worker stopped while queued increments run and are written: every acknowledged increment is there, and none ran twice', async ({
  cask,
}) => {
  await launchVat(cask, 'tally', 'tally');
  const start = await cask.ask<Status>('status');
  const total = 200;
  // All sent at once from the page; each answer (the result's kpid, once the message is
  // durably queued) or failure is recorded as it comes.
  await cask.page.evaluate((n) => {
    const outcomes: Array<string | null> = new Array<string | null>(n).fill(null);
    (globalThis as { outcomes?: unknown }).outcomes = outcomes;
    for (let id = 0; id < n; id += 1) {
      chrome.runtime
        .sendMessage({
          type: 'cask:request',
          method: 'send',
          params: {
            target: { vat: 'tally' },
            method: 'increment',
            args: [id],
            wait: 'queued',
          },
        })
        .then(
          (answer: { ok: boolean; result?: { kpid: string } }) => {
            outcomes[id] = answer.ok ? (answer.result?.kpid ?? 'no kpid') : 'refused';
          },
          () => {
            outcomes[id] = 'lost';
          },
        );
    }
  }, total);
  const acknowledged = () =>
    cask.page.evaluate(
      () =>
        ((globalThis as { outcomes?: Array<string | null> }).outcomes ?? []).filter((o) =>
          o?.startsWith('kp'),
        ).length,
    );
  // Stopped once some increments have run and more are still queued.
  let atStop: Status | undefined;
  await expect
    .poll(
      async () => {
        atStop = await cask.ask<Status>('status');
        return atStop.crank >= start.crank + 30 && atStop.runQueueLength > 0;
      },
      { intervals: [5] },
    )
    .toBe(true);
  const { boot } = atStop as Status;
  const ackedBeforeStop = await acknowledged();
  await cask.stopServiceWorker();
  // The sends not yet answered settle: against the old worker (lost), or the new one.
  await expect
    .poll(() =>
      cask.page.evaluate(() =>
        ((globalThis as { outcomes?: Array<string | null> }).outcomes ?? []).every(
          (o) => o !== null,
        ),
      ),
    )
    .toBe(true);
  const outcomes = await cask.page.evaluate(
    () => (globalThis as { outcomes?: string[] }).outcomes ?? [],
  );
  await cask.ask('whenIdle');
  expect((await cask.ask<Status>('status')).boot.id).not.toBe(boot.id);
  const ids = outcomes.map((_, id) => id);
  const { count, runs } = (await call(cask, 'tally', 'report', ids)) as {
    count: number;
    runs: number[];
  };
  const acked = ids.filter((id) => outcomes[id]?.startsWith('kp'));
  test.info().annotations.push({
    type: 'stopped',
    description: `${ackedBeforeStop} of ${total} acknowledged before the stop, ${acked.length} in all; crank ${atStop?.crank} (from ${start.crank}) with ${atStop?.runQueueLength} queued at the stop; ${count} ran`,
  });
  // Acknowledged: ran exactly once. Any other (lost with the worker): at most once.
  expect(acked.filter((id) => runs[id] !== 1)).toEqual([]);
  expect(runs.filter((r) => r > 1)).toEqual([]);
  expect(count).toBe(runs.reduce((a, b) => a + b, 0));
});

test('a delivery that never ends is stopped by the watchdog: its iframe goes, the result is rejected naming vat, method and limit, and the vat answers its next message', async ({
  cask,
}) => {
  const looper = await launchVat(cask, 'looper', 'looper', { deliveryTimeoutMs: 2_000 });
  expect(await call(cask, 'looper', 'increment')).toBe(1);
  const count = await increment(cask);
  const before = await incarnations(cask);
  const { result } = await cask.ask<Settled>('send', {
    target: { vat: 'looper' },
    method: 'loop',
  });
  expect(result.status).toBe('rejected');
  expect(JSON.stringify(result.value)).toMatch(
    new RegExp(
      `vat \\\\"looper\\\\" \\(${looper}\\) did not finish loop: .*within 2000 ms`,
      'u',
    ),
  );
  expect(await call(cask, 'looper', 'increment')).toBe(2);
  // Only the looping vat was restarted; the others ran on, in the same renderer.
  expect(await incarnations(cask)).toEqual({
    ...before,
    looper: (before.looper ?? 0) + 1,
  });
  expect(await increment(cask)).toBe(count + 1);
  // Its old iframe is gone, and its workers (the vat's and the heartbeat's) with it.
  const vats = Object.keys(before).length;
  const cdp = await cask.context.newCDPSession(cask.page);
  try {
    await expect
      .poll(async () => {
        const { targetInfos } = await cdp.send('Target.getTargets');
        return {
          iframes: targetInfos.filter((t) => t.type === 'iframe').length,
          workers: targetInfos.filter((t) => t.type === 'worker').length,
        };
      })
      .toEqual({ iframes: vats, workers: 2 * vats });
  } finally {
    await cdp.detach();
  }
});
