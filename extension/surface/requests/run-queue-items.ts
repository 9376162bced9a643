import { integer, object, optional, size } from '@metamask/superstruct';
import type { RunQueuePage } from '../../surface-protocol/index.ts';
import { defineMethod, pageLimit } from '../method.ts';
import { queueItemReport } from './queue-item.ts';

/**
 * One page of the run queue in the order it will run (after seq `after`), with the
 * queue's length, whether it is paused (setPaused), and the first items held for
 * suspended vats. Read between cranks; at most 1,000 items a page.
 */
export const runQueue = defineMethod({
  name: 'runQueue',
  params: object({
    after: optional(size(integer(), 0, Number.MAX_SAFE_INTEGER)),
    limit: pageLimit(200),
  }),
  async handler(hooks, { after, limit }): Promise<RunQueuePage> {
    const { kernel } = await hooks.host();
    const page = await kernel.readState((state) => {
      const queued = state.runQueuePage({
        limit,
        ...(after === undefined ? {} : { after }),
      });
      const held = state.heldPage({ limit });
      return {
        items: queued.items.map(({ seq, item }) => {
          const report = queueItemReport(seq, item);
          if (item.kind !== 'send') return report;
          const owner = item.target.startsWith('kp')
            ? state.getPromise(item.target)?.decider
            : state.getObject(item.target)?.owner;
          return { ...report, owner: owner ?? null };
        }),
        more: queued.more,
        length: state.runQueueLength(),
        held: held.items.map(({ seq, vatId, item }) => ({
          ...queueItemReport(seq, item),
          heldFor: vatId,
        })),
        heldMore: held.more,
      };
    });
    return { ...page, paused: kernel.status().paused };
  },
});
