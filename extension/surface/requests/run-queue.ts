import { boolean, object } from '@metamask/superstruct';
import { defineMethod } from '../method.ts';

/**
 * Holds or releases the run queue (control operations still run). In memory only: a new
 * boot of the service worker starts with it running.
 */
export const setPaused = defineMethod({
  name: 'setPaused',
  params: object({ paused: boolean() }),
  async handler(hooks, { paused }) {
    const { kernel } = await hooks.host();
    if (paused) kernel.pauseRunQueue();
    else kernel.unpauseRunQueue();
    return kernel.status();
  },
});
