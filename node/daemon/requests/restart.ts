import { number, object, size, string } from '@metamask/superstruct';
import { defineMethod, LONG_DEADLINE_MS } from './method.ts';
import { refusing, vatNamed } from './vat-named.ts';

/**
 * Starts a new incarnation of a running or suspended vat from its last committed state;
 * a suspended vat's waiting messages then run, first. Its heap (objects, promises it
 * decided) does not survive, in the daemon either.
 */
export const restart = defineMethod({
  name: 'restart',
  params: object({ vat: size(string(), 1, 256) }),
  result: object({ vat: string(), state: string(), incarnation: number() }),
  deadlineMs: () => LONG_DEADLINE_MS,
  async handler(hooks, params) {
    const { kernel } = await hooks.host();
    const vat = vatNamed(kernel.state, params.vat, hooks.dataDir);
    await hooks.resume();
    await refusing(() => kernel.restartVat(vat.vatId));
    if (!hooks.keepsHeap) await kernel.whenIdle();
    const after = kernel.state.requireVat(vat.vatId);
    return { vat: after.name, state: after.state, incarnation: after.incarnation };
  },
});
