import { object, size, string } from '@metamask/superstruct';
import { defineMethod } from '../method.ts';

/**
 * Restarts a running or suspended vat between cranks: a new incarnation from its last
 * committed state; a suspended vat's held messages run first.
 */
export const restartVat = defineMethod({
  name: 'restartVat',
  params: object({ vatId: size(string(), 1, 32) }),
  async handler(hooks, { vatId }) {
    const { kernel } = await hooks.host();
    await kernel.restartVat(vatId);
    return { vatId, incarnation: kernel.state.getVat(vatId)?.incarnation ?? null };
  },
});
