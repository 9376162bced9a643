import { expect, increment, test, type Status } from './fixtures.ts';

test('on first run the default cluster starts and its bootstrap result is visible through the surface', async ({
  cask,
}) => {
  await cask.ask('whenIdle');
  const status = await cask.ask<Status>('status');
  expect(status.boot.firstRun).toBe(true);
  expect(status.defaultCluster).toEqual({
    state: 'fulfilled',
    result: {
      balances: { alice: '70', bob: '5' },
      caught: 'carol caught: no such thing',
      count: 2,
      introduced: 'Hello, carol, from bob (#1)',
      pipelined: 'Hi, dave, from bob (#1)',
      relayed: 'carol saw 42',
    },
  });
  expect(status.runQueueLength).toBe(0);
  expect(status.durableCrank).toBe(status.crank);
  const vats = await cask.ask<Array<{ name: string; state: string }>>('listVats');
  expect(vats.map((v) => [v.name, v.state])).toEqual([
    ['bootstrap', 'running'],
    ['alice', 'running'],
    ['bob', 'running'],
    ['carol', 'running'],
    ['counter', 'running'],
    ['ledger', 'running'],
  ]);
  expect(await increment(cask)).toBe(3);
});

test('SES lockdown ran in the service worker and in the extension pages', async ({
  cask,
}) => {
  const frozen = () =>
    Object.isFrozen(Object.prototype) &&
    typeof (globalThis as { harden?: unknown }).harden === 'function';
  expect(await cask.worker.evaluate(frozen)).toBe(true);
  expect(await cask.page.evaluate(frozen)).toBe(true);
});
