import { describe, expect, it } from 'vitest';
import { makeNodeVatLauncher, type VatTransport } from '../node/vat-worker/index.ts';
import { supervisorSuite } from './fixtures/supervisor-suite.ts';
import {
  bundleFixture,
  callRoot,
  capdata,
  initVat,
  startVat,
  workerDriver,
} from './fixtures/vat-harness.ts';

const transports: VatTransport[] = ['message', 'shared'];

describe.each(transports)(
  'vat supervisor, in a worker thread (%s transport)',
  (transport) => {
    supervisorSuite((vatId) => workerDriver(vatId, { transport }));

    it('reports a message the vat cannot answer through onExit, with the reason', async () => {
      const driver = await workerDriver('v1', { transport });
      try {
        driver.channel.send({ type: 'reboot' } as never);
        const reason = await driver.exited;
        expect(reason).toMatch(
          /vat v1 worker crashed: ProtocolError: invalid message from kernel/,
        );
      } finally {
        await driver.close();
      }
    });

    it('closes idempotently, without reporting an exit, and ignores sends after', async () => {
      const channel = await makeNodeVatLauncher({ transport }).launch('v1');
      const exits: string[] = [];
      channel.onExit((reason) => exits.push(reason));
      const closing = channel.close();
      expect(channel.close()).toBe(closing);
      // terminate() settles once the worker's 'exit' event has been emitted, so an
      // exit report, if there were one, would be here already.
      await closing;
      channel.send(startVat(1));
      expect(exits).toEqual([]);
    });

    it('holds messages that arrive before the kernel registers its handler', async () => {
      const bundle = await bundleFixture('counter-vat');
      const channel = await makeNodeVatLauncher({ transport }).launch('v1');
      try {
        channel.send(initVat('v1', bundle));
        await new Promise((resolve) => setTimeout(resolve, 500));
        const reply = await new Promise((resolve) => channel.onMessage(resolve));
        expect(reply).toMatchObject({ type: 'vatReady', vatId: 'v1' });
      } finally {
        await channel.close();
      }
    });

    it('measures round trips through a worker (printed, not asserted)', async () => {
      const bundle = await bundleFixture('counter-vat');
      const channel = await makeNodeVatLauncher({ transport }).launch('bench');
      try {
        let waiter: ((message: unknown) => void) | undefined;
        channel.onMessage((message) => waiter?.(message));
        const request = (message: Parameters<typeof channel.send>[0]) =>
          new Promise<unknown>((resolve) => {
            waiter = resolve;
            channel.send(message);
          });
        await request(initVat('bench', bundle));
        await request(startVat(1));
        let crank = 2;
        const run = async (count: number) => {
          const start = performance.now();
          for (let i = 0; i < count; i++) {
            await request(callRoot(crank, 'ping', [], `p-${crank}`));
            crank += 1;
          }
          return (count / (performance.now() - start)) * 1000;
        };
        await run(2_000); // warm-up
        const rate = await run(10_000);
        console.log(
          `worker round trips (${transport}): ${Math.round(rate)} deliveries/s (trivial method)`,
        );
        expect(rate).toBeGreaterThan(0);
      } finally {
        await channel.close();
      }
    });
  },
);

describe('vat supervisor, shared transport', () => {
  it('carries deliveries and replies too large for the slot, in order with small ones', async () => {
    const driver = await workerDriver('v1', { transport: 'shared', slotBytes: 1024 });
    try {
      expect(
        (await driver.request(initVat('v1', await bundleFixture('counter-vat')))).type,
      ).toBe('vatReady');
      expect((await driver.request(startVat(1))).type).toBe('delivered');
      let crank = 2;
      for (const size of [10, 5000, 20, 100_000, 30]) {
        const text = 'é'.repeat(size);
        const reply = await driver.request(callRoot(crank, 'echo', [text], `p-${crank}`));
        expect(reply).toMatchObject({
          type: 'delivered',
          crank,
          syscalls: [
            {
              kind: 'resolve',
              resolutions: [{ vpid: `p-${crank}`, data: capdata(text) }],
            },
          ],
        });
        crank += 1;
      }
    } finally {
      await driver.close();
    }
  });
});
