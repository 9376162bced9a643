import { integer, number, object } from '@metamask/superstruct';
import { historyRefusal } from './history-refusal.ts';
import { defineMethod, LONG_DEADLINE_MS } from './method.ts';

/**
 * Brings the whole kernel back to the state after the commit ending at `crank`, as a new
 * commit (`restoreCrank`; restoring to the crank before it undoes it). In the daemon the
 * kernel restores in place and its vats are relaunched (new incarnations).
 */
export const restore = defineMethod({
  name: 'restore',
  params: object({ crank: integer() }),
  result: object({
    crank: number(),
    seq: number(),
    restoreCrank: number(),
    undoCrank: number(),
    replayed: number(),
    fromCheckpoint: number(),
  }),
  deadlineMs: () => LONG_DEADLINE_MS,
  async handler(hooks, { crank }) {
    const host = await hooks.host();
    return historyRefusal(() => host.restore(crank, { relaunch: hooks.keepsHeap }));
  },
});
