import {
  array,
  defaulted,
  exactOptional,
  object,
  size,
  string,
} from '@metamask/superstruct';
import { defineMethod } from '../method.ts';
import { SURFACE_CALLER } from './send.ts';

const caller = defaulted(size(string(), 1, 64), SURFACE_CALLER);

/** The krefs a caller holds pinned (what `send` handed it), oldest first. */
export const listPins = defineMethod({
  name: 'listPins',
  params: object({ caller }),
  async handler(hooks, { caller: name }) {
    const { kernel } = await hooks.host();
    return { caller: name, krefs: kernel.pinsOf(name) };
  },
});

/**
 * Lets go of krefs a caller holds (all of them without `krefs`); what nothing else refers
 * to is collected. Refuses, changing nothing, a kref the caller does not hold.
 */
export const releasePins = defineMethod({
  name: 'releasePins',
  params: object({
    caller,
    krefs: exactOptional(size(array(size(string(), 2, 32)), 1, 1000)),
  }),
  async handler(hooks, { caller: name, krefs }) {
    const { kernel } = await hooks.host();
    return { caller: name, released: await kernel.releasePins(name, krefs) };
  },
});
