import { object, pattern, string } from '@metamask/superstruct';
import { capdataToJson } from '../../../kernel/index.ts';
import { defineMethod } from '../method.ts';

/**
 * What the kernel knows of a promise: `unresolved`, or settled with its value. The result
 * kpid of a `send` with `wait: 'queued'` stays readable after the kernel collects it (the
 * newest thousand, until the worker stops).
 */
export const promiseStatus = defineMethod({
  name: 'promiseStatus',
  params: object({ kpid: pattern(string(), /^kp\d{1,15}$/u) }),
  async handler(hooks, { kpid }) {
    const { kernel } = await hooks.host();
    const status = kernel.promiseStatus(kpid);
    if (!status) return { kpid, state: 'unknown' };
    return {
      kpid,
      state: status.state,
      ...(status.data ? { value: capdataToJson(status.data) } : {}),
    };
  },
});
