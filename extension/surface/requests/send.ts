import {
  array,
  boolean,
  defaulted,
  enums,
  exactOptional,
  integer,
  object,
  size,
  string,
  union,
  unknown,
} from '@metamask/superstruct';
import type { KRef } from '../../../kernel/index.ts';
import { SurfaceError, defineMethod } from '../method.ts';
import { settlementToJson } from './settlement.ts';

/** Who holds what the surface's callers are handed, unless they name themselves. */
export const SURFACE_CALLER = 'surface';

const Target = union([
  object({ vat: size(string(), 1, 64) }),
  object({ kref: size(string(), 2, 32) }),
]);

/**
 * Sends `method(...args)` to a vat's root object (`{ vat: name }`) or to any kernel
 * object or promise (`{ kref }`). Args are JSON, with `{ "$kref": "ko3" }` for
 * references. `wait: 'settled'` (the default) answers with the result once the crank
 * that settled it is durable (or, with `timeoutMs`, an error once that long has passed:
 * the message stays queued, as a message to a suspended vat waits for it); `wait:
 * 'queued'` answers with the result promise's kpid once the message is durably on the
 * run queue; with `pinResult` the kpid is pinned for `caller` as well, so its settlement
 * stays readable with promiseStatus across a worker stop until `releasePins` lets go of
 * it (the panel's Send does this). Every kref in the result is pinned for `caller` (default "surface") until a
 * `releasePins` request lets go of it, so what a call hands back can be called next.
 */
export const send = defineMethod({
  name: 'send',
  params: object({
    target: Target,
    method: size(string(), 1, 256),
    args: defaulted(array(unknown()), []),
    wait: defaulted(enums(['settled', 'queued']), 'settled'),
    timeoutMs: exactOptional(size(integer(), 1, 3_600_000)),
    caller: defaulted(size(string(), 1, 64), SURFACE_CALLER),
    /** With `wait: 'queued'`: pin the result kpid too (see below). */
    pinResult: defaulted(boolean(), false),
  }),
  async handler(hooks, { target, method, args, wait, timeoutMs, caller, pinResult }) {
    const { kernel } = await hooks.host();
    const kref: KRef = 'vat' in target ? kernel.rootOf(target.vat) : target.kref;
    if (wait === 'queued') {
      return {
        target: kref,
        ...(await kernel.enqueueMessage(kref, method, args, { caller, pinResult })),
      };
    }
    if (pinResult)
      throw new SurfaceError("send refused: pinResult goes with wait: 'queued'");
    return {
      target: kref,
      result: settlementToJson(
        await kernel.queueMessage(
          kref,
          method,
          args,
          timeoutMs === undefined ? { caller } : { timeoutMs, caller },
        ),
      ),
    };
  },
});
