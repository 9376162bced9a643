import { array, number, object, unknown } from '@metamask/superstruct';
import { historyRefusal } from './history-refusal.ts';
import { defineMethod, SHORT_DEADLINE_MS } from './method.ts';

/**
 * The retained commits (docs/history.md), oldest first, and what history costs in
 * storage beside the live state. Reads only.
 */
export const history = defineMethod({
  name: 'history',
  params: object({}),
  result: object({
    commits: array(unknown()),
    space: object({ checkpointBytes: number(), logBytes: number(), liveBytes: number() }),
  }),
  deadlineMs: () => SHORT_DEADLINE_MS * 6,
  // Answered from the directory opened read-only when no daemon runs.
  readsOnly: true,
  async handler(hooks) {
    return historyRefusal(() => hooks.readHistory((reader) => reader.history()));
  },
});
