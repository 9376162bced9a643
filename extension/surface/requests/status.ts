import { object } from '@metamask/superstruct';
import { defineMethod } from '../method.ts';

/** Kernel status: crank numbers, run queue, store and log sizes, this boot. */
export const status = defineMethod({
  name: 'status',
  params: object({}),
  async handler(hooks) {
    const host = await hooks.host();
    const { kernel, store, durability, recovery } = host;
    const pages = store.one('PRAGMA page_count');
    const pageSize = store.one('PRAGMA page_size');
    return {
      ...kernel.status(),
      storeBytes: Number(pages?.[0] ?? 0) * Number(pageSize?.[0] ?? 0),
      durability: durability.stats(),
      recovery,
      boot: { id: host.bootId, at: host.bootedAt, firstRun: host.isNew },
      defaultCluster: (await hooks.defaultCluster()) ?? null,
    };
  },
});
