import { object } from '@metamask/superstruct';
import { defineMethod } from '../method.ts';

/**
 * Answers once the kernel has nothing left to do: run queue empty (or held), no control
 * operation pending, every committed crank durable. Then the kernel's status.
 */
export const whenIdle = defineMethod({
  name: 'whenIdle',
  params: object({}),
  async handler(hooks) {
    const { kernel } = await hooks.host();
    await kernel.whenIdle();
    return kernel.status();
  },
});
