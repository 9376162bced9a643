import { testBundle } from './harness.ts';
import { expect, increment, test } from './fixtures.ts';

const proberCluster = (globals: string[] = []) => ({
  bootstrap: 'prober',
  vats: { prober: { bundle: testBundle('prober'), globals } },
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

test('a vat page that posts garbage on its port is terminated with a clear reason; the others run on', async ({
  cask,
}) => {
  const { vats } = await cask.ask<Launched>('launchCluster', { config: proberCluster() });
  const prober = vats.prober as string;
  await cask.ask('whenIdle');
  const before = await increment(cask);
  expect(await cask.postFromVatPage(prober, { type: 'delivered', crank: 'soon' })).toBe(
    1,
  );
  await expect
    .poll(async () => {
      const list = await cask.ask<Array<{ vatId: string; state: string }>>('listVats');
      return list.find((v) => v.vatId === prober)?.state;
    })
    .toBe('terminated');
  const list =
    await cask.ask<Array<{ vatId: string; state: string; terminationReason?: string }>>(
      'listVats',
    );
  expect(list.find((v) => v.vatId === prober)?.terminationReason).toMatch(
    /unsolicited|protocol|crank/iu,
  );
  const send = await cask
    .ask<{ result: { status: string; value: { $error: string } } }>('send', {
      target: { vat: 'prober' },
      method: 'ping',
    })
    .catch((error: unknown) => String(error));
  expect(String(JSON.stringify(send))).toMatch(/terminated/u);
  expect(await increment(cask)).toBe(before + 1);
});
