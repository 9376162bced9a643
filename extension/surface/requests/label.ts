import { min, integer, object, size, string } from '@metamask/superstruct';
import { defineMethod } from '../method.ts';

/**
 * Names the commit ending at `crank`: it is then kept whatever the retention policy
 * says. Refused, changing nothing, for a taken name or a commit not retained.
 */
export const label = defineMethod({
  name: 'label',
  params: object({ crank: min(integer(), 0), name: size(string(), 1, 64) }),
  async handler(hooks, { crank, name }) {
    return hooks.history.label(crank, name);
  },
});

/** Removes a label; its commit is then kept only while the policy keeps it. */
export const unlabel = defineMethod({
  name: 'unlabel',
  params: object({ name: size(string(), 1, 64) }),
  async handler(hooks, { name }) {
    return hooks.history.unlabel(name);
  },
});
