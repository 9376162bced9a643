import { integer, min, object } from '@metamask/superstruct';
import { defineMethod } from '../method.ts';

/**
 * Brings the whole kernel back to the state after the commit ending at `crank`, as a
 * new commit (`restoreCrank`; restoring to `undoCrank` undoes it), and boots it from
 * there: vats are relaunched as after a restart. Refused, changing nothing, for a crank
 * not retained or inside a group commit (the message names the nearest ones).
 */
export const restore = defineMethod({
  name: 'restore',
  params: object({ crank: min(integer(), 0) }),
  async handler(hooks, { crank }) {
    return hooks.history.restore(crank);
  },
});
