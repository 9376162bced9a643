import { array, object, size, string, unknown } from '@metamask/superstruct';
import { historyRefusal } from './history-refusal.ts';
import { defineMethod, SHORT_DEADLINE_MS } from './method.ts';

/** The retained commits that changed one key of a vat's vatstore. Reads only. */
export const keyHistory = defineMethod({
  name: 'keyHistory',
  params: object({ vat: size(string(), 1, 256), key: string() }),
  result: object({ changes: array(unknown()) }),
  deadlineMs: () => SHORT_DEADLINE_MS * 6,
  // Answered from the directory opened read-only when no daemon runs.
  readsOnly: true,
  async handler(hooks, { vat, key }) {
    const changes = await historyRefusal(() =>
      hooks.readHistory((reader) => reader.keyHistory(vat, key)),
    );
    return { changes };
  },
});
