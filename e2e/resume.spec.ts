import { expect, increment, test, type Status } from './fixtures.ts';

test.describe('the counter keeps its count', () => {
  test('across a service-worker stop', async ({ cask }) => {
    const before = await increment(cask);
    const { boot } = await cask.ask<Status>('status');
    await cask.stopServiceWorker();
    // The request wakes the worker; it boots from IndexedDB and relaunches the vats.
    expect(await increment(cask)).toBe(before + 1);
    const after = await cask.ask<Status>('status');
    expect(after.boot.id).not.toBe(boot.id);
    expect(after.boot.firstRun).toBe(false);
  });

  test('across an extension reload', async ({ cask }) => {
    const before = await increment(cask);
    const { boot } = await cask.ask<Status>('status');
    await cask.reloadExtension();
    expect(await increment(cask)).toBe(before + 1);
    expect((await cask.ask<Status>('status')).boot.id).not.toBe(boot.id);
  });

  test('across a browser restart on the same profile', async ({ cask }) => {
    const before = await increment(cask);
    const { boot } = await cask.ask<Status>('status');
    await cask.restartBrowser();
    expect(await increment(cask)).toBe(before + 1);
    const after = await cask.ask<Status>('status');
    expect(after.boot.id).not.toBe(boot.id);
    // The default cluster was launched once, on the first run only.
    expect(after.boot.firstRun).toBe(false);
    expect((await cask.ask<unknown[]>('listVats')).length).toBe(6);
  });
});

test('a message queued just before the service worker stops is delivered exactly once after it wakes', async ({
  cask,
}) => {
  const before = await increment(cask);
  // Held, so the message is surely still queued when the worker stops.
  await cask.ask('setPaused', { paused: true });
  const queued = await cask.ask<{ kpid: string }>('send', {
    target: { vat: 'counter' },
    method: 'increment',
    wait: 'queued',
  });
  expect(queued.kpid).toMatch(/^kp\d+$/u);
  expect((await cask.ask<Status>('status')).runQueueLength).toBe(1);
  await cask.stopServiceWorker();
  // A new boot runs the queue (the hold was in memory only).
  const idle = await cask.ask<Status>('whenIdle');
  expect(idle.paused).toBe(false);
  expect(idle.runQueueLength).toBe(0);
  // Once: not lost (before + 1 would follow), not twice (before + 3).
  expect(await increment(cask)).toBe(before + 2);
});
