import {
  array,
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
import { defineMethod } from '../method.ts';
import { settlementToJson } from './settlement.ts';

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
 * run queue.
 */
export const send = defineMethod({
  name: 'send',
  params: object({
    target: Target,
    method: size(string(), 1, 256),
    args: defaulted(array(unknown()), []),
    wait: defaulted(enums(['settled', 'queued']), 'settled'),
    timeoutMs: exactOptional(size(integer(), 1, 3_600_000)),
  }),
  async handler(hooks, { target, method, args, wait, timeoutMs }) {
    const { kernel } = await hooks.host();
    const kref: KRef = 'vat' in target ? kernel.rootOf(target.vat) : target.kref;
    if (wait === 'queued') {
      return { target: kref, ...(await kernel.enqueueMessage(kref, method, args)) };
    }
    return {
      target: kref,
      result: settlementToJson(
        await kernel.queueMessage(
          kref,
          method,
          args,
          timeoutMs === undefined ? {} : { timeoutMs },
        ),
      ),
    };
  },
});
