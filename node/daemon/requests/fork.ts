import { integer, number, object, size, string } from '@metamask/superstruct';
import { historyRefusal } from './history-refusal.ts';
import { defineMethod, LONG_DEADLINE_MS } from './method.ts';

/**
 * Writes a new data directory (`to`, absolute: the daemon may run elsewhere in the tree)
 * holding the kernel as of the commit ending at `crank`; refuses one that exists and is
 * not empty. The original is not touched.
 */
export const fork = defineMethod({
  name: 'fork',
  params: object({ crank: integer(), to: size(string(), 1, 4096) }),
  result: object({ dir: string(), crank: number(), seq: number() }),
  deadlineMs: () => LONG_DEADLINE_MS,
  // Answered from the directory opened read-only when no daemon runs.
  readsOnly: true,
  async handler(hooks, { crank, to }) {
    return historyRefusal(() => hooks.readHistory((reader) => reader.fork(crank, to)));
  },
});
