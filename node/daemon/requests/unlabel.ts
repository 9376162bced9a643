import { number, object, size, string } from '@metamask/superstruct';
import { historyRefusal } from './history-refusal.ts';
import { defineMethod, SHORT_DEADLINE_MS } from './method.ts';

/**
 * Removes a label: its commit is then kept only as long as the retention policy keeps
 * it. Refused, changing nothing, if no label has the name.
 */
export const unlabel = defineMethod({
  name: 'unlabel',
  params: object({ name: size(string(), 1, 64) }),
  result: object({ crank: number(), seq: number(), name: string() }),
  deadlineMs: () => SHORT_DEADLINE_MS * 6,
  async handler(hooks, { name }) {
    const host = await hooks.host();
    return historyRefusal(() => host.unlabel(name));
  },
});
