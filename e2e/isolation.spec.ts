import { testBundle } from './harness.ts';
import { expect, increment, test } from './fixtures.ts';

const proberCluster = (globals: string[] = []) => ({
  bootstrap: 'prober',
  vats: {
    prober: {
      bundle: testBundle('prober'),
      globals,
      ...(globals.includes('fetch')
        ? { network: { allowedHosts: ['example.com'] } }
        : {}),
    },
  },
});

interface Launched {
  vats: Record<string, string>;
  bootstrap: { status: string; value: unknown };
}

test('code in a vat cannot reach chrome, IndexedDB, fetch, or any document (its own, the parent, other vats)', async ({
  cask,
}) => {
  await cask.ask<Launched>('launchCluster', { config: proberCluster() });
  const { result } = await cask.ask<{ result: { value: Record<string, unknown> } }>(
    'send',
    {
      target: { vat: 'prober' },
      method: 'probe',
    },
  );
  const unreachable = {
    chrome: 'undefined',
    browser: 'undefined',
    indexedDB: 'undefined',
    fetch: 'undefined',
    parent: 'undefined',
    top: 'undefined',
    window: 'undefined',
    document: 'undefined',
    localStorage: 'undefined',
    XMLHttpRequest: 'undefined',
    Worker: 'undefined',
    frames: 'undefined',
    opener: 'undefined',
  };
  expect(result.value).toEqual({ direct: unreachable, viaFunction: unreachable });
});

test('a vat endowed with fetch gets fetch, and nothing more', async ({ cask }) => {
  await cask.ask('launchCluster', { config: proberCluster(['fetch']) });
  const { result } = await cask.ask<{
    result: { value: { direct: Record<string, string> } };
  }>('send', { target: { vat: 'prober' }, method: 'probe' });
  expect(result.value.direct.fetch).toBe('function');
  expect(result.value.direct.chrome).toBe('undefined');
  expect(result.value.direct.indexedDB).toBe('undefined');
});

test('a vat that tampers with shared intrinsics is blocked and keeps running', async ({
  cask,
}) => {
  await cask.ask('launchCluster', { config: proberCluster() });
  const { result } = await cask.ask<{ result: { value: unknown } }>('send', {
    target: { vat: 'prober' },
    method: 'tamper',
  });
  expect(result.value).toEqual({
    objectPrototype: 'blocked: TypeError',
    arrayPrototype: 'blocked: TypeError',
  });
  const ping = await cask.ask<{ result: { value: unknown } }>('send', {
    target: { vat: 'prober' },
    method: 'ping',
  });
  expect(ping.result.value).toBe('pong');
});

test('a vat page that posts garbage on its port is suspended with a clear reason, its state kept; a message waits for it and is answered after a restart; the others run on', async ({
  cask,
}) => {
  const { vats } = await cask.ask<Launched>('launchCluster', { config: proberCluster() });
  const prober = vats.prober as string;
  await cask.ask('whenIdle');
  const before = await increment(cask);
  type Listed = Array<{
    vatId: string;
    state: string;
    reason?: string;
    held: number;
    vatstore: { keys: number };
  }>;
  const keysBefore = (await cask.ask<Listed>('listVats')).find((v) => v.vatId === prober)
    ?.vatstore.keys;
  // On every port of the vat's worker: the kernel's, and the worker's own macrotask
  // channel (which ignores what is not its tick).
  expect(
    await cask.postFromVatPage(prober, { type: 'delivered', crank: 'soon' }),
  ).toBeGreaterThanOrEqual(1);
  await expect
    .poll(async () => {
      const list = await cask.ask<Listed>('listVats');
      return list.find((v) => v.vatId === prober)?.state;
    })
    .toBe('suspended');
  const suspended = (await cask.ask<Listed>('listVats')).find((v) => v.vatId === prober);
  expect(suspended?.reason).toMatch(/invalid message from vat at crank/u);
  expect(suspended?.vatstore.keys).toBe(keysBefore);
  // A message to it waits (held), and the others run on.
  const { kpid } = await cask.ask<{ kpid: string }>('send', {
    target: { vat: 'prober' },
    method: 'ping',
    wait: 'queued',
  });
  expect(await increment(cask)).toBe(before + 1);
  await cask.ask('whenIdle');
  expect((await cask.ask<Listed>('listVats')).find((v) => v.vatId === prober)?.held).toBe(
    1,
  );
  expect(await cask.ask('promiseStatus', { kpid })).toEqual({
    kpid,
    state: 'unresolved',
  });
  await cask.ask('restartVat', { vatId: prober });
  await cask.ask('whenIdle');
  expect(await cask.ask('promiseStatus', { kpid })).toEqual({
    kpid,
    state: 'fulfilled',
    value: 'pong',
  });
});

test('a vat that asks for fetch without saying which hosts does not start, and the launch says why instead of waiting', async ({
  cask,
}) => {
  const config = {
    bootstrap: 'prober',
    vats: { prober: { bundle: testBundle('prober'), globals: ['fetch'] } },
  };
  const launched = await cask.ask<{
    bootstrap: { status: string; reason?: string };
  }>('launchCluster', { config });
  expect(launched.bootstrap.status).toBe('waiting');
  expect(launched.bootstrap.reason).toMatch(/did not start: .*network/u);
});
