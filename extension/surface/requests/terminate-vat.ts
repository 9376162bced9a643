import { defaulted, object, size, string } from '@metamask/superstruct';
import { defineMethod } from '../method.ts';

/** Terminates a vat between cranks: its promises are rejected, its vatstore deleted. */
export const terminateVat = defineMethod({
  name: 'terminateVat',
  params: object({
    vatId: size(string(), 1, 32),
    reason: defaulted(size(string(), 1, 1000), 'terminated from the control surface'),
  }),
  async handler(hooks, { vatId, reason }) {
    const { kernel } = await hooks.host();
    await kernel.terminateVat(vatId, reason);
    return { vatId, state: kernel.state.getVat(vatId)?.state ?? null };
  },
});
