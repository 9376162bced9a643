import { number, object } from '@metamask/superstruct';
import { RequestError } from '../protocol.ts';
import { defineMethod, LONG_DEADLINE_MS } from './method.ts';

/**
 * Stops the daemon: from the moment it is taken no crank starts (what is queued stays
 * queued, a crank under way is rolled back and runs again at the next start), every
 * committed crank is made durable, then the daemon answers and exits.
 */
export const stop = defineMethod({
  name: 'stop',
  params: object({}),
  result: object({ crank: number(), durableCrank: number(), runQueueLength: number() }),
  deadlineMs: () => LONG_DEADLINE_MS,
  async handler(hooks) {
    if (!hooks.daemon) throw new RequestError('stop is a request for a daemon');
    return hooks.daemon.stop();
  },
});
