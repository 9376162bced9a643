import { boolean, defaulted, object, size, string } from '@metamask/superstruct';
import { defineMethod } from '../method.ts';

/**
 * Terminates a vat (running or suspended) between cranks: its promises and held
 * messages are rejected. Its vatstore is kept unless `deleteState` is true.
 */
export const terminateVat = defineMethod({
  name: 'terminateVat',
  params: object({
    vatId: size(string(), 1, 32),
    reason: defaulted(size(string(), 1, 1000), 'terminated from the control surface'),
    deleteState: defaulted(boolean(), false),
  }),
  async handler(hooks, { vatId, reason, deleteState }) {
    const { kernel } = await hooks.host();
    await kernel.terminateVat(vatId, reason, { deleteState });
    return { vatId, state: kernel.state.getVat(vatId)?.state ?? null };
  },
});
