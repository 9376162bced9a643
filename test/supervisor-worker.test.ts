import { describe, expect, it } from 'vitest';
import { makeNodeVatLauncher } from '../node/vat-worker/index.ts';
import { supervisorSuite } from './fixtures/supervisor-suite.ts';
import {
  bundleFixture,
  callRoot,
  initVat,
  startVat,
  workerDriver,
} from './fixtures/vat-harness.ts';

describe('vat supervisor, in a worker thread', () => {
  supervisorSuite(workerDriver);

  it('reports a message the vat cannot answer through onExit, with the reason', async () => {
    const driver = await workerDriver('v1');
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
    const channel = await makeNodeVatLauncher().launch('v1');
    const exits: string[] = [];
    channel.onExit((reason) => exits.push(reason));
    const closing = channel.close();
    expect(channel.close()).toBe(closing);
    await closing;
    channel.send(startVat(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(exits).toEqual([]);
  });

  it('holds messages that arrive before the kernel registers its handler', async () => {
    const bundle = await bundleFixture('counter-vat');
    const channel = await makeNodeVatLauncher().launch('v1');
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
    const channel = await makeNodeVatLauncher().launch('bench');
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
        `worker round trips: ${Math.round(rate)} deliveries/s (trivial method)`,
      );
      expect(rate).toBeGreaterThan(0);
    } finally {
      await channel.close();
    }
  });
});
