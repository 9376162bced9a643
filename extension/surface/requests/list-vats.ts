import { object } from '@metamask/superstruct';
import type { VatReport } from '../../surface-protocol/index.ts';
import { defineMethod } from '../method.ts';

/** Every vat the kernel has had, live or terminated, with its vatstore's size. */
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
      rootKref: vat.rootKref,
      ...(vat.terminationReason === undefined || vat.terminationReason === null
        ? {}
        : { terminationReason: vat.terminationReason }),
      vatstore: kernel.state.vatstoreStats(vat.vatId),
    }));
  },
});
