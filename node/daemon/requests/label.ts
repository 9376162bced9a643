import { integer, number, object, size, string } from '@metamask/superstruct';
import { historyRefusal } from './history-refusal.ts';
import { defineMethod, SHORT_DEADLINE_MS } from './method.ts';

/**
 * Names the commit ending at `crank`: it (its checkpoint and log span) is then kept
 * whatever the retention policy says. Refused, changing nothing, if the name is taken
 * or the commit is not retained.
 */
export const label = defineMethod({
  name: 'label',
  params: object({ crank: integer(), name: size(string(), 1, 64) }),
  result: object({ crank: number(), seq: number(), name: string() }),
  deadlineMs: () => SHORT_DEADLINE_MS * 6,
  async handler(hooks, { crank, name }) {
    const host = await hooks.host();
    return historyRefusal(() => host.label(crank, name));
  },
});
