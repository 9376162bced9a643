import {
  boolean,
  defaulted,
  exactOptional,
  nullable,
  number,
  object,
  size,
  string,
} from '@metamask/superstruct';
import { defineMethod, LONG_DEADLINE_MS } from './method.ts';
import { refusing, vatNamed } from './vat-named.ts';

/**
 * Ends a vat: the promises it decides and the messages waiting for it are rejected. Its
 * vatstore is kept unless `deleteState` (which also deletes what an already terminated
 * vat kept).
 */
export const terminate = defineMethod({
  name: 'terminate',
  params: object({
    vat: size(string(), 1, 256),
    reason: exactOptional(size(string(), 1, 4096)),
    deleteState: defaulted(boolean(), false),
  }),
  result: object({
    vat: string(),
    state: string(),
    reason: nullable(string()),
    vatstore: object({ keys: number(), bytes: number() }),
  }),
  deadlineMs: () => LONG_DEADLINE_MS,
  async handler(hooks, { vat: name, reason, deleteState }) {
    const { kernel } = await hooks.host();
    const vat = vatNamed(kernel.state, name, hooks.dataDir, { terminated: deleteState });
    await hooks.resume();
    await refusing(() =>
      kernel.terminateVat(vat.vatId, reason ?? 'terminated with cask terminate', {
        deleteState,
      }),
    );
    if (!hooks.keepsHeap) await kernel.whenIdle();
    const after = kernel.state.requireVat(vat.vatId);
    return {
      vat: after.name,
      state: after.state,
      reason: after.reason,
      vatstore: kernel.state.vatstoreStats(vat.vatId),
    };
  },
});
