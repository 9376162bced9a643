import { object } from '@metamask/superstruct';
import type { VatReport } from '../../surface-protocol/index.ts';
import { defineMethod } from '../method.ts';

/**
 * Every vat the kernel has had — running, suspended or terminated, with the reason — the
 * code version it runs (vatVersions has them all), its vatstore's size and how many messages wait for it while it is suspended.
 */
export const listVats = defineMethod({
  name: 'listVats',
  params: object({}),
  async handler(hooks): Promise<VatReport[]> {
    const { kernel } = await hooks.host();
    return kernel.state.listVats().map((vat) => ({
      vatId: vat.vatId,
      name: vat.name,
      state: vat.state,
      incarnation: vat.incarnation,
      version: kernel.state.vatVersions(vat.vatId).at(-1)?.version ?? 1,
      rootKref: vat.rootKref,
      ...(vat.reason === null ? {} : { reason: vat.reason }),
      held: kernel.state.heldCount(vat.vatId),
      vatstore: kernel.state.vatstoreStats(vat.vatId),
    }));
  },
});
