/**
 * The control surface's upgrade requests (extension/surface), against a Node kernel with
 * real workers: upgradeVat by vat name or id and by each way of naming the code,
 * vatVersions, the refusals naming the field, and the kernel's rollback reason passed
 * through as it is. The extension's own bundle reading is covered by e2e/upgrade.spec.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ClusterConfigError,
  bundleIdOf,
  type VatBundle,
  type VatCode,
} from '../kernel/index.ts';
import { bundleVatSource } from './fixtures/bundle-cache.ts';
import { handleSurfaceRequest, type SurfaceHooks } from '../extension/surface/index.ts';
import { surfaceHooks } from './fixtures/surface-hooks.ts';
import {
  launchTestCluster,
  sampleVat,
  testVat,
  type TestCluster,
} from './kernel-harness.ts';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

/** What the extension ships, here: the sample vats by bundleSpec. */
async function shipped(spec: string): Promise<VatBundle | undefined> {
  const name = /^bundles\/([\w-]+)\.bundle\.json$/u.exec(spec)?.[1];
  return name
    ? bundleVatSource(sampleVat(`${name}.js`)).catch(() => undefined)
    : undefined;
}

function hooksFor(c: TestCluster): SurfaceHooks {
  return surfaceHooks({
    host: async () =>
      ({ kernel: c.kernel }) as unknown as Awaited<ReturnType<SurfaceHooks['host']>>,
    async readBundle(code: VatCode, prefix: string) {
      const where = `${prefix} ${code.field}`;
      if (code.kind === 'bundle') return code.bundle;
      if (code.kind === 'sourceSpec') {
        throw new ClusterConfigError(
          `${where}: the extension has no bundler at run time`,
        );
      }
      const spec =
        code.kind === 'bundleSpec' ? code.spec : `bundles/${code.name}.bundle.json`;
      const bundle = await shipped(spec);
      if (!bundle)
        throw new ClusterConfigError(`${where}: ${spec} is not in the extension`);
      return bundle;
    },
    shippedBundles: async () => [
      {
        name: 'ledger-v2',
        bundleSpec: 'bundles/ledger-v2.bundle.json',
        bundleId: bundleIdOf(await bundleVatSource(sampleVat('ledger-v2.js'))),
      },
    ],
  });
}

async function ask(c: TestCluster, method: string, params: unknown) {
  return handleSurfaceRequest({ type: 'cask:request', method, params }, hooksFor(c));
}

async function ledger(): Promise<TestCluster> {
  cluster = await launchTestCluster({ ledger: { source: sampleVat('ledger.js') } });
  await cluster.call('ledger', 'deposit', 'ann', 10);
  await cluster.call('ledger', 'deposit', 'ben', 3);
  return cluster;
}

describe('upgradeVat and vatVersions on the surface', () => {
  it('upgrades a vat named by name to a shipped bundle, and lists its versions', async () => {
    const c = await ledger();
    const vatId = c.vatId('ledger');
    const answer = await ask(c, 'upgradeVat', {
      vat: 'ledger',
      bundleSpec: 'bundles/ledger-v2.bundle.json',
    });
    expect(answer).toMatchObject({ ok: true, result: { vatId, version: 2 } });
    expect(await c.call('ledger', 'balances')).toEqual({ ann: '10n', ben: '3n' });
    const versions = await ask(c, 'vatVersions', { vat: vatId });
    expect(versions).toMatchObject({
      ok: true,
      result: {
        vatId,
        name: 'ledger',
        state: 'running',
        current: 2,
        versions: [
          { version: 1, crank: null, parameters: {} },
          { version: 2, shippedAs: 'ledger-v2', parameters: {} },
        ],
      },
    });
  });

  it('goes back by bundleId, takes new parameters, and upgrades by bundleName or inline bundle', async () => {
    const c = await ledger();
    await ask(c, 'upgradeVat', { vat: 'ledger', bundleName: 'ledger-v2' });
    expect(await c.call('ledger', 'version')).toBe(2);
    const { result } = (await ask(c, 'vatVersions', { vat: 'ledger' })) as {
      result: { versions: Array<{ bundleId: string }> };
    };
    const back = await ask(c, 'upgradeVat', {
      vat: 'ledger',
      bundleId: result.versions[0]?.bundleId,
      parameters: { note: 'back' },
    });
    expect(back).toMatchObject({ ok: true, result: { version: 3 } });
    expect(await c.call('ledger', 'version')).toBe(1);
    const again = await ask(c, 'upgradeVat', {
      vat: 'ledger',
      bundle: await bundleVatSource(sampleVat('ledger-v2.js')),
    });
    expect(again).toMatchObject({ ok: true, result: { version: 4 } });
    const after = (await ask(c, 'vatVersions', { vat: 'ledger' })) as {
      result: { versions: Array<{ parameters: unknown }> };
    };
    expect(after.result.versions.map((v) => v.parameters)).toEqual([
      {},
      {},
      { note: 'back' },
      { note: 'back' },
    ]);
  });

  it('passes the kernel rollback reason through verbatim; the old version answers', async () => {
    const c = await ledger();
    const answer = await ask(c, 'upgradeVat', {
      vat: 'ledger',
      bundle: await bundleVatSource(testVat('../../e2e/vats/ledger-forgets.js')),
    });
    expect(answer.ok).toBe(false);
    expect(answer).toMatchObject({ error: { name: 'KernelError' } });
    const message = (answer as { error: { message: string } }).error.message;
    expect(message).toMatch(
      /^upgrade of vat "ledger" \(v\d+\) rolled back: its new version did not start: .*Account.*; its previous version runs on$/u,
    );
    expect(await c.call('ledger', 'version')).toBe(1);
    expect(await c.call('ledger', 'balances')).toEqual({ ann: '10n', ben: '3n' });
  });

  it.each([
    [
      { vat: 'ledger' },
      /^upgradeVat refused: params: give exactly one of bundleSpec, bundle, bundleId, bundleName; got none$/u,
    ],
    [
      { vat: 'ledger', bundleId: 'x', bundleName: 'y' },
      /^upgradeVat refused: params: give exactly one of .*; got bundleId and bundleName$/u,
    ],
    [{ vat: 7, bundleId: 'x' }, /^upgradeVat refused: params\.vat: /u],
    [
      { vat: 'ledger', bundleId: 'x', parameters: [1] },
      /^upgradeVat refused: params\.parameters: /u,
    ],
    [{ vat: 'ledger', bundleId: 'x', extra: 1 }, /^upgradeVat refused: params\.extra: /u],
    [{ vat: 'nobody', bundleId: 'x' }, /^no vat with id or name "nobody"$/u],
    [
      { vat: 'ledger', sourceSpec: './ledger-v2.js' },
      /^upgradeVat refused: params\.sourceSpec: the extension has no bundler at run time/u,
    ],
    [
      { vat: 'ledger', bundle: { moduleFormat: 'x' } },
      /^upgradeVat refused: params\.bundle: unknown moduleFormat/u,
    ],
    [
      { vat: 'ledger', bundleSpec: 'bundles/nope.bundle.json' },
      /^upgradeVat refused: params\.bundleSpec: bundles\/nope\.bundle\.json is not in the extension$/u,
    ],
    [{ vat: 'ledger', bundleId: 'b0' }, /^the kernel has no bundle b0$/u],
  ])('refuses %j, naming what is wrong, and changes nothing', async (params, why) => {
    const c = await ledger();
    const before = c.kernel.status().crank;
    const answer = await ask(c, 'upgradeVat', params);
    expect(answer.ok).toBe(false);
    expect((answer as { error: { message: string } }).error.message).toMatch(why);
    expect(c.kernel.status().crank).toBe(before);
    expect(c.kernel.vatVersions(c.vatId('ledger'))).toHaveLength(1);
  });

  it('vatVersions refuses an unknown vat and a missing field', async () => {
    const c = await ledger();
    expect(await ask(c, 'vatVersions', { vat: 'v99' })).toMatchObject({
      ok: false,
      error: { message: 'no vat with id or name "v99"' },
    });
    expect(await ask(c, 'vatVersions', {})).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/^vatVersions refused: params\.vat: /u) },
    });
  });
});
