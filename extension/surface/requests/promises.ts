import { enums, object, optional, pattern, string } from '@metamask/superstruct';
import { capdataToJson } from '../../../kernel/index.ts';
import type { PromisesPage } from '../../surface-protocol/index.ts';
import { defineMethod, pageLimit } from '../method.ts';
import { messageReport } from './queue-item.ts';

/** Queued messages shown per promise; the count says how many wait in all. */
const QUEUED_SHOWN = 20;

/**
 * One page of the kernel's promises in kpid order (of one state, if asked): state,
 * decider, subscribers, the messages queued on it and, once settled, its resolution
 * decoded. Read between cranks; at most 1,000 a page. The kernel collects a promise
 * nothing refers to, so settled ones show only while something holds them.
 */
export const promises = defineMethod({
  name: 'promises',
  params: object({
    after: optional(pattern(string(), /^kp\d{1,15}$/u)),
    state: optional(enums(['unresolved', 'fulfilled', 'rejected'])),
    limit: pageLimit(200),
  }),
  async handler(hooks, { after, state: only, limit }): Promise<PromisesPage> {
    const { kernel } = await hooks.host();
    return kernel.readState((state) => {
      const page = state.promisesPage({
        limit,
        ...(after === undefined ? {} : { after }),
        ...(only === undefined ? {} : { state: only }),
      });
      return {
        more: page.more,
        promises: page.promises.map((p) => {
          const { messages, count } = state.queuedOn(p.kpid, QUEUED_SHOWN);
          let value: unknown;
          if (p.data) {
            try {
              value = capdataToJson(p.data);
            } catch {
              value = p.data;
            }
          }
          return {
            kpid: p.kpid,
            state: p.state,
            decider: p.decider,
            refcount: p.refcount,
            subscribers: state.subscribersOf(p.kpid),
            queued: messages.map(messageReport),
            queuedCount: count,
            ...(p.data ? { value } : {}),
          };
        }),
      };
    });
  },
});
