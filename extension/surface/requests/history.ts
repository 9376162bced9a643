import { integer, min, object, optional } from '@metamask/superstruct';
import type { HistoryPage } from '../../surface-protocol/index.ts';
import { defineMethod, pageLimit } from '../method.ts';

/**
 * The retained commits, newest first, a page at a time (`before`: a seq from the last
 * page), and the space history takes. Each commit: seq, crank range, time, the vats it
 * changed (by id and name), rows and bytes, labels, what a restore's commit restored to.
 */
export const history = defineMethod({
  name: 'history',
  params: object({
    before: optional(min(integer(), 0)),
    limit: pageLimit(200),
  }),
  async handler(hooks, { before, limit }): Promise<HistoryPage> {
    const { commits, space } = await hooks.history.read((r) => r.history());
    const older = before === undefined ? commits : commits.filter((c) => c.seq < before);
    const page = older.slice(-limit).reverse();
    return { commits: page, more: older.length > limit, total: commits.length, space };
  },
});
