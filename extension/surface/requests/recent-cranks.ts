import { object } from '@metamask/superstruct';
import { defineMethod, pageLimit } from '../method.ts';
import { HISTORY } from '../../surface-protocol/index.ts';

/** The most recent cranks of this boot (up to 500), oldest first. */
export const recentCranks = defineMethod({
  name: 'recentCranks',
  params: object({ limit: pageLimit(HISTORY, HISTORY) }),
  async handler(hooks, { limit }) {
    await hooks.host();
    return { cranks: hooks.inspector().recentCranks(limit) };
  },
});
