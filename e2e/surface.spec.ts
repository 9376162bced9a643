import { expect, test, type Status } from './fixtures.ts';

test.describe('the control surface refuses bad requests, and they change nothing', () => {
  test('an oversized request', async ({ cask }) => {
    const before = await cask.ask<Status>('whenIdle');
    const answer = await cask.request('send', {
      target: { vat: 'counter' },
      method: 'increment',
      args: ['x'.repeat(9 * 1024 * 1024)],
    });
    expect(answer.ok).toBe(false);
    expect(answer.error?.message).toMatch(/over the limit of 8388608/u);
    expect((await cask.ask<Status>('status')).crank).toBe(before.crank);
  });

  test('an unknown method, and a request with no method', async ({ cask }) => {
    const unknown = await cask.request('dropTables');
    expect(unknown.error?.message).toMatch(
      /unknown method "dropTables"; the surface answers status, listVats/u,
    );
    const none = await cask.page.evaluate(() =>
      chrome.runtime.sendMessage({ type: 'cask:request', params: {} }),
    );
    expect(none.error.message).toMatch(/"method" must be a string/u);
  });

  test('malformed params name the field', async ({ cask }) => {
    const noMethod = await cask.request('send', { target: { vat: 'counter' } });
    expect(noMethod.error?.message).toMatch(/^send refused: params\.method: /u);
    const badLimit = await cask.request('readVatstore', { vatId: 'v1', limit: 5000 });
    expect(badLimit.error?.message).toMatch(/^readVatstore refused: params\.limit: /u);
    const badTarget = await cask.request('send', { target: { vat: 42 }, method: 'x' });
    expect(badTarget.error?.message).toMatch(/^send refused: params\.target/u);
  });

  test('an invalid cluster config, with the field that is wrong', async ({ cask }) => {
    const before = await cask.ask<unknown[]>('listVats');
    const badName = await cask.request('launchCluster', {
      config: {
        bootstrap: 'a',
        vats: { a: { bundleSpec: 'bundles/counter.bundle.json' }, 'b c': {} },
      },
    });
    expect(badName.error?.message).toMatch(/^invalid cluster config at vats\.b c/u);
    const network = await cask.request('launchCluster', {
      config: {
        bootstrap: 'a',
        vats: { a: { bundleSpec: 'https://example.com/a.json' } },
      },
    });
    expect(network.error?.message).toMatch(/never fetches bundles from the network/u);
    const source = await cask.request('launchCluster', {
      config: { bootstrap: 'a', vats: { a: { sourceSpec: './a.js' } } },
    });
    expect(source.error?.message).toMatch(
      /vats\.a\.sourceSpec: the extension has no bundler/u,
    );
    expect(await cask.ask<unknown[]>('listVats')).toEqual(before);
  });

  test('unknown vats and krefs', async ({ cask }) => {
    const noVat = await cask.request('send', { target: { vat: 'nobody' }, method: 'x' });
    expect(noVat.error?.message).toBe('no vat named "nobody"');
    const noKref = await cask.request('send', { target: { kref: 'ko999' }, method: 'x' });
    expect(noKref.error?.message).toMatch(/no kernel object or promise ko999/u);
    const restart = await cask.request('restartVat', { vatId: 'v99' });
    expect(restart.error?.message).toBe('no vat v99');
  });
});

test('a vat is terminated and restarted through the surface', async ({ cask }) => {
  await cask.ask('whenIdle');
  const vats =
    await cask.ask<Array<{ vatId: string; name: string; incarnation: number }>>(
      'listVats',
    );
  const counter = vats.find((v) => v.name === 'counter');
  const ledger = vats.find((v) => v.name === 'ledger');
  const restarted = await cask.ask<{ incarnation: number }>('restartVat', {
    vatId: counter?.vatId,
  });
  expect(restarted.incarnation).toBe((counter?.incarnation ?? 0) + 1);
  const terminated = await cask.ask<{ state: string }>('terminateVat', {
    vatId: ledger?.vatId,
    reason: 'no longer needed',
  });
  expect(terminated.state).toBe('terminated');
  type Listed = Array<{
    name: string;
    state: string;
    reason?: string;
    vatstore: { keys: number };
  }>;
  const after = await cask.ask<Listed>('listVats');
  // Terminated, its stored state kept until a person asks for it to go.
  expect(after.find((v) => v.name === 'ledger')).toMatchObject({
    state: 'terminated',
    reason: 'no longer needed',
  });
  expect(after.find((v) => v.name === 'ledger')?.vatstore.keys).toBeGreaterThan(0);
  await cask.ask('terminateVat', { vatId: ledger?.vatId, deleteState: true });
  const deleted = await cask.ask<Listed>('listVats');
  expect(deleted.find((v) => v.name === 'ledger')?.vatstore.keys).toBe(0);
});
