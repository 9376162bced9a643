import { object, size, string } from '@metamask/superstruct';
import { defineMethod } from '../method.ts';

/** Restarts a live vat between cranks: a new incarnation from its stored state. */
export const restartVat = defineMethod({
  name: 'restartVat',
  params: object({ vatId: size(string(), 1, 32) }),
  async handler(hooks, { vatId }) {
    const { kernel } = await hooks.host();
    await kernel.restartVat(vatId);
    return { vatId, incarnation: kernel.state.getVat(vatId)?.incarnation ?? null };
  },
});
