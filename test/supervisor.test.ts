import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../kernel/protocol/index.ts';
import { bundleVatSource } from '../node/bundles/index.ts';
import { supervisorSuite } from './fixtures/supervisor-suite.ts';
import {
  bundleFixture,
  callRoot,
  capdata,
  inProcessDriver,
  initVat,
  startVat,
} from './fixtures/vat-harness.ts';

describe('vat supervisor, in process', () => {
  supervisorSuite(async () => inProcessDriver());

  it('rejects a message it cannot answer with a clear error', async () => {
    const { supervisor } = inProcessDriver();
    await expect(supervisor.handle('hello')).rejects.toThrow(ProtocolError);
    await expect(supervisor.handle({ type: 'reboot' })).rejects.toThrow(
      /invalid message from kernel at type: .*one of: initVat, deliver/,
    );
    await expect(
      supervisor.handle({
        type: 'deliver',
        crank: -1,
        delivery: { kind: 'bringOutYourDead' },
      }),
    ).rejects.toThrow(/invalid message from kernel at crank/);
  });

  it('answers a deliver before initVat with deliveryFailed', async () => {
    const driver = inProcessDriver();
    const reply = await driver.request(startVat(1));
    expect(reply).toMatchObject({ type: 'deliveryFailed', crank: 1 });
    expect((reply as { error: string }).error).toMatch(/deliver before initVat/);
  });

  it('fails loudly on a deliver that arrives while another runs, or a second initVat', async () => {
    const bundle = await bundleFixture('counter-vat');
    const driver = inProcessDriver();
    await driver.request(initVat('v1', bundle));
    const first = driver.supervisor.handle(startVat(1));
    await expect(
      driver.supervisor.handle(callRoot(2, 'getCount', [], 'p-1')),
    ).rejects.toThrow(/deliver for crank 2 while crank 1 runs/);
    await first;
    await expect(driver.supervisor.handle(initVat('v1', bundle))).rejects.toThrow(
      /already runs v1/,
    );
  });

  it('endows fetch only when the host offers it', async () => {
    const bundle = await bundleFixture('counter-vat');
    const withHosts = {
      ...initVat('v1', bundle, [], ['fetch']),
      network: { allowedHosts: ['example.test'] },
    };
    const offered = await inProcessDriver().request(withHosts);
    expect(offered.type).toBe('vatReady');
    const refused = await inProcessDriver({ offerFetch: false }).request(withHosts);
    expect(refused).toMatchObject({ type: 'vatInitFailed', vatId: 'v1' });
    expect((refused as { error: string }).error).toMatch(/"fetch" is not offered/);
  });

  it('bundles and runs a vat file that is not inside any package', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cask-loose-vat-'));
    try {
      const file = join(dir, 'loose.js');
      await writeFile(
        file,
        [
          "import { Far } from '@endo/far';",
          "import { M } from '@endo/patterns';",
          "export const buildRootObject = () => Far('root', { kind: () => typeof M.any });",
        ].join('\n'),
      );
      const bundle = await bundleVatSource(file);
      expect(await bundleVatSource(file)).toBe(bundle);
      const driver = inProcessDriver();
      expect((await driver.request(initVat('v9', bundle))).type).toBe('vatReady');
      expect((await driver.request(startVat(1))).type).toBe('delivered');
      const reply = await driver.request(callRoot(2, 'kind', [], 'p-1'));
      expect(reply).toMatchObject({
        syscalls: [
          { kind: 'resolve', resolutions: [{ vpid: 'p-1', data: capdata('function') }] },
        ],
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
