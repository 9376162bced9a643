import { integer, min, object } from '@metamask/superstruct';
import { defineMethod, SurfaceError } from '../method.ts';
import { HISTORY } from '../../surface-protocol/index.ts';

/** What one recent crank changed in its vat's vatstore: each key's old and new value. */
export const crankDelta = defineMethod({
  name: 'crankDelta',
  params: object({ crank: min(integer(), 1) }),
  async handler(hooks, { crank }) {
    await hooks.host();
    const delta = hooks.inspector().crankDelta(crank);
    if (!delta) {
      throw new SurfaceError(
        `crank ${crank} has no delta here: it changed no vatstore, or it is not among the last ${HISTORY} cranks of this boot`,
      );
    }
    return { crank, ...delta };
  },
});
