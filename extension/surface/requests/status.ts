import { object } from '@metamask/superstruct';
import type { StatusReport } from '../../surface-protocol/index.ts';
import { defineMethod } from '../method.ts';

/** Kernel status: crank numbers, run queue, store and log sizes, this boot. */
export const status = defineMethod({
  name: 'status',
  params: object({}),
  async handler(hooks): Promise<StatusReport> {
    const host = await hooks.host();
    const { kernel, durability, recovery } = host;
    return {
      ...kernel.status(),
      storeBytes: host.storeBytes(),
      durability: durability.stats(),
      lastCheckpoint: host.lastCheckpoint,
      recovery,
      boot: { id: host.bootId, at: host.bootedAt, firstRun: host.isNew },
      defaultCluster: (await hooks.defaultCluster()) ?? null,
    };
  },
});
