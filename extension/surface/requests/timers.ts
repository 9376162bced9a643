import { object } from '@metamask/superstruct';
import type { TimersPage } from '../../surface-protocol/index.ts';
import { defineMethod, pageLimit } from '../method.ts';

/**
 * The timer service's pending wake-ups in the order they come due (docs/timers.md): who
 * asked, when, a repeater's period, the handler woken, the promise settled, the cancel
 * token. Read between cranks; at most 1,000 a page.
 */
export const timers = defineMethod({
  name: 'timers',
  params: object({ limit: pageLimit(200) }),
  async handler(hooks, { limit }): Promise<TimersPage> {
    const { kernel } = await hooks.host();
    return kernel.readState((state) => state.timersPage({ limit }));
  },
});
